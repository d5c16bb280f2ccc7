"""Click through a running `make demo` and save screenshots (not a test; a look for humans).

Usage: .venv/bin/python -m tests.e2e.demo_tour [base_url] [out_dir]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

PASSWORD = "switchboard-demo"


def main(base: str = "http://127.0.0.1:8000", out: str = "/tmp/tour") -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})

        def shot(name: str) -> None:
            page.screenshot(path=str(out_dir / f"{name}.png"), full_page=True)
            print("saved", out_dir / f"{name}.png")

        def sign_in(email: str) -> None:
            page.goto(f"{base}/accounts/login/")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()

        sign_in("staff@switchboard.test")
        page.wait_for_selector("#balance")
        shot("01-staff-console")
        page.get_by_role("link", name="Acme Taxi").click()
        shot("02-tenant-detail")
        page.get_by_role("button", name="Suspend tenant…").click()
        shot("03-suspend-confirm")
        page.goto(f"{base}/staff/tenants/new/")
        page.get_by_role("button", name="Create tenant").click()
        shot("04-new-tenant-errors")
        page.goto(f"{base}/staff/tenants/acme-taxi/")
        page.get_by_role("button", name="Open portal as staff").click()
        shot("05-staff-view")
        page.get_by_role("button", name="End staff view").click()
        page.goto(f"{base}/admin/accounts/tenant/")
        shot("06-admin-tenants")
        page.get_by_role("link", name="Acme Taxi").click()
        shot("07-admin-tenant")
        page.goto(f"{base}/staff/")
        page.get_by_role("button", name="Sign out").click()

        sign_in("owner@acme.test")
        shot("08-portal-owner")
        page.goto(f"{base}/t/acme-taxi/members/")
        shot("09-members")
        page.goto(f"{base}/t/nordic-florist/")
        shot("10-other-tenant-404")
        for n, path in enumerate(
            [
                "numbers/",
                "messages/",
                "messages/new/",
                "messages/log/",
                "messages/opt-outs/",
                "messages/webhooks/",
                "calls/",
                "calls/voicemail/",
                "calls/greetings/",
                "billing/",
                "contacts/",
                "contacts/import/",
                "campaigns/",
                "campaigns/new/",
            ],
            start=11,
        ):
            page.goto(f"{base}/t/acme-taxi/{path}")
            shot(f"{n}-{path.strip('/').replace('/', '-')}")
        page.goto(f"{base}/t/acme-taxi/messages/")
        page.locator("table a, .conversation a, main a[href*='/messages/c/']").first.click()
        shot("21-thread")
        page.goto(f"{base}/t/acme-taxi/numbers/")
        page.locator("td a").first.click()
        shot("22-number")
        page.goto(f"{base}/t/acme-taxi/")
        page.get_by_role("button", name="Sign out").click()
        sign_in("staff@switchboard.test")
        for n, path in enumerate(
            ["numbers/", "numbers/prices/", "infobip/?country=SE", "webhooks/"], start=23
        ):
            page.goto(f"{base}/staff/{path}")
            shot(f"{n}-staff-{path.split('?')[0].strip('/').replace('/', '-')}")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
