"""The API reference at /api/v1/docs renders in Chromium under the site's CSP: Redoc draws the
operations, and the browser reports no CSP violation and no script error."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_api_reference_renders_under_the_csp(page, live_server) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.get_by_role("heading", name="Switchboard API").first.wait_for()
    for operation in ("Send SMS or MMS", "List messages", "Change a number's routing"):
        page.get_by_role("heading", name=operation).first.wait_for()
    # The search box runs in a worker started from a blob: URL (allowed on this page only).
    page.get_by_placeholder("Search...").fill("usage")
    page.locator("[data-role='search:results']").get_by_text("usage").first.wait_for()
    screenshot(page, "api-docs")
    # Redoc's footer links Redocly's logo from their CDN: kept blocked (no third party
    # learns who reads our docs); the link text still shows. Nothing else may be refused.
    assert [p for p in problems if "cdn.redoc.ly" not in p] == [], problems
