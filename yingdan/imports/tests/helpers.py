import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile


def xlsx_bytes(rows, sheets=None, merge=None, hidden_rows=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    for r in rows:
        ws.append(r)
    for rng in merge or ():
        ws.merge_cells(rng)
    for i in hidden_rows:
        ws.row_dimensions[i].hidden = True
    for name, srows in (sheets or {}).items():
        s = wb.create_sheet(name)
        for r in srows:
            s.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(data: bytes, name="客户.xlsx"):
    return SimpleUploadedFile(name, data)


def csv_bytes(rows, encoding="utf-8", delimiter=","):
    text = "\r\n".join(delimiter.join(str(c) for c in r) for r in rows) + "\r\n"
    return text.encode(encoding)
