"""Playwright driving Debian's chromium (never a browser Playwright downloads)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).parent / "artifacts"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: `make browser` should have installed it")
        pytest.skip("Debian's chromium is not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# The setup most flows share: a tenant whose owner can sign in, a rented Swedish number, a sign-in.
OWNER_PASSWORD = "a-long-owner-pass-phrase"


@dataclass
class Shop:
    tenant: Any
    owner: Any


def shop_create(
    *,
    name: str = "Taxi Nord",
    owner_email: str = "owner@taxinord.example",
    password: str = OWNER_PASSWORD,
    actor: Any = None,
) -> Shop:
    """A tenant created the way staff create one, with an owner who has a password."""
    from console.tenants import tenant_create
    from tests.factories import StaffFactory

    created = tenant_create(
        name=name,
        usage_limit=10_000_000,
        owner_email=owner_email,
        actor=actor or StaffFactory(),
        request=None,
    )
    created.owner.set_password(password)
    created.owner.save()
    return Shop(tenant=created.tenant, owner=created.owner)


def number_rent_se(shop: Shop, *, capabilities: tuple[str, ...] = ("sms", "voice")) -> Any:
    """Rents a Swedish mobile number for the shop from the sandbox, at 25 SEK a month."""
    from django_scopes import scope

    from numbers.models import NumberPrice
    from numbers.services import number_rent

    NumberPrice.objects.get_or_create(
        country="se", category="mobile", defaults={"monthly_price": 250_000}
    )
    with scope(tenant=shop.tenant.pk):
        return number_rent(
            tenant=shop.tenant,
            country="se",
            capabilities=list(capabilities),
            category="mobile",
            request_key=uuid.uuid4(),
            actor=shop.owner,
        )


def sign_in(page, base: str, email: str, password: str = OWNER_PASSWORD) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
