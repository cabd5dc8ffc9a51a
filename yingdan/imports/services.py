"""The import pipeline: upload → analyse (sheet, header row, automatic mapping) → preview (a dry run over the
whole file) → run (transactional chunks, resumable) → summary, error file, undo.

Rows are processed in chunks of CHUNK rows, each chunk a savepoint and each row a savepoint inside it: a broken
row rolls back alone and is reported; the job's counts and `next_row` are saved with the chunk's data, and the
chunks of up to TX_ROWS rows commit together (on SQLite the write lock is held that long, ~1 s), so a crashed or
restarted job resumes after the last committed group of chunks.

Customers (+ their contact) take the bulk path of `bulk.py` for chunks of BULK_MIN_ROWS rows or more: the same
outcomes, with the duplicate check answered for the whole chunk and clean rows written with bulk INSERTs; a row
that might be a duplicate, or is special in any other way, still goes through `_process_row`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import logging
import os
import threading
from collections import Counter

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from yingdan.core.choices import Action, ChangeSource
from yingdan.core.context import change_context
from yingdan.core.permissions import get_permissions
from yingdan.core.services import require

from . import bulk, readers
from .importers import RunContext, auto_map, error_text, importers, score_header
from .models import DuplicateMode, ImportJob, ImportRow, JobStatus, RowResult
from .readers import Cell, ReadError

log = logging.getLogger(__name__)
CHUNK = 1_000  # rows decided and written together (500: ~1 s more per 100k rows; 2,000: more for the collector)
TX_ROWS = 2_000  # rows a transaction of a job holds at most (CHUNK rows at a time, each chunk a savepoint)
GC_THRESHOLDS = (100_000, 20, 100)  # the cyclic collector's pace while a job runs (see run_job)
IMPORT_CACHE_KIB = 32_768  # the SQLite page cache of a job's connection (see _checkpoint_pace)
IMPORT_MMAP_BYTES = 64 << 20  # ... and the part of the database file it maps at most (256 MB otherwise)
CHECKPOINT_EVERY = 0.25  # seconds between background checkpoints of a job on SQLite (0: none)
UNDO_DAYS = 7
HEADER_SCAN = 10
PREVIEW_SAMPLE = 100


def get_importer(object_type: str):
    imp = importers.get(object_type)
    if imp is None:
        raise ValidationError({"object": [_("Nothing can be imported as “%(v)s”.") % {"v": object_type}]})
    return imp


def _jsonable(values: list) -> list:
    out = []
    for v in values:
        if isinstance(v, Cell):
            v = v.value
        out.append(v)
    return json.loads(json.dumps(out, cls=DjangoJSONEncoder))


def detect_header(importer, rows: list) -> tuple[int, list]:
    """(index in `rows`, header texts): the row among the first ones with the most recognised headers. A
    header split over two rows (a merged group cell above its sub-headers, e.g. 联系人 over 姓名/手机) is
    read as group + sub-header when that combination is a known header."""
    best = (-1, 0, [])
    for i, (_num, row) in enumerate(rows[:HEADER_SCAN]):
        width = max(len(row), len(rows[i - 1][1]) if i > 0 else 0)
        candidate = [readers_text(v) for v in row] + [""] * (width - len(row))
        if i > 0:
            above, last = [], ""
            for v in rows[i - 1][1] + [None] * max(0, len(row) - len(rows[i - 1][1])):
                t = readers_text(v)
                last = t or last
                above.append(last)
            combined = []
            for j, t in enumerate(candidate):
                parent = above[j] if j < len(above) else ""
                if t and parent and score_header(importer, [parent + t]):
                    combined.append(parent + t)
                elif not t and parent and score_header(importer, [parent]):
                    combined.append(parent)
                else:
                    combined.append(t)
            candidate = combined
        score = score_header(importer, candidate)
        if score > best[1]:
            best = (i, score, candidate)
    if best[1] == 0:
        raise ReadError(_("No recognisable header: the first rows contain none of the expected column names (download the template)."))
    return best[0], best[2]


def readers_text(v) -> str:
    from .values import clean_text

    return clean_text(v)


def analyse(job: ImportJob) -> None:
    importer = get_importer(job.object_type)
    path = job.file.path
    head = []
    for item in readers.iter_rows(path, job.file_format, job.sheet):
        head.append(item)
        if len(head) >= HEADER_SCAN + 1:
            break
    if not head:
        raise ReadError(_("The file is empty."))
    idx, headers = detect_header(importer, head)
    job.header_row = head[idx][0]
    job.headers = headers
    if not job.options.get("mapping"):
        job.options["mapping"] = auto_map(importer, headers)


def create_job(actor, object_type: str, upload, *, options: dict | None = None, dry_run: bool = True,
               sheet: str = "", start: bool = True) -> ImportJob:
    """Store the upload, check it, find the header and map it; start the preview (dry run) or the import."""
    importer = get_importer(object_type)
    require(actor, importer.module, Action.IMPORT)
    try:
        readers.check_size(upload.size)
    except ReadError as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    options = dict(options or {})
    mode = options.setdefault("mode", DuplicateMode.SKIP)
    if mode not in DuplicateMode.values:
        raise ValidationError({"mode": [_("Choose skip, update or create.")]})
    if options.get("mapping_id") and not options.get("mapping"):
        from .models import ImportMapping

        m = ImportMapping.objects.filter(pk=options["mapping_id"], object_type=object_type).first()
        if m:
            options["mapping_by_header"] = m.columns
            options.setdefault("value_maps", m.values)
    name = os.path.basename(getattr(upload, "name", "") or "upload")[:200]
    job = ImportJob(object_type=object_type, created_by=actor, file_name=name, options=options, dry_run=dry_run, sheet=sheet)
    job.file.save(name, upload if hasattr(upload, "chunks") else ContentFile(upload.read()), save=False)
    try:
        job.file_format = readers.detect_format(job.file.path, name)
        if job.file_format != "csv":
            sheets = readers.sheet_names(job.file.path, job.file_format)
            job.options["sheets"] = sheets
            if sheet and sheet not in sheets:
                raise ReadError(_("There is no sheet “%(v)s”.") % {"v": sheet})
        analyse(job)
        by_header = options.pop("mapping_by_header", None)
        if by_header:
            job.options["mapping"] = {str(i): by_header[h] for i, h in enumerate(job.headers) if h in by_header}
    except ReadError as exc:
        job.file.delete(save=False)
        raise ValidationError({"file": [str(exc)]}) from None
    job.save()
    if start:
        start_job(job, dry_run=dry_run)
    return job


def start_job(job: ImportJob, *, dry_run: bool) -> ImportJob:
    from .tasks import run_import

    ImportRow.objects.filter(job=job).delete()
    ImportJob.objects.filter(pk=job.pk).update(
        dry_run=dry_run, status=JobStatus.QUEUED, processed_rows=0, next_row=0, created=0, updated=0, skipped=0,
        failed=0, duplicates=0, message="", finished_at=None, preview={} if not dry_run else {})
    job.refresh_from_db()
    run_import(job.pk)
    job.refresh_from_db()
    return job


def _context(job: ImportJob) -> RunContext:
    o = job.options
    department = None
    if o.get("owner_mode") == "team" and o.get("department"):
        from yingdan.org.models import Department

        department = Department.objects.filter(pk=o["department"]).first()
    return RunContext(actor=job.created_by, mode=o.get("mode", "skip"), owner_mode=o.get("owner_mode", "me"),
                      department=department, value_maps=o.get("value_maps") or {}, dry_run=job.dry_run)


@contextlib.contextmanager
def _checkpoint_pace(pages: int = 25_600, every: float = CHECKPOINT_EVERY):
    """SQLite (WAL): while a job runs, its connection copies the write-ahead log back into the database every
    `pages` pages (100 MB) instead of every 1,000: a chunk commits ~8,000 pages, so each commit was followed
    by a checkpoint, and index pages that every chunk touches were written back chunk after chunk.

    Meanwhile a thread with a connection of its own copies what is committed back every `every` seconds (a
    passive checkpoint: it never waits for or blocks the job's writes, and lets go of the GIL), so the job's
    own checkpoints find most pages copied already (they took a third of its commits' time).

    The connection's page cache is IMPORT_CACHE_KIB meanwhile (64 MB otherwise): the pages a job reads come
    from the memory-mapped file anyway, and the cache mostly holds index pages the job has written — 64 MB
    peaked ~47 MB higher than 16 MB, no faster. At 16 MB, though, a 2,000-row transaction's dirty pages did
    not fit and were spilled to the log before the commit, page by page; at 32 MB a 100k-row import made 1.05M
    write calls instead of 1.47M (2.8 GB instead of 3.1), ~1 s less system time, and took 40.4-40.7 s instead
    of 42.7-43.8 s, for ~7 MB more (measured). It maps at most IMPORT_MMAP_BYTES of the file
    (256 MB otherwise): the job and its reading process peaked ~35-85 MB lower, no slower (measured).

    Each setting is put back afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        before = {}
        for name in ("wal_autocheckpoint", "cache_size", "mmap_size"):
            cursor.execute(f"PRAGMA {name}")
            before[name] = (cursor.fetchone() or [0])[0]  # (an in-memory database maps nothing: no row)
        cursor.execute("PRAGMA journal_mode")
        wal = str(cursor.fetchone()[0]).lower() == "wal"
        pace = {"wal_autocheckpoint": int(pages), "cache_size": -int(IMPORT_CACHE_KIB)}
        if before["mmap_size"] > IMPORT_MMAP_BYTES:
            pace["mmap_size"] = int(IMPORT_MMAP_BYTES)
        for name, value in pace.items():
            cursor.execute(f"PRAGMA {name}={value}")
    path = str(connection.settings_dict["NAME"])
    stop = threading.Event()
    helper = None
    if wal and every > 0 and os.path.isfile(path):
        helper = threading.Thread(target=_checkpoints, args=(path, every, stop), name="import-checkpoints", daemon=True)
        helper.start()
    try:
        yield
    finally:
        stop.set()
        if helper is not None:
            helper.join()
        with connection.cursor() as cursor:
            for name in pace:
                cursor.execute(f"PRAGMA {name}={int(before[name])}")


def _checkpoints(path: str, every: float, stop: threading.Event) -> None:
    import sqlite3

    try:
        db = sqlite3.connect(path, timeout=1, check_same_thread=False)
    except sqlite3.Error:
        return
    try:
        while not stop.wait(every):
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # (busy: the next round tries again)
                log.debug("background checkpoint: %s", exc)
    finally:
        db.close()


def run_job(job_id: int) -> ImportJob:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        return job
    importer = get_importer(job.object_type)
    gc_threshold = gc.get_threshold()
    with change_context(job.created_by, source=ChangeSource.IMPORT, request_id=f"import-{job.pk}"), _checkpoint_pace():
        try:
            if not get_permissions(job.created_by).has(importer.module, Action.IMPORT):
                raise PermissionDenied(_("You do not have permission to do this."))
            if job.status == JobStatus.QUEUED or not job.total_rows:
                # The rows below the header, for the progress bar: counted from the raw sheet when that is cheap
                # (the exact count is set at the end); read in full only for other formats, or when the file
                # may exceed the row limit (then it is refused before anything is written).
                total = readers.quick_count(job.file.path, job.file_format, job.sheet)
                if total is None or total > readers.max_rows():
                    total = sum(1 for num, _v in readers.iter_rows(job.file.path, job.file_format, job.sheet) if num > job.header_row)
                else:
                    total = max(total - job.header_row, 0)
                ImportJob.objects.filter(pk=job.pk).update(total_rows=total, status=JobStatus.RUNNING, started_at=timezone.now())
                job.refresh_from_db()
            ctx = _context(job)
            mapping = {int(k): v for k, v in job.options.get("mapping", {}).items() if v}
            # a job allocates ~15 objects a row, most freed by reference counting: the cyclic collector's
            # default pace (every 700 allocations) walked the job's heap ~16,000 times per 100k rows; at every
            # 20,000 it still took 2-4 s of a 100k-row import (a chunk's rows live past 20,000 allocations, so
            # they were walked and promoted), at every 100,000 (older generations 20 and 100) 0.1-0.2 s
            gc.set_threshold(*(max(mine, theirs) for mine, theirs in zip(GC_THRESHOLDS, gc_threshold, strict=False)))
            builder, last = None, None
            if bulk.plan(importer, ctx) is not None and bulk.BULK_MIN_ROWS <= CHUNK:  # rows built by the reading process
                builder = ctx.cache["builder"] = bulk.Builder(importer, ctx, mapping, _labels(importer, ctx))
            built = ctx.cache["built"] = {}  # row number -> the row as built there (taken by bulk.run_chunk)
            rows = readers.iter_rows_ahead(job.file.path, job.file_format, job.sheet, prepare=builder, rows_hint=job.total_rows)

            def chunks():
                nonlocal last
                chunk = []
                for num, values, prepared in rows:
                    if prepared is not last and prepared:
                        built.update(prepared)
                        last = prepared
                    if num <= job.header_row or num < job.next_row:
                        built.pop(num, None)
                        continue
                    chunk.append((num, values))
                    if len(chunk) >= CHUNK:
                        yield chunk
                        chunk = []
                if chunk:
                    yield chunk

            with contextlib.closing(rows):  # (stops the reading process if the job stops early)
                pending = chunks()
                more = True
                while more:
                    # TX_ROWS rows commit together (each chunk a savepoint inside): a commit writes every page
                    # the chunks changed, and the pages of the indexes' random inserts are shared by more rows
                    with _transaction(job):
                        more, n = False, 0
                        for chunk in pending:
                            _run_chunk(job, importer, ctx, mapping, chunk)
                            n += len(chunk)
                            if n >= TX_ROWS:
                                more = True
                                break
            job.refresh_from_db()
            job.status = JobStatus.PREVIEWED if job.dry_run else JobStatus.DONE
            job.finished_at = timezone.now()
            job.total_rows = job.processed_rows
            job.save(update_fields=["status", "finished_at", "total_rows"])
        except (ReadError, PermissionDenied) as exc:
            ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, message=str(exc), finished_at=timezone.now())
        except Exception as exc:  # a crash: the committed chunks stay; the job can be resumed
            log.exception("import %s failed", job.pk)
            ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, message=repr(exc)[:1000], finished_at=timezone.now())
        finally:
            gc.set_threshold(*gc_threshold)
    job.refresh_from_db()
    return job


def _process_row(importer, ctx, mapping, values):
    row = {key: (values[i] if i < len(values) else None) for i, key in mapping.items()}
    try:
        with transaction.atomic():
            result, written = importer.process(ctx, row)
            for w in written:
                model = apps.get_model(w["model"])
                if hasattr(model, "updated_at"):
                    ts = model._base_manager.filter(pk=w["pk"]).values_list("updated_at", flat=True).first()
                    w["after_ts"] = ts.isoformat() if ts else None
        return result, written, ""
    except ValidationError as exc:
        labels = ctx.cache.get("labels")
        if labels is None:
            labels = ctx.cache["labels"] = importer.labels()
        return RowResult.FAILED, [], error_text(exc, labels)
    except PermissionDenied as exc:
        return RowResult.FAILED, [], str(exc) or _("You do not have permission to do this.")
    except Exception as exc:  # one broken row never takes the others with it
        log.warning("import row failed: %r", exc)
        return RowResult.FAILED, [], str(exc)[:500] or exc.__class__.__name__


def _labels(importer, ctx) -> dict:
    labels = ctx.cache.get("labels")
    if labels is None:
        labels = ctx.cache["labels"] = importer.labels()
    return labels


def _chunk_results(importer, ctx, mapping, chunk):
    """(row number, cells, result, written records, error) per row: the bulk path when the importer has one
    and this job qualifies (same outcomes, a few statements per chunk), else row by row."""
    if len(chunk) >= bulk.BULK_MIN_ROWS and bulk.plan(importer, ctx) is not None:
        for row in bulk.run_chunk(importer, ctx, mapping, chunk, _process_row, _labels(importer, ctx)):
            yield row.num, row.values, row.result, row.written, row.error or ""
        return
    for num, values in chunk:
        yield (num, values, *_process_row(importer, ctx, mapping, values))


def _run_chunk(job, importer, ctx, mapping, chunk):
    counts = Counter()
    rows = []
    sample = []
    dup_before = ctx.duplicates
    with _transaction():
        for num, values, result, written, error in _chunk_results(importer, ctx, mapping, chunk):
            counts[result] += 1
            if result == RowResult.FAILED or (written and not job.dry_run):
                rows.append({"job_id": job.pk, "row_number": num, "result": str(result), "error": error,
                             "cells": _jsonable(values) if result == RowResult.FAILED else [],
                             "written": written if not job.dry_run else []})
            if job.dry_run and len(sample) < PREVIEW_SAMPLE:
                sample.append({"row": num, "result": result, "error": error})
        if job.dry_run:
            transaction.set_rollback(True)
        else:
            _save_progress(job, rows, counts, chunk, ctx.duplicates - dup_before, sample)
    if job.dry_run:
        ctx.seen.clear()  # what the rolled-back chunk "created" does not exist
        bulk.forget(ctx)
        with transaction.atomic():
            _save_progress(job, rows, counts, chunk, ctx.duplicates - dup_before, sample)


@contextlib.contextmanager
def _transaction(job=None):
    """A transaction (a savepoint inside an open one) — for a group of the job's chunks (`job`), none for a
    preview, whose chunks roll back one by one."""
    if job is not None and job.dry_run:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql" and not connection.savepoint_ids:  # (the outermost transaction)
            # The chunks and the job's progress (next_row) commit together, so chunks lost to a crash right
            # after their commit are simply imported again when the job resumes: the commit need not wait for
            # the disk (~40 ms a commit). The database stays consistent either way.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _save_progress(job, rows, counts, chunk, dups, sample):
    from django.db.models import F

    bulk.insert_rows(ImportRow, rows)  # {attname: value} rows, without bulk_create's per-value SQL compilation
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=F("processed_rows") + len(chunk), next_row=chunk[-1][0] + 1,
        created=F("created") + counts[RowResult.CREATED], updated=F("updated") + counts[RowResult.UPDATED],
        skipped=F("skipped") + counts[RowResult.SKIPPED], failed=F("failed") + counts[RowResult.FAILED],
        duplicates=F("duplicates") + dups)
    if sample:
        job.refresh_from_db(fields=["preview"])
        preview = job.preview or {}
        preview.setdefault("rows", [])
        preview["rows"] = (preview["rows"] + sample)[:PREVIEW_SAMPLE]
        ImportJob.objects.filter(pk=job.pk).update(preview=preview)


def resume_stalled() -> int:
    """Restart jobs left running by a crash: they continue after the last committed chunk."""
    from .tasks import run_import

    n = 0
    for job in ImportJob.objects.filter(status=JobStatus.RUNNING):
        run_import(job.pk)
        n += 1
    return n


# -- error file ------------------------------------------------------------------------------------
def error_file(job: ImportJob) -> tuple[bytes, str]:
    """The failed rows as uploaded plus an error column, in the upload's format; fix and upload again."""
    headers = list(job.headers) + [_("Error (row %(n)s)") % {"n": "N"}]
    width = len(job.headers)

    def rows():
        for r in job.rows.filter(result=RowResult.FAILED).order_by("row_number").iterator(chunk_size=2000):
            cells = list(r.cells)[:width] + [None] * max(0, width - len(r.cells))
            yield cells + [f"{r.row_number}: {r.error}"]

    data, ext = readers.write_rows("csv" if job.file_format == "csv" else "xlsx", headers, rows())
    return data, ext


# -- undo ------------------------------------------------------------------------------------------
def can_undo(actor, job: ImportJob) -> bool:
    return (
        job.status == JobStatus.DONE and not job.dry_run and job.finished_at is not None
        and timezone.now() - job.finished_at <= dt.timedelta(days=UNDO_DAYS)
        and (actor.pk == job.created_by_id or getattr(actor, "is_superuser", False))
    )


def undo_job(actor, job: ImportJob) -> dict:
    """Remove what the import created and restore what it updated — except records changed since (their
    updated_at differs from the one the import left), which are reported and left alone."""
    if not can_undo(actor, job):
        raise ValidationError(_("This import cannot be undone (only a finished import, by whoever ran it, within %(d)d days).") % {"d": UNDO_DAYS})
    importer = get_importer(job.object_type)
    require(actor, importer.module, Action.IMPORT)
    removed = restored = 0
    kept = []
    with change_context(actor, source=ChangeSource.IMPORT, request_id=f"import-{job.pk}-undo"):
        for row in job.rows.exclude(result=RowResult.FAILED).order_by("-row_number").iterator(chunk_size=500):
            for w in reversed(row.written):
                model = apps.get_model(w["model"])
                obj = model._base_manager.filter(pk=w["pk"]).first()
                if obj is None:
                    continue
                ts = getattr(obj, "updated_at", None)
                if w.get("after_ts") and ts and ts.isoformat() != w["after_ts"]:
                    kept.append({"row": row.row_number, "model": w["model"], "pk": w["pk"], "reason": "changed"})
                    continue
                try:
                    with transaction.atomic():
                        if w["action"] == "created":
                            obj.delete()
                            removed += 1
                        else:
                            before = dict(w.get("before") or {})
                            custom = before.pop("custom_fields", None)
                            for k, v in before.items():
                                setattr(obj, k, v)
                            if custom is not None:
                                obj.custom_fields = custom
                            obj.save()
                            restored += 1
                except ProtectedError:
                    kept.append({"row": row.row_number, "model": w["model"], "pk": w["pk"], "reason": "in use"})
        job.status = JobStatus.UNDONE
        job.undone_at = timezone.now()
        job.preview = {**(job.preview or {}), "undo": {"removed": removed, "restored": restored, "kept": kept[:1000], "kept_count": len(kept)}}
        job.save(update_fields=["status", "undone_at", "preview"])
    return job.preview["undo"]


def template_file(object_type: str) -> bytes:
    importer = get_importer(object_type)
    headers, example = importer.template_rows()
    data, _ext = readers.write_rows("xlsx", headers, [example])
    return data
