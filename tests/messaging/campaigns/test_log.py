"""Campaign sends in the message log: each recipient's send is one Message, kept up to date."""

from __future__ import annotations

import csv
import importlib
import io
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.campaigns import log as campaign_log
from messaging.campaigns import services as engine
from messaging.campaigns.log import campaign_message_record, campaign_messages_backfill
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.services import campaign_launch, campaign_run, reconcile_unknown
from messaging.contacts.models import Contact, ContactList
from messaging.models import Message, OptOut
from messaging.services import optout_record
from messaging.sync import history_sync
from providers.elks.errors import ElksError
from providers.services import webhooks_drain
from tests.conftest import World, client_for
from tests.factories import approved_sender

MIGRATION = "0009_campaign_messages_in_log"


def _contacts(tenant, n: int) -> ContactList:
    contact_list, _ = ContactList.objects.get_or_create(tenant=tenant, name="Customers")
    Contact.objects.bulk_create(
        [Contact(tenant=tenant, phone=f"+4670{i:07d}", name=f"Name{i} Surname") for i in range(n)]
    )
    contact_list.contacts.add(*Contact.objects.filter(tenant=tenant))
    return contact_list


def _campaign(tenant, n: int, **fields) -> Campaign:
    approved_sender(tenant, "Shop")
    values = {"name": "Black friday", "sender": "Shop", "template": "Hi {first_name}!", "rate": 50}
    campaign = Campaign.objects.create(tenant=tenant, **{**values, **fields})
    campaign.lists.add(_contacts(tenant, n))
    return campaign


def _logged(**filters) -> list[Message]:
    return list(Message.objects.filter(source="campaign", **filters).order_by("other"))


def _owner(tenant) -> Client:
    return client_for(tenant.memberships.get().user)


@pytest.fixture
def tenant(live_tenant, settings):
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    settings.CAMPAIGN_CLAIM_BATCH = 10
    return live_tenant


def test_every_campaign_send_is_one_message_in_the_log(tenant, elks) -> None:
    campaign = _campaign(tenant, 5, created_by=tenant.memberships.get().user)
    campaign_launch(campaign=campaign, actor=None)
    optout_record(tenant=tenant, phone="+46700000004", kind=OptOut.Kind.OUT)  # skipped
    campaign_run(campaign_id=campaign.pk)

    recipients = {r.phone: r for r in CampaignRecipient.objects.all()}
    logged = _logged()
    assert [m.other for m in logged] == [f"+4670000000{i}" for i in range(4)]
    for message in logged:
        recipient = recipients[message.other]
        assert message.campaign_recipient_id == recipient.pk
        assert (message.direction, message.kind, message.status) == ("out", "sms", "sent")
        assert message.ours == "Shop" and message.body == recipient.body
        assert message.elks_id == recipient.elks_id and message.cost == recipient.cost == 3500
        assert message.parts == 1 and message.sent_at == recipient.sent_at
        assert message.sender == campaign.created_by and message.conversation is None
    assert recipients["+46700000004"].status == "skipped"

    # Recorded again (a retried hook, the backfill): still one Message per recipient.
    for recipient in recipients.values():
        campaign_message_record(recipient_id=recipient.pk)
    assert campaign_messages_backfill(campaign=campaign) == 0
    assert len(_logged()) == 4


def test_a_failed_send_and_an_unknown_one_are_logged_and_settle(tenant, elks, settings) -> None:
    settings.ELKS_TIMEOUT = 0.4
    campaign = _campaign(tenant, 3)
    campaign_launch(campaign=campaign, actor=None)
    real = engine.elks_for_tenant

    def refusing_one(t):
        client = real(t)
        send = client.sms_send

        def sms_send(**kwargs):
            if kwargs["to"] == "+46700000002":
                raise ElksError("Invalid to number", status=400, retryable=False)
            return send(**kwargs)

        client.sms_send = sms_send
        return client

    elks.set_chaos(
        rate=1, mode="timeout", timeout_sleep=1, paths=["sms"], methods=["POST"], count=1
    )
    with mock.patch.object(engine, "elks_for_tenant", refusing_one):
        campaign_run(campaign_id=campaign.pk)
    elks.clear_chaos()
    by_phone = {m.other: m for m in _logged()}
    assert by_phone["+46700000000"].status == "unknown" and not by_phone["+46700000000"].elks_id
    failed = by_phone["+46700000002"]
    assert failed.status == "failed" and failed.error == "Invalid to number" and failed.failed_at

    assert reconcile_unknown(campaign=campaign) == 1  # found in 46elks' history: sent
    settled = Message.objects.get(pk=by_phone["+46700000000"].pk)
    assert settled.status == "sent" and settled.elks_id
    assert settled.elks_id == CampaignRecipient.objects.get(phone="+46700000000").elks_id
    assert len(_logged()) == 3


def _report(campaign: Campaign, elks_id: str, status: str) -> None:
    Client().post(
        f"/hooks/elks/cdlr/{campaign.callback_token}/",
        {"id": elks_id, "status": status, "delivered": "2026-11-28T10:00:00"},
    )
    with scopes_disabled():
        webhooks_drain()


def test_delivery_reports_move_the_recipient_and_its_message(tenant, elks) -> None:
    campaign = _campaign(tenant, 2)
    campaign_launch(campaign=campaign, actor=None)
    campaign_run(campaign_id=campaign.pk)
    first, second = CampaignRecipient.objects.order_by("phone")
    _report(campaign, first.elks_id, "delivered")
    _report(campaign, second.elks_id, "failed")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("delivered", "failed")
    delivered, failed = _logged()
    assert delivered.status == "delivered" and delivered.delivered_at == first.delivered_at
    assert failed.status == "failed" and failed.failed_at and failed.error == "Not delivered"

    # A late record that read the recipient before its report cannot move the Message back.
    stale = CampaignRecipient.objects.select_related("campaign").get(pk=first.pk)
    stale.status = "sent"
    campaign_log._record(stale, existing_first=False)
    delivered.refresh_from_db()
    assert delivered.status == "delivered"


def test_the_history_sync_finds_campaign_sends_already_logged(tenant, elks) -> None:
    campaign = _campaign(tenant, 3)
    campaign_launch(campaign=campaign, actor=None)
    campaign_run(campaign_id=campaign.pk)
    created, _ = history_sync(tenant=tenant)
    assert created == 0
    assert Message.objects.count() == 3 and len(_logged()) == 3


def test_a_send_the_history_sync_imported_first_becomes_the_campaigns(tenant) -> None:
    campaign = _campaign(tenant, 1, status=Campaign.Status.RUNNING)
    twin = Message.objects.create(
        tenant=tenant,
        direction="out",
        status="delivered",
        source="history",
        ours="Shop",
        other="+46700000000",
        body="Hi Name0!",
        elks_id="s-1",
    )
    recipient = CampaignRecipient.objects.create(
        tenant=tenant,
        campaign=campaign,
        phone="+46700000000",
        status="sent",
        body="Hi Name0!",
        elks_id="s-1",
        sent_at=timezone.now(),
    )
    logged = campaign_message_record(recipient_id=recipient.pk)
    assert logged is not None and logged.pk == twin.pk
    [only] = Message.objects.all()
    assert only.source == "campaign" and only.campaign_recipient_id == recipient.pk
    assert only.status == "delivered"  # not moved back by the recipient's `sent`


def test_a_worker_dying_between_send_and_log_is_caught_at_completion(tenant, elks) -> None:
    campaign = _campaign(tenant, 4)
    campaign_launch(campaign=campaign, actor=None)
    real = engine.campaign_message_record

    def lost(**kwargs):
        if kwargs.get("recipient_id") == CampaignRecipient.objects.order_by("pk")[1].pk:
            return None  # as if the worker died right after storing 46elks' answer
        return real(**kwargs)

    with mock.patch.object(engine, "campaign_message_record", lost):
        campaign_run(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == "completed"
    assert len(_logged()) == 4


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_records_make_one_message(world: World) -> None:
    tenant = world.tenant_a
    with scope(tenant=tenant.pk):
        campaign = _campaign(tenant, 1, status=Campaign.Status.RUNNING)
        recipient = CampaignRecipient.objects.create(
            tenant=tenant, campaign=campaign, phone="+46700000000", status="sent", body="Hi"
        )
    barrier = threading.Barrier(4)

    def record() -> None:
        try:
            with scope(tenant=tenant.pk):
                barrier.wait()
                campaign_message_record(recipient_id=recipient.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with scopes_disabled():
        assert Message.objects.filter(campaign_recipient=recipient).count() == 1


def test_the_migration_logs_sends_made_before(world: World) -> None:
    tenant = world.tenant_a
    with scopes_disabled():
        campaign = _campaign(
            tenant, 0, status=Campaign.Status.COMPLETED, launched_at=timezone.now()
        )
        made = {}
        for i, status in enumerate(
            ["sent", "delivered", "failed", "unknown", "skipped", "pending"]
        ):
            made[status] = CampaignRecipient.objects.create(
                tenant=tenant,
                campaign=campaign,
                phone=f"+4670000000{i}",
                status=status,
                body="Hi there",
                elks_id=f"s-{i}" if status in ("sent", "delivered") else None,
                cost=3500 if status in ("sent", "delivered") else None,
                claimed_at=timezone.now() - timedelta(days=3),
            )
        # 46elks' history sync had imported one of them.
        twin = Message.objects.create(
            tenant=tenant, direction="out", status="delivered", source="history", ours="Shop",
            other="+46700000001", body="Hi there", elks_id="s-1",
        )  # fmt: skip
    migration = importlib.import_module(f"messaging.migrations.{MIGRATION}")
    state = MigrationExecutor(connection).loader.project_state(("messaging", MIGRATION))
    migration.log_past_campaign_sends(state.apps, None)
    migration.log_past_campaign_sends(state.apps, None)  # run twice: nothing more

    with scopes_disabled():
        logged = {m.campaign_recipient_id: m for m in Message.objects.filter(source="campaign")}
        assert set(logged) == {made[s].pk for s in ("sent", "delivered", "failed", "unknown")}
        assert logged[made["delivered"].pk].pk == twin.pk
        sent = logged[made["sent"].pk]
        assert (sent.status, sent.elks_id, sent.cost, sent.parts) == ("sent", "s-0", 3500, 1)
        assert sent.created == made["sent"].claimed_at and sent.ours == "Shop"
        assert logged[made["failed"].pk].failed_at
        assert Message.objects.count() == 4


# --- the log page and its export ----------------------------------------------------------------


def test_the_log_filters_by_source_and_names_the_campaign(tenant, elks) -> None:
    campaign = _campaign(tenant, 2)
    campaign_launch(campaign=campaign, actor=None)
    campaign_run(campaign_id=campaign.pk)
    for source, body in [("dashboard", "by-hand"), ("autoreply", "by-auto"), ("api", "by-api")]:
        Message.objects.create(
            tenant=tenant, direction="out", status="sent", source=source, ours="Shop",
            other="+46700000009", body=body,
        )  # fmt: skip
    Message.objects.create(
        tenant=tenant, direction="in", status="received", source="inbound", ours="+4676",
        other="+46700000009", body="by-inbound",
    )  # fmt: skip
    client = _owner(tenant)
    base = f"/t/{tenant.slug}/messages/log/"

    def shown(source: str) -> str:
        return client.get(base, {"source": source}).content.decode()

    everything = client.get(base).content.decode()
    assert "Hi Name0!" in everything and "by-hand" in everything and "by-inbound" in everything
    assert f'href="/t/{tenant.slug}/campaigns/{campaign.pk}/">Black friday</a>' in everything
    campaign_only = shown("campaign")
    assert campaign_only.count("Hi Name") == 2 and "by-" not in campaign_only
    for source, body in [
        ("manual", "by-hand"),
        ("automatic", "by-auto"),
        ("api", "by-api"),
        ("inbound", "by-inbound"),
    ]:
        page = shown(source)
        assert body in page and page.count("by-") == 1 and "Hi Name" not in page
    assert "by-hand" in shown("nonsense")  # an unknown source is ignored
    assert f'href="{base}export.csv?source=campaign"' in campaign_only

    export = client.get(f"{base}export.csv", {"source": "campaign"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [(r["other"], r["body"], r["source"], r["campaign"]) for r in rows] == [
        ("+46700000001", "Hi Name1!", "campaign", "Black friday"),
        ("+46700000000", "Hi Name0!", "campaign", "Black friday"),
    ]
    assert all(r["elks_id"] and r["price"] == "4375" for r in rows)  # the tenant's price


def test_the_log_with_campaign_messages_keeps_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries
) -> None:
    tenant = world.tenant_a
    client = client_for(world.owner_a)
    with scopes_disabled():
        Message.objects.create(
            tenant=tenant, direction="out", status="sent", ours="Shop", other="+4670", body="x"
        )
    with CaptureQueriesContext(connection) as small:
        client.get("/t/acme/messages/log/")
    with scopes_disabled():
        for c in range(3):
            campaign = _campaign(tenant, 0, name=f"Campaign {c}", status="completed")
            for i in range(20):
                recipient = CampaignRecipient.objects.create(
                    tenant=tenant,
                    campaign=campaign,
                    phone=f"+467{c}{i:07d}",
                    status="sent",
                    body=f"c{c} r{i}",
                )
                with scope(tenant=tenant.pk):
                    campaign_message_record(recipient_id=recipient.pk)
    with django_assert_max_num_queries(len(small)):
        html = client.get("/t/acme/messages/log/").content.decode()
    assert html.count("Campaign 2</a>") == 20 and html.count("Campaign 0</a>") == 10


def test_a_database_error_in_the_log_never_stops_a_send_or_a_report(tenant, elks) -> None:
    def failing(*args, **kwargs):
        with connection.cursor() as cursor:  # a real error: PostgreSQL aborts the transaction
            cursor.execute("SELECT * FROM no_such_table")

    campaign = _campaign(tenant, 3)
    campaign_launch(campaign=campaign, actor=None)
    broken = mock.patch.object(campaign_log, "_record", failing)
    with broken:
        campaign_run(campaign_id=campaign.pk)
    assert set(CampaignRecipient.objects.values_list("status", flat=True)) == {"sent"}
    assert _logged() == [] and Campaign.objects.get(pk=campaign.pk).status == "completed"
    first = CampaignRecipient.objects.order_by("phone").first()
    with broken:  # the report handler's transaction stays usable: the recipient moves
        _report(campaign, first.elks_id, "delivered")
    first.refresh_from_db()
    assert first.status == "delivered"
    assert campaign_messages_backfill(campaign=campaign) == 3  # what was missed, caught up
    assert [m.status for m in _logged()] == ["delivered", "sent", "sent"]
