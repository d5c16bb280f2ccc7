"""Tenant isolation across every /api/v1/ operation with an object in its path.

The operations come from the API's own OpenAPI description, so a new endpoint is swept as soon
as it is routed (and fails here until its path parameter has a sample below). A key of tenant A
asks for each of tenant B's objects with every method the path allows: 404, and nothing of B's
changes. The /a1/ item endpoints are swept in test_a1_lists.py
(test_a_key_of_tenant_a_never_reaches_tenant_bs_rows).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant
from api.v1.api import api
from calls.models import Call, Recording
from messaging.campaigns.models import Campaign
from messaging.contacts.models import Contact, ContactList
from messaging.models import Message
from numbers.models import PhoneNumber
from tests.api.conftest import make_key
from tests.conftest import World

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARAM = re.compile(r"\{(\w+)\}")


def _message(tenant: Tenant) -> int:
    return Message.objects.create(
        tenant=tenant, direction=Message.Direction.OUT, status=Message.Status.DELIVERED,
        ours="+46766861001", other="+46700000001", body="theirs", created=T0,
    ).pk  # fmt: skip


def _number(tenant: Tenant) -> int:
    return PhoneNumber.objects.create(
        tenant=tenant, number=f"+4676686{tenant.pk:04d}", country="se", has_sms=True,
        has_voice=True, status=PhoneNumber.Status.ACTIVE, provider_id=f"n-sweep-{tenant.pk}",
    ).pk  # fmt: skip


def _call(tenant: Tenant) -> int:
    return Call.objects.create(
        tenant=tenant, direction=Call.Direction.OUT, state=Call.State.SUCCESS,
        source=Call.Source.CLICK_TO_CALL, ours="+46766861001", other="+46700000009",
        created=T0,
    ).pk  # fmt: skip


def _recording(tenant: Tenant) -> int:
    recording = Recording.objects.create(
        tenant=tenant, callid=f"c{tenant.pk}", elks_id=f"c{tenant.pk}-r0", duration=2
    )
    recording.file.save("theirs.wav", ContentFile(b"RIFF0000WAVE"))
    return recording.pk


def _contact(tenant: Tenant) -> int:
    return Contact.objects.create(tenant=tenant, phone="+46700000002", name="Theirs").pk


def _list(tenant: Tenant) -> int:
    return ContactList.objects.create(tenant=tenant, name="Theirs").pk


def _campaign(tenant: Tenant) -> int:
    return Campaign.objects.create(tenant=tenant, name="Theirs", sender="Theirs", template="Hi").pk


SAMPLES: dict[str, Callable[[Tenant], int]] = {
    "message_id": _message,
    "number_id": _number,
    "call_id": _call,
    "recording_id": _recording,
    "contact_id": _contact,
    "list_id": _list,
    "campaign_id": _campaign,
}


# Operations whose body has required fields: a valid body, so the answer is about the object.
BODIES: dict[str, dict[str, object]] = {
    "/api/v1/contacts/lists/{list_id}": {"name": "Renamed"},
    "/api/v1/contacts/lists/{list_id}/members": {"contacts": [1]},
    "/api/v1/contacts/lists/{list_id}/members/remove": {"contacts": [1]},
}


def _operations() -> list[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return [
        (method, path)
        for path, operations in paths.items()
        if PARAM.search(path)
        for method in operations
    ]


OPERATIONS = _operations()


def test_the_sweep_finds_the_object_endpoints() -> None:
    found = {path for _, path in OPERATIONS}
    assert "/api/v1/messages/{message_id}" in found
    assert "/api/v1/campaigns/{campaign_id}/launch" in found
    assert len(OPERATIONS) >= 15


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=lambda v: v)
def test_a_key_of_tenant_a_gets_404_for_tenant_bs_objects(
    world: World, method: str, path: str, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    url = path
    for name in PARAM.findall(path):
        assert name in SAMPLES, f"add a sample for {{{name}}} to {__file__}"
        with scopes_disabled(), scope(tenant=world.tenant_b.pk):
            url = url.replace(f"{{{name}}}", str(SAMPLES[name](world.tenant_b)))
    mine = make_key(world.tenant_a).client()
    theirs = make_key(world.tenant_b).client()
    if method == "get":
        assert theirs.get(url).status_code == 200  # the object exists for its own tenant
    body = BODIES.get(path, {}) if method in ("post", "patch") else {}
    answer = getattr(mine, method)(url, data=body, content_type="application/json")
    assert answer.status_code == 404, (answer.status_code, answer.content[:300])
    assert answer["Content-Type"] == "application/problem+json"
    with scopes_disabled():  # nothing of tenant B's was changed or deleted
        assert Contact.objects.filter(tenant=world.tenant_b).count() <= 1
        if "/campaigns/" in path:
            assert Campaign.objects.get(tenant=world.tenant_b).status == Campaign.Status.DRAFT
        if "/lists/" in path:
            assert ContactList.objects.get(tenant=world.tenant_b).name == "Theirs"
        if "/contacts/{contact_id}" in path and method == "delete":
            assert Contact.objects.filter(tenant=world.tenant_b).exists()
