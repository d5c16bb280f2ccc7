"""A caller leaves voicemail: it appears in the open call log without a reload and plays."""

from __future__ import annotations

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from calls.models import Recording
from numbers.services import number_route
from tests.e2e.conftest import number_rent_se, screenshot, shop_create, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-owner-pass-phrase"
CALLER = "+46700000001"


def test_voicemail_appears_live_and_plays(page, live_server, elks, settings, tmp_path) -> None:
    base = live_server.url
    # Webhooks and the recording download run on commit inside the live server thread.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PUBLIC_BASE_URL = base  # before renting: 46elks calls the live server
    settings.MEDIA_ROOT = tmp_path
    shop = shop_create()
    owner, tenant = shop.owner, shop.tenant
    number = number_rent_se(shop)
    with scope(tenant=tenant.pk):
        number_route(number=number, actor=owner, voicemail_enabled=True)

    sign_in(page, base, "owner@taxinord.example", PASSWORD)
    page.get_by_role("link", name="Calls").first.click()
    expect(page.get_by_text("No calls yet")).to_be_visible()

    # 46elks calls our voice_start, plays the greeting, records, posts the recording and hangs up.
    elks.inbound_call(to=number.number, from_=CALLER)
    row = page.locator("table.call-log tbody tr").first
    expect(row).to_contain_text("+46 70 000 00 01", timeout=15_000)  # no reload: the log polls
    expect(row.locator(".badge-voicemail")).to_contain_text("Voicemail · new", timeout=15_000)
    expect(row).to_contain_text("Answered", timeout=15_000)  # the hangup arrived too
    screenshot(page, "call-log")

    row.locator("a.badge-voicemail").click()
    expect(page.get_by_role("heading", name="Call from +46 70 000 00 01")).to_be_visible()
    audio = page.locator("#recordings audio")
    expect(audio).to_have_count(1)
    src = audio.get_attribute("src")
    with scope(tenant=tenant.pk):
        recording = Recording.objects.get()
    assert recording.kind == "voicemail" and recording.downloaded and recording.heard
    assert src == f"/t/{tenant.slug}/calls/recordings/{recording.pk}/audio/"

    fetched = page.evaluate(
        """async (src) => {
            const r = await fetch(src);
            return [r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength];
        }""",
        src,
    )
    assert fetched[0] == 200 and fetched[1] == "audio/wav" and fetched[2] == recording.size
    duration = page.evaluate(
        """() => new Promise((resolve) => {
            const audio = document.querySelector('#recordings audio');
            audio.addEventListener('loadedmetadata', () => resolve(audio.duration), {once: true});
            audio.addEventListener('error', () => resolve(-1), {once: true});
            audio.load();
        })"""
    )
    assert duration > 0
    screenshot(page, "call-detail")

    page.get_by_role("button", name="Call log").click()
    page.get_by_role("navigation", name="Calls").get_by_role("link", name="Voicemail").click()
    expect(page.locator("table.voicemail-list tbody tr")).to_have_count(1)
    expect(page.get_by_text("unheard")).to_have_count(0)  # heard once its call was opened
