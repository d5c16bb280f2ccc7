"""The sandbox posts to a running server for real: inbound SMS in, delivery reports back."""

from __future__ import annotations

import time
import uuid

import pytest
from django_scopes import scope, scopes_disabled

from console.tenants import tenant_create
from messaging.models import Message
from messaging.services import message_send, sms_queue
from numbers.models import NumberPrice
from numbers.services import number_rent
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _wait(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sandbox_callbacks_reach_the_live_server(live_server, elks, settings) -> None:
    settings.PUBLIC_BASE_URL = live_server.url
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the drain runs on commit, in the server thread
    NumberPrice.objects.create(country="se", category="mobile", monthly_price=250_000)
    tenant = tenant_create(
        name="Live",
        usage_limit=10_000_000,
        owner_email="o@live.example",
        actor=StaffFactory(),
        request=None,
    ).tenant
    with scope(tenant=tenant.pk):
        number = number_rent(
            tenant=tenant,
            country="se",
            capabilities=["sms"],
            category="mobile",
            request_key=uuid.uuid4(),
            actor=None,
        )
    elks.inbound_sms(to=number.number, from_="+46700000001", message="Hello from the sandbox")
    with scopes_disabled():
        assert _wait(lambda: Message.objects.filter(direction="in").exists())
        assert Message.objects.get(direction="in").body == "Hello from the sandbox"
    with scope(tenant=tenant.pk):
        [out] = sms_queue(
            tenant=tenant,
            sender=number.number,
            recipients=["+46700000001"],
            body="Reply",
            request_key=uuid.uuid4(),
            actor=None,
        )
        message_send(message_id=out.pk)
    with scopes_disabled():
        assert _wait(lambda: Message.objects.get(pk=out.pk).status == "delivered")
        assert Message.objects.get(pk=out.pk).delivered_at is not None
