"""core.files: the upload rules (size, allow-list, sniffed content)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from yingdan.core import files


def upload(name, content):
    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize("name,content", [
    ("a.pdf", b"%PDF-1.7 ..."),
    ("a.docx", b"PK\x03\x04 rest"),
    ("a.xls", files.OLE + b"rest"),
    ("a.jpg", b"\xff\xd8\xff\xe0 rest"),
    ("说明.txt", "纪要：客户同意下周签约".encode()),
    ("gbk.csv", "名称,金额\n华为,100".encode("gb18030")),
    ("a.zip", b"PK\x05\x06" + b"\x00" * 18),
])
def test_allowed(name, content):
    assert files.validate_upload(upload(name, content)).mime


@pytest.mark.parametrize("name,content,code", [
    ("setup.exe", b"MZ\x90\x00", "forbidden_type"),
    ("script.js", b"alert(1)", "forbidden_type"),
    ("noext", b"%PDF-1.4", "forbidden_type"),
    ("合同.pdf", b"MZ\x90\x00\x03\x00", "disguised"),
    ("photo.png", b"%PDF-1.4", "disguised"),
    ("notes.txt", b"MZ\x90\x00\x03\x00\x00\x00", "disguised"),
    ("a.webp", b"RIFF\x00\x00\x00\x00WAVE", "disguised"),
    ("empty.pdf", b"", "empty"),
])
def test_refused(name, content, code):
    with pytest.raises(ValidationError) as exc:
        files.validate_upload(upload(name, content))
    assert exc.value.code == code


@override_settings(ATTACHMENT_MAX_MB=1)
def test_too_big():
    with pytest.raises(ValidationError) as exc:
        files.validate_upload(upload("big.pdf", b"%PDF-" + b"0" * (1024 * 1024)))
    assert exc.value.code == "too_big"


def test_batch_reports_every_bad_file():
    with pytest.raises(ValidationError) as exc:
        files.validate_uploads([upload("a.exe", b"MZ"), upload("b.pdf", b"MZ"), upload("c.pdf", b"%PDF-")])
    assert len(exc.value.error_list) == 2
