"""The README's screenshots, taken from a running `make demo` (not a test).

Usage: .venv/bin/python -m tests.e2e.readme_shots [base_url] [out_dir]
Launches a campaign to the Acme Taxi "Regulars" list to show its run page moving.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.demo_tour import PASSWORD

TENANT = "/t/acme-taxi"


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def main(base: str = "http://127.0.0.1:8000", out: str = "docs/screenshots") -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 860})

        def shot(name: str, path: str | None = None, *, width: int = 1366) -> None:
            page.set_viewport_size({"width": width, "height": 860})
            if path is not None:
                page.goto(base + path)
            page.wait_for_timeout(700)  # charts draw after their data arrives
            page.screenshot(path=str(out_dir / f"{name}.png"), full_page=True)
            print("saved", out_dir / f"{name}.png")

        _sign_in(page, base, "staff@switchboard.test")
        shot("staff-console", "/staff/")
        shot("demo-control-panel", "/staff/demo/")
        page.get_by_role("button", name="Sign out").first.click()

        _sign_in(page, base, "owner@acme.test")
        shot("tenant-portal", f"{TENANT}/")
        shot("tenant-portal-390", f"{TENANT}/", width=390)
        shot("numbers-list", f"{TENANT}/numbers/")
        page.locator("main td a").first.click()
        shot("number-routing")
        shot("inbox", f"{TENANT}/messages/")
        page.locator("main a[href*='/messages/c/']").first.click()
        shot("thread")
        shot("compose", f"{TENANT}/messages/new/")
        shot("message-log-1366", f"{TENANT}/messages/log/")
        shot("message-log-390", f"{TENANT}/messages/log/", width=390)
        shot("call-log", f"{TENANT}/calls/")
        page.locator("main td a[href*='/calls/']").first.click()
        shot("call-detail")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
