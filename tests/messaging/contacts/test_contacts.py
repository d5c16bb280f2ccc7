"""The Contacts pages: contacts, lists, import steps and export, as users see them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import include, path
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant
from config import urls as root_urls
from messaging.contacts.imports import import_run
from messaging.contacts.models import (
    Contact,
    ContactImport,
    ContactList,
    ContactListMember,
    ImportRejection,
)
from messaging.models import MessagingSettings, OptOut
from tests.conftest import World, client_for

# Until config/urls.py includes messaging.contacts.urls, these tests mount it themselves.
_included = any("contact" in str(p.urlconf_name) for p in root_urls.tenant_patterns)
urlpatterns = root_urls.urlpatterns
if not _included:
    urlpatterns = [
        *[p for p in root_urls.urlpatterns if "tenant_slug" not in str(p.pattern)],
        path(
            "t/<slug:tenant_slug>/",
            include(
                [*root_urls.tenant_patterns, path("contacts/", include("messaging.contacts.urls"))]
            ),
        ),
    ]
handler403 = root_urls.handler403
handler404 = root_urls.handler404
pytestmark = pytest.mark.urls(__name__)

BASE = "/t/acme/contacts/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _contact(tenant: Tenant, phone: str, name: str = "", **fields) -> Contact:
    with scopes_disabled():
        return Contact.objects.create(tenant=tenant, phone=phone, name=name, **fields)


def _list(tenant: Tenant, name: str, *contacts: Contact) -> ContactList:
    with scopes_disabled():
        made = ContactList.objects.create(tenant=tenant, name=name)
        for c in contacts:
            ContactListMember.objects.create(contact_list=made, contact=c)
    return made


# --- the list ---------------------------------------------------------------------------------


def test_contacts_page_lists_newest_first_and_only_this_tenants(world: World) -> None:
    now = timezone.now()
    _contact(world.tenant_a, "+46701234567", "Ann", created=now - timedelta(days=1))
    _contact(world.tenant_a, "+46701234568", "Bo", created=now)
    _contact(world.tenant_b, "+46701234569", "Bravo's secret")
    page = client_for(world.member_a).get(BASE).content.decode()
    assert page.index("Bo") < page.index("Ann")
    assert "Bravo's secret" not in page
    assert 'href="/t/acme/contacts/import/"' in page
    assert 'href="/t/acme/contacts/" aria-current="page">Contacts</a>' in page  # the tab
    assert "css/messaging.css" in page


def test_search_by_digits_typed_number_or_name(world: World) -> None:
    _contact(world.tenant_a, "+46701234567", "Ann Andersson")
    _contact(world.tenant_a, "+46709999999", "Bo Berg")
    client = client_for(world.member_a)
    for q in ("1234567", "070-123 45 67", "andersson"):
        page = client.get(BASE, {"q": q}).content.decode()
        assert "Ann Andersson" in page and "Bo Berg" not in page, q
    assert "No contact matches" in client.get(BASE, {"q": "nobody"}).content.decode()


def test_filter_by_list_and_opt_out(world: World) -> None:
    ann = _contact(world.tenant_a, "+46701234567", "Ann")
    _contact(world.tenant_a, "+46701234568", "Bo", opted_out=True)
    vip = _list(world.tenant_a, "VIP", ann)
    client = client_for(world.member_a)
    page = client.get(BASE, {"list": vip.pk}).content.decode()
    assert "Ann" in page and ">Bo<" not in page
    page = client.get(BASE, {"opted_out": "yes"}).content.decode()
    assert "Bo" in page and ">Ann<" not in page
    assert "Opted out" in page


def test_keyset_pages_and_htmx_partial(world: World) -> None:
    now = timezone.now()
    with scopes_disabled():
        Contact.objects.bulk_create(
            [
                Contact(
                    tenant=world.tenant_a,
                    phone=f"+4670123{i:04d}",
                    name=f"Person {i:02d}",
                    created=now - timedelta(minutes=i),
                )
                for i in range(55)
            ]
        )
    client = client_for(world.member_a)
    first = client.get(BASE)
    page = first.context["page"]
    assert len(page.items) == 50 and page.next_cursor
    second = client.get(BASE, {"after": page.next_cursor}).context["page"]
    assert [c.name for c in second.items] == [f"Person {i}" for i in range(50, 55)]
    partial = client.get(BASE, {"q": "Person 07"}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="results">') and "Person 07" in body


# --- one contact ------------------------------------------------------------------------------


def _form(**values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "fields-TOTAL_FORMS": "2",
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "50",
        "name": "",
    }
    data.update(values)
    return data


def test_member_adds_a_contact_with_a_national_number_fields_and_a_list(world: World) -> None:
    vip = _list(world.tenant_a, "VIP")
    with scopes_disabled():
        MessagingSettings.objects.create(tenant=world.tenant_a, default_country="SE")
        OptOut.objects.create(tenant=world.tenant_a, phone="+46701234567", kind="out")
    response = client_for(world.member_a).post(
        f"{BASE}new/",
        _form(
            phone="070-123 45 67",
            name="Ann",
            lists=[vip.pk],
            **{"fields-0-key": "city", "fields-0-value": "Malmö"},
        ),
    )
    assert response.status_code == 302
    with scopes_disabled():
        contact = Contact.objects.get(tenant=world.tenant_a)
        lists = list(contact.lists.all())
    assert (contact.phone, contact.name, contact.fields) == (
        "+46701234567",
        "Ann",
        {"city": "Malmö"},
    )
    assert contact.opted_out  # from the ledger
    assert lists == [vip]
    page = client_for(world.member_a).get(response["Location"]).content.decode()
    assert "Opted out" in page and 'href="/t/acme/messages/opt-outs/"' in page


def test_a_duplicate_number_is_a_clear_error(world: World) -> None:
    _contact(world.tenant_a, "+46701234567", "Ann")
    _contact(world.tenant_b, "+46701234568", "Other tenant's")  # no clash across tenants
    client = client_for(world.member_a)
    response = client.post(f"{BASE}new/", _form(phone="+46 70 123 45 67"))
    assert response.status_code == 400
    assert "A contact with the number +46701234567 already exists." in response.content.decode()
    assert client.post(f"{BASE}new/", _form(phone="+46701234568")).status_code == 302
    bad = client.post(f"{BASE}new/", _form(phone="12"))
    assert bad.status_code == 400 and "not a valid phone number" in bad.content.decode()


def test_member_edits_name_fields_and_lists(world: World) -> None:
    ann = _contact(world.tenant_a, "+46701234567", "Ann", fields={"city": "Lund"})
    vip = _list(world.tenant_a, "VIP", ann)
    other = _list(world.tenant_a, "Other")
    client = client_for(world.member_a)
    page = client.get(f"{BASE}c/{ann.pk}/").content.decode()
    assert 'value="city"' in page and 'value="Lund"' in page
    response = client.post(
        f"{BASE}c/{ann.pk}/",
        _form(
            phone="+46701234567",
            name="Ann B",
            lists=[other.pk],
            **{
                "fields-TOTAL_FORMS": "3",
                "fields-0-key": "city",
                "fields-0-value": "Malmö",
                "fields-1-key": "size",
                "fields-1-value": "38",
            },
        ),
    )
    assert response.status_code == 302
    ann.refresh_from_db()
    assert (ann.name, ann.fields) == ("Ann B", {"city": "Malmö", "size": "38"})
    with scopes_disabled():
        assert list(ann.lists.all()) == [other]
        assert not vip.contacts.exists()


def test_duplicate_field_names_are_refused(world: World) -> None:
    ann = _contact(world.tenant_a, "+46701234567", "Ann")
    response = client_for(world.member_a).post(
        f"{BASE}c/{ann.pk}/",
        _form(
            phone="+46701234567",
            **{"fields-0-key": "a", "fields-0-value": "1", "fields-1-key": "a"},
        ),
    )
    assert response.status_code == 400
    assert "appears twice" in response.content.decode()


def test_only_owners_delete_contacts(world: World) -> None:
    ann = _contact(world.tenant_a, "+46701234567", "Ann")
    assert client_for(world.member_a).post(f"{BASE}c/{ann.pk}/delete/").status_code == 403
    assert (
        "Delete contact"
        not in client_for(world.member_a).get(f"{BASE}c/{ann.pk}/").content.decode()
    )
    owner = client_for(world.owner_a)
    assert "Delete contact" in owner.get(f"{BASE}c/{ann.pk}/delete/").content.decode()
    assert owner.post(f"{BASE}c/{ann.pk}/delete/").status_code == 302
    with scopes_disabled():
        assert not Contact.objects.filter(pk=ann.pk).exists()


def test_another_tenants_contact_is_404(world: World) -> None:
    theirs = _contact(world.tenant_b, "+46701234567", "Theirs")
    client = client_for(world.owner_a)
    assert client.get(f"{BASE}c/{theirs.pk}/").status_code == 404
    assert client.post(f"{BASE}c/{theirs.pk}/delete/").status_code == 404
    assert client_for(world.owner_b).get(BASE).status_code == 404


# --- lists ------------------------------------------------------------------------------------


def test_lists_create_rename_count_and_delete(world: World) -> None:
    ann = _contact(world.tenant_a, "+46701234567", "Ann")
    member = client_for(world.member_a)
    assert member.post(f"{BASE}lists/", {"name": "Customers"}).status_code == 302
    clash = member.post(f"{BASE}lists/", {"name": "Customers"})
    assert clash.status_code == 400 and "already a list" in clash.content.decode()
    with scopes_disabled():
        customers = ContactList.objects.get(tenant=world.tenant_a)
        ContactListMember.objects.create(contact_list=customers, contact=ann)
    page = member.get(f"{BASE}lists/").content.decode()
    assert "Customers" in page and ">1<" in page
    assert member.post(f"{BASE}lists/{customers.pk}/", {"name": "Clients"}).status_code == 302
    customers.refresh_from_db()
    assert customers.name == "Clients"
    assert member.post(f"{BASE}lists/{customers.pk}/delete/").status_code == 403
    owner = client_for(world.owner_a)
    assert "1 membership" in owner.get(f"{BASE}lists/{customers.pk}/delete/").content.decode()
    assert owner.post(f"{BASE}lists/{customers.pk}/delete/").status_code == 302
    with scopes_disabled():
        assert not ContactList.objects.filter(pk=customers.pk).exists()
        assert Contact.objects.filter(pk=ann.pk).exists()  # the contact stays


def test_add_and_remove_picked_contacts(world: World) -> None:
    ann = _contact(world.tenant_a, "+46701234567", "Ann")
    bo = _contact(world.tenant_a, "+46701234568", "Bo")
    theirs = _contact(world.tenant_b, "+46701234569", "Theirs")
    vip = _list(world.tenant_a, "VIP", ann)
    client = client_for(world.member_a)
    url = f"{BASE}members/"
    response = client.post(
        url, {"contact_list": vip.pk, "contacts": [ann.pk, bo.pk], "action": "add"}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"?list={vip.pk}")
    with scopes_disabled():
        assert set(vip.contacts.all()) == {ann, bo}
    # Another tenant's contact is not a valid choice.
    client.post(url, {"contact_list": vip.pk, "contacts": [theirs.pk], "action": "add"})
    client.post(url, {"contact_list": vip.pk, "contacts": [ann.pk], "action": "remove"})
    with scopes_disabled():
        assert set(vip.contacts.all()) == {bo}
    assert client.get(url).status_code == 405


# --- export -----------------------------------------------------------------------------------


def test_export_streams_the_filtered_contacts(world: World) -> None:
    ann = _contact(world.tenant_a, "+46701234567", "Ann", fields={"city": "Malmö"})
    _contact(world.tenant_a, "+46701234568", "=cmd()", opted_out=True)
    _contact(world.tenant_b, "+46701234569", "Theirs")
    _list(world.tenant_a, "VIP", ann)
    _list(world.tenant_a, "Alpha", ann)
    client = client_for(world.member_a)
    response = client.get(f"{BASE}export.csv")
    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-acme-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["phone", "name", "opted_out", "lists", "fields", "created"]
    by_phone = {r[0]: r for r in rows[1:]}
    assert set(by_phone) == {"+46701234567", "+46701234568"}
    assert by_phone["+46701234567"][1:5] == ["Ann", "no", "Alpha; VIP", '{"city": "Malmö"}']
    assert by_phone["+46701234568"][1:3] == ["'=cmd()", "yes"]  # no formula injection
    filtered = client.get(f"{BASE}export.csv", {"opted_out": "no"})
    body = b"".join(filtered.streaming_content).decode()
    assert "+46701234567" in body and "+46701234568" not in body


# --- import pages -----------------------------------------------------------------------------


def _upload(client, content: str, name: str = "people.csv"):
    return client.post(f"{BASE}import/", {"file": SimpleUploadedFile(name, content.encode())})


def test_import_upload_then_mapping_then_progress_and_results(
    world: World, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from messaging import tasks

    enqueued: list[dict] = []
    monkeypatch.setattr(
        tasks.contact_import_run, "apply_async", lambda **kw: enqueued.append(kw["kwargs"])
    )
    client = client_for(world.member_a)
    assert "Upload" in client.get(f"{BASE}import/").content.decode()
    response = _upload(client, "Mobile;Name;City\n0701234567;Ann;Malmö\nbad;Bo;Lund\n")
    assert response.status_code == 302
    with scopes_disabled():
        started = ContactImport.objects.get(tenant=world.tenant_a)
    assert response["Location"] == f"{BASE}import/{started.pk}/map/"
    page = client.get(response["Location"]).content.decode()
    assert "semicolons" in page and "0701234567" in page and "Malmö" in page

    # No phone column: a clear error, nothing queued.
    refused = client.post(
        response["Location"],
        {"col_0": "", "col_1": "name", "col_2": "", "default_country": "SE"},
    )
    assert refused.status_code == 400
    assert "Choose the column that holds the phone number." in refused.content.decode()
    # A custom field without a name.
    nameless = client.post(
        response["Location"],
        {"col_0": "phone", "col_1": "name", "col_2": "field", "key_2": "", "default_country": "SE"},
    )
    assert nameless.status_code == 400 and "Name the custom field." in nameless.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(
            response["Location"],
            {
                "col_0": "phone",
                "col_1": "name",
                "col_2": "field",
                "key_2": "city",
                "target_list": "new",
                "new_list_name": "Imported",
                "default_country": "SE",
            },
        )
    assert queued.status_code == 302
    assert enqueued == [{"tenant_id": world.tenant_a.pk, "import_id": started.pk}]
    detail = client.get(queued["Location"])
    assert "Queued; it starts when a worker is free" in detail.content.decode()
    assert 'hx-trigger="every 1s"' in detail.content.decode()
    # The mapping page of a queued import goes to its progress.
    assert client.get(response["Location"]).status_code == 302

    poll = client.get(queued["Location"], HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and 'id="progress"' in poll.content.decode()

    with scope(tenant=world.tenant_a.pk):
        import_run(import_id=started.pk)
        assert Contact.objects.get().fields == {"city": "Malmö"}
        assert ContactList.objects.get().name == "Imported"

    done = client.get(queued["Location"], HTTP_HX_REQUEST="true")
    assert done.status_code == 286 and done["HX-Refresh"] == "true"
    page = client.get(queued["Location"]).content.decode()
    assert "hx-trigger" not in page
    assert "Created <strong>1</strong>" in page and "rejected <strong>1</strong>" in page
    assert "invalid number: bad" in page and "bad;Bo;Lund" in page

    rejected = client.get(f"{BASE}import/{started.pk}/rejected.csv")
    rows = list(csv.reader(io.StringIO(b"".join(rejected.streaming_content).decode())))
    assert rows == [["row", "reason", "raw"], ["3", "invalid number: bad", "bad;Bo;Lund"]]


def test_import_upload_refuses_wrong_files(world: World) -> None:
    client = client_for(world.member_a)
    wrong = _upload(client, "phone\n", name="people.xlsx")
    assert wrong.status_code == 400 and ".csv or .txt" in wrong.content.decode()


def test_rejected_rows_are_paginated(world: World) -> None:
    with scopes_disabled():
        started = ContactImport.objects.create(tenant=world.tenant_a, status="done", file="x.csv")
        ImportRejection.objects.bulk_create(
            [
                ImportRejection(
                    tenant=world.tenant_a, contact_import=started, row_number=i, reason=f"r{i}"
                )
                for i in range(2, 152)
            ]
        )
    client = client_for(world.member_a)
    first = client.get(f"{BASE}import/{started.pk}/")
    assert len(first.context["rejections"]) == 100 and first.context["next_after"] == 101
    second = client.get(f"{BASE}import/{started.pk}/", {"after": 101})
    assert [r.row_number for r in second.context["rejections"]] == list(range(102, 152))


def test_another_tenants_import_is_404(world: World) -> None:
    with scopes_disabled():
        theirs = ContactImport.objects.create(tenant=world.tenant_b, file="x.csv")
    client = client_for(world.owner_a)
    for suffix in ("", "map/", "rejected.csv"):
        assert client.get(f"{BASE}import/{theirs.pk}/{suffix}").status_code == 404
        assert client.post(f"{BASE}import/{theirs.pk}/{suffix}").status_code == 404
