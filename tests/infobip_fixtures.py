"""Pytest fixtures for the Infobip Numbers API sandbox (no Django needed).

Register with ``pytest_plugins = ["tests.infobip_fixtures"]`` (or import the fixtures by name
into a test module). Fixtures:

- ``infobip_sandbox_server`` (session): one ``InfobipSandbox`` on a free port, both prefixes.
- ``infobip_sandbox``: the same server, reset (inventory, owned, settings, chaos, log) per test.
- ``infobip_client``: an ``InfobipClient`` with the sandbox key and a short timeout.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from providers.infobip import InfobipClient
from providers.infobip.sandbox import DEFAULT_API_KEY, InfobipSandbox

INFOBIP_SANDBOX_API_KEY = DEFAULT_API_KEY
INFOBIP_TEST_TIMEOUT = 3.0


@pytest.fixture(scope="session")
def infobip_sandbox_server() -> Iterator[InfobipSandbox]:
    sandbox = InfobipSandbox(host="127.0.0.1", port=0, api_key=INFOBIP_SANDBOX_API_KEY).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def infobip_sandbox(infobip_sandbox_server: InfobipSandbox) -> Iterator[InfobipSandbox]:
    infobip_sandbox_server.reset()
    yield infobip_sandbox_server
    infobip_sandbox_server.clear_chaos()


@pytest.fixture
def infobip_client(infobip_sandbox: InfobipSandbox) -> InfobipClient:
    return InfobipClient(
        base_url=infobip_sandbox.base_url,
        api_key=INFOBIP_SANDBOX_API_KEY,
        timeout=INFOBIP_TEST_TIMEOUT,
    )
