"""Sender-name governance: only the tenant's numbers and names staff approved can be senders;
bank, government and carrier names are refused when requested; every decision is audited."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django_scopes import scope, scopes_disabled

from accounts.models import AuditEvent
from messaging.campaigns.models import Campaign
from messaging.campaigns.services import CampaignError, campaign_launch
from messaging.contacts.models import Contact, ContactList
from messaging.models import Message
from messaging.senders.models import DeniedSenderName, SenderName
from messaging.senders.rules import deny_matches, fold
from messaging.senders.services import (
    SenderNameError,
    deny_add,
    sender_name_approve,
    sender_name_reject,
    sender_name_request,
    sender_name_revoke,
)
from messaging.services import SendError, sms_queue
from tests.conftest import World, client_for
from tests.factories import approved_sender

pytestmark = pytest.mark.django_db

Status = SenderName.Status


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def _request(world: World, name: str, purpose: str = "Receipts") -> SenderName:
    with scope(tenant=world.tenant_a.pk):
        return sender_name_request(
            tenant=world.tenant_a, name=name, purpose=purpose, actor=world.owner_a
        )


# --- the deny list --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Swedbank",
        "SWEDBANK",
        "SwedbankInfo",
        "MySwedbank",
        "Swedb4nk",  # a look-alike digit
        "N0rdea",
        "Skatteverket",
        "BankID",
        "Klarna",
        "PostNord",
        "Telia",
        "Tele2",
        "Tre",
        "SEB",
        "Polisen",
        "Kronofogden",
        "PayPalHelp",
        "AppleID",
        "DHLExpress",
        "Police",
        "Gov",
    ],
)
def test_seeded_deny_list_refuses_bank_government_and_carrier_names(
    world: World, name: str
) -> None:
    with pytest.raises(SenderNameError, match="cannot be used as a sender name"):
        _request(world, name)
    with scopes_disabled():
        assert not SenderName.objects.exists()
    refused = AuditEvent.objects.get(action=AuditEvent.Action.SENDER_REFUSED)
    assert refused.tenant == world.tenant_a and refused.detail["name"] == name


@pytest.mark.parametrize("name", ["Trevlig", "Sebastian", "Taxi", "AcmeTaxi", "Centre"])
def test_short_exact_terms_do_not_refuse_ordinary_words(world: World, name: str) -> None:
    assert _request(world, name).status == Status.PENDING


def test_folding_ignores_case_accents_punctuation_and_look_alikes() -> None:
    assert fold("Försäkrings-Kassan") == fold("forsakringskassan")
    assert deny_matches("Danskeb4nk", "Danske Bank", exact=False)
    assert deny_matches("TRE", "Tre", exact=True)
    assert not deny_matches("Trevlig", "Tre", exact=True)


def test_a_name_in_46elks_format_only(world: World) -> None:
    for bad in ("ab", "1Taxi", "Taxi Nord", "TwelveCharsX1", "Café"):
        with pytest.raises(SenderNameError, match="not a valid sender name"):
            _request(world, bad)


# --- request, decide, send ------------------------------------------------------------------


def test_only_approved_names_and_own_numbers_can_send(world: World) -> None:
    sender = _request(world, "AcmeTaxi")
    with (
        scope(tenant=world.tenant_a.pk),
        pytest.raises(SendError, match="not an approved sender name"),
    ):
        sms_queue(
            tenant=world.tenant_a,
            sender="AcmeTaxi",
            recipients=["+46700000001"],
            body="Hi",
            request_key=uuid.uuid4(),
            actor=world.owner_a,
        )
    sender_name_approve(sender=sender, actor=world.staff)
    with scope(tenant=world.tenant_a.pk):
        [message] = sms_queue(
            tenant=world.tenant_a,
            sender="acmetaxi",  # any case: sent with the approved spelling
            recipients=["+46700000001"],
            body="Hi",
            request_key=uuid.uuid4(),
            actor=world.owner_a,
        )
    assert message.ours == "AcmeTaxi"
    # Another tenant cannot use it.
    with scope(tenant=world.tenant_b.pk), pytest.raises(SendError):
        sms_queue(
            tenant=world.tenant_b,
            sender="AcmeTaxi",
            recipients=["+46700000001"],
            body="Hi",
            request_key=uuid.uuid4(),
            actor=world.owner_b,
        )
    assert _actions() == [
        AuditEvent.Action.SENDER_REQUESTED,
        AuditEvent.Action.SENDER_APPROVED,
    ]


def test_a_campaign_cannot_launch_from_an_unapproved_name(world: World) -> None:
    with scope(tenant=world.tenant_a.pk):
        contact = Contact.objects.create(tenant=world.tenant_a, phone="+46700000001", name="A")
        customers = ContactList.objects.create(tenant=world.tenant_a, name="Customers")
        customers.contacts.add(contact)
        campaign = Campaign.objects.create(
            tenant=world.tenant_a, name="Sale", sender="Swedbank", template="Hi"
        )
        campaign.lists.add(customers)
        with pytest.raises(CampaignError, match="not an approved sender name"):
            campaign_launch(campaign=campaign, actor=world.owner_a)
        campaign.refresh_from_db()
        assert campaign.status == Campaign.Status.DRAFT


def test_reject_needs_a_reason_and_the_tenant_sees_it(world: World) -> None:
    sender = _request(world, "BestDeals")
    with pytest.raises(SenderNameError, match="Give a reason"):
        sender_name_reject(sender=sender, reason=" ", actor=world.staff)
    sender_name_reject(sender=sender, reason="Not your brand name", actor=world.staff)
    assert sender.status == Status.REJECTED and sender.decided_by == world.staff
    with pytest.raises(SenderNameError, match="nothing changed"):
        sender_name_approve(sender=sender, actor=world.staff)  # decided once
    page = client_for(world.owner_a).get("/t/acme/messages/senders/").content.decode()
    assert "Not your brand name" in page
    event = AuditEvent.objects.get(action=AuditEvent.Action.SENDER_REJECTED)
    assert event.actor == world.staff and event.detail["reason"] == "Not your brand name"


def test_revoking_pauses_campaigns_sending_from_the_name(world: World) -> None:
    approved_sender(world.tenant_a, "AcmeTaxi")
    with scope(tenant=world.tenant_a.pk):
        campaign = Campaign.objects.create(
            tenant=world.tenant_a,
            name="Sale",
            sender="AcmeTaxi",
            template="Hi",
            status=Campaign.Status.RUNNING,
        )
    with scopes_disabled():
        sender = SenderName.objects.get(name="AcmeTaxi")
    assert sender_name_revoke(sender=sender, reason="Complaints", actor=world.staff) == 1
    with scopes_disabled():
        campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED and "Complaints" in campaign.pause_reason
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SENDER_REVOKED).exists()


def test_a_name_is_requested_once_while_open(world: World) -> None:
    _request(world, "AcmeTaxi")
    with pytest.raises(SenderNameError, match="already waiting"):
        _request(world, "ACMETAXI")


# --- pages ----------------------------------------------------------------------------------


def test_owner_requests_on_the_page_and_members_only_read(world: World) -> None:
    owner, member = client_for(world.owner_a), client_for(world.member_a)
    assert "Request a sender name" in member.get("/t/acme/messages/senders/").content.decode()
    assert member.post("/t/acme/messages/senders/request/", {"name": "Acme"}).status_code == 403
    response = owner.post(
        "/t/acme/messages/senders/request/", {"name": "AcmeTaxi", "purpose": "Pick-up notices"}
    )
    assert response.status_code == 302
    response = owner.post("/t/acme/messages/senders/request/", {"name": "SwedbankInfo"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "cannot be used as a sender name" in page and "like “Swedbank”" in page
    with scopes_disabled():
        assert list(SenderName.objects.values_list("name", "status")) == [("AcmeTaxi", "pending")]


def test_another_tenants_request_cannot_be_withdrawn(world: World) -> None:
    with scope(tenant=world.tenant_b.pk):
        theirs = sender_name_request(tenant=world.tenant_b, name="Bravo", actor=world.owner_b)
    owner = client_for(world.owner_a)
    assert owner.post(f"/t/acme/messages/senders/{theirs.pk}/withdraw/").status_code == 404
    assert owner.post(f"/t/bravo/messages/senders/{theirs.pk}/withdraw/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.PENDING
    ours = _request(world, "AcmeTaxi")
    assert owner.post(f"/t/acme/messages/senders/{ours.pk}/withdraw/").status_code == 302
    ours.refresh_from_db()
    assert ours.status == Status.WITHDRAWN


def test_compose_offers_only_numbers_and_approved_names(world: World) -> None:
    approved_sender(world.tenant_a, "AcmeTaxi")
    _request(world, "PendingNm")
    approved_sender(world.tenant_b, "BravoCab")
    page = client_for(world.owner_a).get("/t/acme/messages/new/").content.decode()
    assert '<option value="AcmeTaxi">' in page
    assert "PendingNm" not in page and "BravoCab" not in page
    assert 'name="sender_id"' not in page  # no free-text sender any more
    campaign_page = client_for(world.owner_a).get("/t/acme/campaigns/new/").content.decode()
    assert '<option value="AcmeTaxi">' in campaign_page and "PendingNm" not in campaign_page


def test_staff_page_lists_pending_first_and_decides(world: World) -> None:
    first = _request(world, "OldestReq")
    with scope(tenant=world.tenant_b.pk):
        sender_name_request(tenant=world.tenant_b, name="Bravo", actor=world.owner_b)
    done = _request(world, "DoneAlready")
    sender_name_reject(sender=done, reason="No", actor=world.staff)
    staff = client_for(world.staff)
    page = staff.get("/staff/senders/").content.decode()
    assert page.index("OldestReq") < page.index("Bravo") < page.index("DoneAlready")
    assert client_for(world.owner_a).get("/staff/senders/").status_code == 404
    assert staff.post(f"/staff/senders/{first.pk}/approve/").status_code == 302
    first.refresh_from_db()
    assert first.status == Status.APPROVED and first.decided_by == world.staff
    response = staff.post(f"/staff/senders/{first.pk}/revoke/", {"reason": "Abuse"}, follow=True)
    assert "is revoked" in response.content.decode()
    assert client_for(world.owner_a).post(f"/staff/senders/{first.pk}/approve/").status_code == 404


def test_staff_edit_the_deny_list_in_the_console_and_admin(world: World) -> None:
    staff = client_for(world.staff)
    assert "Swedbank" in staff.get("/staff/senders/").content.decode()  # the seeded list
    response = staff.post("/staff/senders/deny/", {"term": "Acme Bank Co", "note": "lookalike"})
    assert response.status_code == 302
    entry = DeniedSenderName.objects.get(term="Acme Bank Co")
    assert staff.post("/staff/senders/deny/", {"term": "acme bank co"}).status_code == 400
    assert staff.post(f"/staff/senders/deny/{entry.pk}/delete/").status_code == 302
    assert not DeniedSenderName.objects.filter(term="Acme Bank Co").exists()
    # Django admin: saving and deleting are audited too.
    admin = site._registry[DeniedSenderName]
    request = RequestFactory().post("/admin/")
    request.user = world.staff
    added = DeniedSenderName(term="Vinted")
    admin.save_model(request, added, form=None, change=False)
    admin.delete_model(request, added)
    assert [a for a in _actions() if a.startswith("sender_deny")] == [
        AuditEvent.Action.DENY_ADDED,
        AuditEvent.Action.DENY_REMOVED,
        AuditEvent.Action.DENY_ADDED,
        AuditEvent.Action.DENY_REMOVED,
    ]
    with pytest.raises(SenderNameError):
        deny_add(term="Swedbank", actor=world.staff)
    # A request that passed before a term was added cannot be approved after.
    pending = _request(world, "Vinted2")
    deny_add(term="Vinted", actor=world.staff)
    with pytest.raises(SenderNameError, match="deny-list entry"):
        sender_name_approve(sender=pending, actor=world.staff)


def test_thread_reply_from_an_approved_name_still_works(world: World) -> None:
    approved_sender(world.tenant_a, "AcmeTaxi")
    response = client_for(world.owner_a).post(
        "/t/acme/messages/new/",
        {
            "kind": "sms",
            "sender": "AcmeTaxi",
            "recipients": "+46700000001",
            "message": "Reply",
            "request_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert Message.objects.get().ours == "AcmeTaxi"
