"""CSV contact imports: upload and sniff, map the columns, then import in a background task.

The flow is upload (`import_upload`: the file is stored, its encoding, delimiter and header
found) → mapping (`import_queue`: which column is the phone, the name, custom fields; a
target list; a default country) → `import_run` in a Celery worker.

`import_run` streams the file and works in chunks of `CHUNK` rows. Each chunk is one
transaction that also advances the import's counters with a single UPDATE, so the progress bar
moves and a crash loses at most the chunk in flight. A re-run resumes after the last committed
chunk (re-reading the earlier rows only to rebuild the in-file duplicate check); a re-run of a
finished import does nothing; two runners of one import are serialised by a row lock on the
import and the second one finds the counters moved and stops.

Decisions, per row (the first that applies):
- the phone cell does not normalise to E.164 (with the import's default country for national
  numbers) → rejected "invalid number: …";
- the same number appeared on an earlier row → rejected "duplicate of row N";
- the number's latest opt-out ledger entry is an opt-out, or the existing contact is marked
  opted out → rejected "opted out" (an import never re-subscribes anyone);
- a contact with the number exists → **updated**: a mapped, non-empty name replaces the name;
  mapped custom fields are merged into the existing ones (other keys are kept); empty cells
  never erase anything;
- otherwise → created.
Every accepted row (created or updated) is added to the target list, if one was chosen.

Memory: rows are never all held; the duplicate check keeps one dict entry per distinct number
(about 100 bytes each, ~10 MB for 100,000 rows).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Tenant, User
from core.phone import to_e164
from core.tasks import publish_now
from messaging.contacts.models import (
    Contact,
    ContactImport,
    ContactList,
    ContactListMember,
    ImportRejection,
)
from messaging.services import opted_out

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_EXTENSIONS = (".csv", ".txt")
CHUNK = 2000
PREVIEW_ROWS = 5
RAW_LIMIT = 1000
DELIMITERS = ",;\t"

# What a column may be mapped to; custom fields are stored as "field:<key>".
PHONE, NAME, FIRST_NAME, LAST_NAME = "phone", "name", "first_name", "last_name"
FIELD_PREFIX = "field:"
TARGETS = (PHONE, NAME, FIRST_NAME, LAST_NAME)

Q = ContactImport.Status


class ImportFileError(Exception):
    """The upload or the mapping cannot be used; the message is fit for the page."""


# --- reading the file ---------------------------------------------------------------------------


def _chunks(stream: IO[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    while block := stream.read(size):
        yield block


def detect_encoding(stream: IO[bytes]) -> str:
    """UTF-8 (with or without a BOM) when the whole file decodes as such; else cp1252/latin-1.

    Reads the whole stream in 1 MB blocks (tens of milliseconds for 20 MB) and rewinds it: a
    file whose first lines are ASCII and whose later names are cp1252 is common from Excel.
    """
    stream.seek(0)
    head = stream.read(3)
    encoding = "utf-8-sig" if head == codecs.BOM_UTF8 else "utf-8"
    stream.seek(0)
    for candidate in (encoding, "cp1252"):
        decoder = codecs.getincrementaldecoder(candidate)()
        try:
            for block in _chunks(stream):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            stream.seek(0)
            continue
        stream.seek(0)
        return candidate
    stream.seek(0)
    return "latin-1"  # every byte is a latin-1 character


def detect_delimiter(sample: str) -> str:
    """Comma, semicolon or tab: csv.Sniffer on the first lines, else the commonest in line 1."""
    cut = sample.rfind("\n")
    if cut > 0:
        sample = sample[:cut]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _text(stream: IO[bytes], encoding: str) -> io.TextIOWrapper:
    stream.seek(0)
    return io.TextIOWrapper(stream, encoding=encoding, newline="", errors="replace")


@dataclass
class Record:
    """One non-blank CSV record and the file line it starts on (the header is line 1)."""

    line: int
    cells: list[str]


def records(text: IO[str], delimiter: str) -> Iterator[Record]:
    """Non-blank records after the header, with the line each starts on."""
    reader = csv.reader(text, delimiter=delimiter)
    next(reader, None)  # the header
    end = reader.line_num
    for cells in reader:
        start, end = end + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        yield Record(line=start, cells=cells)


@dataclass(frozen=True)
class Preview:
    headers: list[str]
    rows: list[list[str]]


def _open(contact_import: ContactImport) -> IO[bytes]:
    contact_import.file.open("rb")
    return contact_import.file.file


def import_preview(contact_import: ContactImport) -> Preview:
    """The header row and the first rows, for the mapping step."""
    stream = _open(contact_import)
    try:
        text = _text(stream, detect_encoding(stream))
        reader = csv.reader(text, delimiter=contact_import.delimiter)
        headers = next(reader, [])
        rows: list[list[str]] = []
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append(cells)
            if len(rows) >= PREVIEW_ROWS:
                break
        text.detach()
    finally:
        contact_import.file.close()
    return Preview(headers=headers, rows=rows)


# --- upload and mapping ---------------------------------------------------------------------------


def import_upload(*, tenant: Tenant, user: User | None, upload: UploadedFile) -> ContactImport:
    """Check and store an uploaded CSV; find its encoding, delimiter and header row."""
    name = os.path.basename(upload.name or "contacts.csv")
    if not name.lower().endswith(ALLOWED_EXTENSIONS):
        raise ImportFileError("Upload a .csv or .txt file.")
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    if not upload.size:
        raise ImportFileError("The file is empty.")
    upload.seek(0)
    raw: IO[bytes] = upload.file
    encoding = detect_encoding(raw)
    raw.seek(0)
    sample = raw.read(64 * 1024).decode(encoding, errors="replace")
    delimiter = detect_delimiter(sample)
    text = _text(raw, encoding)
    headers = next(csv.reader(text, delimiter=delimiter), [])
    text.detach()
    headers = [h.strip() for h in headers]
    if not any(headers):
        raise ImportFileError("The first row should name the columns; it is empty.")
    upload.seek(0)
    contact_import = ContactImport(
        tenant=tenant,
        original_name=name[:200],
        delimiter=delimiter,
        headers=headers,
        created_by=user,
    )
    contact_import.file.save(name, upload, save=False)
    contact_import.save()
    return contact_import


def mapping_check(mapping: dict[str, str], columns: int) -> None:
    """Exactly one phone column; each name part at most once; custom keys unique and named."""
    if not any(v == PHONE for v in mapping.values()):
        raise ImportFileError("Choose the column that holds the phone number.")
    seen: set[str] = set()
    for index, target in mapping.items():
        if not index.isdigit() or int(index) >= columns:
            raise ImportFileError(f"There is no column {index}.")
        if target in TARGETS:
            if target in seen:
                raise ImportFileError(f"Only one column can be the {target.replace('_', ' ')}.")
        elif target.startswith(FIELD_PREFIX):
            key = target[len(FIELD_PREFIX) :]
            if not key.strip():
                raise ImportFileError("Give each custom field a name.")
            if target in seen:
                raise ImportFileError(f"Two columns are mapped to the custom field “{key}”.")
        else:
            raise ImportFileError(f"Unknown target “{target}”.")
        seen.add(target)
    if NAME in seen and (FIRST_NAME in seen or LAST_NAME in seen):
        raise ImportFileError("Map either a full name column or first/last name columns.")


def import_queue(
    *,
    contact_import: ContactImport,
    mapping: dict[str, str],
    default_country: str,
    target_list: ContactList | None,
) -> bool:
    """Save the mapping, mark the import queued and enqueue it once the transaction commits.

    Returns False when this import had already left the mapping step (a double submit).
    """
    mapping_check(mapping, len(contact_import.headers))
    with transaction.atomic():
        moved = ContactImport.objects.filter(pk=contact_import.pk, status=Q.UPLOADED).update(
            mapping=mapping,
            default_country=default_country.upper(),
            target_list=target_list,
            status=Q.QUEUED,
        )
        if moved:
            tenant_id, import_id = contact_import.tenant_id, contact_import.pk
            transaction.on_commit(lambda: import_enqueue(tenant_id=tenant_id, import_id=import_id))
    contact_import.refresh_from_db()
    return bool(moved)


def import_enqueue(*, tenant_id: int, import_id: int) -> bool:
    """Hand the import to a worker; False when the broker is unreachable (it stays queued)."""
    from messaging.tasks import contact_import_run

    return publish_now(contact_import_run, tenant_id=tenant_id, import_id=import_id)


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Columns:
    """The mapping in a form fit for the hot loop."""

    phone: int
    name: int | None = None
    first: int | None = None
    last: int | None = None
    fields: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def from_mapping(cls, mapping: dict[str, str]) -> Columns:
        found: dict[str, Any] = {"fields": []}
        for index, target in mapping.items():
            i = int(index)
            if target == PHONE:
                found["phone"] = i
            elif target == NAME:
                found["name"] = i
            elif target == FIRST_NAME:
                found["first"] = i
            elif target == LAST_NAME:
                found["last"] = i
            elif target.startswith(FIELD_PREFIX):
                found["fields"].append((i, target[len(FIELD_PREFIX) :].strip()))
        return cls(**found)

    def name_of(self, cells: list[str]) -> str:
        if self.name is not None:
            return _cell(cells, self.name)
        parts = [_cell(cells, i) for i in (self.first, self.last) if i is not None]
        return " ".join(p for p in parts if p)

    def fields_of(self, cells: list[str]) -> dict[str, str]:
        return {key: value for i, key in self.fields if (value := _cell(cells, i))}


def _cell(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""


@dataclass
class Accepted:
    record: Record
    phone: str
    name: str
    fields: dict[str, str]


@dataclass
class ChunkResult:
    created: int = 0
    updated: int = 0
    rejected: int = 0


class _Superseded(Exception):
    """Another runner moved this import on; this one stops without writing."""


def _raw(cells: list[str], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return out.getvalue()[:RAW_LIMIT]


def import_run(*, import_id: int) -> int:
    """Import one queued (or interrupted) import; returns the rows processed by this run.

    Runs inside the tenant's scope (messaging.tasks.contact_import_run). Idempotent: see the
    module docstring.
    """
    contact_import = ContactImport.objects.filter(pk=import_id).first()
    if contact_import is None or contact_import.status not in (Q.QUEUED, Q.RUNNING):
        return 0
    ContactImport.objects.filter(pk=import_id, status__in=(Q.QUEUED, Q.RUNNING)).update(
        status=Q.RUNNING
    )
    try:
        return _run(contact_import)
    except _Superseded:
        log.info("Contact import %s is being run by another worker", import_id)
        return 0
    except Exception as exc:
        log.exception("Contact import %s failed", import_id)
        message = (
            str(exc)
            if isinstance(exc, ImportFileError)
            else "The import stopped: " + (f"{type(exc).__name__}: {exc}")
        )
        ContactImport.objects.filter(pk=import_id, status=Q.RUNNING).update(
            status=Q.FAILED, error=message[:2000], finished=timezone.now()
        )
        return 0


def _run(contact_import: ContactImport) -> int:
    columns = Columns.from_mapping(contact_import.mapping)
    region = contact_import.default_country
    stream = _open(contact_import)
    try:
        encoding = detect_encoding(stream)
        if not contact_import.total_rows:
            text = _text(stream, encoding)
            total = sum(1 for _ in records(text, contact_import.delimiter))
            text.detach()
            ContactImport.objects.filter(pk=contact_import.pk).update(total_rows=total)
        text = _text(stream, encoding)
        done = _process(contact_import, columns, region, records(text, contact_import.delimiter))
        text.detach()
    finally:
        contact_import.file.close()
    ContactImport.objects.filter(pk=contact_import.pk, status=Q.RUNNING).update(
        status=Q.DONE, finished=timezone.now()
    )
    return done


def _process(
    contact_import: ContactImport, columns: Columns, region: str, rows: Iterator[Record]
) -> int:
    already = contact_import.processed_rows  # committed by an earlier, interrupted run
    seen: dict[str, int] = {}  # phone → the line it first appeared on
    chunk: list[Record] = []
    position = 0
    done = 0
    for record in rows:
        position += 1
        if position <= already:
            # Committed before: only rebuild the duplicate check.
            try:
                phone = to_e164(_cell(record.cells, columns.phone), region=region)
            except ValidationError:
                continue
            seen.setdefault(phone, record.line)
            continue
        chunk.append(record)
        if len(chunk) >= CHUNK:
            done += _chunk(contact_import, columns, region, chunk, seen, already + done)
            chunk = []
    if chunk:
        done += _chunk(contact_import, columns, region, chunk, seen, already + done)
    return done


def _chunk(
    contact_import: ContactImport,
    columns: Columns,
    region: str,
    chunk: list[Record],
    seen: dict[str, int],
    before: int,
) -> int:
    """Import one chunk of rows in one transaction; returns the rows it covered."""
    accepted, rejections, seen_here = _chunk_parse(contact_import, columns, region, chunk, seen)
    with transaction.atomic():
        _chunk_lock(contact_import, before)
        upserts, result = _chunk_decide(contact_import, accepted, rejections)
        _contacts_upsert(upserts)
        _list_add(contact_import, upserts)
        result.rejected = len(rejections)
        ImportRejection.objects.bulk_create(rejections)
        _progress_record(contact_import, before=before, rows=len(chunk), result=result)
    seen.update(seen_here)
    return len(chunk)


def _rejection(contact_import: ContactImport, record: Record, reason: str) -> ImportRejection:
    return ImportRejection(
        tenant_id=contact_import.tenant_id,
        contact_import_id=contact_import.pk,
        row_number=record.line,
        reason=reason[:200],
        raw=_raw(record.cells, contact_import.delimiter),
    )


def _chunk_parse(
    contact_import: ContactImport,
    columns: Columns,
    region: str,
    chunk: list[Record],
    seen: dict[str, int],
) -> tuple[list[Accepted], list[ImportRejection], dict[str, int]]:
    """Normalise the numbers and drop in-file duplicates (no database access)."""
    accepted: list[Accepted] = []
    rejections: list[ImportRejection] = []
    seen_here: dict[str, int] = {}
    for record in chunk:
        raw_phone = _cell(record.cells, columns.phone)
        if not raw_phone:
            rejections.append(_rejection(contact_import, record, "invalid number: empty"))
            continue
        try:
            phone = to_e164(raw_phone, region=region)
        except ValidationError:
            reason = f"invalid number: {raw_phone[:100]}"
            rejections.append(_rejection(contact_import, record, reason))
            continue
        first = seen.get(phone) or seen_here.get(phone)
        if first:
            rejections.append(_rejection(contact_import, record, f"duplicate of row {first}"))
            continue
        seen_here[phone] = record.line
        accepted.append(
            Accepted(
                record=record,
                phone=phone,
                name=columns.name_of(record.cells)[:150],
                fields=columns.fields_of(record.cells),
            )
        )
    return accepted, rejections, seen_here


def _chunk_lock(contact_import: ContactImport, before: int) -> None:
    """Row-lock the import; a moved counter means another runner won (raise _Superseded)."""
    current = (
        ContactImport.objects.select_for_update()
        .filter(pk=contact_import.pk)
        .values_list("processed_rows", "status")
        .first()
    )
    if current != (before, Q.RUNNING):
        raise _Superseded


def _chunk_decide(
    contact_import: ContactImport, accepted: list[Accepted], rejections: list[ImportRejection]
) -> tuple[list[Contact], ChunkResult]:
    """Per accepted row: rejected as opted out, or a contact to create or to update (merged)."""
    tenant_id = contact_import.tenant_id
    phones = [a.phone for a in accepted]
    blocked = opted_out(contact_import.tenant, phones)
    existing = {
        c["phone"]: c
        for c in Contact.objects.filter(phone__in=phones).values(
            "id", "phone", "name", "fields", "opted_out"
        )
    }
    now = timezone.now()
    result = ChunkResult()
    upserts: list[Contact] = []
    for item in accepted:
        old = existing.get(item.phone)
        if item.phone in blocked or (old is not None and old["opted_out"]):
            rejections.append(_rejection(contact_import, item.record, "opted out"))
            continue
        if old is None:
            result.created += 1
            name, fields = item.name, item.fields
        else:
            result.updated += 1
            name, fields = item.name or old["name"], {**(old["fields"] or {}), **item.fields}
        upserts.append(
            Contact(
                tenant_id=tenant_id,
                phone=item.phone,
                name=name,
                fields=fields,
                created=now,
                updated=now,
            )
        )
    return upserts, result


def _contacts_upsert(upserts: list[Contact]) -> None:
    if upserts:
        Contact.objects.bulk_create(
            upserts,
            update_conflicts=True,
            unique_fields=["tenant", "phone"],
            update_fields=["name", "fields", "updated"],
        )


def _list_add(contact_import: ContactImport, upserts: list[Contact]) -> None:
    if not (upserts and contact_import.target_list_id):
        return
    # PostgreSQL and SQLite return the ids of inserted and updated rows alike.
    ids = [c.pk for c in upserts]
    if None in ids:
        ids = list(
            Contact.objects.filter(phone__in=[c.phone for c in upserts]).values_list(
                "id", flat=True
            )
        )
    ContactListMember.objects.bulk_create(
        [
            ContactListMember(contact_list_id=contact_import.target_list_id, contact_id=i)
            for i in ids
        ],
        ignore_conflicts=True,
    )


def _progress_record(
    contact_import: ContactImport, *, before: int, rows: int, result: ChunkResult
) -> None:
    """Advance the counters in the chunk's transaction: the progress bar and the resume point."""
    ContactImport.objects.filter(pk=contact_import.pk).update(
        processed_rows=before + rows,
        created_count=F("created_count") + result.created,
        updated_count=F("updated_count") + result.updated,
        rejected_count=F("rejected_count") + result.rejected,
    )
