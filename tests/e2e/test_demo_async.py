"""The real `manage.py demo` in a subprocess: a campaign launches at once and runs live.

The demo's Celery worker runs in threads of the demo process (console/demo_worker.py), so the
Launch request returns before the campaign is sent and the run page's bar moves while it polls.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from console.demo import DEMO_CONTACTS, DEMO_LIST, DEMO_PASSWORD, DEMO_TENANTS
from console.demo_address import ELKS_SANDBOX_OFFSET, INFOBIP_SANDBOX_OFFSET
from tests.e2e.conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
# Who the demo sees: only what a plain `make demo` would, not this test run's settings.
DROPPED = {"DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "ALLOWED_HOSTS", "EMAIL_BACKEND"}


def _free(port: int) -> bool:
    try:
        socket.create_server(("127.0.0.1", port)).close()
        return True
    except OSError:
        return False


def _free_demo_port() -> int:
    for _ in range(50):
        port = random.randint(20_000, 40_000)
        if all(_free(port + o) for o in (0, ELKS_SANDBOX_OFFSET, INFOBIP_SANDBOX_OFFSET)):
            return port
    raise RuntimeError("no free port for the demo")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    port = _free_demo_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "SANDBOX", "INFOBIP", "ELKS", "DEMO_"))
        and k not in DROPPED
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.demo",
        DEMO_ADDR=f"127.0.0.1:{port}",
        DEMO_DIR=str(tmp_path),
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Ctrl-C reaches the demo as it would in a terminal (a test runner may ignore SIGINT).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Open http"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(120):
            pytest.fail("the demo did not start:\n" + "".join(lines))
        output = "".join(lines)
        # The logins and the URL come last, after the server, worker and scheduler are up.
        assert output.rstrip().splitlines()[-1] == f"Open http://127.0.0.1:{port}/"
        assert "Choose your password" not in output
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=20) == 0, "".join(lines)
        finally:
            if process.poll() is None:
                process.kill()
    # No line per request in the demo's console.
    assert not [line for line in lines if '"GET /' in line or '"POST /' in line]


def test_a_demo_campaign_launches_at_once_and_its_run_page_moves_to_100(browser, demo) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    owner = DEMO_TENANTS[0]
    sign_in(page, demo, owner.owner, DEMO_PASSWORD)

    page.get_by_role("link", name="Campaigns").first.click()
    page.get_by_role("button", name="New campaign").first.click()
    page.get_by_label("Name", exact=True).fill("Weekend offer")
    page.locator("#id_sender").select_option("AcmeTaxi")
    page.get_by_label(DEMO_LIST).check()
    page.locator("#id_template").fill("Hi {first_name|friend}, 10% off this weekend!")
    # 20 recipients at 4 a second: about five seconds of sending to watch.
    page.get_by_label("Send rate (messages per second)").fill("4")
    page.get_by_role("button", name="Save and review").click()
    expect(page.locator('[data-summary="recipients"]')).to_have_text(str(len(DEMO_CONTACTS)))

    started = time.monotonic()
    page.get_by_role("button", name="Launch now").click()
    expect(page.get_by_text(f"Sending to {len(DEMO_CONTACTS)} recipients.")).to_be_visible()
    launched_in = time.monotonic() - started
    progress = page.locator("#progress")
    # Eager Celery would have sent all 20 (five seconds) inside the Launch request.
    assert launched_in < 3, f"the Launch request took {launched_in:.1f} s"
    done_at_launch = int(progress.get_attribute("data-done") or "0")
    assert done_at_launch < 100

    # The bar moves without a reload: through some middle value, then to 100%.
    expect(progress).to_have_attribute("data-done", re.compile(r"^[1-9]\d?$"), timeout=15_000)
    expect(progress).to_have_attribute("data-done", "100", timeout=30_000)
    expect(progress).to_have_attribute("data-status", "completed")
    expect(progress.locator("[data-progress-percent]")).to_have_text("100%")
    # Delivery reports come back through the sandbox and the webhooks queue.
    expect(progress.locator('[data-count="delivered"]')).to_have_text(
        str(len(DEMO_CONTACTS)), timeout=30_000
    )
    screenshot(page, "demo-campaign-run")
    context.close()
