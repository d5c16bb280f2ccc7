"""CSV contact imports: sniffing the upload, the mapping, and `import_run` (called directly)."""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope

from accounts.models import Tenant
from messaging.contacts import imports as contact_import
from messaging.contacts.imports import (
    ImportFileError,
    detect_delimiter,
    import_preview,
    import_queue,
    import_run,
    import_upload,
)
from messaging.contacts.models import (
    Contact,
    ContactImport,
    ContactList,
    ContactListMember,
    ImportRejection,
)
from messaging.models import MessagingSettings, OptOut
from tests.conftest import World


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def acme(world: World) -> Iterator[Tenant]:
    with scope(tenant=world.tenant_a.pk):
        yield world.tenant_a


def _upload(tenant: Tenant, content: bytes | str, name: str = "contacts.csv") -> ContactImport:
    data = content.encode() if isinstance(content, str) else content
    return import_upload(tenant=tenant, user=None, upload=SimpleUploadedFile(name, data))


def _import(
    tenant: Tenant,
    content: bytes | str,
    mapping: dict[str, str] | None = None,
    *,
    country: str = "SE",
    target_list: ContactList | None = None,
) -> ContactImport:
    started = _upload(tenant, content)
    import_queue(
        contact_import=started,
        mapping=mapping or {"0": "phone", "1": "name"},
        default_country=country,
        target_list=target_list,
    )
    import_run(import_id=started.pk)
    started.refresh_from_db()
    return started


def _reasons(started: ContactImport) -> list[tuple[int, str]]:
    return list(
        ImportRejection.objects.filter(contact_import=started).values_list("row_number", "reason")
    )


# --- sniffing -----------------------------------------------------------------------------------


def test_upload_reads_header_with_bom_and_semicolons(acme: Tenant) -> None:
    started = _upload(acme, codecs.BOM_UTF8 + "Telefon;Namn;Stad\n0701234567;Åsa;Malmö\n".encode())
    assert started.delimiter == ";"
    assert started.headers == ["Telefon", "Namn", "Stad"]
    assert started.status == ContactImport.Status.UPLOADED
    preview = import_preview(started)
    assert preview.rows == [["0701234567", "Åsa", "Malmö"]]


def test_upload_detects_tabs_and_cp1252(acme: Tenant) -> None:
    started = _upload(acme, "phone\tname\n+46701234567\tJosé Müller\n".encode("cp1252"))
    assert started.delimiter == "\t"
    assert import_preview(started).rows == [["+46701234567", "José Müller"]]


@pytest.mark.parametrize(
    ("sample", "expected"),
    [("phone\n+4670\n", ","), ("a;b\n1;2\n", ";"), ("a\tb\n1\t2\n", "\t"), ("a,b\n1,2", ",")],
)
def test_delimiter_falls_back_to_the_commonest(sample: str, expected: str) -> None:
    assert detect_delimiter(sample) == expected


def test_upload_refuses_other_files_and_empty_ones(acme: Tenant) -> None:
    with pytest.raises(ImportFileError, match=r"\.csv or \.txt"):
        _upload(acme, "phone\n", name="contacts.xlsx")
    with pytest.raises(ImportFileError, match="empty"):
        _upload(acme, b"")


def test_upload_refuses_files_over_the_limit(acme: Tenant, monkeypatch) -> None:
    monkeypatch.setattr(contact_import, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(ImportFileError, match="larger"):
        _upload(acme, "phone,name\n+46701234567,Ann\n")


# --- mapping ------------------------------------------------------------------------------------


def test_mapping_without_a_phone_column_is_refused_before_queueing(acme: Tenant) -> None:
    started = _upload(acme, "phone,name\n+46701234567,Ann\n")
    with pytest.raises(ImportFileError, match="phone number"):
        import_queue(
            contact_import=started, mapping={"1": "name"}, default_country="SE", target_list=None
        )
    started.refresh_from_db()
    assert started.status == ContactImport.Status.UPLOADED


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"0": "phone", "1": "phone"}, "Only one column"),
        ({"0": "phone", "1": "field: "}, "custom field a name"),
        ({"0": "phone", "1": "name", "2": "first_name"}, "either a full name"),
        ({"0": "phone", "9": "name"}, "no column 9"),
        ({"0": "phone", "1": "email"}, "Unknown target"),
    ],
)
def test_mapping_checks(acme: Tenant, mapping: dict[str, str], message: str) -> None:
    started = _upload(acme, "a,b,c\n1,2,3\n")
    with pytest.raises(ImportFileError, match=message):
        import_queue(
            contact_import=started, mapping=mapping, default_country="SE", target_list=None
        )


def test_queueing_enqueues_the_task_on_commit(
    acme: Tenant, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    sent: list[dict] = []
    from messaging import tasks

    monkeypatch.setattr(
        tasks.contact_import_run, "apply_async", lambda **kw: sent.append(kw["kwargs"])
    )
    started = _upload(acme, "phone\n+46701234567\n")
    with django_capture_on_commit_callbacks(execute=True):
        assert import_queue(
            contact_import=started, mapping={"0": "phone"}, default_country="se", target_list=None
        )
    assert sent == [{"tenant_id": acme.pk, "import_id": started.pk}]
    started.refresh_from_db()
    assert (started.status, started.default_country) == ("queued", "SE")
    # A double submit does not queue it twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert not import_queue(
            contact_import=started, mapping={"0": "phone"}, default_country="SE", target_list=None
        )
    assert len(sent) == 1


def test_a_broker_error_leaves_the_import_queued(
    acme: Tenant, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from messaging import tasks

    def down(**kwargs: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.contact_import_run, "apply_async", down)
    started = _upload(acme, "phone\n+46701234567\n")
    with django_capture_on_commit_callbacks(execute=True):
        import_queue(
            contact_import=started, mapping={"0": "phone"}, default_country="SE", target_list=None
        )
    started.refresh_from_db()
    assert started.status == "queued"


# --- the run ------------------------------------------------------------------------------------


def test_import_creates_contacts_and_reports_each_rejected_row(acme: Tenant) -> None:
    csv_text = (
        "phone,name,city\n"
        "+46701234567,Ann Andersson,Malmö\n"  # line 2
        "\n"  # blank lines are skipped
        "070-123 45 68,Bo,Lund\n"  # national, with the default country
        "not a number,Cy,Umeå\n"  # line 5
        "+46 70 123 45 67,Ann again,Malmö\n"  # line 6: the same as line 2
        ",Nobody,\n"  # line 7
        '+46701234569,"Doe, Jane","Line one\nline two"\n'  # quoted comma and newline
        "+46701234570,Dee,Kiruna\n"  # line 10 (line 8 spans two lines)
    )
    started = _import(acme, csv_text, {"0": "phone", "1": "name", "2": "field:city"})
    assert started.status == "done"
    assert started.finished is not None
    assert (started.total_rows, started.processed_rows) == (7, 7)
    assert (started.created_count, started.updated_count, started.rejected_count) == (4, 0, 3)
    assert _reasons(started) == [
        (5, "invalid number: not a number"),
        (6, "duplicate of row 2"),
        (7, "invalid number: empty"),
    ]
    assert ImportRejection.objects.get(row_number=6).raw == "+46 70 123 45 67,Ann again,Malmö"
    contacts = {c.phone: c for c in Contact.objects.all()}
    assert set(contacts) == {"+46701234567", "+46701234568", "+46701234569", "+46701234570"}
    assert contacts["+46701234569"].name == "Doe, Jane"
    assert contacts["+46701234569"].fields == {"city": "Line one\nline two"}
    assert contacts["+46701234568"].fields == {"city": "Lund"}


def test_national_numbers_use_the_chosen_country(acme: Tenant) -> None:
    started = _import(acme, "phone\n40 12 34 56\n", {"0": "phone"}, country="NO")
    assert started.created_count == 1
    assert Contact.objects.get().phone == "+4740123456"


def test_semicolons_bom_and_first_last_names(acme: Tenant) -> None:
    content = codecs.BOM_UTF8 + "Förnamn;Efternamn;Mobil\nÅsa;Öberg;0701234567\n".encode()
    started = _import(acme, content, {"0": "first_name", "1": "last_name", "2": "phone"})
    assert started.created_count == 1
    assert Contact.objects.get().name == "Åsa Öberg"


def test_existing_contacts_are_updated_not_rejected(acme: Tenant) -> None:
    Contact.objects.create(
        tenant=acme, phone="+46701234567", name="Old", fields={"vip": "yes", "city": "Lund"}
    )
    started = _import(
        acme,
        "phone,name,city\n+46701234567,New Name,Malmö\n+46701234568,,\n",
        {"0": "phone", "1": "name", "2": "field:city"},
    )
    assert (started.created_count, started.updated_count, started.rejected_count) == (1, 1, 0)
    updated = Contact.objects.get(phone="+46701234567")
    assert updated.name == "New Name"
    assert updated.fields == {"vip": "yes", "city": "Malmö"}  # merged, other keys kept
    # An empty name cell does not erase a name.
    again = _import(acme, "phone,name\n+46701234567,\n")
    assert again.updated_count == 1
    assert Contact.objects.get(phone="+46701234567").name == "New Name"


def test_opted_out_numbers_are_rejected(acme: Tenant, world: World) -> None:
    OptOut.objects.create(tenant=acme, phone="+46701234567", kind="out")
    OptOut.objects.create(tenant=acme, phone="+46701234568", kind="out")
    OptOut.objects.create(tenant=acme, phone="+46701234568", kind="in")  # opted in again
    Contact.objects.create(tenant=acme, phone="+46701234569", opted_out=True)
    # Another tenant's ledger does not count.
    OptOut.objects.create(tenant=world.tenant_b, phone="+46701234570", kind="out")
    started = _import(
        acme, "phone\n+46701234567\n+46701234568\n+46701234569\n+46701234570\n", {"0": "phone"}
    )
    assert _reasons(started) == [(2, "opted out"), (4, "opted out")]
    assert (started.created_count, started.updated_count) == (2, 0)
    assert not Contact.objects.filter(phone="+46701234567").exists()
    assert Contact.objects.get(phone="+46701234569").opted_out


def test_accepted_rows_join_the_target_list(acme: Tenant) -> None:
    target = ContactList.objects.create(tenant=acme, name="Customers")
    Contact.objects.create(tenant=acme, phone="+46701234567")
    started = _import(
        acme, "phone\n+46701234567\n+46701234568\nbad\n", {"0": "phone"}, target_list=target
    )
    assert started.rejected_count == 1
    assert set(target.contacts.values_list("phone", flat=True)) == {
        "+46701234567",
        "+46701234568",
    }


def test_progress_is_written_after_each_chunk(acme: Tenant, monkeypatch) -> None:
    monkeypatch.setattr(contact_import, "CHUNK", 3)
    seen: list[tuple[int, int, str]] = []
    original = contact_import._chunk

    def spy(started, *args, **kwargs):
        done = original(started, *args, **kwargs)
        row = ContactImport.objects.get(pk=started.pk)
        seen.append((row.processed_rows, row.total_rows, row.status))
        return done

    monkeypatch.setattr(contact_import, "_chunk", spy)
    rows = "".join(f"+4670123{i:04d}\n" for i in range(8))
    started = _import(acme, "phone\n" + rows, {"0": "phone"})
    assert seen == [(3, 8, "running"), (6, 8, "running"), (8, 8, "running")]
    assert (started.status, started.created_count) == ("done", 8)


def test_a_second_run_of_a_finished_import_does_nothing(acme: Tenant) -> None:
    started = _import(acme, "phone\n+46701234567\nbad\n", {"0": "phone"})
    assert import_run(import_id=started.pk) == 0
    started.refresh_from_db()
    assert (started.created_count, started.rejected_count) == (1, 1)
    assert ImportRejection.objects.count() == 1
    assert Contact.objects.count() == 1


def test_an_interrupted_import_resumes_after_the_last_committed_chunk(
    acme: Tenant, monkeypatch
) -> None:
    monkeypatch.setattr(contact_import, "CHUNK", 2)
    started = _upload(
        acme, "phone\n+46701234567\n+46701234568\n+46701234567\nbad\n+46701234569\n+46701234568\n"
    )
    import_queue(
        contact_import=started, mapping={"0": "phone"}, default_country="SE", target_list=None
    )
    original = contact_import._chunk
    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker lost")  # not caught: the import stays running
        return original(*args, **kwargs)

    monkeypatch.setattr(contact_import, "_chunk", crash_on_second)
    with pytest.raises(SystemExit):
        import_run(import_id=started.pk)
    started.refresh_from_db()
    assert (started.status, started.processed_rows, started.created_count) == ("running", 2, 2)

    monkeypatch.setattr(contact_import, "_chunk", original)
    import_run(import_id=started.pk)
    started.refresh_from_db()
    assert started.status == "done"
    assert (started.processed_rows, started.created_count, started.rejected_count) == (6, 3, 3)
    # The duplicate check remembers rows of the first run.
    assert _reasons(started) == [
        (4, "duplicate of row 2"),
        (5, "invalid number: bad"),
        (7, "duplicate of row 3"),
    ]


def test_a_superseded_runner_stops_without_writing(acme: Tenant) -> None:
    started = _upload(acme, "phone\n+46701234567\n")
    import_queue(
        contact_import=started, mapping={"0": "phone"}, default_country="SE", target_list=None
    )
    from messaging.contacts.imports import Columns, Record, _chunk, _Superseded

    # This runner believes no row is done, but another one has committed the first chunk.
    ContactImport.objects.filter(pk=started.pk).update(status="running", processed_rows=1)
    with pytest.raises(_Superseded):
        _chunk(started, Columns(phone=0), "SE", [Record(line=2, cells=["+46701234567"])], {}, 0)
    assert not Contact.objects.exists()


def test_an_unreadable_file_fails_the_import_with_a_message(acme: Tenant) -> None:
    started = _upload(acme, "phone\n+46701234567\n")
    import_queue(
        contact_import=started, mapping={"0": "phone"}, default_country="SE", target_list=None
    )
    started.file.storage.delete(started.file.name)
    assert import_run(import_id=started.pk) == 0
    started.refresh_from_db()
    assert started.status == "failed"
    assert started.error.startswith("The import stopped")
    assert started.finished is not None


def test_an_unqueued_import_is_not_run(acme: Tenant) -> None:
    started = _upload(acme, "phone\n+46701234567\n")
    assert import_run(import_id=started.pk) == 0
    started.refresh_from_db()
    assert started.status == "uploaded"


def test_default_country_comes_from_settings_in_the_mapping_form(acme: Tenant) -> None:
    from messaging.contacts.forms import ImportMapForm

    MessagingSettings.objects.create(tenant=acme, default_country="NO")
    started = _upload(acme, "Mobile,Full name,Shoe size\n+4740123456,Ann,38\n")
    form = ImportMapForm(contact_import=started)
    assert form.fields["default_country"].initial == "NO"
    assert [form.fields[f"col_{i}"].initial for i in range(3)] == ["phone", "name", "field"]
    assert form.fields["key_2"].initial == "Shoe size"
    assert ContactListMember.objects.count() == 0
