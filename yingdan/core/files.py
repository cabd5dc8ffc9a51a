"""File attachments: upload validation (size, allowed types, sniffed content) and saving.

`validate_upload(f)` is the one check every upload passes (web forms, API, imports): the file must be at most
`ATTACHMENT_MAX_MB`, its extension on the allow-list, and its first bytes must match what the extension
claims — an executable renamed to .pdf is refused. Files are stored under MEDIA_ROOT with random names
(`Attachment.file`); they are served only by the permission-checked download view, never by URL guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Attachment

MAX_FILES = 10

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office (doc/xls/ppt)
ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # zip and every OOXML/ODF document


@dataclass(frozen=True)
class FileKind:
    mime: str
    magic: tuple[bytes, ...] = ()  # accepted leading bytes; empty: text (checked separately)
    text: bool = False


ALLOWED: dict[str, FileKind] = {
    # documents
    "pdf": FileKind("application/pdf", (b"%PDF-",)),
    "doc": FileKind("application/msword", (OLE,)),
    "xls": FileKind("application/vnd.ms-excel", (OLE,)),
    "ppt": FileKind("application/vnd.ms-powerpoint", (OLE,)),
    "docx": FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    "xlsx": FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    "pptx": FileKind("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    "odt": FileKind("application/vnd.oasis.opendocument.text", ZIP),
    "ods": FileKind("application/vnd.oasis.opendocument.spreadsheet", ZIP),
    "wps": FileKind("application/vnd.ms-works", (OLE,)),
    # images
    "png": FileKind("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": FileKind("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": FileKind("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": FileKind("image/gif", (b"GIF87a", b"GIF89a")),
    "bmp": FileKind("image/bmp", (b"BM",)),
    "webp": FileKind("image/webp", (b"RIFF",)),
    # text
    "txt": FileKind("text/plain", text=True),
    "csv": FileKind("text/csv", text=True),
    "md": FileKind("text/markdown", text=True),
    # archives
    "zip": FileKind("application/zip", ZIP),
}

# Whatever the extension says, these are never accepted (executables, scripts' interpreters' binaries).
FORBIDDEN_MAGIC = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe")


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_MB", 20)) * 1024 * 1024


def extension(name: str) -> str:
    return PurePath(name or "").suffix.lower().lstrip(".")


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            # The head may cut a multi-byte character in two: ignore at most the last 3 bytes.
            head[: max(len(head) - 3, 0)].decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def validate_upload(f) -> FileKind:
    """Refuse a file that is empty, too big, of a type not on the allow-list, or whose content does not match
    its extension. Returns the kind (with the MIME type stored on the attachment)."""
    name = getattr(f, "name", "") or ""
    size = getattr(f, "size", None) or 0
    limit = max_bytes()
    if size <= 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name}, code="empty")
    if size > limit:
        raise ValidationError(
            _("“%(name)s” is too big (%(size).1f MB); the limit is %(max)d MB.")
            % {"name": name, "size": size / 1024 / 1024, "max": limit // 1024 // 1024},
            code="too_big",
        )
    ext = extension(name)
    kind = ALLOWED.get(ext)
    if kind is None:
        raise ValidationError(
            _("“%(name)s”: this type of file is not allowed. Allowed: %(types)s.")
            % {"name": name, "types": ", ".join(sorted(ALLOWED))},
            code="forbidden_type",
        )
    f.seek(0)
    head = f.read(2048)
    f.seek(0)
    disguised = _("“%(name)s” is not really a %(ext)s file; it was refused.") % {"name": name, "ext": ext.upper()}
    if any(head.startswith(m) for m in FORBIDDEN_MAGIC) and not kind.magic:
        raise ValidationError(disguised, code="disguised")
    if kind.text:
        if not _looks_like_text(head):
            raise ValidationError(disguised, code="disguised")
    elif not any(head.startswith(m) for m in kind.magic) or (ext == "webp" and head[8:12] != b"WEBP"):
        raise ValidationError(disguised, code="disguised")
    return kind


def validate_uploads(files) -> list[FileKind]:
    """Validate several files at once: all or nothing, every problem reported."""
    files = list(files or [])
    if len(files) > MAX_FILES:
        raise ValidationError(_("At most %(n)d files at a time.") % {"n": MAX_FILES}, code="too_many")
    errors, kinds = [], []
    for f in files:
        try:
            kinds.append(validate_upload(f))
        except ValidationError as exc:
            errors.extend(exc.error_list)
    if errors:
        raise ValidationError(errors)
    return kinds


def attach(actor, target, files) -> list[Attachment]:
    """Store validated files as attachments of `target` (callers run this inside their service transaction
    after checking the actor may write the target)."""
    kinds = validate_uploads(files)
    target_type = ContentType.objects.get_for_model(type(target))
    out = []
    for f, kind in zip(files, kinds, strict=True):
        attachment = Attachment(
            target_type=target_type, target_id=target.pk, name=PurePath(f.name).name[:255], size=f.size,
            mime_type=kind.mime, uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        attachment.file.save(f.name, f, save=False)
        attachment.save()
        out.append(attachment)
    return out


def attachments_of(model, ids) -> dict[int, list[Attachment]]:
    """{target id: [attachments]} for many targets of one model in one query."""
    ids = list(ids)
    out: dict[int, list[Attachment]] = {}
    if not ids:
        return out
    target_type = ContentType.objects.get_for_model(model)
    for a in Attachment.objects.filter(target_type=target_type, target_id__in=ids).order_by("id"):
        out.setdefault(a.target_id, []).append(a)
    return out


def delete_files(attachments) -> None:
    """Remove the stored files of attachments being deleted (after the rows are gone)."""
    for a in attachments:
        if a.file:
            a.file.storage.delete(a.file.name)
