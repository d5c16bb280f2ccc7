"""Staff rate-plan pages: plans, versions (never in the past, read-only once in force), price
rows with validation, the default plan, assigning a plan to a tenant. All audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from billing.models import BillingAccount, PlanPrice, RatePlan, RatePlanVersion
from billing.plans.services import EPOCH
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def _actions() -> list[str]:
    return list(AuditEvent.objects.values_list("action", flat=True))


def _rows(rows: list[tuple[str, str, str, str]], extra: int = 2) -> dict[str, str]:
    data = {
        "prices-TOTAL_FORMS": str(len(rows) + extra),
        "prices-INITIAL_FORMS": "0",
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
    }
    for i, (kind, country, category, price) in enumerate(rows):
        data |= {
            f"prices-{i}-kind": kind,
            f"prices-{i}-country": country,
            f"prices-{i}-category": category,
            f"prices-{i}-price": price,
        }
    return data


def _version_fields(**over: str) -> dict[str, str]:
    return {
        "v-markup_percent": "25",
        "v-call_first_seconds": "60",
        "v-call_next_seconds": "1",
        "v-call_connection_fee": "0.50",
        "v-sms_in_price": "0",
        "v-mms_in_price": "0.10",
        "v-note": "",
    } | over


@pytest.fixture
def gold(world: World) -> RatePlan:
    staff = client_for(world.staff)
    response = staff.post(
        "/staff/billing/plans/", {"name": "Gold", "description": "Big senders", "currency": "sek"}
    )
    assert response.status_code == 302
    return RatePlan.objects.get(name="Gold")


def test_plan_pages_are_staff_only(world: World) -> None:
    plan = RatePlan.objects.get(is_default=True)
    version = plan.versions.first()
    for url in [
        "/staff/billing/plans/",
        f"/staff/billing/plans/{plan.pk}/",
        f"/staff/billing/versions/{version.pk}/",
        f"/staff/billing/tenants/{world.tenant_a.slug}/",
    ]:
        assert client_for(world.owner_a).get(url).status_code == 404
        assert client_for(world.staff).get(url).status_code == 200
    assert client_for(None).get("/staff/billing/plans/").status_code == 302


def test_create_plan_starts_with_a_version_and_is_audited(world: World, gold: RatePlan) -> None:
    assert gold.currency == "SEK"
    assert list(gold.versions.values_list("effective_from", flat=True)) == [EPOCH]
    assert "billing.plan_created" in _actions()
    page = client_for(world.staff).get("/staff/billing/plans/").content.decode()
    assert "Gold" in page and "Big senders" in page
    # A duplicate name re-renders with a message.
    response = client_for(world.staff).post(
        "/staff/billing/plans/", {"name": "Gold", "currency": "SEK"}
    )
    assert response.status_code == 400 and "already exists" in response.content.decode()


def test_versions_never_start_in_the_past_and_copy_current_prices(
    world: World, gold: RatePlan
) -> None:
    staff = client_for(world.staff)
    current = gold.versions.get()
    PlanPrice.objects.create(version=current, kind="sms_part", country="se", price=4500)
    today = timezone.localdate()
    url = f"/staff/billing/plans/{gold.pk}/versions/"

    response = staff.post(url, {"version-effective_from": str(today - timedelta(days=1))})
    assert response.status_code == 400 and "cannot start in the past" in response.content.decode()
    response = staff.post(url, {"version-effective_from": "someday"})
    assert response.status_code == 400 and "Enter a valid date" in response.content.decode()

    response = staff.post(url, {"version-effective_from": str(today + timedelta(days=3))})
    assert response.status_code == 302
    new = gold.versions.get(effective_from=today + timedelta(days=3))
    assert list(new.prices.values_list("kind", "country", "price")) == [("sms_part", "se", 4500)]
    assert new.markup_bp == current.markup_bp and new.created_by == world.staff
    # Same day twice: a message, not a 500.
    response = staff.post(url, {"version-effective_from": str(today + timedelta(days=3))})
    assert response.status_code == 400 and "already has a version" in response.content.decode()
    assert "billing.plan_version_added" in _actions()


def test_edit_future_version_prices(world: World, gold: RatePlan) -> None:
    staff = client_for(world.staff)
    tomorrow = timezone.localdate() + timedelta(days=1)
    version = RatePlanVersion.objects.create(plan=gold, effective_from=tomorrow)
    url = f"/staff/billing/versions/{version.pk}/"
    assert "Save prices" in staff.get(url).content.decode()

    rows = [
        ("sms_part", "SE", "", "0.45"),
        ("sms_part", "", "", "0.65"),
        ("mms", "se", "", "1.20"),
        ("call_minute", "se", "", "0.9"),
        ("number_month", "se", "mobile", "30"),
        ("number_month", "se", "fixed", "20"),
    ]
    response = staff.post(url, _version_fields() | _rows(rows))
    assert response.status_code == 302, response.content.decode()[:3000]
    version.refresh_from_db()
    assert version.markup_bp == 2500 and version.call_next_seconds == 1
    assert version.call_connection_fee == 5000 and version.mms_in_price == 1000
    prices = set(version.prices.values_list("kind", "country", "category", "price"))
    assert prices == {
        ("sms_part", "se", "", 4500),
        ("sms_part", "", "", 6500),
        ("mms", "se", "", 12000),
        ("call_minute", "se", "", 9000),
        ("number_month", "se", "mobile", 300_000),
        ("number_month", "se", "fixed", 200_000),
    }
    page = staff.get(url).content.decode()
    assert 'value="0.45"' in page  # prices come back as entered
    # An emptied row is removed; the markup can be cleared (unlisted at cost).
    response = staff.post(url, _version_fields(**{"v-markup_percent": ""}) | _rows(rows[:1]))
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.markup_bp is None and version.prices.count() == 1
    assert "billing.plan_prices_changed" in _actions()


@pytest.mark.parametrize(
    ("rows", "fields", "message"),
    [
        ([("sms_part", "SE", "", "0.45"), ("sms_part", "se", "", "0.5")], {}, "keep one"),
        ([("sms_part", "Sweden", "", "0.45")], {}, "two-letter country code"),
        ([("sms_part", "se", "mobile", "0.45")], {}, "number prices only"),
        ([("sms_part", "se", "", "")], {}, "Enter a price"),
        ([("", "se", "", "1")], {}, "Choose what this price is for"),
        ([("sms_part", "se", "", "-1")], {}, "cannot be negative"),
        ([("sms_part", "se", "", "lots")], {}, "Enter a number"),
        ([], {"v-call_next_seconds": "0"}, "greater than or equal to 1"),
        ([], {"v-markup_percent": "-5"}, "greater than or equal to 0"),
    ],
)
def test_price_rows_are_validated(
    world: World, gold: RatePlan, rows: list, fields: dict, message: str
) -> None:
    version = RatePlanVersion.objects.create(
        plan=gold, effective_from=timezone.localdate() + timedelta(days=1)
    )
    response = client_for(world.staff).post(
        f"/staff/billing/versions/{version.pk}/", _version_fields(**fields) | _rows(rows)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert version.prices.count() == 0


def test_a_version_in_force_is_read_only(world: World, gold: RatePlan) -> None:
    current = gold.versions.get()
    PlanPrice.objects.create(version=current, kind="sms_part", country="se", price=4500)
    staff = client_for(world.staff)
    url = f"/staff/billing/versions/{current.pk}/"
    page = staff.get(url).content.decode()
    assert "read-only" in page and "Save prices" not in page and "0.45" in page
    response = staff.post(url, _version_fields() | _rows([("sms_part", "se", "", "9")]))
    assert response.status_code == 400
    assert list(current.prices.values_list("price", flat=True)) == [4500]


def test_default_plan_moves(world: World, gold: RatePlan) -> None:
    staff = client_for(world.staff)
    assert staff.post(f"/staff/billing/plans/{gold.pk}/default/").status_code == 302
    assert list(RatePlan.objects.filter(is_default=True)) == [gold]
    response = staff.post(
        f"/staff/billing/plans/{gold.pk}/", {"plan-name": "Gold+", "plan-description": "x"}
    )
    assert response.status_code == 302
    gold.refresh_from_db()
    assert gold.name == "Gold+"
    assert _actions().count("billing.plan_changed") == 2


def test_assign_plan_to_tenant(world: World, gold: RatePlan) -> None:
    staff = client_for(world.staff)
    url = f"/staff/billing/tenants/{world.tenant_a.slug}/plan/"
    assert staff.post(url, {"plan": gold.pk}).status_code == 302
    assert BillingAccount.objects.get(pk=world.tenant_a.pk).plan == gold
    event = AuditEvent.objects.get(action="billing.plan_assigned")
    assert event.tenant == world.tenant_a and event.detail["plan"] == "Gold"
    response = staff.post(url, {"plan": 99999})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert client_for(world.owner_a).post(url, {"plan": gold.pk}).status_code == 404
