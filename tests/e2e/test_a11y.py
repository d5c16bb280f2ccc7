"""axe-core over every page: no serious or critical WCAG 2.1 AA violation, at 1366 and 390 px.

The pages are the layout test's walk (tenant pages from the resolver as owner and as member,
staff pages from the console's links) plus the sign-in page and the error pages. axe-core is
vendored under tests/e2e/vendor (test-only: it is never served). No rule is disabled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts.models import Membership
from tests.e2e.conftest import OWNER_PASSWORD, number_rent_se, screenshot, shop_create, sign_in
from tests.e2e.test_layout import staff_paths, staff_sign_in, tenant_paths, whole_pages
from tests.factories import MembershipFactory, UserFactory

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = (1366, 390)
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  });
  return result.violations
    .filter(v => ['serious', 'critical'].includes(v.impact))
    .map(v => ({
      id: v.id, impact: v.impact, targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
    }));
}"""
# Structure axe does not judge as serious: one h1 per page, a main and labelled navigation.
STRUCTURE = """() => ({
  h1: document.querySelectorAll('h1').length,
  main: document.querySelectorAll('main').length,
  unlabelledNav: [...document.querySelectorAll('nav')]
    .filter(n => !n.getAttribute('aria-label')).length,
})"""


@pytest.fixture
def axe_page(browser, live_server, settings):
    """A page whose context lets axe-core in: the app's CSP (script-src 'self') would block the
    injected script, and bypassing it here changes nothing axe checks."""
    settings.PUBLIC_BASE_URL = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _violations(page: Any, base: str, paths: list[str], who: str) -> list[str]:
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in whole_pages(page, base, paths, (200, 403, 404)):
            page.goto(base + path)
            page.add_script_tag(path=str(AXE))
            for v in page.evaluate(RUN_AXE):
                found.append(f"{who} {width}px {path}: {v['id']} ({v['impact']}) at {v['targets']}")
            shape = page.evaluate(STRUCTURE)
            if shape["h1"] != 1 or shape["main"] != 1 or shape["unlabelledNav"]:
                found.append(f"{who} {width}px {path}: structure {shape}")
    return found


@pytest.mark.django_db(transaction=True)
def test_no_page_has_a_serious_accessibility_violation(axe_page, live_server, elks) -> None:
    page = axe_page
    base = live_server.url
    shop = shop_create()
    number_rent_se(shop)
    tenant = shop.tenant
    paths = tenant_paths(tenant)
    member = UserFactory(email="member@taxinord.example")
    member.set_password(OWNER_PASSWORD)
    member.save()
    MembershipFactory(user=member, tenant=tenant, role=Membership.Role.MEMBER)
    outside = ["/accounts/login/", "/no-such-page/"]

    problems = _violations(page, base, outside, "anonymous")
    sign_in(page, base, shop.owner.email, OWNER_PASSWORD)
    problems += _violations(page, base, paths, "owner")

    page.context.clear_cookies()
    sign_in(page, base, member.email, OWNER_PASSWORD)
    problems += _violations(page, base, paths, "member")

    staff_sign_in(page, base)
    problems += _violations(page, base, staff_paths(page, base, tenant), "staff")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_the_section_menu_collapses_on_phones_and_opens_by_keyboard(
    page, live_server, elks
) -> None:
    base = live_server.url
    shop = shop_create()
    sign_in(page, base, shop.owner.email, OWNER_PASSWORD)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{base}/t/{shop.tenant.slug}/")
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Sections")
    assert menu.get_attribute("aria-expanded") == "false" and nav.is_hidden()
    screenshot(page, "a11y-menu-closed-390")
    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true" and nav.is_visible()
    assert nav.locator("[aria-current=page]").inner_text() == "Overview"
    screenshot(page, "a11y-menu-open-390")
    page.keyboard.press("Escape")
    assert nav.is_hidden()

    page.set_viewport_size({"width": 1366, "height": 900})
    assert menu.is_hidden() and nav.is_visible()
