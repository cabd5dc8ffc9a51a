"""Spreadsheet readers: .xlsx (streaming), .xls, .csv — each yields rows as lists of cell values.

Guards: the upload size (`IMPORT_MAX_MB`), the file type by its first bytes (not its name), an .xlsx whose
zip directory declares too much uncompressed data or a suspicious compression ratio (zip bomb), and caps on
rows and columns.

Hidden rows are imported like any other row: hiding is a way of looking at a sheet (filters, grouping), not a
way of deleting data, and read-only streaming does not see row properties anyway. Empty rows are skipped.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)
MAX_COLUMNS = 200
MAX_UNCOMPRESSED = 1024 * 1024 * 1024  # 1 GB of XML for one workbook
MAX_RATIO = 200


class ReadError(Exception):
    """A file that cannot be imported; the message is shown to the user."""


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_MB", 50)) * 1024 * 1024


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 2_000_000))


def detect_format(path: str, name: str = "") -> str:
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if not head.strip():
        raise ReadError(_("The file is empty."))
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError(_("This is not a spreadsheet: upload an .xlsx, .xls or .csv file."))
    return "csv"


def check_size(size: int) -> None:
    if size > max_bytes():
        raise ReadError(_("The file is too large (%(size)d MB); the limit is %(max)d MB.") % {
            "size": size // (1024 * 1024), "max": max_bytes() // (1024 * 1024)})


def check_zip(path: str) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO and info.file_size > 10 * 1024 * 1024:
                    raise ReadError(_("The workbook is refused: it expands to far more data than it holds (zip bomb?)."))
            if total > MAX_UNCOMPRESSED:
                raise ReadError(_("The workbook is refused: it expands to far more data than it holds (zip bomb?)."))
            if "xl/workbook.xml" not in zf.namelist():
                raise ReadError(_("This is not a spreadsheet: upload an .xlsx, .xls or .csv file."))
    except zipfile.BadZipFile:
        raise ReadError(_("This is not a spreadsheet: upload an .xlsx, .xls or .csv file.")) from None


def _fast_sheet_size(self):
    """openpyxl's read-only sheet looks for the <dimension> element with "end" events: when a writer left it
    out (openpyxl's own write-only mode, many exporters) the whole <sheetData> is parsed before it gives up —
    on every load_workbook, for every sheet. "start" events stop at <sheetData>."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.constants import SHEET_MAIN_NS

    src = self._get_source()
    try:
        for _event, element in iterparse(src, events=("start",)):
            if element.tag == f"{{{SHEET_MAIN_NS}}}dimension":
                dim = SheetDimension.from_tree(element)
                self._min_column, self._min_row, self._max_column, self._max_row = dim.boundaries
                return
            if element.tag == f"{{{SHEET_MAIN_NS}}}sheetData":
                return
    finally:
        src.close()


def _patch_openpyxl() -> None:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    ReadOnlyWorksheet._get_size = _fast_sheet_size


def quick_count(path: str, fmt: str, sheet: str = "") -> int | None:
    """The number of rows of an .xlsx sheet (empty ones included) without parsing its cells: the rows the
    sheet declares (<dimension>), else its <row> elements counted in the raw XML. None for other formats."""
    if fmt != "xlsx":
        return None
    import openpyxl

    check_zip(path)
    _patch_openpyxl()
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:
        return None
    try:
        ws = wb[sheet] if sheet and sheet in wb.sheetnames else wb.worksheets[0]
        declared = getattr(ws, "_max_row", None)
        if declared and declared > 1:
            return declared
        n, tail = 0, b""
        with ws._get_source() as src:
            while True:
                block = src.read(1 << 20)
                if not block:
                    break
                data = tail + block
                n += data.count(b"<row ") + data.count(b"<row>")
                tail = data[-5:]
                n -= tail.count(b"<row ") + tail.count(b"<row>")  # counted again with the next block
            n += tail.count(b"<row ") + tail.count(b"<row>")
        return n
    finally:
        wb.close()


@dataclass
class Cell:
    """A cell value plus what the reader knows about it (number format for xlsx numbers)."""

    value: object
    number_format: str = ""


def sheet_names(path: str, fmt: str) -> list[str]:
    if fmt == "xlsx":
        check_zip(path)
        import openpyxl

        _patch_openpyxl()
        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()
    if fmt == "xls":
        book = _open_xls(path)
        return book.sheet_names()
    return []


def _open_xls(path):
    import xlrd

    try:
        return xlrd.open_workbook(path, on_demand=True)
    except Exception:  # xlrd raises many kinds for broken files
        raise ReadError(_("This .xls file cannot be read.")) from None


def iter_rows(path: str, fmt: str, sheet: str = ""):
    """Yield (row_number, [values]) for every non-empty row (1-based row numbers as the user sees them)."""
    if fmt == "xlsx":
        yield from _iter_xlsx(path, sheet)
    elif fmt == "xls":
        yield from _iter_xls(path, sheet)
    else:
        yield from _iter_csv(path)


def _trim(values: list) -> list:
    values = values[:MAX_COLUMNS]
    while values and (values[-1] is None or values[-1] == ""):
        values.pop()
    return values


def _column_index(ref: str, cache: dict = {}) -> int:  # noqa: B006 - a deliberate memo of "AB" -> 28
    letters = ref.rstrip("0123456789")
    n = cache.get(letters)
    if n is None:
        n = 0
        for ch in letters:
            n = n * 26 + (ord(ch.upper()) - 64)
        cache[letters] = n
    return n


def _iter_xlsx(path, sheet):
    """The sheet's XML read with ElementTree directly (about 3x faster than openpyxl's cell-by-cell parser),
    with openpyxl's own rules for values: shared/inline strings, booleans, ints/floats, date-formatted numbers
    as datetimes, ISO dates, cached formula results; workbook, styles and shared strings come from openpyxl."""
    from xml.etree.ElementTree import iterparse

    import openpyxl
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
    from openpyxl.utils.datetime import from_excel, from_ISO8601
    from openpyxl.xml.constants import SHEET_MAIN_NS

    check_zip(path)
    _patch_openpyxl()
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:
        raise ReadError(_("This .xlsx file cannot be read.")) from None
    row_tag, c_tag, v_tag = f"{{{SHEET_MAIN_NS}}}row", f"{{{SHEET_MAIN_NS}}}c", f"{{{SHEET_MAIN_NS}}}v"
    is_tag, t_tag, r_tag = f"{{{SHEET_MAIN_NS}}}is", f"{{{SHEET_MAIN_NS}}}t", f"{{{SHEET_MAIN_NS}}}r"
    try:
        ws = wb[sheet] if sheet and sheet in wb.sheetnames else wb.worksheets[0]
        sst, epoch = wb.shared_strings, wb.epoch
        date_formats, timedelta_formats = wb._date_formats, wb._timedelta_formats
        styles, custom_formats = wb._cell_styles, wb._number_formats
        formats: dict[int, str] = {}

        def number_format(style_id: int) -> str:
            f = formats.get(style_id)
            if f is None:
                fid = styles[style_id].numFmtId if style_id < len(styles) else 0
                f = BUILTIN_FORMATS.get(fid, "General") if fid < BUILTIN_FORMATS_MAX_SIZE else custom_formats[fid - BUILTIN_FORMATS_MAX_SIZE]
                formats[style_id] = f
            return f

        limit = max_rows()
        n = 0
        counter = 0
        with ws._get_source() as src:
            for _event, element in iterparse(src):
                if element.tag != row_tag:
                    continue
                r = element.get("r")
                counter = int(r) if r else counter + 1
                values: list = []
                col = 0
                for c in element:
                    if c.tag != c_tag:
                        continue
                    ref = c.get("r")
                    col = _column_index(ref) if ref else col + 1
                    if col > MAX_COLUMNS:
                        break
                    if col - 1 > len(values):
                        values.extend([None] * (col - 1 - len(values)))
                    t = c.get("t", "n")
                    if t == "inlineStr":
                        child = c.find(is_tag)
                        if child is None:
                            value = None
                        else:  # openpyxl's Text.content: the plain text, then each rich-text run's text
                            plain = child.find(t_tag)
                            parts = [plain.text] if plain is not None and plain.text is not None else []
                            for run in child.findall(r_tag):
                                rt = run.find(t_tag)
                                if rt is not None and rt.text is not None:
                                    parts.append(rt.text)
                            value = "".join(parts)
                    else:
                        value = c.findtext(v_tag, None) or None
                        if value is not None:
                            if t == "n":
                                value = float(value) if ("." in value or "E" in value or "e" in value) else int(value)
                                style_id = int(c.get("s", 0) or 0)
                                if style_id in date_formats:
                                    try:
                                        value = from_excel(value, epoch, timedelta=style_id in timedelta_formats)
                                    except (OverflowError, ValueError):
                                        value = "#VALUE!"
                                elif isinstance(value, float) and style_id and "E+" in number_format(style_id).upper():
                                    value = Cell(value, number_format(style_id))
                            elif t == "s":
                                value = sst[int(value)]
                            elif t == "b":
                                value = bool(int(value))
                            elif t == "d":
                                value = from_ISO8601(value)
                    values.append(value)
                element.clear()
                values = _trim(values)
                if not values:
                    continue
                n += 1
                if n > limit:
                    raise ReadError(_("Too many rows: at most %(n)d per file.") % {"n": limit})
                yield counter, values
    finally:
        wb.close()


def _iter_xlsx_openpyxl(path, sheet):
    """openpyxl's cell-by-cell reader (the reference the fast reader is tested against)."""
    import openpyxl

    _patch_openpyxl()
    check_zip(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:
        raise ReadError(_("This .xlsx file cannot be read.")) from None
    try:
        ws = wb[sheet] if sheet and sheet in wb.sheetnames else wb.worksheets[0]
        limit = max_rows()
        n = 0
        for row in ws.iter_rows():
            values = []
            for c in row[:MAX_COLUMNS]:
                v = getattr(c, "value", None)
                if isinstance(v, float) and "E+" in (getattr(c, "number_format", "") or "").upper():
                    v = Cell(v, c.number_format)
                values.append(v)
            values = _trim(values)
            if not values:
                continue
            n += 1
            if n > limit:
                raise ReadError(_("Too many rows: at most %(n)d per file.") % {"n": limit})
            rownum = getattr(row[0], "row", None) or n
            yield rownum, values
    finally:
        wb.close()


def _iter_xls(path, sheet):
    import xlrd

    book = _open_xls(path)
    try:
        ws = book.sheet_by_name(sheet) if sheet and sheet in book.sheet_names() else book.sheet_by_index(0)
        if ws.nrows > max_rows():
            raise ReadError(_("Too many rows: at most %(n)d per file.") % {"n": max_rows()})
        for r in range(ws.nrows):
            values = []
            for c in range(min(ws.ncols, MAX_COLUMNS)):
                cell = ws.cell(r, c)
                v = cell.value
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        v = xlrd.xldate.xldate_as_datetime(v, book.datemode)
                    except Exception:
                        pass
                elif cell.ctype == xlrd.XL_CELL_EMPTY:
                    v = None
                values.append(v)
            values = _trim(values)
            if values:
                yield r + 1, values
    finally:
        book.release_resources()


def detect_encoding(path: str) -> str:
    with open(path, "rb") as fh:
        sample = fh.read(256 * 1024)
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(sample) - 4:  # a character cut at the end of the sample
            return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=["gb18030", "gbk", "big5", "utf_16", "latin_1"]).best()
    enc = (best.encoding if best else "gb18030").lower()
    if enc in ("gbk", "gb2312", "cp936"):
        enc = "gb18030"  # a superset: never fails on a character GBK lacks
    return enc


def _iter_csv(path):
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(64 * 1024)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(fh, dialect)
        limit = max_rows()
        n = 0
        for i, row in enumerate(reader, start=1):
            values = _trim([v if v != "" else None for v in row])
            if not values:
                continue
            n += 1
            if n > limit:
                raise ReadError(_("Too many rows: at most %(n)d per file.") % {"n": limit})
            yield i, values


def write_rows(fmt: str, headers: list, rows) -> tuple[bytes, str]:
    """An error file in the uploaded format (csv stays csv, xls/xlsx become xlsx)."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(headers)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
        return ("\ufeff" + buf.getvalue()).encode("utf-8"), "csv"
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(headers)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), "xlsx"


# -- reading ahead in a second process ----------------------------------------------------------------
AHEAD_MIN_ROWS = 5_000  # smaller files are read in the calling process
AHEAD_BATCH = 500
AHEAD_TIMEOUT = 120  # seconds without a batch from the reading process before the rest is read here
PIPE_SIZE = 1 << 20  # bytes the pipe from the reading process holds (a batch of built rows: ~200 KB)


def iter_rows_ahead(path: str, fmt: str, sheet: str = "", *, prepare=None, rows_hint: int | None = None):
    """`iter_rows`, with the file read by a forked child process while the caller works on the rows already
    read: a large import is bound by the CPU, and the reading (and `prepare`, pure work on each batch of rows
    such as the search keys of names) then runs on the second core. Yields (row_number, values, prepared):
    `prepared` is what `prepare(rows)` returned for the batch the row came in (None without `prepare`).

    The child never touches the database (it shares the parent's connections: it leaves with os._exit, which
    closes nothing) and stops at the caller's pace (a pipe holds a few batches). A read error in the child is
    raised here as it would be raised by `iter_rows`; should the child die or stall, the rows after the last
    one it sent are read here. Where fork is not available, or for a small file, the rows are read here."""
    import multiprocessing
    import os

    if rows_hint is not None and rows_hint < AHEAD_MIN_ROWS or "fork" not in multiprocessing.get_all_start_methods():
        yield from _iter_prepared(iter_rows(path, fmt, sheet), prepare)
        return
    mp = multiprocessing.get_context("fork")
    receiver, sender = mp.Pipe(duplex=False)
    _widen(sender)
    child = mp.Process(target=_read_ahead, args=(sender, path, fmt, sheet, prepare), daemon=True)
    child.start()
    sender.close()
    last = None  # the last row number handed out
    try:
        while True:
            if not receiver.poll(AHEAD_TIMEOUT):
                log.warning("reading %s ahead: no rows for %s s; reading the rest here", os.path.basename(path), AHEAD_TIMEOUT)
                break
            try:
                kind, payload, prepared = receiver.recv()
            except EOFError:  # the reading process died (killed, out of memory): read the rest here
                log.warning("reading %s ahead: the reading process ended early; reading the rest here", os.path.basename(path))
                break
            if kind == "rows":
                for num, values in payload:
                    last = num
                    yield num, values, prepared
            elif kind == "end":
                return
            elif kind == "read-error":
                raise ReadError(payload)
            else:
                raise RuntimeError(f"reading {os.path.basename(path)} failed: {payload}")
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    for num, values, prepared in _iter_prepared(iter_rows(path, fmt, sheet), prepare):
        if last is None or num > last:
            yield num, values, prepared


def _widen(conn) -> None:
    """Let the pipe hold ~1 MB (Linux; 64 KB by default): the reading process then stays several batches
    ahead instead of one while the caller works through a chunk."""
    import fcntl

    try:
        with open("/proc/sys/fs/pipe-max-size") as fh:
            size = min(int(fh.read()), PIPE_SIZE)
        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, size)
    except (OSError, ValueError, AttributeError):
        pass


def _iter_prepared(rows, prepare, batch: int = AHEAD_BATCH):
    if prepare is None:
        for num, values in rows:
            yield num, values, None
        return
    part = []
    for item in rows:
        part.append(item)
        if len(part) >= batch:
            prepared = prepare(part)
            for num, values in part:
                yield num, values, prepared
            part = []
    if part:
        prepared = prepare(part)
        for num, values in part:
            yield num, values, prepared


def _read_ahead(sender, path, fmt, sheet, prepare) -> None:  # pragma: no cover - runs in the child process
    import os

    code = 0
    try:
        batch = []
        for item in iter_rows(path, fmt, sheet):
            batch.append(item)
            if len(batch) >= AHEAD_BATCH:
                sender.send(("rows", batch, prepare(batch) if prepare else None))
                batch = []
        if batch:
            sender.send(("rows", batch, prepare(batch) if prepare else None))
        sender.send(("end", None, None))
    except ReadError as exc:
        sender.send(("read-error", str(exc), None))
    except BrokenPipeError:  # the caller stopped reading
        code = 1
    except BaseException as exc:  # noqa: BLE001 - reported to the caller, which raises it
        try:
            sender.send(("error", repr(exc)[:1000], None))
        except Exception:
            code = 1
    finally:
        try:
            sender.close()
        except Exception:
            pass
    os._exit(code)
