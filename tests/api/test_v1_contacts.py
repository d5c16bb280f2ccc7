"""/api/v1/contacts/: contacts and lists through the same services as the Contacts pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant
from api.models import Scope
from api.services import settings_change
from messaging.contacts.models import Contact, ContactList, ContactListMember
from messaging.models import MessagingSettings, OptOut
from messaging.services import optout_record
from tests.api.conftest import Keyed, make_key
from tests.conftest import World

URL = "/api/v1/contacts"
JSON = "application/json"


def _unthrottled(world: World, tenant: Tenant) -> None:
    settings_change(
        tenant=tenant,
        actor=world.staff,
        key_rate=1000,
        key_burst=1000,
        tenant_rate=1000,
        tenant_burst=1000,
    )


@pytest.fixture
def api(world: World, key_a: Keyed) -> Client:
    _unthrottled(world, world.tenant_a)
    return key_a.client()


def _post(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(path, body, content_type=JSON, **headers)


def _contact(tenant: Tenant, phone: str, name: str = "", **extra: Any) -> Contact:
    with scopes_disabled():
        return Contact.objects.create(tenant=tenant, phone=phone, name=name, **extra)


def _list(tenant: Tenant, name: str, *contacts: Contact) -> ContactList:
    with scopes_disabled():
        made = ContactList.objects.create(tenant=tenant, name=name)
        for c in contacts:
            ContactListMember.objects.create(contact_list=made, contact=c)
    return made


def _count(tenant: Tenant) -> int:
    with scopes_disabled():
        return Contact.objects.filter(tenant=tenant).count()


# --- CRUD -------------------------------------------------------------------------------------


def test_create_normalises_the_number_and_mirrors_the_opt_out_ledger(world: World, api) -> None:
    vip = _list(world.tenant_a, "VIP")
    with scope(tenant=world.tenant_a.pk):
        optout_record(tenant=world.tenant_a, phone="+46701234567", kind=OptOut.Kind.OUT)
    response = _post(
        api,
        URL,
        {
            "phone": "070-123 45 67",
            "name": " Ann Berg ",
            "fields": {"city": "Umeå"},
            "lists": [vip.pk],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "+46701234567"  # national format read in the default country (SE)
    assert body["name"] == "Ann Berg"
    assert body["fields"] == {"city": "Umeå"}
    assert body["opted_out"] is True
    assert body["lists"] == [vip.pk]
    got = api.get(f"{URL}/{body['id']}")
    assert got.status_code == 200 and got.json() == body


def test_the_default_country_comes_from_the_tenants_settings(world: World, api) -> None:
    with scopes_disabled():
        MessagingSettings.objects.update_or_create(
            tenant=world.tenant_a, defaults={"default_country": "NO"}
        )
    response = _post(api, URL, {"phone": "41234567"})
    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "+4741234567"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"phone": "12"}, "phone"),
        ({"phone": "+46701234567", "fields": {"name": "x"}}, "built in"),
        ({"phone": "+46701234567", "fields": {"city": "x" * 501}}, "fields"),
        ({"phone": "+46701234567", "name": "a\x00b"}, "name"),
        ({"phone": "+46701234567", "lists": [999999]}, "no list with id 999999"),
        ({"name": "no phone"}, "phone"),
    ],
)
def test_bad_input_is_422_with_a_reason_and_writes_nothing(
    world: World, api, body: dict[str, Any], reason: str
) -> None:
    response = _post(api, URL, body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert reason in response.json()["detail"]
    assert _count(world.tenant_a) == 0


def test_a_second_contact_with_the_number_is_409(world: World, api) -> None:
    _contact(world.tenant_a, "+46701234567")
    response = _post(api, URL, {"phone": "+46 70 123 45 67"})
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_patch_changes_only_what_is_given(world: World, api) -> None:
    contact = _contact(world.tenant_a, "+46701234567", "Ann", fields={"city": "Umeå"})
    vip = _list(world.tenant_a, "VIP", contact)
    response = api.patch(f"{URL}/{contact.pk}", {"name": "Ann Berg"}, content_type=JSON)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["phone"], body["fields"], body["lists"]) == (
        "Ann Berg",
        "+46701234567",
        {"city": "Umeå"},
        [vip.pk],
    )
    response = api.patch(
        f"{URL}/{contact.pk}",
        {"phone": "0701234568", "fields": {"tier": "gold"}, "lists": []},
        content_type=JSON,
    )
    body = response.json()
    assert (body["phone"], body["fields"], body["lists"]) == ("+46701234568", {"tier": "gold"}, [])


def test_patch_to_a_number_another_contact_has_is_409(world: World, api) -> None:
    _contact(world.tenant_a, "+46701234567")
    second = _contact(world.tenant_a, "+46701234568")
    response = api.patch(f"{URL}/{second.pk}", {"phone": "+46701234567"}, content_type=JSON)
    assert response.status_code == 409
    with scopes_disabled():
        assert Contact.objects.get(pk=second.pk).phone == "+46701234568"


def test_delete(world: World, api) -> None:
    contact = _contact(world.tenant_a, "+46701234567")
    response = api.delete(f"{URL}/{contact.pk}")
    assert response.status_code == 204
    assert _count(world.tenant_a) == 0
    assert api.delete(f"{URL}/{contact.pk}").status_code == 404


# --- paging and filters -----------------------------------------------------------------------


def test_cursor_paging_walks_every_contact_once_newest_first(world: World, api) -> None:
    for i in range(7):
        _contact(world.tenant_a, f"+4670123456{i}", f"N{i}")
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        response = api.get(URL, {"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [c["name"] for c in body["items"]]
        pages += 1
        if not body["next"]:
            break
        cursor = body["next"]
    assert pages == 3
    assert seen == [f"N{i}" for i in reversed(range(7))]


def test_filters_search_list_and_opted_out(world: World, api) -> None:
    ann = _contact(world.tenant_a, "+46701234567", "Ann Berg")
    _contact(world.tenant_a, "+46701234568", "Bo Ek", opted_out=True)
    vip = _list(world.tenant_a, "VIP", ann)

    def names(**query: Any) -> list[str]:
        return sorted(c["name"] for c in api.get(URL, query).json()["items"])

    assert names(search="berg") == ["Ann Berg"]
    assert names(search="0701234568") == ["Bo Ek"]
    assert names(list=vip.pk) == ["Ann Berg"]
    assert names(opted_out="true") == ["Bo Ek"]
    assert names(opted_out="false") == ["Ann Berg"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 101},
        {"cursor": "not-a-cursor"},
        {"cursor": "MDAwMS0wMS0wMVQwMDowMDowMCswNTowMHwx"},  # year 1 with an offset
        {"cursor": "MjAyNi0wMS0wMVQwMDowMDowMHwx"},  # a naive time
        {"list": "x"},
    ],
)
def test_bad_paging_is_4xx(world: World, api, query: dict[str, Any]) -> None:
    response = api.get(URL, query)
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"


# --- bulk upsert ------------------------------------------------------------------------------


def test_bulk_creates_and_updates_by_number(world: World, api) -> None:
    _contact(world.tenant_a, "+46701234567", "Ann", fields={"city": "Umeå", "tier": "silver"})
    vip = _list(world.tenant_a, "VIP")
    with scope(tenant=world.tenant_a.pk):
        optout_record(tenant=world.tenant_a, phone="+46701234569", kind=OptOut.Kind.OUT)
    response = _post(
        api,
        f"{URL}/bulk",
        {
            "contacts": [
                {"phone": "0701234567", "fields": {"tier": "gold"}},
                {"phone": "+46701234568", "name": "Bo"},
                {"phone": "+46 70 123 45 69", "name": "Cy"},
            ],
            "lists": [vip.pk],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"]) == (2, 1)
    assert [(r["row"], r["status"], r["opted_out"]) for r in body["contacts"]] == [
        (0, "updated", False),
        (1, "created", False),
        (2, "created", True),  # the ledger's opt-out is mirrored
    ]
    with scopes_disabled():
        ann = Contact.objects.get(tenant=world.tenant_a, phone="+46701234567")
        assert ann.name == "Ann"  # no name given: kept
        assert ann.fields == {"city": "Umeå", "tier": "gold"}  # merged
        assert set(vip.contacts.values_list("phone", flat=True)) == {
            "+46701234567",
            "+46701234568",
            "+46701234569",
        }


def test_bulk_never_clears_an_existing_opt_out(world: World, api) -> None:
    _contact(world.tenant_a, "+46701234567", "Ann", opted_out=True)
    response = _post(api, f"{URL}/bulk", {"contacts": [{"phone": "+46701234567", "name": "A"}]})
    assert response.json()["contacts"][0]["opted_out"] is True


def test_bulk_refuses_every_bad_row_and_writes_nothing(world: World, api) -> None:
    _contact(world.tenant_a, "+46701234567", "Ann")
    response = _post(
        api,
        f"{URL}/bulk",
        {
            "contacts": [
                {"phone": "+46701234567", "name": "Changed"},
                {"phone": "not a number"},
                {"phone": "+46701234568"},
                {"phone": "070-123 45 68"},
                {"phone": "+46701234569", "fields": {"phone": "x"}},
            ]
        },
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (1, "phone"),
        (3, "phone"),
        (4, "fields"),
    ]
    assert "also on row 2" in body["errors"][1]["message"]
    assert "built in" in body["errors"][2]["message"]
    with scopes_disabled():
        assert list(Contact.objects.values_list("phone", "name")) == [("+46701234567", "Ann")]


def test_bulk_size_is_limited(world: World, api) -> None:
    rows = [{"phone": f"+467012{i:05d}"} for i in range(1001)]
    assert _post(api, f"{URL}/bulk", {"contacts": rows}).status_code == 422
    assert _post(api, f"{URL}/bulk", {"contacts": []}).status_code == 422
    response = _post(api, f"{URL}/bulk", {"contacts": rows[:1000]})
    assert response.status_code == 200, response.content[:300]
    assert response.json()["created"] == 1000
    assert _count(world.tenant_a) == 1000


# --- lists ------------------------------------------------------------------------------------


def test_lists_create_rename_members_delete(world: World, api) -> None:
    ann = _contact(world.tenant_a, "+46701234567", "Ann")
    bo = _contact(world.tenant_a, "+46701234568", "Bo")
    made = _post(api, f"{URL}/lists", {"name": " Customers "})
    assert made.status_code == 201, made.content
    list_id = made.json()["id"]
    assert made.json()["name"] == "Customers"
    assert _post(api, f"{URL}/lists", {"name": "Customers"}).status_code == 409
    assert _post(api, f"{URL}/lists", {"name": "   "}).status_code == 422
    renamed = api.patch(f"{URL}/lists/{list_id}", {"name": "Clients"}, content_type=JSON)
    assert renamed.json()["name"] == "Clients"
    added = _post(api, f"{URL}/lists/{list_id}/members", {"contacts": [ann.pk, bo.pk, ann.pk]})
    assert added.json() == {"added": 2, "members": 2}
    again = _post(api, f"{URL}/lists/{list_id}/members", {"contacts": [ann.pk]})
    assert again.json() == {"added": 0, "members": 2}
    removed = _post(api, f"{URL}/lists/{list_id}/members/remove", {"contacts": [bo.pk]})
    assert removed.json() == {"removed": 1, "members": 1}
    listed = api.get(f"{URL}/lists").json()
    assert [(x["name"], x["members"]) for x in listed["items"]] == [("Clients", 1)]
    assert api.get(f"{URL}/lists/{list_id}").json()["members"] == 1
    assert api.delete(f"{URL}/lists/{list_id}").status_code == 204
    assert _count(world.tenant_a) == 2  # the contacts stay


def test_members_refuses_unknown_contacts_and_adds_none(world: World, api) -> None:
    ann = _contact(world.tenant_a, "+46701234567", "Ann")
    vip = _list(world.tenant_a, "VIP")
    response = _post(api, f"{URL}/lists/{vip.pk}/members", {"contacts": [ann.pk, 999999]})
    assert response.status_code == 422
    assert "999999" in response.json()["detail"]
    with scopes_disabled():
        assert not ContactListMember.objects.exists()


# --- isolation and scopes ---------------------------------------------------------------------


def test_another_tenants_contacts_and_lists_are_404(world: World, api, key_b: Keyed) -> None:
    theirs = _contact(world.tenant_b, "+46701234567", "Bravo's")
    their_list = _list(world.tenant_b, "Bravo list", theirs)
    mine = _contact(world.tenant_a, "+46701234568", "Mine")
    assert api.get(f"{URL}/{theirs.pk}").status_code == 404
    assert api.patch(f"{URL}/{theirs.pk}", {"name": "x"}, content_type=JSON).status_code == 404
    assert api.delete(f"{URL}/{theirs.pk}").status_code == 404
    assert api.get(f"{URL}/lists/{their_list.pk}").status_code == 404
    assert api.delete(f"{URL}/lists/{their_list.pk}").status_code == 404
    to_theirs = _post(api, f"{URL}/lists/{their_list.pk}/members", {"contacts": [mine.pk]})
    assert to_theirs.status_code == 404
    my_list = _list(world.tenant_a, "Mine")
    with_theirs = _post(api, f"{URL}/lists/{my_list.pk}/members", {"contacts": [theirs.pk]})
    assert with_theirs.status_code == 422
    onto_theirs = _post(api, URL, {"phone": "+46701234569", "lists": [their_list.pk]})
    assert onto_theirs.status_code == 422
    bulk = _post(
        api, f"{URL}/bulk", {"contacts": [{"phone": "+46701234567"}], "lists": [their_list.pk]}
    )
    assert bulk.status_code == 422
    listed = api.get(URL).json()["items"]
    assert [c["name"] for c in listed] == ["Mine"]
    assert api.get(URL, {"list": their_list.pk}).json()["items"] == []
    with scopes_disabled():
        assert Contact.objects.get(pk=theirs.pk).name == "Bravo's"
        assert list(ContactListMember.objects.filter(contact_list=their_list)) != []
    # The same number is a separate contact per tenant.
    assert _post(api, URL, {"phone": "+46701234567"}).status_code == 201


def test_reads_need_read_and_writes_need_send(world: World) -> None:
    _unthrottled(world, world.tenant_a)
    contact = _contact(world.tenant_a, "+46701234567", "Ann")
    reader = make_key(world.tenant_a, scopes=[Scope.READ]).client()
    sender = make_key(world.tenant_a, scopes=[Scope.SEND]).client()
    assert reader.get(URL).status_code == 200
    assert reader.get(f"{URL}/lists").status_code == 200
    for response in (
        _post(reader, URL, {"phone": "+46701234568"}),
        _post(reader, f"{URL}/bulk", {"contacts": [{"phone": "+46701234568"}]}),
        reader.patch(f"{URL}/{contact.pk}", {"name": "x"}, content_type=JSON),
        reader.delete(f"{URL}/{contact.pk}"),
        _post(reader, f"{URL}/lists", {"name": "x"}),
    ):
        assert response.status_code == 403
        assert "send" in response.json()["detail"]
    assert sender.get(URL).status_code == 403
    assert sender.get(f"{URL}/{contact.pk}").status_code == 403
    assert _post(sender, URL, {"phone": "+46701234568"}).status_code == 201
    assert _count(world.tenant_a) == 2


def test_idempotent_create_answers_the_first_result(world: World, api) -> None:
    first = _post(api, URL, {"phone": "+46701234567"}, HTTP_IDEMPOTENCY_KEY="k1")
    again = _post(api, URL, {"phone": "+46701234567"}, HTTP_IDEMPOTENCY_KEY="k1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert _count(world.tenant_a) == 1
