"""An inbound SMS appears in an open inbox without a reload; the reply's status moves live."""

from __future__ import annotations

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from tests.e2e.conftest import number_rent_se, screenshot, shop_create, sign_in
from tests.factories import approved_sender

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-owner-pass-phrase"


def test_inbound_sms_arrives_live_and_the_reply_is_delivered(
    page, live_server, elks, settings
) -> None:
    base = live_server.url
    # Webhooks are processed inline (wake_processor drains on commit) in the server thread.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PUBLIC_BASE_URL = base  # before renting: 46elks posts callbacks to the live server
    # Slow enough delivery reports that the page shows each step of the status.
    elks.configure(event_delay=1.5)
    number = number_rent_se(shop_create())

    sign_in(page, base, "owner@taxinord.example", PASSWORD)
    page.get_by_role("link", name="Messages").first.click()
    expect(page.get_by_text("No messages yet")).to_be_visible()

    elks.inbound_sms(to=number.number, from_="+46700000001", message="Hej! Can I book a car?")
    inbox = page.locator("#inbox-list")
    expect(inbox).to_contain_text("Hej! Can I book a car?", timeout=15_000)  # no reload
    expect(inbox).to_contain_text("+46 70 000 00 01")
    expect(inbox.locator(".badge-unread")).to_have_text("1")
    screenshot(page, "inbox")

    inbox.get_by_role("link").first.click()
    expect(page.locator("#thread-messages")).to_contain_text("Hej! Can I book a car?")
    page.get_by_label("Reply").fill("Yes — the car is on its way.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("1 message queued for sending.")).to_be_visible()

    status = page.locator(".msg-out [data-status]").last
    expect(status).to_have_text("Accepted")  # 46elks took it; no report yet
    expect(status).to_have_text("Sent", timeout=10_000)
    expect(status).to_have_text("Delivered", timeout=10_000)
    expect(page.locator(".msg-out .meta").last).to_contain_text("delivered")
    screenshot(page, "thread")

    page.get_by_role("link", name="← Inbox").click()
    expect(page.locator("#inbox-list")).to_contain_text("You: Yes — the car is on its way.")
    expect(page.locator("#inbox-list .badge-unread")).to_have_count(0)


def test_compose_counts_characters_and_parts_while_typing(page, live_server, world) -> None:
    approved_sender(world.tenant_a, "AcmeTaxi")
    world.owner_a.set_password(PASSWORD)
    world.owner_a.save()
    sign_in(page, live_server.url, world.owner_a.email, PASSWORD)
    page.goto(f"{live_server.url}/t/acme/messages/new/")
    page.locator("#id_recipients").fill("070-000 00 01, 070-000 00 02")
    page.locator("#id_message").fill("Hej på dig")
    counter = page.locator("#counter")
    expect(counter.locator("[data-counter=encoding]")).to_have_text("GSM-7")
    expect(counter.locator("[data-counter=recipients]")).to_have_text("2")
    # The tenant's price: 2 x (0.35 + 25%).
    expect(counter.locator("[data-counter=price]")).to_have_text("0.88 SEK")
    page.locator("#id_message").fill("Hej 😀 " + "x" * 70)
    expect(counter.locator("[data-counter=encoding]")).to_have_text("UCS-2")
    expect(counter.locator("[data-counter=parts]")).to_have_text("2")
    # The image field shows only for MMS (CSS :has, no script).
    expect(page.locator("#id_image")).to_be_hidden()
    page.get_by_role("radio", name="MMS").check()
    expect(page.locator("#id_image")).to_be_visible()
    page.get_by_role("radio", name="SMS").check()
    # Senders come from one list: the tenant's numbers and its approved names only.
    expect(page.locator("#id_sender option[value=AcmeTaxi]")).to_have_count(1)
    expect(page.locator("#id_sender_id")).to_have_count(0)
    # Over three parts, a confirmation box appears in the form as the text grows.
    expect(page.locator("#id_confirm_long")).to_have_count(0)
    page.locator("#id_message").fill("x" * 500)
    expect(counter.locator("[data-counter=parts]")).to_have_text("4")
    expect(page.locator("#id_confirm_long")).to_be_visible()
    expect(page.locator("#long-confirm")).to_contain_text("Yes, send 4 SMS parts")
    page.locator("#id_confirm_long").check()
    page.locator("#id_message").press("End")
    page.locator("#id_message").type("x")  # a new counter request keeps the tick
    expect(page.locator("#id_confirm_long")).to_be_checked()
    page.locator("#id_message").fill("x" * 1000)
    expect(counter.locator("[data-counter=too-long]")).to_contain_text("at most 6 parts")
    expect(page.locator("#id_confirm_long")).to_have_count(0)
    page.locator("#id_message").fill("Hej 😀 " + "x" * 70)
    screenshot(page, "compose")


def test_a_forwarded_sms_and_the_auto_reply_stay_in_the_customers_thread(
    page, live_server, elks, settings
) -> None:
    """Issue 11 item 4: a forwarded copy is a note in the customer's thread, not a thread."""
    from numbers.services import number_route

    base = live_server.url
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PUBLIC_BASE_URL = base
    shop = shop_create()
    owner, tenant = shop.owner, shop.tenant
    number = number_rent_se(shop)
    with scope(tenant=tenant.pk):
        number_route(
            number=number,
            actor=owner,
            sms_forward_to="+46709999999",
            sms_autoreply_enabled=True,
            sms_autoreply_text="Thanks! We reply within the hour.",
        )

    sign_in(page, base, "owner@taxinord.example", PASSWORD)
    page.get_by_role("link", name="Messages").first.click()
    elks.inbound_sms(to=number.number, from_="+46700000001", message="Is a car free at 8?")
    inbox = page.locator("#inbox-list")
    expect(inbox).to_contain_text("Is a car free at 8?", timeout=15_000)
    expect(inbox).not_to_contain_text("You:")  # automatic sends are not the latest word
    expect(inbox.locator(".badge-unread")).to_have_text("1")
    expect(inbox.get_by_role("link")).to_have_count(1)  # no "You: From +46…" thread
    expect(inbox).not_to_contain_text("From +46")
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 860})
        screenshot(page, f"inbox-with-forward-{width}")

    inbox.get_by_role("link").first.click()
    thread = page.locator("#thread-messages")
    expect(thread).to_contain_text("Is a car free at 8?")
    expect(thread).to_contain_text("Forwarded to +46 70 999 99 99")
    expect(thread).to_contain_text("automatic reply")
    expect(page.locator("input[name=recipients]")).to_have_value("+46700000001")
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 860})
        screenshot(page, f"thread-with-forward-{width}")

    # The one confirmation a STOP may get is the tenant's choice (empty: none).
    page.goto(f"{base}/t/{tenant.slug}/messages/settings/")
    page.get_by_label("Reply to a stop word with").fill("You will get no more messages.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Messaging settings saved.")).to_be_visible()
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 860})
        screenshot(page, f"messaging-settings-{width}")
