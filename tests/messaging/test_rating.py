"""Rating of messages: every event path appends exactly one entry per source and the right
correction; replays append nothing; sends reserve their price and a send that does not fit
is refused before it reaches 46elks; tenants see their price, not 46elks' cost."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from billing.ledger.models import UsageEntry
from billing.models import BillingAccount, RatePlanVersion
from billing.selectors import period_usage
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.services import campaign_launch, campaign_run
from messaging.contacts.models import Contact, ContactList
from messaging.models import Message
from messaging.services import SendError, message_send, sms_queue
from messaging.sync import history_apply, history_sync
from providers.clients import elks_for_tenant
from providers.elks.types import Sms
from providers.services import webhooks_drain
from tests.factories import approved_sender

# The default plan charges 46elks' cost plus 25%: a 3500 SMS part costs the tenant 4375.
PART_PRICE = 4375


@pytest.fixture
def number(rented_number):
    # Renting rated the number's first month: these tests count messages from zero.
    BillingAccount.objects.filter(pk=rented_number.tenant_id).update(period_spent=0)
    return rented_number


def _entries(source: str | None = None) -> list[UsageEntry]:
    with scopes_disabled():
        # Messages only: renting the test's number rated its first month too.
        qs = UsageEntry.objects.exclude(kind="number").order_by("source", "seq")
        return list(qs.filter(source=source) if source else qs)


def _account(tenant) -> BillingAccount:
    return BillingAccount.objects.get(pk=tenant.pk)


def _limit(tenant, amount: int) -> None:
    BillingAccount.objects.filter(pk=tenant.pk).update(monthly_limit=amount)


def _queue(tenant, number, world, *, to=("+46700000001",), body="Hello", key=None):
    return sms_queue(
        tenant=tenant,
        sender=number.number,
        recipients=list(to),
        body=body,
        request_key=key or uuid.uuid4(),
        actor=world.owner_a,
    )


def _sms_posts(elks) -> int:
    return len(elks.api_requests(method="POST", path="/a1/sms"))


# --- single sends ----------------------------------------------------------------------------


def test_a_send_reserves_then_is_rated_once(world, live_tenant, number, elks) -> None:
    [message] = _queue(live_tenant, number, world)
    assert message.reserved == PART_PRICE
    assert _account(live_tenant).reserved == PART_PRICE  # before it reaches 46elks
    message_send(message_id=message.pk)
    message_send(message_id=message.pk)  # a retried task rates nothing more
    message.refresh_from_db()
    [entry] = _entries()
    assert entry.source == f"message:{message.pk}" and entry.kind == "sms_out"
    assert (entry.price, entry.provider_cost, entry.estimated) == (PART_PRICE, 3500, False)
    assert (message.price, message.reserved) == (PART_PRICE, 0)
    account = _account(live_tenant)
    assert (account.reserved, account.period_spent) == (0, PART_PRICE)


def test_a_send_that_does_not_fit_is_refused_before_46elks(world, live_tenant, number, elks):
    _limit(live_tenant, PART_PRICE * 2 - 1)
    with pytest.raises(SendError, match="monthly spending limit"):
        _queue(live_tenant, number, world, to=("+46700000001", "+46700000002"))
    assert not Message.objects.exists() and _sms_posts(elks) == 0
    assert _account(live_tenant).reserved == 0
    # The compose page says so on the form, and nothing is sent.
    client = Client()
    owner = live_tenant.memberships.filter(role="owner").first().user
    client.force_login(owner)
    url = reverse("messaging:compose", kwargs={"tenant_slug": live_tenant.slug})
    response = client.post(
        url,
        {
            "kind": "sms",
            "sender": number.number,
            "recipients": "+46700000001, +46700000002",
            "message": "Hello",
            "request_key": str(uuid.uuid4()),
            "delivery_report": "on",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400 and "monthly spending limit" in page
    assert not Message.objects.exists() and _sms_posts(elks) == 0


def test_a_provider_refusal_releases_the_reservation(world, live_tenant, number, elks) -> None:
    elks.set_chaos(rate=1, mode="429", paths=["sms"], methods=["POST"])
    [message] = _queue(live_tenant, number, world)
    message_send(message_id=message.pk)
    elks.clear_chaos()
    message.refresh_from_db()
    assert message.status == "failed" and message.reserved == 0 and message.price is None
    assert _account(live_tenant).reserved == 0 and not _entries()


def test_history_brings_the_real_cost_as_one_correction(world, live_tenant, number, elks):
    [message] = _queue(live_tenant, number, world)
    message_send(message_id=message.pk)
    message.refresh_from_db()
    real = Sms(
        id=message.elks_id, direction="outgoing", from_=message.ours, to=message.other,
        message=message.body, cost=4000, status="delivered", created=message.created,
    )  # fmt: skip
    for _ in range(3):  # the sync sees it again and again: one correction only
        history_apply(Message.objects.get(pk=message.pk), real)
    entries = _entries(f"message:{message.pk}")
    assert [(e.seq, e.price, e.provider_cost) for e in entries] == [
        (0, PART_PRICE, 3500),
        (1, 5000 - PART_PRICE, 500),  # 4000 + 25%
    ]
    message.refresh_from_db()
    assert (message.cost, message.price) == (4000, 5000)
    assert _account(live_tenant).period_spent == 5000


def test_history_rows_never_recorded_here_are_rated_as_new(world, live_tenant, number, elks):
    client = elks_for_tenant(live_tenant)
    for n in range(3):
        client.sms_send(from_=number.number, to=f"+4670000010{n}", message=f"outside {n}")
    elks.wait_idle()
    assert history_sync(tenant=live_tenant)[0] == 3
    history_sync(tenant=live_tenant)  # a second pass appends nothing
    outside = list(Message.objects.filter(source="history"))
    assert len(_entries()) == 3
    assert all(m.price == PART_PRICE for m in outside)
    assert {e.source for e in _entries()} == {f"message:{m.pk}" for m in outside}


# --- inbound -----------------------------------------------------------------------------------


def _post_sms(number, n: int):
    payload = {
        "id": f"in{n:06d}",
        "from": f"+4670111{n:04d}",
        "to": number.number,
        "message": f"Hej {n}",
        "direction": "incoming",
        "created": "2026-11-25T10:00:00",
    }
    return Client().post(f"/hooks/elks/{number.hook_token}/sms/", payload)


def _charge_inbound(tenant, price: int) -> None:
    plan_id = _account(tenant).plan_id
    RatePlanVersion.objects.filter(plan_id=plan_id).update(sms_in_price=price)


def test_inbound_free_by_default_appends_nothing(live_tenant, number) -> None:
    for n in range(3):
        assert _post_sms(number, n).status_code == 200
    with scopes_disabled():
        webhooks_drain()
    assert Message.objects.filter(direction="in").count() == 3
    assert not _entries()
    assert set(Message.objects.values_list("price", flat=True)) == {0}


def test_inbound_batch_rates_each_once_and_replays_append_nothing(live_tenant, number) -> None:
    _charge_inbound(live_tenant, 1000)
    for n in range(5):
        _post_sms(number, n)
    with scopes_disabled():
        webhooks_drain()
        from providers.models import WebhookEvent

        WebhookEvent.objects.update(status="pending")  # processed again after a crash
        webhooks_drain()
    messages = list(Message.objects.filter(direction="in"))
    assert len(messages) == 5 and all(m.price == 1000 for m in messages)
    entries = _entries()
    assert sorted(e.source for e in entries) == sorted(f"message:{m.pk}" for m in messages)
    assert all((e.kind, e.price, e.seq) == ("sms_in", 1000, 0) for e in entries)
    assert period_usage(tenant=live_tenant).spent == 5000


def test_inbound_one_by_one_ends_as_the_batch(live_tenant, number) -> None:
    from providers.models import WebhookEvent
    from providers.services import webhook_process

    _charge_inbound(live_tenant, 1000)
    for n in range(3):
        _post_sms(number, n)
    with scopes_disabled():
        for event in WebhookEvent.objects.order_by("pk"):
            webhook_process(event.pk)
    assert [e.price for e in _entries()] == [1000] * 3
    assert set(Message.objects.values_list("price", flat=True)) == {1000}
    assert period_usage(tenant=live_tenant).spent == 3000


# --- campaigns ---------------------------------------------------------------------------------


def _campaign(tenant, n: int) -> Campaign:
    contact_list = ContactList.objects.create(tenant=tenant, name="Customers")
    Contact.objects.bulk_create(
        [Contact(tenant=tenant, phone=f"+4670{i:07d}", name=f"N{i}") for i in range(n)]
    )
    contact_list.contacts.add(*Contact.objects.all())
    approved_sender(tenant, "Shop")
    campaign = Campaign.objects.create(
        tenant=tenant, name="Sale", sender="Shop", template="Hi {first_name|there}!", rate=1000
    )
    campaign.lists.add(contact_list)
    return campaign


def test_campaign_sends_are_rated_once_on_the_recipient(live_tenant, elks, settings) -> None:
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    settings.CAMPAIGN_CLAIM_BATCH = 10
    campaign = _campaign(live_tenant, 6)
    campaign_launch(campaign=campaign, actor=None)
    campaign.refresh_from_db()
    assert campaign.estimated_cost == 6 * PART_PRICE  # the tenant's price
    campaign_run(campaign_id=campaign.pk)
    recipients = list(CampaignRecipient.objects.filter(campaign=campaign))
    assert all(r.status == "sent" and r.price == PART_PRICE for r in recipients)
    entries = _entries()
    assert sorted(e.source for e in entries) == sorted(f"recipient:{r.pk}" for r in recipients)
    # The log's Messages mirror the price; none is rated a second time.
    logged = Message.objects.filter(source="campaign")
    assert logged.count() == 6 and set(logged.values_list("price", flat=True)) == {PART_PRICE}
    account = _account(live_tenant)
    assert (account.reserved, account.period_spent) == (0, 6 * PART_PRICE)
    # The history sync sees the sends: their cost is unchanged, nothing more is appended.
    elks.wait_idle()
    history_sync(tenant=live_tenant)
    assert len(_entries()) == 6


def test_campaign_reserves_on_the_billing_account_and_never_overshoots(
    live_tenant, elks, settings
) -> None:
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    settings.CAMPAIGN_CLAIM_BATCH = 10
    campaign = _campaign(live_tenant, 10)
    campaign_launch(campaign=campaign, actor=None)
    _limit(live_tenant, 4 * PART_PRICE)  # lowered after launch
    campaign_run(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == "paused" and "limit" in campaign.pause_reason
    assert _sms_posts(elks) == 4
    usage = period_usage(tenant=live_tenant)
    assert usage.spent == 4 * PART_PRICE and usage.reserved == 0
    assert usage.spent <= 4 * PART_PRICE


def test_campaign_summary_uses_the_billing_limit(live_tenant) -> None:
    campaign = _campaign(live_tenant, 10)
    _limit(live_tenant, 9 * PART_PRICE)
    from messaging.campaigns.selectors import campaign_summary
    from messaging.campaigns.services import CampaignError

    summary = campaign_summary(campaign=campaign)
    assert summary.estimated_cost == 10 * PART_PRICE and not summary.fits
    assert summary.shortfall == PART_PRICE
    with pytest.raises(CampaignError, match="remaining"):
        campaign_launch(campaign=campaign, actor=None)


# --- what the tenant sees ----------------------------------------------------------------------


def test_log_export_and_pages_show_the_price_not_the_cost(world, live_tenant, number, elks):
    [message] = _queue(live_tenant, number, world)
    message_send(message_id=message.pk)
    Message.objects.filter(pk=message.pk).update(cost=3333)  # a cost no price equals
    owner = live_tenant.memberships.filter(role="owner").first().user
    client = Client()
    client.force_login(owner)
    slug = live_tenant.slug
    log = client.get(reverse("messaging:log", kwargs={"tenant_slug": slug})).content.decode()
    assert "0.44 SEK" in log and "0.33" not in log
    response = client.get(reverse("messaging:export", kwargs={"tenant_slug": slug}))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert "cost" not in rows[0] and rows[0]["price"] == str(PART_PRICE)
    assert rows[0]["price_formatted"] == "0.44 SEK"


def test_a_campaign_page_and_export_show_the_price(live_tenant, elks, settings) -> None:
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    campaign = _campaign(live_tenant, 2)
    campaign_launch(campaign=campaign, actor=None)
    campaign_run(campaign_id=campaign.pk)
    CampaignRecipient.objects.update(cost=3333)
    owner = live_tenant.memberships.filter(role="owner").first().user
    client = Client()
    client.force_login(owner)
    with scope(tenant=live_tenant.pk):
        kwargs = {"tenant_slug": live_tenant.slug, "campaign_id": campaign.pk}
        page = client.get(reverse("campaigns:recipients", kwargs=kwargs)).content.decode()
        assert "0.44 SEK" in page and "0.33" not in page
        body = b"".join(
            client.get(reverse("campaigns:recipients_csv", kwargs=kwargs)).streaming_content
        ).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert "cost" not in rows[0] and rows[0]["price"] == str(PART_PRICE)


def test_staff_see_price_cost_and_margin_of_campaigns(world) -> None:
    from tests.conftest import client_for

    with scopes_disabled():
        campaign = Campaign.objects.create(
            tenant=world.tenant_a, name="Running", sender="Shop", template="Hi",
            status=Campaign.Status.RUNNING,
        )  # fmt: skip
        for i in range(2):
            CampaignRecipient.objects.create(
                tenant=world.tenant_a, campaign=campaign, phone=f"+467000000{i}",
                status="sent", cost=3500, price=4375,
            )  # fmt: skip
    page = client_for(world.staff).get("/staff/campaigns/").content.decode()
    assert 'data-money="price">0.88 SEK<' in page
    assert 'data-money="cost">0.70 SEK<' in page
    assert 'data-money="margin">0.18 SEK<' in page


# --- more event paths ------------------------------------------------------------------------


def test_an_unknown_send_keeps_its_reservation_until_the_history_finds_it(
    world, live_tenant, number, elks, settings
) -> None:
    settings.ELKS_TIMEOUT = 0.5
    elks.set_chaos(rate=1, mode="timeout", timeout_sleep=1.2, paths=["sms"], methods=["POST"])
    [message] = _queue(live_tenant, number, world, body="Maybe sent")
    message_send(message_id=message.pk)
    elks.clear_chaos()
    message.refresh_from_db()
    assert message.status == "unknown" and message.reserved == PART_PRICE
    assert _account(live_tenant).reserved == PART_PRICE and not _entries()
    elks.wait_idle()
    for _ in range(2):  # a second pass changes nothing
        history_sync(tenant=live_tenant)
    message.refresh_from_db()
    assert message.elks_id and (message.price, message.reserved) == (PART_PRICE, 0)
    assert [e.source for e in _entries()] == [f"message:{message.pk}"]
    account = _account(live_tenant)
    assert (account.reserved, account.period_spent) == (0, PART_PRICE)


def test_automatic_replies_reserve_and_are_not_sent_over_the_limit(
    world, live_tenant, number, elks
) -> None:
    from numbers.services import number_route

    with scope(tenant=number.tenant_id):
        number_route(
            number=number, actor=world.owner_a,
            sms_autoreply_enabled=True, sms_autoreply_text="Thanks, soon.",
        )  # fmt: skip
    _limit(live_tenant, PART_PRICE)  # room for one reply
    for n in range(2):
        _post_sms(number, n)
    with scopes_disabled():
        webhooks_drain()
        replies = list(Message.objects.filter(source="autoreply"))
    assert len(replies) == 1 and replies[0].reserved == PART_PRICE  # the second did not fit
    assert _account(live_tenant).reserved == PART_PRICE
    message_send(message_id=replies[0].pk)
    replies[0].refresh_from_db()
    assert replies[0].price == PART_PRICE and _account(live_tenant).reserved == 0
    assert _sms_posts(elks) == 1


def test_a_campaign_message_synced_with_a_new_cost_corrects_its_recipient(
    live_tenant, elks, settings
) -> None:
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    campaign = _campaign(live_tenant, 1)
    campaign_launch(campaign=campaign, actor=None)
    campaign_run(campaign_id=campaign.pk)
    recipient = CampaignRecipient.objects.get()
    logged = Message.objects.get(campaign_recipient=recipient)
    real = Sms(
        id=recipient.elks_id, direction="outgoing", from_="Shop", to=recipient.phone,
        message=recipient.body, cost=4000, status="delivered", created=logged.created,
    )  # fmt: skip
    history_apply(logged, real)
    history_apply(Message.objects.get(pk=logged.pk), real)  # again: nothing more
    entries = _entries(f"recipient:{recipient.pk}")
    assert [(e.seq, e.price, e.provider_cost) for e in entries] == [
        (0, PART_PRICE, 3500),
        (1, 5000 - PART_PRICE, 500),
    ]
    recipient.refresh_from_db()
    logged.refresh_from_db()
    assert recipient.price == logged.price == 5000
    assert not _entries(f"message:{logged.pk}")


def test_an_inbound_mms_is_rated_on_its_own_path(live_tenant, number) -> None:
    plan_id = _account(live_tenant).plan_id
    RatePlanVersion.objects.filter(plan_id=plan_id).update(mms_in_price=2500)
    payload = {
        "id": "m-in-1",
        "from": "+46701110001",
        "to": number.number,
        "message": "Look",
        "direction": "incoming",
        "created": "2026-11-25T10:00:00",
    }
    for _ in range(2):
        Client().post(f"/hooks/elks/{number.hook_token}/mms/", payload)
    with scopes_disabled():
        webhooks_drain()
    message = Message.objects.get(kind="mms")
    [entry] = _entries()
    assert (entry.source, entry.kind, entry.price) == (f"message:{message.pk}", "mms_in", 2500)
    assert message.price == 2500


def test_settling_restarts_a_new_period_and_a_prepaid_balance_pays(world) -> None:
    """The one settling UPDATE (billing.services.account_settle), which the bulk path and
    spend_settle both run: a new period restarts the spend, a prepaid balance pays, the
    reservation never goes below 0, and a postpaid balance is left alone."""
    from datetime import date

    from billing.services import spend_settle

    a, b = world.tenant_a.pk, world.tenant_b.pk
    old = date(2020, 1, 1)
    BillingAccount.objects.filter(pk=a).update(
        mode="prepaid", balance=100_000, reserved=3_000, period_spent=9_000, period_start=old
    )
    BillingAccount.objects.filter(pk=b).update(
        mode="postpaid", balance=100_000, reserved=3_000, period_spent=9_000, period_start=old
    )
    spend_settle(tenant_id=a, price=4_375, release=5_000)
    spend_settle(tenant_id=b, price=4_375, release=1_000)
    prepaid, postpaid = _account(world.tenant_a), _account(world.tenant_b)
    assert (prepaid.reserved, prepaid.period_spent, prepaid.balance) == (0, 4_375, 95_625)
    assert prepaid.period_start > old
    assert (postpaid.reserved, postpaid.period_spent, postpaid.balance) == (2_000, 4_375, 100_000)


def test_the_sync_leaves_a_campaign_send_in_flight_to_the_campaign(live_tenant, elks) -> None:
    """A worker died after 46elks accepted the send: the sync imports it before the campaign
    settles it from the history, and must not bill it a second time."""
    campaign = _campaign(live_tenant, 1)
    campaign_launch(campaign=campaign, actor=None)
    CampaignRecipient.objects.update(status="unknown", body="Hi N0!", claimed_at=None)
    client = elks_for_tenant(live_tenant)
    client.sms_send(from_="Shop", to="+46700000000", message="Hi N0!")
    elks.wait_idle()
    history_sync(tenant=live_tenant)
    assert Message.objects.filter(source="history").count() == 1
    assert not _entries()
