"""An owner creates an API key on the portal's API page and runs the curl example it shows."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from api.portal_views import RECIPIENT_PLACEHOLDER
from tests.e2e.conftest import number_rent_se, screenshot, shop_create, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECIPIENT = "+46700000001"  # what the user types over the example's placeholder recipient


@dataclass(frozen=True)
class Example:
    element: str  # the <code> on the page holding the command
    expected: dict[str, object]  # fields the JSON answer must have


CHECK = Example("#curl-me", {"displayname": "Taxi Nord", "currency": "SEK"})
SMS = Example("#curl-sms", {"status": "created", "to": RECIPIENT})
# The command the test runs: the SMS example (CHECK, GET /a1/me, is the page's first check).
EXAMPLE = SMS


def test_owner_creates_a_key_and_runs_the_shown_curl_example(page, live_server, elks) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    base = live_server.url
    shop = shop_create()
    number = number_rent_se(shop)
    sign_in(page, base, shop.owner.email)
    page.get_by_role("link", name="API").first.click()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()

    page.get_by_label("Name").fill("Booking system")
    page.get_by_label("Send messages and run campaigns").check()
    page.get_by_label("Read messages, calls, recordings").check()
    page.get_by_role("button", name="Create key").click()

    box = page.locator("#new-key")
    expect(box).to_contain_text("you will not see it again")
    secret = page.locator("#new-key-secret").inner_text()
    key_id = page.locator("#new-key-id").inner_text()
    assert len(secret) == 64 and key_id.startswith("k")
    expect(page.locator("#curl-sms")).to_contain_text(f"from={number.number}")
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"api-page-new-key-{width}")

    command = page.locator(EXAMPLE.element).inner_text()
    assert f"{key_id}:{secret}" in command
    command = command.replace(RECIPIENT_PLACEHOLDER, RECIPIENT)
    ran = subprocess.run(
        ["bash", "-c", command.replace("curl ", "curl -sS --fail-with-body ", 1)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ran.returncode == 0, ran.stderr + ran.stdout
    answer = json.loads(ran.stdout)
    assert {name: answer.get(name) for name in EXAMPLE.expected} == EXAMPLE.expected

    # The secret is gone once the page is left; the request is in the log, without its body.
    page.goto(f"{base}/t/{shop.tenant.slug}/api/")
    expect(page.locator("#keys")).to_contain_text("Booking system")
    expect(page.locator("#keys")).to_contain_text(f"{secret[:6]}…")
    assert secret not in page.content()
    path = "/a1/me" if EXAMPLE is CHECK else "/a1/sms"
    expect(page.locator("#requests")).to_contain_text(path)
    screenshot(page, "api-page-after-use")
