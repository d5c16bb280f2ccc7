"""The demo control panel: staff only, `make demo` only, each action through the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import AuditEvent
from console import demo_panel
from console.demo import seed_demo
from numbers.models import PhoneNumber
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/staff/demo/"


@pytest.fixture
def demo(elks, settings) -> Any:
    settings.DEMO_ADDR = "127.0.0.1:8000"
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # nothing listens: callbacks just fail
    seed_demo()
    return elks


def _staff_client() -> Client:
    client = Client()
    client.force_login(StaffFactory())
    return client


def _acme_number() -> PhoneNumber:
    with scopes_disabled():
        return PhoneNumber.objects.select_related("tenant").get(tenant__name="Acme Taxi")


def test_the_panel_is_absent_outside_the_demo(settings) -> None:
    settings.DEMO_ADDR = None
    assert _staff_client().get(URL).status_code == 404


def test_only_staff_see_the_panel(demo) -> None:
    client = Client()
    client.force_login(UserFactory())
    assert client.get(URL).status_code in (302, 403, 404)
    assert _staff_client().get(URL).status_code == 200


def test_an_inbound_sms_goes_through_the_sandbox_and_is_audited(demo) -> None:
    number = _acme_number()
    before = demo_panel.sandbox_control("state", {}, method="GET")["counts"]["messages"]

    response = _staff_client().post(
        URL,
        {
            "action": "inbound_sms",
            "number": number.pk,
            "sender": "+46701112233",
            "message": "Is the airport cab free?",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert f"The sandbox sent an SMS from +46701112233 to {number.number}" in response.text
    assert demo_panel.sandbox_control("state", {}, method="GET")["counts"]["messages"] == before + 1
    event = AuditEvent.objects.get(action=AuditEvent.Action.DEMO_SIMULATED)
    assert event.tenant == number.tenant
    assert event.detail["kind"] == "inbound_sms"


def test_an_inbound_call_is_placed_by_the_sandbox(demo) -> None:
    number = _acme_number()
    response = _staff_client().post(
        URL, {"action": "inbound_call", "number": number.pk, "sender": "+46701112233"}
    )
    assert response.status_code == 302
    assert demo_panel.sandbox_control("state", {}, method="GET")["counts"]["calls"] >= 1


@pytest.fixture
def timers(monkeypatch) -> list[tuple[float, tuple[Any, ...]]]:
    """The timers that would undo an action later (not started)."""
    started: list[tuple[float, tuple[Any, ...]]] = []

    class FakeTimer:
        def __init__(self, interval: float, function: Any, args: Any, kwargs: Any) -> None:
            started.append((interval, args))
            self.daemon = False

        def start(self) -> None:
            pass

    monkeypatch.setattr(demo_panel.threading, "Timer", FakeTimer)
    return started


def test_an_outage_makes_the_sandbox_fail_and_schedules_its_end(demo, timers) -> None:
    response = _staff_client().post(URL, {"action": "outage", "minutes": "3"}, follow=True)

    assert "503 for 3 minute(s)" in response.text
    assert demo.chaos.settings.rate == 1.0
    assert timers == [(180, ("chaos", {}))]
    demo.clear_chaos()


def test_a_failed_delivery_fails_sms_to_the_recipient_for_a_while(demo, timers) -> None:
    response = _staff_client().post(
        URL,
        {"action": "failed_delivery", "recipient": "+46701234567", "minutes": "5"},
        follow=True,
    )

    assert "every SMS sent to +46701234567 gets a failed delivery report" in response.text
    assert demo.config.fail_suffix == "+46701234567"
    assert timers == [(300, ("config", {"fail_suffix": ""}))]
    event = AuditEvent.objects.get(action=AuditEvent.Action.DEMO_SIMULATED)
    assert event.detail == {"kind": "failed_delivery", "recipient": "+46701234567", "minutes": 5}
    demo.configure(fail_suffix="")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"action": "inbound_sms", "sender": "+46701112233"}, "Choose the tenant number"),
        ({"action": "inbound_sms", "number": "999999", "sender": "+4670"}, "Select a valid"),
        ({"action": "outage", "minutes": "0"}, "greater than or equal to 1"),
        ({"action": "failed_delivery", "minutes": "2"}, "Give the recipient as"),
        ({"action": "explode"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_named_not_a_500(demo, data: dict[str, str], error: str) -> None:
    response = _staff_client().post(URL, data)
    assert response.status_code == 400
    assert error in response.text


def test_the_staff_nav_links_the_panel_only_in_the_demo(world, settings) -> None:
    from tests.conftest import client_for

    staff = client_for(world.staff)
    settings.DEMO_ADDR = None
    assert "Demo controls" not in staff.get("/staff/").content.decode()
    settings.DEMO_ADDR = "127.0.0.1:8000"
    assert "Demo controls" in staff.get("/staff/").content.decode()
