"""/api/v1/numbers: list, get and routing changes validated as on the number page."""

from __future__ import annotations

import json
from typing import Any

from django_scopes import scopes_disabled

from api.models import Scope
from numbers.models import NumberEvent, PhoneNumber
from tests.api.conftest import make_key
from tests.conftest import World


def _number(tenant: Any, number: str = "+46766861475", **fields: Any) -> PhoneNumber:
    values: dict[str, Any] = {
        "country": "se",
        "has_sms": True,
        "has_mms": True,
        "has_voice": True,
        "status": "active",
        **fields,
    }
    with scopes_disabled():
        return PhoneNumber.objects.create(tenant=tenant, number=number, **values)


def _patch(client: Any, number: PhoneNumber, body: dict[str, Any]) -> Any:
    return client.patch(
        f"/api/v1/numbers/{number.pk}", json.dumps(body), content_type="application/json"
    )


def test_list_and_get_at_the_tenants_price_never_the_provider_cost(world: World, prices) -> None:
    mine = _number(world.tenant_a, monthly_price=123_456)
    _number(world.tenant_a, "+46766861476", status="released")
    _number(world.tenant_b, "+46766861477")
    client = make_key(world.tenant_a).client()
    listed = client.get("/api/v1/numbers").json()
    assert {n["number"] for n in listed["items"]} == {"+46766861475", "+46766861476"}
    active = client.get("/api/v1/numbers", {"status": "active"}).json()["items"]
    assert [n["id"] for n in active] == [mine.pk]
    one = client.get(f"/api/v1/numbers/{mine.pk}")
    assert one.status_code == 200
    body = one.json()
    assert body["capabilities"] == ["sms", "mms", "voice"]
    assert body["routing"]["voice_forwards"] == []
    assert "123456" not in one.content.decode()  # 46elks' monthly cost stays with staff


def test_paging_numbers(world: World) -> None:
    for i in range(5):
        _number(world.tenant_a, f"+4676686100{i}")
    client = make_key(world.tenant_a).client()
    first = client.get("/api/v1/numbers", {"limit": 2}).json()
    second = client.get("/api/v1/numbers", {"limit": 2, "cursor": first["next"]}).json()
    third = client.get("/api/v1/numbers", {"limit": 2, "cursor": second["next"]}).json()
    seen = [n["id"] for page in (first, second, third) for n in page["items"]]
    assert len(seen) == len(set(seen)) == 5 and third["next"] is None


def test_patch_changes_only_what_is_given_and_is_recorded_with_the_key(world: World) -> None:
    number = _number(world.tenant_a, label="Reception", sms_autoreply_text="Closed")
    keyed = make_key(world.tenant_a, scopes=[Scope.NUMBERS])
    response = _patch(
        keyed.client(),
        number,
        {"voice_forwards": [{"to": "070-111 22 33", "timeout": 15}], "record_calls": True},
    )
    assert response.status_code == 200, response.content
    routing = response.json()["routing"]
    assert routing["voice_forwards"] == [{"to": "+46701112233", "timeout": 15}]
    assert routing["record_calls"] is True
    assert response.json()["label"] == "Reception"  # untouched
    assert routing["sms_autoreply_text"] == "Closed"
    with scopes_disabled():
        event = NumberEvent.objects.get(number=number, action="routing_changed")
    assert event.actor is None and event.detail["api_key"] == keyed.key.key_id


def test_patch_is_validated_as_the_number_page_form(world: World) -> None:
    number = _number(world.tenant_a, has_voice=False)
    client = make_key(world.tenant_a).client()
    cases = [
        ({"voice_forwards": [{"to": "nonsense"}]}, "voice_forwards.0.to"),
        ({"sms_webhook_url": "http://127.0.0.1/hook"}, "sms_webhook_url"),
        ({"sms_autoreply_enabled": True}, "sms_autoreply_text"),
        ({"voicemail_enabled": True}, None),  # no voice capability
        ({"voicemail_greeting": 999}, "voicemail_greeting"),
    ]
    for body, field in cases:
        response = _patch(client, number, body)
        assert response.status_code == 422, (body, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field
    timeout = _patch(client, number, {"voice_forwards": [{"to": "+46701112233", "timeout": 1}]})
    assert timeout.status_code == 422
    with scopes_disabled():
        assert not NumberEvent.objects.exists()


def test_patch_reaches_46elks(world: World, live_tenant, rented_number, elks) -> None:
    response = _patch(
        make_key(live_tenant).client(), rented_number, {"sms_autoreply_enabled": False}
    )
    assert response.status_code == 200, response.content
    assert elks.api_requests(method="POST", path=f"/a1/numbers/{rented_number.provider_id}")


def test_scopes_and_state(world: World) -> None:
    number = _number(world.tenant_a)
    reader = make_key(world.tenant_a, scopes=[Scope.READ]).client()
    assert reader.get(f"/api/v1/numbers/{number.pk}").status_code == 200
    assert _patch(reader, number, {"label": "x"}).status_code == 403
    numbers_only = make_key(world.tenant_a, scopes=[Scope.NUMBERS]).client()
    assert numbers_only.get("/api/v1/numbers").status_code == 200
    sender = make_key(world.tenant_a, scopes=[Scope.SEND]).client()
    assert sender.get("/api/v1/numbers").status_code == 403
    released = _number(world.tenant_a, "+46766861499", status="released")
    refused = _patch(numbers_only, released, {"label": "x"})
    assert refused.status_code == 409


def test_another_tenants_number_is_404(world: World) -> None:
    theirs = _number(world.tenant_b)
    client = make_key(world.tenant_a).client()
    assert client.get(f"/api/v1/numbers/{theirs.pk}").status_code == 404
    assert _patch(client, theirs, {"label": "Mine now"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.label == ""
