"""Limits and confirmations: the parts cap (default 6, staff may raise it), the confirmation
above 3 parts, unknown placeholders refused, and a campaign estimate equal to what the
sandbox then charges."""

from __future__ import annotations

import uuid

import pytest
from django_scopes import scope, scopes_disabled

from accounts.models import AuditEvent
from billing.plans.pricing import with_markup
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.selectors import campaign_summary
from messaging.campaigns.services import (
    CampaignError,
    campaign_launch,
    campaign_run,
    template_check,
)
from messaging.contacts.models import Contact, ContactList
from messaging.models import Message, MessagingSettings
from messaging.services import SendError, settings_for, sms_queue
from messaging.text import sms_size
from numbers.models import PhoneNumber
from providers.clients import elks_for_tenant
from tests.conftest import World, client_for
from tests.factories import approved_sender

pytestmark = pytest.mark.django_db

OURS = "+46766861475"
# 153 GSM-7 characters per part once split.
FOUR_PARTS = "x" * (153 * 3 + 1)
SEVEN_PARTS = "x" * (153 * 6 + 1)


def _number(tenant) -> PhoneNumber:
    with scopes_disabled():
        return PhoneNumber.objects.create(
            tenant=tenant,
            provider_id=f"n-{tenant.pk}",
            number=OURS,
            country="se",
            has_sms=True,
            status=PhoneNumber.Status.ACTIVE,
        )


def _queue(tenant, body: str) -> list[Message]:
    with scope(tenant=tenant.pk):
        return sms_queue(
            tenant=tenant,
            sender=OURS,
            recipients=["+46700000001"],
            body=body,
            request_key=uuid.uuid4(),
            actor=None,
        )


# --- the parts cap --------------------------------------------------------------------------


def test_a_10000_character_sms_is_refused_by_the_service(world: World) -> None:
    _number(world.tenant_a)
    assert sms_size("x" * 10_000).parts == 66
    with pytest.raises(SendError, match="66 SMS parts long; this account sends at most 6"):
        _queue(world.tenant_a, "x" * 10_000)
    with pytest.raises(SendError, match="at most 6"):
        _queue(world.tenant_a, SEVEN_PARTS)
    assert _queue(world.tenant_a, "x" * 153 * 6)[0].parts == 6  # exactly the cap is fine
    with scope(tenant=world.tenant_a.pk):
        MessagingSettings.objects.filter(tenant=world.tenant_a).update(max_sms_parts=10)
    assert _queue(world.tenant_a, SEVEN_PARTS)[0].parts == 7  # staff raised it


def _compose(client, **fields):
    data = {
        "kind": "sms",
        "sender": OURS,
        "recipients": "+46700000001, +46700000002",
        "request_key": str(uuid.uuid4()),
        **fields,
    }
    return client.post("/t/acme/messages/new/", data)


def test_compose_needs_a_confirmation_above_three_parts(world: World) -> None:
    _number(world.tenant_a)
    client = client_for(world.owner_a)
    response = _compose(client, message=FOUR_PARTS)
    assert response.status_code == 400
    page = response.content.decode()
    assert "sent as 4 SMS parts to each recipient" in page
    assert 'name="confirm_long"' in page and "Yes, send 4 SMS parts" in page
    # 4 parts x 2 recipients x the tenant's 0.4375 (46elks' 0.35 + 25%), before sending.
    assert "3.50 SEK" in page
    with scopes_disabled():
        assert not Message.objects.exists()
    assert _compose(client, message=FOUR_PARTS, confirm_long="on").status_code == 302
    with scopes_disabled():
        assert Message.objects.count() == 2
    # Three parts need no confirmation.
    assert _compose(client, message="y" * 153 * 3).status_code == 302


def test_compose_refuses_over_the_cap_even_when_confirmed(world: World) -> None:
    _number(world.tenant_a)
    response = _compose(client_for(world.owner_a), message=SEVEN_PARTS, confirm_long="on")
    assert response.status_code == 400
    assert "at most 6 parts per message" in response.content.decode()
    with scopes_disabled():
        assert not Message.objects.exists()


def test_the_live_counter_shows_the_estimate_the_cap_and_the_confirmation(world: World) -> None:
    client = client_for(world.owner_a)
    url = "/t/acme/messages/new/counter/"
    short = client.get(url, {"message": "Hej", "recipients": "070-000 00 01, +4791234567"})
    page = short.content.decode()
    # Priced per destination at the tenant's plan (46elks' cost + 25%): 0.4375 SEK to Sweden
    # + 0.5875 SEK to Norway.
    assert 'data-counter="price">1.03 SEK' in page
    assert 'id="long-confirm" hx-swap-oob="true"' in page and "Yes, send" not in page
    long = client.get(url, {"message": FOUR_PARTS, "recipients": "+46700000001"}).content.decode()
    assert "Yes, send 4 SMS parts" in long and "you are asked to confirm" in long
    ticked = client.get(
        url, {"message": FOUR_PARTS, "recipients": "+46700000001", "confirm_long": "on"}
    ).content.decode()
    assert 'id="id_confirm_long" checked' in ticked
    over = client.get(url, {"message": SEVEN_PARTS, "recipients": "+46700000001"})
    assert "Too long: this account sends at most 6 parts" in over.content.decode()


def test_only_staff_raise_the_parts_limit_and_it_is_audited(world: World) -> None:
    form = {
        "default_country": "SE",
        "stop_words": "STOP",
        "start_words": "START",
        "retention_days": "",
        "max_sms_parts": "20",
    }
    assert client_for(world.owner_a).post("/t/acme/messages/settings/", form).status_code == 302
    with scope(tenant=world.tenant_a.pk):
        assert settings_for(world.tenant_a).max_sms_parts == 6  # the owner cannot lift it
    staff = client_for(world.staff)
    assert staff.post("/t/acme/messages/settings/", form).status_code == 302
    with scope(tenant=world.tenant_a.pk):
        assert settings_for(world.tenant_a).max_sms_parts == 20
    event = AuditEvent.objects.get(action=AuditEvent.Action.SMS_PARTS_LIMIT_CHANGED)
    assert (event.actor, event.tenant, event.detail) == (
        world.staff,
        world.tenant_a,
        {"old": 6, "new": 20},
    )


# --- campaigns: placeholders and the cap ----------------------------------------------------


def _audience(tenant, people: list[tuple[str, str, dict]]) -> ContactList:
    customers = ContactList.objects.create(tenant=tenant, name="Customers")
    for phone, name, fields in people:
        customers.contacts.add(
            Contact.objects.create(tenant=tenant, phone=phone, name=name, fields=fields)
        )
    return customers


def test_unknown_placeholders_are_refused_listing_the_known_fields(world: World) -> None:
    with scope(tenant=world.tenant_a.pk):
        _audience(world.tenant_a, [("+46700000001", "Ann Berg", {"city": "Umeå"})])
        with pytest.raises(CampaignError) as refused:
            template_check(tenant=world.tenant_a, template="Hi {first_name}, {foo} in {city}")
        message = str(refused.value)
        assert "Unknown placeholder {foo}" in message
        assert "{first_name}, {last_name}, {name}, {phone}, {city}" in message
        with pytest.raises(CampaignError, match=r"\{first name\} is not a placeholder"):
            template_check(tenant=world.tenant_a, template="Hi {first name}")
        template_check(tenant=world.tenant_a, template="Hi {first_name|there} in {city}")
    # Another tenant's custom fields are not this tenant's.
    with scope(tenant=world.tenant_b.pk), pytest.raises(CampaignError, match=r"\{city\}"):
        template_check(tenant=world.tenant_b, template="In {city}")
    # The campaign form says the same, with the known fields.
    approved_sender(world.tenant_a, "Shop")
    with scopes_disabled():
        customers = ContactList.objects.get(tenant=world.tenant_a)
    response = client_for(world.owner_a).post(
        "/t/acme/campaigns/new/",
        {
            "name": "Sale",
            "sender": "Shop",
            "lists": [customers.pk],
            "template": "Hi {foo}",
            "time_zone": "Europe/Stockholm",
            "quiet_zone": "tenant",
            "rate": "10",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Unknown placeholder {foo}" in page and "{city}" in page


def test_a_campaign_whose_rendered_text_exceeds_the_cap_is_refused_at_launch(
    world: World,
) -> None:
    approved_sender(world.tenant_a, "Shop")
    with scope(tenant=world.tenant_a.pk):
        customers = _audience(
            world.tenant_a,
            [
                ("+46700000001", "Ann", {"note": "short"}),
                ("+46700000002", "Bo", {"note": "z" * 1000}),  # renders to 7 parts
            ],
        )
        campaign = Campaign.objects.create(
            tenant=world.tenant_a, name="Sale", sender="Shop", template="Hi {note}"
        )
        campaign.lists.add(customers)
        with pytest.raises(CampaignError, match=r"\+46700000002 is 7 SMS parts.*at most 6"):
            campaign_launch(campaign=campaign, actor=world.owner_a)
        campaign.refresh_from_db()
        assert campaign.status == Campaign.Status.DRAFT
        assert not CampaignRecipient.objects.exists()


# --- the estimate is what the sandbox charges -----------------------------------------------


def test_campaign_estimate_equals_what_the_sandbox_charges(live_tenant, elks, settings) -> None:
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    tenant = live_tenant
    approved_sender(tenant, "Shop")
    with scope(tenant=tenant.pk):
        MessagingSettings.objects.update_or_create(tenant=tenant, defaults={"max_sms_parts": 10})
    customers = _audience(
        tenant,
        [
            ("+46700000001", "Ann Berg", {"note": "See you!"}),  # 1 part, GSM-7
            ("+46700000002", "Bo Ek", {"note": "€" * 100}),  # 2 parts: € takes two septets
            ("+46700000003", "Çan Ünal", {"note": "Vi ses 😀"}),  # UCS-2 from the emoji
            ("+46700000004", "Dag Lind", {"note": "ø" * 400}),  # 3 parts, GSM-7
            ("+4791234567", "Eva Moe", {"note": "Ha det 🙂 " * 10}),  # Norway, UCS-2, 2 parts
            ("+358401234567", "Fia Holm", {}),  # Finland, the fallback text
        ],
    )
    campaign = Campaign.objects.create(
        tenant=tenant,
        name="Mixed",
        sender="Shop",
        template="Hi {first_name}! {note|Welcome to our shop, we hope to see you soon.}",
        rate=50,
    )
    campaign.lists.add(customers)
    summary = campaign_summary(campaign=campaign)
    sizes = {
        c.phone: sms_size(
            f"Hi {c.template_values()['first_name']}! "
            f"{c.fields.get('note') or 'Welcome to our shop, we hope to see you soon.'}"
        ).parts
        for c in Contact.objects.all()
    }
    assert len(set(sizes.values())) >= 3  # the texts really differ in parts
    campaign_launch(campaign=campaign, actor=None)
    campaign_run(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    charged = {
        sms.to: sms.cost
        for sms in elks_for_tenant(tenant).sms_list()
        if sms.from_ == "Shop" and sms.cost is not None
    }
    assert len(charged) == 6
    assert summary.parts == sum(sizes.values())
    assert sum(CampaignRecipient.objects.values_list("cost", flat=True)) == sum(charged.values())
    # The estimate is the tenant's price of exactly what was charged, and what it was billed.
    priced = sum(with_markup(cost, 2500) for cost in charged.values())
    assert summary.estimated_cost == campaign.estimated_cost == priced
    assert sum(CampaignRecipient.objects.values_list("price", flat=True)) == priced
