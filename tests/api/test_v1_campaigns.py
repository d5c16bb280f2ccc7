"""/api/v1/campaigns/: create → launch → run → pause → status against the 46elks sandbox, with
the compose page's validation, the launch's spend check and the engine's opt-out rules."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant
from api.models import Scope
from api.services import settings_change
from billing.models import BillingAccount
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.services import campaign_run
from messaging.contacts.models import Contact, ContactList
from messaging.models import OptOut
from messaging.services import optout_record
from tests.api.conftest import Keyed, make_key
from tests.conftest import World
from tests.factories import approved_sender

URL = "/api/v1/campaigns"
JSON = "application/json"
PART_PRICE = 4375  # the default plan: 46elks' 3500 a part plus 25%


def _unthrottled(tenant: Tenant, actor: Any) -> None:
    settings_change(
        tenant=tenant,
        actor=actor,
        key_rate=1000,
        key_burst=1000,
        tenant_rate=1000,
        tenant_burst=1000,
    )


def _post(client: Client, path: str, body: Any = None, **headers: str) -> Any:
    return client.post(path, body or {}, content_type=JSON, **headers)


def _sends(elks) -> Counter[str]:
    """Sends the sandbox accepted, per recipient."""
    return Counter(
        r["params"]["to"]
        for r in elks.api_requests(method="POST", path="/a1/sms")
        if r.get("status") == 200
    )


def _audience(client: Client, n: int, name: str = "Customers") -> int:
    """A list of `n` contacts, made through the API itself; returns the list's id."""
    made = _post(client, "/api/v1/contacts/lists", {"name": name})
    assert made.status_code == 201, made.content
    list_id = made.json()["id"]
    rows = [{"phone": f"+4670{i:07d}", "name": f"Name{i} Surname"} for i in range(n)]
    bulk = _post(client, "/api/v1/contacts/bulk", {"contacts": rows, "lists": [list_id]})
    assert bulk.status_code == 200, bulk.content
    return list_id


@pytest.fixture
def live(world: World, live_tenant, rented_number, settings) -> tuple[Tenant, Client, str]:
    """The live tenant's API client and its rented number (the sender)."""
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    settings.CAMPAIGN_CLAIM_BATCH = 10
    _unthrottled(live_tenant, world.staff)
    return live_tenant, make_key(live_tenant).client(), rented_number.number


@pytest.fixture
def api(world: World, key_a: Keyed) -> Client:
    _unthrottled(world.tenant_a, world.staff)
    approved_sender(world.tenant_a, "Shop")
    return key_a.client()


def _list_a(world: World, n: int = 2) -> ContactList:
    with scopes_disabled():
        made = ContactList.objects.create(tenant=world.tenant_a, name="A list")
        for i in range(n):
            made.contacts.add(
                Contact.objects.create(tenant=world.tenant_a, phone=f"+4670100000{i}", name="Ann")
            )
    return made


def _draft(api: Client, list_id: int, **fields: Any) -> Any:
    body = {
        "name": "Black friday",
        "sender": "Shop",
        "template": "Hi {first_name|there}!",
        "lists": [list_id],
        **fields,
    }
    return _post(api, URL, body)


# --- against the sandbox ----------------------------------------------------------------------


def test_create_launch_run_and_status_skip_opt_outs_as_web_campaigns_do(live, elks) -> None:
    tenant, client, number = live
    optout_record(tenant=tenant, phone="+46700000000", kind=OptOut.Kind.OUT)  # before the import
    list_id = _audience(client, 12)
    created = _post(
        client,
        URL,
        {"name": "Sale", "sender": number, "template": "Hi {first_name}!", "lists": [list_id]},
    )
    assert created.status_code == 201, created.content
    campaign = created.json()
    assert campaign["status"] == "draft"
    assert campaign["estimate"]["recipients"] == 11
    assert campaign["estimate"]["opted_out"] == 1
    assert campaign["estimate"]["price"] == 11 * PART_PRICE
    assert campaign["estimate"]["fits"] is True

    launched = _post(client, f"{URL}/{campaign['id']}/launch")
    assert launched.status_code == 200, launched.content
    assert launched.json()["status"] == "running"
    assert launched.json()["recipient_count"] == 11
    assert launched.json()["estimated_price"] == 11 * PART_PRICE
    # Opted out after the launch: the engine skips the number when its turn comes.
    optout_record(tenant=tenant, phone="+46700000005", kind=OptOut.Kind.OUT)

    campaign_run(campaign_id=campaign["id"])  # the worker, called as the task does

    status = client.get(f"{URL}/{campaign['id']}")
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "completed"
    assert body["counts"] == {
        "queued": 0,
        "sending": 0,
        "sent": 10,
        "delivered": 0,
        "failed": 0,
        "skipped": 1,
        "unknown": 0,
        "total": 11,
    }
    assert body["price"] == 10 * PART_PRICE  # the tenant's price, never 46elks' cost
    assert "cost" not in status.content.decode()
    assert body["estimate"] is None
    sends = _sends(elks)
    assert len(sends) == 10 and set(sends.values()) == {1}
    assert "+46700000000" not in sends and "+46700000005" not in sends
    assert CampaignRecipient.objects.get(phone="+46700000005").error == "Opted out"
    listed = client.get(URL).json()["items"]
    assert [(c["id"], c["counts"]["sent"], c["price"]) for c in listed] == [
        (campaign["id"], 10, 10 * PART_PRICE)
    ]


def test_pause_stops_the_sends_and_resume_finishes_them(live, elks) -> None:
    _tenant, client, number = live
    list_id = _audience(client, 15)
    campaign_id = _post(
        client, URL, {"name": "Sale", "sender": number, "template": "Hi!", "lists": [list_id]}
    ).json()["id"]
    assert _post(client, f"{URL}/{campaign_id}/launch").status_code == 200
    paused = _post(client, f"{URL}/{campaign_id}/pause")
    assert paused.status_code == 200, paused.content
    assert paused.json()["status"] == "paused"
    assert "through the API" in paused.json()["pause_reason"]
    assert campaign_run(campaign_id=campaign_id) == 0
    assert not _sends(elks)
    assert client.get(f"{URL}/{campaign_id}").json()["counts"]["queued"] == 15
    assert _post(client, f"{URL}/{campaign_id}/pause").status_code == 409  # already paused
    resumed = _post(client, f"{URL}/{campaign_id}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    campaign_run(campaign_id=campaign_id)
    body = client.get(f"{URL}/{campaign_id}").json()
    assert (body["status"], body["counts"]["sent"]) == ("completed", 15)
    assert len(_sends(elks)) == 15


def test_a_launch_over_the_remaining_limit_is_refused_and_stays_a_draft(live, elks) -> None:
    tenant, client, number = live
    list_id = _audience(client, 10)
    BillingAccount.objects.filter(pk=tenant.pk).update(monthly_limit=10 * PART_PRICE - 15_000)
    campaign_id = _post(
        client, URL, {"name": "Sale", "sender": number, "template": "Hi!", "lists": [list_id]}
    ).json()["id"]
    refused = _post(client, f"{URL}/{campaign_id}/launch")
    assert refused.status_code == 422
    assert "exceeds the remaining usage limit by" in refused.json()["detail"]
    assert client.get(f"{URL}/{campaign_id}").json()["status"] == "draft"
    assert not CampaignRecipient.objects.exists()
    assert not _sends(elks)


def test_a_future_schedule_launches_as_scheduled(live, elks) -> None:
    _tenant, client, number = live
    list_id = _audience(client, 2)
    when = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    created = _post(
        client,
        URL,
        {
            "name": "Later",
            "sender": number,
            "template": "Hi!",
            "lists": [list_id],
            "scheduled_at": when.isoformat(),
            "time_zone": "Europe/Stockholm",
        },
    )
    assert created.status_code == 201, created.content
    launched = _post(client, f"{URL}/{created.json()['id']}/launch")
    assert launched.json()["status"] == "scheduled"
    assert launched.json()["scheduled_at"].startswith(when.strftime("%Y-%m-%dT%H:%M"))
    assert not _sends(elks)


# --- validation, states, isolation, scopes, idempotency (no sends) ----------------------------


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"template": "Hi {shoe_size}!"}, "template", "Unknown placeholder"),
        ({"sender": "Stranger"}, "sender", "approved sender"),
        ({"rate": 100_000}, "rate", "messages per second"),
        ({"quiet_start": "21:00:00"}, "quiet_end", "both ends"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "time zone"),
        ({"scheduled_at": "2020-01-01T10:00:00+01:00"}, "scheduled_at", "in the past"),
    ],
)
def test_create_is_validated_as_the_compose_page_does(
    world: World, api, fields: dict[str, Any], field: str, reason: str
) -> None:
    response = _draft(api, _list_a(world).pk, **fields)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert reason in body["errors"][0]["message"]
    assert body["detail"].startswith(f"{field}: ")
    with scopes_disabled():
        assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"scheduled_at": "2030-01-01T10:00:00"},  # no offset
        {"quiet_start": "21:00:00+02:00", "quiet_end": "08:00:00"},
        {"lists": []},
        {"name": " "},
        {"template": "a\x00b"},
    ],
)
def test_malformed_input_is_422(world: World, api, fields: dict[str, Any]) -> None:
    response = _draft(api, _list_a(world).pk, **fields)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_states_a_service_refuses_are_409(world: World, api) -> None:
    campaign_id = _draft(api, _list_a(world).pk).json()["id"]
    assert _post(api, f"{URL}/{campaign_id}/pause").status_code == 409
    assert _post(api, f"{URL}/{campaign_id}/resume").status_code == 409
    cancelled = _post(api, f"{URL}/{campaign_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert _post(api, f"{URL}/{campaign_id}/cancel").status_code == 409
    assert _post(api, f"{URL}/{campaign_id}/launch").status_code == 409


def test_another_tenants_campaigns_and_lists_are_out_of_reach(world: World, api) -> None:
    with scopes_disabled():
        their_list = ContactList.objects.create(tenant=world.tenant_b, name="Bravo")
        theirs = Campaign.objects.create(
            tenant=world.tenant_b, name="Bravo's", sender="Bravo", template="Hi"
        )
    for path in ("", "/launch", "/pause", "/resume", "/cancel"):
        call = api.get if not path else (lambda p: _post(api, p))
        assert call(f"{URL}/{theirs.pk}{path}").status_code == 404, path
    refused = _draft(api, their_list.pk)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "lists"
    assert api.get(URL).json()["items"] == []
    with scopes_disabled():
        assert Campaign.objects.get(pk=theirs.pk).status == "draft"
        assert Campaign.objects.filter(tenant=world.tenant_a).count() == 0


def test_reads_need_read_and_writes_need_send(world: World, api) -> None:
    list_id = _list_a(world).pk
    campaign_id = _draft(api, list_id).json()["id"]
    reader = make_key(world.tenant_a, scopes=[Scope.READ]).client()
    sender = make_key(world.tenant_a, scopes=[Scope.SEND]).client()
    assert reader.get(URL).status_code == 200
    assert reader.get(f"{URL}/{campaign_id}").status_code == 200
    assert _draft(reader, list_id).status_code == 403
    for action in ("launch", "pause", "resume", "cancel"):
        assert _post(reader, f"{URL}/{campaign_id}/{action}").status_code == 403
    assert sender.get(URL).status_code == 403
    assert sender.get(f"{URL}/{campaign_id}").status_code == 403
    assert _draft(sender, list_id).status_code == 201


def test_the_same_idempotency_key_twice_makes_one_campaign(world: World, api) -> None:
    list_id = _list_a(world).pk
    body = {"name": "Once", "sender": "Shop", "template": "Hi!", "lists": [list_id]}
    first = _post(api, URL, body, HTTP_IDEMPOTENCY_KEY="campaign-1")
    again = _post(api, URL, body, HTTP_IDEMPOTENCY_KEY="campaign-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    with scope(tenant=world.tenant_a.pk):
        assert Campaign.objects.count() == 1


def test_list_paging_and_status_filter(world: World, api) -> None:
    list_id = _list_a(world).pk
    ids = [_draft(api, list_id, name=f"C{i}").json()["id"] for i in range(3)]
    _post(api, f"{URL}/{ids[0]}/cancel")
    first = api.get(URL, {"limit": 2}).json()
    assert [c["id"] for c in first["items"]] == [ids[2], ids[1]]
    second = api.get(URL, {"limit": 2, "cursor": first["next"]}).json()
    assert [c["id"] for c in second["items"]] == [ids[0]] and second["next"] is None
    cancelled = api.get(URL, {"status": "cancelled"}).json()["items"]
    assert [c["id"] for c in cancelled] == [ids[0]]
    assert api.get(URL, {"status": "nonsense"}).status_code == 422
    assert api.get(URL, {"cursor": "bad"}).status_code == 400
