"""Customer pages in words, in the browser: the number page's routing and history, the call
page's steps, the rotate confirmation, the searchable pickers, and costs not yet reported.
Screenshots at 390 and 1366 px as owner, member and staff; nothing scrolls sideways."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django_scopes import scope
from playwright.sync_api import expect

from calls.models import Call, Greeting, Recording
from messaging.contacts.models import ContactImport
from numbers.models import PhoneNumber
from numbers.services import number_route
from tests.e2e.conftest import number_rent_se, screenshot, shop_create, sign_in
from tests.factories import MembershipFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-pass-phrase-for-tests"
WIDTHS = (390, 1366)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"scrolls sideways: {width}px"


def test_number_call_import_and_settings_pages_in_words(page, live_server, elks) -> None:
    base = live_server.url
    staff = StaffFactory(email="ops@reseller.example")
    staff.set_password(PASSWORD)
    staff.save()
    shop = shop_create(password=PASSWORD, actor=staff)
    tenant = shop.tenant
    shop.owner.full_name = "Anna Berg"
    shop.owner.save()
    member = UserFactory(email="driver@taxinord.example")
    member.set_password(PASSWORD)
    member.save()
    MembershipFactory(user=member, tenant=tenant, role="member")
    number = number_rent_se(shop, capabilities=("sms", "voice"))
    with scope(tenant=tenant.pk):
        greeting = Greeting.objects.create(
            tenant=tenant, name="Closed", content_type="audio/wav", file="g.wav"
        )
        number = PhoneNumber.objects.get(pk=number.pk)
        number_route(
            number=number,
            actor=shop.owner,
            voice_forwards=[
                {"to": "+46701234567", "timeout": 20},
                {"to": "+46731234567", "timeout": 15},
            ],
            voicemail_enabled=True,
            voicemail_greeting=greeting,
            sms_forward_to="+46709876543",
            sms_autoreply_enabled=True,
            sms_autoreply_text="Thanks! We answer within the hour.",
        )
        call = Call.objects.create(
            tenant=tenant,
            number=number,
            direction="in",
            state="success",
            ours=number.number,
            other="+46700000001",
            elks_id="c-e2e",
            duration=31,
            legs=[{"from": "+46700000001", "to": "+46701234567", "state": "busy"}],
            actions=[
                {"connect": "+46701234567", "result": "busy"},
                {"connect": "+46731234567", "result": "failed"},
                {"play": f"https://x.example/media/greetings/{greeting.public_token}/"},
                {"record": f"https://x.example/hooks/elks/{number.hook_token}/voicemail/"},
            ],
        )
        Recording.objects.create(
            tenant=tenant, call=call, callid="c-e2e", elks_id="r-e2e", kind="voicemail", duration=12
        )
        upload = ContactImport.objects.create(
            tenant=tenant,
            created_by=shop.owner,
            headers=["Mobile", "Name"],
            delimiter=";",
        )
        upload.file.save("people.csv", ContentFile(b"Mobile;Name\n0701234567;Ann\n"), save=True)
    detail = f"{base}/t/{tenant.slug}/numbers/{number.pk}/"
    call_page = f"{base}/t/{tenant.slug}/calls/{call.pk}/"

    for email, role in (
        ("owner@taxinord.example", "owner"),
        ("driver@taxinord.example", "member"),
        ("ops@reseller.example", "staff"),
    ):
        page.context.clear_cookies()
        sign_in(page, base, email, PASSWORD)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(detail)
            flow = page.locator("#call-flow").first
            expect(flow).to_contain_text("Ring +46 70 123 45 67 for 20 s")
            expect(flow).to_contain_text("If busy or nobody answers")
            expect(flow).to_contain_text("Voicemail: play your greeting “Closed”")
            expect(page.locator("#sms-flow").first).to_contain_text(
                "Answered with the automatic reply “Thanks! We answer within the hour.”"
            )
            expect(page.locator("#number-history")).to_contain_text(
                "Anna Berg changed the routing: calls ring +46 70 123 45 67 then +46 73 123 45 67"
            )
            html = page.content()
            assert number.hook_token not in html and "routing_changed" not in html
            if role == "staff":
                expect(page.locator("#technical-details")).to_have_count(1)
            else:
                assert "/hooks/elks/" not in html and "voice_start" not in html
            _no_sideways_scroll(page)
            screenshot(page, f"words-number-{role}-{width}")

            page.goto(call_page)
            steps = page.locator("#call-actions")
            expect(steps).to_contain_text("Rang +46 70 123 45 67: busy.")
            expect(steps).to_contain_text("Played your voicemail greeting “Closed”.")
            expect(steps).to_contain_text("Recorded a voicemail (12 s).")
            # No price yet; staff also see 46elks' cost, not reported yet either.
            pending = 2 if role == "staff" else 1
            expect(page.locator("dd", has_text="pending")).to_have_count(pending)
            assert number.hook_token not in page.content()
            _no_sideways_scroll(page)
            screenshot(page, f"words-call-{role}-{width}")

    page.context.clear_cookies()
    sign_in(page, base, "owner@taxinord.example", PASSWORD)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{detail}rotate-token/")
        expect(page.locator("#rotate-confirm")).to_contain_text("The old addresses stop working.")
        _no_sideways_scroll(page)
        screenshot(page, f"words-rotate-confirm-{width}")

        page.goto(f"{base}/t/{tenant.slug}/contacts/import/{upload.pk}/map/")
        country = page.locator("select[name=default_country]")
        expect(country.locator("option").first).to_have_text("Sweden (+46)")
        search = page.get_by_label("Type to find a country")
        search.fill("norw")
        expect(country.locator("option")).to_have_count(1)
        expect(country).to_have_value("NO")
        expect(page.locator(".select-filter-status")).to_have_text("1 match, chosen: Norway (+47)")
        search.press("Enter")
        expect(country).to_be_focused()
        search.fill("xyzzy")  # no match: the choice stays
        expect(country).to_have_value("NO")
        search.fill("")
        expect(country.locator("option")).to_have_count(245)
        expect(country).to_have_value("NO")
        _no_sideways_scroll(page)
        screenshot(page, f"words-import-country-{width}")

        page.goto(f"{base}/t/{tenant.slug}/messages/settings/")
        zone = page.locator("select[name=time_zone]")
        page.get_by_label("Type to find a city").fill("buenos")
        expect(zone.locator("optgroup[label=America] option")).to_have_count(1)
        expect(zone).to_have_value("America/Argentina/Buenos_Aires")
        _no_sideways_scroll(page)
        screenshot(page, f"words-settings-time-zone-{width}")

        page.goto(f"{base}/profile/")
        screenshot(page, f"words-profile-{width}")
