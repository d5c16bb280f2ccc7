"""The campaign engine against the sandbox: every recipient exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import time as dtime
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from billing.models import BillingAccount
from billing.selectors import period_usage
from messaging.campaigns import services as engine
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.placeholders import template_render
from messaging.campaigns.selectors import campaign_summary
from messaging.campaigns.services import (
    CampaignError,
    campaign_cancel,
    campaign_launch,
    campaign_pause,
    campaign_resume,
    campaign_run,
    campaigns_tick,
    reconcile_unknown,
)
from messaging.contacts.models import Contact, ContactList
from messaging.models import OptOut
from messaging.services import optout_record
from tests.factories import approved_sender


def _contacts(tenant, n: int, list_name: str = "Customers") -> ContactList:
    contact_list, _ = ContactList.objects.get_or_create(tenant=tenant, name=list_name)
    contacts = Contact.objects.bulk_create(
        [Contact(tenant=tenant, phone=f"+4670{i:07d}", name=f"Name{i} Surname") for i in range(n)],
        ignore_conflicts=True,
    )
    contacts = list(Contact.objects.filter(tenant=tenant))
    contact_list.contacts.add(*contacts)
    return contact_list


def _campaign(tenant, contact_list, **fields) -> Campaign:
    defaults = {
        "name": "Black friday",
        "sender": "Shop",
        "template": "Hi {first_name|there}!",
        "rate": 50,
    }
    approved_sender(tenant, "Shop")
    campaign = Campaign.objects.create(tenant=tenant, **{**defaults, **fields})
    campaign.lists.add(contact_list)
    return campaign


PART_PRICE = 4375  # the default plan: 46elks' 3500 plus 25%


def _limit(tenant, amount: int) -> None:
    BillingAccount.objects.filter(pk=tenant.pk).update(monthly_limit=amount)


def _sends(elks, since: int = 0) -> Counter:
    """Sends the sandbox accepted (and charged), per recipient, after request number `since`."""
    return Counter(
        r["params"]["to"]
        for r in elks.api_requests(method="POST", path="/a1/sms")[since:]
        if r.get("status") == 200
    )


@pytest.fixture
def tenant(live_tenant, settings):
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    settings.CAMPAIGN_CLAIM_BATCH = 10
    return live_tenant


def test_template_rendering_and_fallbacks() -> None:
    values = {"first_name": "Ada", "city": ""}
    assert template_render("Hi {first_name}!", values) == "Hi Ada!"
    assert template_render("Hi {nick|friend}, in {city|your city}", values) == (
        "Hi friend, in your city"
    )
    assert template_render("{unknown}x", values) == "x"


def test_summary_counts_duplicates_opt_outs_and_cost(tenant) -> None:
    first = _contacts(tenant, 10)
    second = ContactList.objects.create(tenant=tenant, name="VIP")
    second.contacts.add(*Contact.objects.all()[:4])  # also in the first list
    optout_record(tenant=tenant, phone="+46700000001", kind=OptOut.Kind.OUT)
    campaign = _campaign(tenant, first)
    campaign.lists.add(second)
    summary = campaign_summary(campaign=campaign)
    assert (summary.recipients, summary.duplicates, summary.opted_out) == (9, 4, 1)
    # The tenant's price: the default plan is 46elks' cost (3500 a part) plus 25%.
    assert summary.parts == 9 and summary.estimated_cost == 9 * PART_PRICE and summary.fits


def test_a_campaign_that_does_not_fit_cannot_launch(tenant) -> None:
    campaign = _campaign(tenant, _contacts(tenant, 10))
    _limit(tenant, 10 * PART_PRICE - 15_000)  # the billing account's monthly limit
    with pytest.raises(CampaignError, match=r"exceeds the remaining usage limit by 1\.50"):
        campaign_launch(campaign=campaign, actor=None)


def test_launch_then_run_sends_each_once_and_completes(tenant, elks) -> None:
    campaign = _campaign(tenant, _contacts(tenant, 25))
    campaign_launch(campaign=campaign, actor=None)
    assert campaign.status == "running" and campaign.recipient_count == 25
    assert engine.recipients_create(campaign=campaign) == 25  # re-running adds nothing
    campaign_run(campaign_id=campaign.pk)
    campaign_run(campaign_id=campaign.pk)  # a second worker finds nothing
    campaign.refresh_from_db()
    assert campaign.status == "completed"
    sends = _sends(elks)
    assert len(sends) == 25 and set(sends.values()) == {1}
    recipient = CampaignRecipient.objects.get(phone="+46700000003")
    assert recipient.body == "Hi Name3!" and recipient.status == "sent" and recipient.elks_id
    # Each send reserved its price on the billing account and rating settled it.
    usage = period_usage(tenant=tenant)
    assert (usage.spent, usage.reserved) == (25 * PART_PRICE, 0)


def test_pause_resume_cancel(tenant, elks) -> None:
    campaign = _campaign(tenant, _contacts(tenant, 30))
    campaign_launch(campaign=campaign, actor=None)
    campaign_pause(campaign=campaign, actor=None, reason="Wait")
    assert campaign_run(campaign_id=campaign.pk) == 0 and not _sends(elks)
    campaign_resume(campaign=campaign, actor=None)
    with mock.patch.object(engine, "_send_batch", wraps=engine._send_batch) as batches:
        original = engine.claim_batch

        def one_batch_then_pause(*, campaign, size):
            if batches.call_count >= 1:
                Campaign.objects.filter(pk=campaign.pk).update(status="paused")
            return original(campaign=campaign, size=size)

        with mock.patch.object(engine, "claim_batch", one_batch_then_pause):
            campaign_run(campaign_id=campaign.pk)
    assert sum(_sends(elks).values()) == 10
    campaign.refresh_from_db()
    campaign_cancel(campaign=campaign, actor=None)
    assert CampaignRecipient.objects.filter(status="skipped").count() == 20
    with pytest.raises(CampaignError):
        campaign_resume(campaign=campaign, actor=None)


def test_usage_limit_pauses_instead_of_failing_at_the_provider(tenant, elks) -> None:
    campaign = _campaign(tenant, _contacts(tenant, 20))
    campaign_launch(campaign=campaign, actor=None)
    _limit(tenant, 5 * PART_PRICE)  # someone lowered the limit after launch
    campaign_run(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == "paused" and "Usage limit reached" in campaign.pause_reason
    assert sum(_sends(elks).values()) == 5
    assert not CampaignRecipient.objects.filter(status__in=["failed", "sending"]).exists()


def test_stop_words_during_a_campaign_skip_pending_recipients(tenant, elks) -> None:
    campaign = _campaign(tenant, _contacts(tenant, 5))
    campaign_launch(campaign=campaign, actor=None)
    optout_record(tenant=tenant, phone="+46700000002", kind=OptOut.Kind.OUT, word="STOP")
    campaign_run(campaign_id=campaign.pk)
    assert CampaignRecipient.objects.get(phone="+46700000002").status == "skipped"
    assert "+46700000002" not in _sends(elks)


def test_schedule_starts_from_the_beat(tenant, elks) -> None:
    later = timezone.now() + timedelta(hours=2)
    campaign = _campaign(tenant, _contacts(tenant, 3), scheduled_at=later)
    campaign_launch(campaign=campaign, actor=None)
    assert campaign.status == "scheduled" and not CampaignRecipient.objects.exists()
    with scopes_disabled():
        assert campaigns_tick(now=timezone.now()) == 0
        assert campaigns_tick(now=later + timedelta(seconds=1)) == 1
    campaign.refresh_from_db()
    assert campaign.status == "running" and campaign.recipient_count == 3


def test_quiet_hours(tenant, elks) -> None:
    now = timezone.now().astimezone(engine.ZoneInfo("Europe/Stockholm"))
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    campaign = _campaign(tenant, _contacts(tenant, 3), quiet_start=start, quiet_end=end)
    campaign_launch(campaign=campaign, actor=None)
    assert campaign_run(campaign_id=campaign.pk) == 0  # paused by the clock, not failed
    resume = engine._quiet(campaign, "Europe/Stockholm", timezone.now())
    assert resume is not None and resume > timezone.now()
    assert engine._quiet(campaign, "Europe/Stockholm", resume + timedelta(minutes=1)) is None
    # Overnight windows wrap around midnight.
    campaign.quiet_start, campaign.quiet_end = (dtime(21, 0), dtime(8, 0))
    night = timezone.make_aware(
        timezone.datetime(2026, 11, 25, 23, 30), engine.ZoneInfo("Europe/Stockholm")
    )
    assert engine._quiet(campaign, "Europe/Stockholm", night).hour == 7  # 08:00 CET = 07:00 UTC
    # In the recipient's zone: a US number waits for its own morning.
    assert engine.recipient_zone("+12125551234", "Europe/Stockholm").startswith("America/")


def _crash_and_recover(tenant, elks, crash) -> None:
    campaign = _campaign(tenant, _contacts(tenant, 12))
    campaign_launch(campaign=campaign, actor=None)
    with mock.patch(*crash), pytest.raises(RuntimeError, match="killed"):
        campaign_run(campaign_id=campaign.pk)
    # The worker is gone; its claims expire, the sync reconciles, another worker finishes.
    with scopes_disabled():
        campaigns_tick(now=timezone.now() + timedelta(minutes=5))
    reconcile_unknown(campaign=campaign, now=timezone.now() + timedelta(minutes=20))
    campaign_run(campaign_id=campaign.pk)
    sends = _sends(elks)
    assert len(sends) == 12 and set(sends.values()) == {1}, sends
    assert set(CampaignRecipient.objects.values_list("status", flat=True)) == {"sent"}


def _killer(real, *, on_call: int, before: bool):
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == on_call and before:
            raise RuntimeError("killed")
        result = real(*args, **kwargs)
        if calls["n"] == on_call:
            raise RuntimeError("killed")
        return result

    return wrapper


def test_killed_before_the_provider_call(tenant, elks) -> None:
    real = engine.TokenBucket.acquire
    _crash_and_recover(
        tenant,
        elks,
        ("messaging.campaigns.services.TokenBucket.acquire", _killer(real, on_call=7, before=True)),
    )


def test_killed_during_the_provider_call(tenant, elks) -> None:
    from providers.elks.client import ElksClient

    real = ElksClient.sms_send
    _crash_and_recover(
        tenant,
        elks,
        ("providers.elks.client.ElksClient.sms_send", _killer(real, on_call=4, before=False)),
    )


def test_killed_after_the_provider_call(tenant, elks) -> None:
    real = engine._finish

    def finish(recipient, status, **fields):
        if status == "sent" and recipient.phone == "+46700000005":
            raise RuntimeError("killed")
        return real(recipient, status, **fields)

    _crash_and_recover(tenant, elks, ("messaging.campaigns.services._finish", finish))


def test_timeout_ends_in_unknown_and_is_reconciled(tenant, elks, settings) -> None:
    settings.ELKS_TIMEOUT = 0.4
    campaign = _campaign(tenant, _contacts(tenant, 3))
    campaign_launch(campaign=campaign, actor=None)
    elks.set_chaos(
        rate=1, mode="timeout", timeout_sleep=1, paths=["sms"], methods=["POST"], count=1
    )
    campaign_run(campaign_id=campaign.pk)
    assert CampaignRecipient.objects.filter(status="unknown").count() == 1
    elks.clear_chaos()
    assert reconcile_unknown(campaign=campaign) == 1
    sends = _sends(elks)
    assert len(sends) == 3 and set(sends.values()) == {1}
    assert set(CampaignRecipient.objects.values_list("status", flat=True)) == {"sent"}


def test_rate_limited_sends_keep_their_place(tenant, elks) -> None:
    campaign = _campaign(tenant, _contacts(tenant, 4))
    campaign_launch(campaign=campaign, actor=None)
    elks.set_chaos(rate=1, mode="429", paths=["sms"], methods=["POST"], count=1)
    with mock.patch("messaging.campaigns.services.time.sleep"):
        campaign_run(campaign_id=campaign.pk)
        campaign_run(campaign_id=campaign.pk)
    assert set(CampaignRecipient.objects.values_list("status", flat=True)) == {"sent"}
    assert set(_sends(elks).values()) == {1}


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)


def _two_workers(campaign_id: int, tenant_id: int) -> None:
    def work() -> None:
        try:
            with scope(tenant=tenant_id):
                campaign_run(campaign_id=campaign_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _naive_claim(*, campaign, size):
    """The claim without its guard: read pending ids, then mark them (a real race)."""
    ids = list(
        CampaignRecipient.objects.filter(campaign=campaign, status="pending")
        .order_by("id")
        .values_list("id", flat=True)[:size]
    )
    engine.time.sleep(0.05)  # widen the window as a busy machine would
    CampaignRecipient.objects.filter(pk__in=ids).update(status="sending", claimed_at=timezone.now())
    return ids


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_race_without_the_claim_and_not_with_it(world, elks, prices, settings) -> None:
    from console.tenants import tenant_create

    settings.CAMPAIGN_PROVIDER_RATE = 1000
    settings.CAMPAIGN_CLAIM_BATCH = 20
    tenant = tenant_create(
        name="Race",
        usage_limit=100_000_000,
        owner_email="race@example.com",
        actor=world.staff,
        request=None,
    ).tenant
    with scope(tenant=tenant.pk):
        naive = _campaign(tenant, _contacts(tenant, 40), name="naive")
        campaign_launch(campaign=naive, actor=None)
        guarded = _campaign(tenant, ContactList.objects.get(name="Customers"), name="guarded")
        campaign_launch(campaign=guarded, actor=None)
    # 1. Without the claim (nor the attempt's check that the row is still this worker's),
    # the race is real: some recipients are sent twice.
    with (
        mock.patch.object(engine, "claim_batch", _naive_claim),
        mock.patch.object(engine, "_attempt", lambda recipient, **fields: True),
    ):
        _two_workers(naive.pk, tenant.pk)
    duplicates = sum(n - 1 for n in _sends(elks).values() if n > 1)
    assert duplicates > 0
    # 2. With the claim, two workers on one campaign never send anyone twice.
    before = len(elks.api_requests(method="POST", path="/a1/sms"))
    _two_workers(guarded.pk, tenant.pk)
    sends = _sends(elks, since=before)
    assert len(sends) == 40 and set(sends.values()) == {1}


def test_a_stopped_task_puts_unattempted_rows_back(tenant, elks) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    campaign = _campaign(tenant, _contacts(tenant, 10))
    campaign_launch(campaign=campaign, actor=None)
    real = engine.TokenBucket.acquire
    calls = {"n": 0}

    def stop_on_fourth(self, **kwargs):
        calls["n"] += 1
        if calls["n"] == 7:  # two buckets per send: the 4th send never starts
            raise SoftTimeLimitExceeded()
        return real(self, **kwargs)

    with (
        mock.patch.object(engine.TokenBucket, "acquire", stop_on_fourth),
        pytest.raises(SoftTimeLimitExceeded),
    ):
        campaign_run(campaign_id=campaign.pk)
    statuses = Counter(CampaignRecipient.objects.values_list("status", flat=True))
    assert statuses == {"sent": 3, "pending": 7}
    campaign_run(campaign_id=campaign.pk)
    assert set(_sends(elks).values()) == {1} and len(_sends(elks)) == 10
