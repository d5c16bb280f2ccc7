"""Daily traffic rollups and the chart endpoints that read them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant
from calls.models import Call
from console.tasks import traffic_rollup as traffic_rollup_task
from console.traffic.models import DailyTraffic
from console.traffic.services import traffic_rollup_rebuild, traffic_rollup_recent
from messaging.models import Message
from numbers.models import PhoneNumber
from tests.conftest import World, client_for

M = Message


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _number(tenant: Tenant, suffix: str) -> PhoneNumber:
    with scopes_disabled():
        return PhoneNumber.objects.create(
            tenant=tenant,
            provider_id=f"n-{tenant.slug}-{suffix}",
            number=f"+467668{suffix}",
            country="se",
            has_sms=True,
            has_voice=True,
            status=PhoneNumber.Status.ACTIVE,
        )


def _message(tenant: Tenant, created: datetime, **fields: Any) -> Message:
    values: dict[str, Any] = {
        "direction": M.Direction.OUT,
        "status": M.Status.DELIVERED,
        "ours": "+46766860000",
        "other": "+46700000001",
        "cost": 3500,
        "parts": 1,
    }
    values.update(fields)
    with scopes_disabled():
        return Message.objects.create(tenant=tenant, created=created, **values)


def _call(tenant: Tenant, created: datetime, **fields: Any) -> Call:
    values: dict[str, Any] = {
        "direction": Call.Direction.IN,
        "state": Call.State.SUCCESS,
        "ours": "+46766860000",
        "other": "+46700000001",
        "duration": 60,
        "cost": 12_000,
    }
    values.update(fields)
    with scopes_disabled():
        return Call.objects.create(tenant=tenant, created=created, **values)


@pytest.fixture
def traffic(world: World) -> dict[str, Any]:
    """A week of mixed traffic for Acme (two numbers and none) and a little for Bravo."""
    today = timezone.localdate()
    first, second = _number(world.tenant_a, "1001"), _number(world.tenant_a, "1002")
    for back in range(7):
        day = today - timedelta(days=back)
        number = first if back % 2 else second
        _message(world.tenant_a, _at(day, 9), number=number, parts=2)
        _message(world.tenant_a, _at(day, 10), number=number, status=M.Status.FAILED, cost=None)
        _message(
            world.tenant_a,
            _at(day, 0, 5),
            direction=M.Direction.IN,
            status=M.Status.RECEIVED,
            cost=None,
            parts=None,
        )
        _message(world.tenant_a, _at(day, 11), kind=M.Kind.MMS, status=M.Status.SENT, cost=None)
        _message(world.tenant_a, _at(day, 12), number=None, ours="Shop")
        _call(world.tenant_a, _at(day, 13), number=number, duration=back * 10)
        _call(world.tenant_a, _at(day, 14), direction=Call.Direction.OUT, cost=None, duration=None)
    _message(world.tenant_b, _at(today, 9))
    _call(world.tenant_b, _at(today, 9))
    return {"today": today, "first": first, "second": second}


def _rows() -> list[tuple[Any, ...]]:
    with scopes_disabled():
        return list(
            DailyTraffic.objects.order_by("tenant_id", "day", "number_id").values_list(
                "tenant_id",
                "day",
                "number_id",
                "sms_in",
                "sms_out",
                "mms_in",
                "mms_out",
                "parts_out",
                "delivered",
                "failed",
                "calls_in",
                "calls_out",
                "call_seconds",
                "cost",
                "cost_unknown",
            )
        )


def _raw_totals(tenant: Tenant, since: date) -> dict[str, int]:
    start = _at(since, 0)
    with scopes_disabled():
        m = Message.objects.filter(tenant=tenant, created__gte=start).aggregate(
            received=Count("id", filter=Q(direction="in")),
            sent=Count("id", filter=Q(direction="out")),
            delivered=Count("id", filter=Q(direction="out", status="delivered")),
            failed=Count("id", filter=Q(direction="out", status="failed")),
            parts=Sum("parts", filter=Q(direction="out")),
            cost=Sum("cost"),
        )
        c = Call.objects.filter(tenant=tenant, created__gte=start).aggregate(
            calls_in=Count("id", filter=Q(direction="in")),
            calls_out=Count("id", filter=Q(direction="out")),
            seconds=Sum("duration"),
            cost=Sum("cost"),
        )
    return {
        **m,
        "calls_in": c["calls_in"],
        "calls_out": c["calls_out"],
        "seconds": c["seconds"],
        "cost": (m["cost"] or 0) + (c["cost"] or 0),
    }


def test_rollup_sums_equal_the_raw_rows(world: World, traffic: dict[str, Any]) -> None:
    traffic_rollup_rebuild(7)
    raw = _raw_totals(world.tenant_a, traffic["today"] - timedelta(days=6))
    with scopes_disabled():
        rolled = DailyTraffic.objects.filter(tenant=world.tenant_a).aggregate(
            sms_in=Sum("sms_in"),
            mms_in=Sum("mms_in"),
            sms_out=Sum("sms_out"),
            mms_out=Sum("mms_out"),
            delivered=Sum("delivered"),
            failed=Sum("failed"),
            parts=Sum("parts_out"),
            calls_in=Sum("calls_in"),
            calls_out=Sum("calls_out"),
            seconds=Sum("call_seconds"),
            cost=Sum("cost"),
            unknown=Sum("cost_unknown"),
        )
    assert rolled["sms_in"] + rolled["mms_in"] == raw["received"] == 7
    assert rolled["sms_out"] + rolled["mms_out"] == raw["sent"] == 28
    assert rolled["mms_out"] == 7
    assert (rolled["delivered"], rolled["failed"]) == (raw["delivered"], raw["failed"]) == (14, 7)
    assert rolled["parts"] == raw["parts"]
    assert (rolled["calls_in"], rolled["calls_out"]) == (raw["calls_in"], raw["calls_out"])
    assert rolled["seconds"] == raw["seconds"]
    assert rolled["cost"] == raw["cost"]
    # Unknown costs are counted, not summed as zero: the sent MMS and the outgoing calls.
    # A failed message was never charged, so its missing cost is not unknown.
    assert rolled["unknown"] == 14
    # Per number: the number's rows hold only its own traffic, the rest has no number.
    with scopes_disabled():
        assert (
            DailyTraffic.objects.filter(number=traffic["first"]).aggregate(n=Sum("sms_out"))["n"]
            == 6
        )
        assert (
            DailyTraffic.objects.filter(tenant=world.tenant_a, number=None).aggregate(
                n=Sum("sms_out")
            )["n"]
            == 7
        )


def test_rollup_is_idempotent(world: World, traffic: dict[str, Any]) -> None:
    traffic_rollup_rebuild(7)
    once = _rows()
    traffic_rollup_rebuild(7)
    traffic_rollup_recent()
    assert _rows() == once
    assert len(once) > 7


def test_a_late_delivery_report_changes_yesterday_at_the_next_recompute(world: World) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    message = _message(world.tenant_a, _at(yesterday, 15), status=M.Status.SENT)
    traffic_rollup_recent()
    with scopes_disabled():
        row = DailyTraffic.objects.get(tenant=world.tenant_a, day=yesterday)
    assert (row.sms_out, row.delivered) == (1, 0)
    with scopes_disabled():
        Message.objects.filter(pk=message.pk).update(status=M.Status.DELIVERED)
    traffic_rollup_recent()
    with scopes_disabled():
        row = DailyTraffic.objects.get(tenant=world.tenant_a, day=yesterday)
    assert (row.sms_out, row.delivered) == (1, 1)


def test_days_are_local_days(world: World, settings: Any) -> None:
    # Stockholm is UTC+1 in winter, UTC+2 in summer: 00:05 local is still the day before in UTC.
    assert settings.TIME_ZONE == "Europe/Stockholm"
    day = timezone.localdate() - timedelta(days=3)
    _message(world.tenant_a, _at(day, 0, 5))
    _message(world.tenant_a, _at(day, 23, 55))
    _message(world.tenant_a, _at(day - timedelta(days=1), 23, 55))
    traffic_rollup_rebuild(10)
    with scopes_disabled():
        by_day = dict(DailyTraffic.objects.values_list("day", "sms_out"))
    assert by_day == {day: 2, day - timedelta(days=1): 1}


def test_rebuild_only_replaces_its_window(world: World) -> None:
    old = timezone.localdate() - timedelta(days=20)
    _message(world.tenant_a, _at(old, 12))
    traffic_rollup_rebuild(30)
    traffic_rollup_recent()
    with scopes_disabled():
        assert DailyTraffic.objects.filter(day=old).exists()


def test_the_beat_task_skips_while_another_run_holds_the_lock(world: World) -> None:
    from core.locks import skip_if_running

    _message(world.tenant_a, timezone.now())
    with skip_if_running("traffic-rollup", ttl=60):
        assert traffic_rollup_task() == 0
    assert traffic_rollup_task() == 1


def test_backfill_command(world: World, traffic: dict[str, Any]) -> None:
    call_command("traffic_rollup", "--days", "3")
    with scopes_disabled():
        days = set(DailyTraffic.objects.values_list("day", flat=True))
    assert days == {traffic["today"] - timedelta(days=n) for n in range(3)}


# The chart endpoints.


def _chart(client: Any, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def test_overview_charts_sum_to_the_raw_rows(
    world: World, traffic: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    traffic_rollup_rebuild(7)
    raw = _raw_totals(world.tenant_a, traffic["today"] - timedelta(days=6))
    client = client_for(world.owner_a)
    client.get("/t/acme/")  # warm the session
    with django_assert_max_num_queries(6):
        data = _chart(client, "/t/acme/charts/messages.json?days=7")
    labels = data["labels"]
    assert len(labels) == 7 and labels[-1] == traffic["today"].isoformat()
    received, sent, rate = (d["data"] for d in data["datasets"])
    assert sum(received) == raw["received"] and sum(sent) == raw["sent"]
    assert rate == [66.7] * 7  # two delivered, one failed each day
    assert "7 received, 28 sent" in data["summary"].replace("messages ", "")
    with django_assert_max_num_queries(6):
        calls = _chart(client, "/t/acme/charts/calls.json?days=7")
    assert sum(calls["datasets"][0]["data"]) == raw["calls_in"]
    assert sum(calls["datasets"][1]["data"]) == raw["calls_out"]


def test_empty_days_are_zeros_and_the_range_is_one_of_the_offered(world: World) -> None:
    client = client_for(world.owner_a)
    data = _chart(client, "/t/acme/charts/messages.json?days=60")
    assert len(data["labels"]) == 60 and data["empty"] is True
    assert data["datasets"][0]["data"] == [0] * 60
    assert data["datasets"][2]["data"] == [None] * 60  # no report, no rate (not 0 %)
    for bad in ("13", "abc", "-7", "99999999999999999999"):
        assert len(_chart(client, f"/t/acme/charts/calls.json?days={bad}")["labels"]) == 30


def test_spend_is_the_priced_figure_cumulative_this_month_against_the_limit(
    world: World,
) -> None:
    """The tenant's price from the usage ledger's daily rows, never 46elks' cost."""
    from billing.ledger.models import DailyUsage
    from billing.models import BillingAccount
    from billing.periods import current_period
    from billing.services import account_for

    account = account_for(world.tenant_a)
    BillingAccount.objects.filter(pk=account.pk).update(monthly_limit=500_000)
    first = current_period(account.time_zone)
    today = timezone.localdate()
    _message(world.tenant_a, _at(today, 8), cost=987_654)  # 46elks' cost: not on the chart
    traffic_rollup_rebuild(40)
    with scopes_disabled():
        for day, price in ((first, 5_000), (today, 10_000), (first - timedelta(days=1), 99_000)):
            DailyUsage.objects.create(
                tenant=world.tenant_a, day=day, kind="sms_out", events=1, price=price,
                provider_cost=987_654,
            )  # fmt: skip
    data = _chart(client_for(world.member_a), "/t/acme/charts/spend.json")
    spent, limit = (d["data"] for d in data["datasets"])
    assert len(spent) == (today - first).days + 1
    assert spent[-1] == 15_000
    assert limit == [500_000] * len(spent)
    assert "987654" not in str(data) and "98.77" not in data["summary"]


def test_number_chart(
    world: World, traffic: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    traffic_rollup_rebuild(7)
    client = client_for(world.member_a)
    client.get("/t/acme/")
    with django_assert_max_num_queries(7):
        data = _chart(client, f"/t/acme/charts/numbers/{traffic['first'].pk}.json?days=7")
    received, sent, calls = (d["data"] for d in data["datasets"])
    # The first number has the odd days back: 1, 3, 5 (two sent messages and a call each).
    assert (sum(received), sum(sent), sum(calls)) == (0, 6, 3)


def test_another_tenants_charts_are_404(world: World, traffic: dict[str, Any]) -> None:
    traffic_rollup_rebuild(7)
    bravo = client_for(world.owner_b)
    for url in (
        "/t/acme/charts/messages.json",
        f"/t/acme/charts/numbers/{traffic['first'].pk}.json",
    ):
        assert bravo.get(url).status_code == 404
    # Acme's number under Bravo's own slug is not Bravo's either.
    assert bravo.get(f"/t/bravo/charts/numbers/{traffic['first'].pk}.json").status_code == 404
    # Bravo's overview counts only Bravo.
    data = _chart(bravo, "/t/bravo/charts/messages.json?days=7")
    assert sum(data["datasets"][1]["data"]) == 1


def test_staff_charts(
    world: World, traffic: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    traffic_rollup_rebuild(30)
    assert client_for(world.owner_a).get("/staff/charts/traffic.json").status_code in (
        302,
        403,
        404,
    )
    client = client_for(world.staff)
    client.get("/staff/")
    with django_assert_max_num_queries(5):
        data = _chart(client, "/staff/charts/traffic.json")
    assert data["labels"] == ["Acme", "Bravo"]
    messages, calls = (d["data"] for d in data["datasets"])
    assert messages == [35, 1] and calls == [14, 1]
    spend = _chart(client, "/staff/charts/spend.json?days=7")
    raw = _raw_totals(world.tenant_a, traffic["today"] - timedelta(days=6))
    assert spend["datasets"][0]["data"][0] == raw["cost"]
    assert client.get("/staff/charts/nope.json").status_code == 404


def test_pages_with_charts_load_the_scripts_and_others_do_not(
    world: World, traffic: dict[str, Any]
) -> None:
    client = client_for(world.owner_a)
    page = client.get("/t/acme/").content.decode()
    assert "chart.umd.min.js" in page and "/t/acme/charts/messages.json" in page
    number_page = client.get(f"/t/acme/numbers/{traffic['first'].pk}/").content.decode()
    assert f"/t/acme/charts/numbers/{traffic['first'].pk}.json" in number_page
    assert "chart.umd.min.js" not in client.get("/t/acme/members/").content.decode()
    assert "/staff/charts/traffic.json" in client_for(world.staff).get("/staff/").content.decode()


def _campaign(tenant: Tenant, launched: datetime, finished: datetime | None) -> Any:
    from messaging.campaigns.models import Campaign, CampaignRecipient

    with scopes_disabled():
        campaign = Campaign.objects.create(
            tenant=tenant,
            name="Spring sale",
            sender="Shop",
            template="Hi",
            status=Campaign.Status.COMPLETED,
            launched_at=launched,
            finished_at=finished,
            recipient_count=5,
        )
        for n in range(5):
            sent = launched + timedelta(minutes=n) if n < 4 else None
            CampaignRecipient.objects.create(
                tenant=tenant,
                campaign=campaign,
                phone=f"+4670000000{n}",
                status="delivered" if n < 3 else ("sent" if n < 4 else "failed"),
                sent_at=sent,
                # Reports trail the send; the last one comes after the run ended.
                delivered_at=sent + timedelta(minutes=2 if n < 2 else 30) if n < 3 else None,
            )
    return campaign


def test_campaign_chart_buckets_by_minute_cumulatively(
    world: World, django_assert_max_num_queries: Any
) -> None:
    launched = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    campaign = _campaign(world.tenant_a, launched, launched + timedelta(minutes=4))
    client = client_for(world.member_a)
    client.get("/t/acme/")
    # Session, user, tenant, membership, the campaign, then one grouped query per series.
    with django_assert_max_num_queries(8):
        data = _chart(client, f"/t/acme/charts/campaigns/{campaign.pk}.json")
    sent, delivered = (d["data"] for d in data["datasets"])
    # Minute buckets from launch to the last report (32 minutes after launch).
    assert len(data["labels"]) == 33
    assert sent[:5] == [1, 2, 3, 4, 4] and sent[-1] == 4
    assert delivered[2] == 1 and delivered[3] == 2 and delivered[-1] == 3
    assert data["summary"].startswith("4 of 5 messages sent, 3 delivered, per minute")
    page = client.get(f"/t/acme/campaigns/{campaign.pk}/").content.decode()
    assert f"/t/acme/charts/campaigns/{campaign.pk}.json" in page and "chart.umd.min.js" in page
    assert (
        client_for(world.owner_b).get(f"/t/acme/charts/campaigns/{campaign.pk}.json").status_code
        == 404
    )
    assert (
        client_for(world.owner_b).get(f"/t/bravo/charts/campaigns/{campaign.pk}.json").status_code
        == 404
    )


def test_a_long_campaign_is_bucketed_by_hour(world: World) -> None:
    launched = timezone.now().replace(second=0, microsecond=0) - timedelta(days=2)
    campaign = _campaign(world.tenant_a, launched, launched + timedelta(hours=20))
    data = _chart(client_for(world.owner_a), f"/t/acme/charts/campaigns/{campaign.pk}.json")
    assert 20 <= len(data["labels"]) <= 22 and data["datasets"][0]["data"][-1] == 4
