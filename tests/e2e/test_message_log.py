"""After a send to several people the log's statuses move live; campaign sends are in it."""

from __future__ import annotations

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from messaging.campaigns.models import Campaign
from messaging.campaigns.services import campaign_launch, campaign_run
from messaging.contacts.models import Contact, ContactList
from tests.e2e.conftest import number_rent_se, screenshot, shop_create, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-owner-pass-phrase"


def test_the_log_after_a_send_updates_live_and_shows_campaign_sends(
    page, live_server, elks, settings
) -> None:
    base = live_server.url
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PUBLIC_BASE_URL = base  # 46elks posts the delivery reports to the live server
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    elks.configure(event_delay=1.5)  # slow enough reports that the page shows each step
    shop = shop_create()
    owner, tenant = shop.owner, shop.tenant
    number = number_rent_se(shop)
    with scope(tenant=tenant.pk):
        customers = ContactList.objects.create(tenant=tenant, name="Customers")
        for i, name in enumerate(["Ada Lovelace", "Alan Turing"]):
            customers.contacts.add(
                Contact.objects.create(tenant=tenant, phone=f"+4670000010{i}", name=name)
            )
        campaign = Campaign.objects.create(
            tenant=tenant,
            name="Winter tyres",
            sender=number.number,
            template="Hi {first_name}, winter tyres are in.",
            created_by=owner,
        )
        campaign.lists.add(customers)
        campaign_launch(campaign=campaign, actor=owner)
        campaign_run(campaign_id=campaign.pk)

    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, base, "owner@taxinord.example", PASSWORD)
    page.goto(f"{base}/t/{tenant.slug}/messages/new/")
    page.locator("#id_sender").select_option(number.number)
    page.locator("#id_recipients").fill("070-000 00 01, 070-000 00 02, 070-000 00 03")
    page.locator("#id_message").fill("Your car is on its way.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("3 messages queued for sending.")).to_be_visible()
    expect(page.get_by_text("Showing the messages of one send.")).to_be_visible()

    statuses = page.locator("#results [data-status]")
    expect(statuses).to_have_count(3)
    for i in range(3):  # without a reload, each row reaches its final status
        expect(statuses.nth(i)).to_have_text("Delivered", timeout=15_000)
    expect(page.locator("#results")).not_to_have_attribute("hx-trigger", "every 3s")
    expect(page.locator("#results [aria-busy]")).to_have_count(0)

    page.get_by_role("link", name="Show all").click()
    log = page.locator("#results")
    expect(log).to_contain_text("Hi Ada, winter tyres are in.")
    expect(log).to_contain_text("Winter tyres")  # the campaign, linked
    page.locator("select[name=source]").select_option("campaign")
    expect(log.locator("[data-status]")).to_have_count(2)
    expect(log).not_to_contain_text("Your car is on its way.")
    page.locator("select[name=source]").select_option("")
    expect(log.locator("[data-status]")).to_have_count(5)
    screenshot(page, "message-log-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "message-log-390")
