"""Every page fits: nothing scrolls sideways at 390 px, no table overflows its box at 1366 px.

Screenshots of every page at both widths are saved as layout-*.png (tests/e2e/artifacts, or
SCREENSHOT_DIR).

The tenant pages come from the resolver (the isolation sweep's walk), the staff pages from the
staff console's links, so a new page is checked as soon as it is routed or linked.
"""

from __future__ import annotations

from typing import Any

import pytest
from django_scopes import scope

from tests.accounts.test_isolation import TENANT_ROUTES, _values
from tests.e2e.conftest import OWNER_PASSWORD, number_rent_se, screenshot, shop_create, sign_in
from tests.factories import StaffFactory

# What overflows: the page itself (any width), and at desktop widths any table wider than
# its container, even when the container scrolls (a phone may scroll a table in its box).
OVERFLOW = """(desktop) => {
  const page = document.documentElement.scrollWidth - window.innerWidth;
  const tables = [...document.querySelectorAll('main table')]
    .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1
              && (desktop || !['auto', 'scroll'].includes(getComputedStyle(t).overflowX)))
    .map(t => (t.querySelector('th') || t).textContent.trim().slice(0, 30));
  return {page, tables};
}"""
WIDTHS = (390, 1366)


def whole_pages(
    page: Any, base: str, paths: list[str], statuses: tuple[int, ...] = (200,)
) -> list[str]:
    """Only whole pages: not downloads (CSV, audio), fragments (HTMX partials), errors (unless
    their statuses are given)."""
    found = []
    for path in paths:
        probe = page.request.get(base + path, max_redirects=0)
        if probe.status not in statuses or "text/html" not in probe.headers.get("content-type", ""):
            continue
        if "<main" in probe.text():
            found.append(path)
    return found


def tenant_paths(tenant: Any) -> list[str]:
    """Every tenant page the resolver knows, filled in for this tenant."""
    with scope(tenant=tenant.pk):
        return sorted({route.path(**_values(route, tenant)) for route in TENANT_ROUTES})


def staff_paths(page: Any, base: str, tenant: Any) -> list[str]:
    """The staff console's pages, from its links (the page must be signed in as staff)."""
    page.goto(base + "/staff/")
    links = {
        href.split("#")[0]
        for href in page.eval_on_selector_all(
            "main a[href], nav a[href]", "as => as.map(a => a.getAttribute('href'))"
        )
        if href and href.startswith("/staff/")
    }
    return sorted(links | {"/staff/", f"/staff/tenants/{tenant.slug}/"})


def staff_sign_in(page: Any, base: str) -> None:
    """Signs the page out of any session and in as a new staff user."""
    staff = StaffFactory()
    staff.set_password(OWNER_PASSWORD)
    staff.save()
    page.goto("about:blank")
    page.context.clear_cookies()
    sign_in(page, base, staff.email, OWNER_PASSWORD)


def _problems(page: Any, base: str, paths: list[str], label: str) -> list[str]:
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in whole_pages(page, base, paths):
            page.goto(base + path)
            result = page.evaluate(OVERFLOW, width >= 1024)
            name = f"layout-{label}{path.replace('/', '_')}-{width}"
            screenshot(page, name)  # every page at both widths, to look at after the run
            if result["page"] > 0 or result["tables"]:
                found.append(
                    f"{width}px {path}: page {result['page']} px too wide, "
                    f"tables overflowing: {result['tables']} (screenshot {name}.png)"
                )
    return found


@pytest.mark.django_db(transaction=True)
def test_no_page_scrolls_sideways_or_overflows_a_table(page, live_server, elks) -> None:
    shop = shop_create()
    number_rent_se(shop)
    tenant = shop.tenant
    paths = tenant_paths(tenant)
    sign_in(page, live_server.url, shop.owner.email, OWNER_PASSWORD)
    problems = _problems(page, live_server.url, paths, "owner")

    staff_sign_in(page, live_server.url)
    staff_pages = staff_paths(page, live_server.url, tenant)
    problems += _problems(page, live_server.url, staff_pages, "staff")
    assert len(paths) > 40 and len(staff_pages) > 5
    assert not problems, "\n".join(problems)
