"""`make demo`: migrate, start the 46elks sandbox, load demo data and serve the dashboard."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.demo import DEMO_PASSWORD, seed_demo
from console.demo_address import parse_addr
from console.demo_worker import DemoBackground, start_background, wait_ready
from providers.elks.sandbox.server import SandboxServer
from providers.infobip.sandbox import InfobipSandbox


class Command(BaseCommand):
    help = "Serve the dashboard with demo data against the built-in 46elks sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr",
            help="HOST:PORT to serve on (default DEMO_ADDR or 127.0.0.1:8000); the public "
            "base URL, allowed hosts, sandbox ports and state folder follow from it.",
        )
        parser.add_argument("--no-serve", action="store_true", help="Set up, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "DEMO_ADDR", None):
            raise CommandError("demo runs only with config.settings.demo (the local sandbox)")
        # The settings derived everything from the address before this command parsed it
        # (console/demo_address.py): refuse an address they did not see.
        addr = options["addr"] or settings.DEMO_ADDR
        if parse_addr(addr) != parse_addr(settings.DEMO_ADDR):
            raise CommandError(
                f"The settings were derived for {settings.DEMO_ADDR}, not {addr}: "
                f"run `DEMO_ADDR={addr} manage.py demo` or `manage.py demo --addr {addr}`."
            )
        api = urlsplit(settings.ELKS_API_URL)
        if api.hostname != "127.0.0.1":
            raise CommandError("demo runs only against its local 46elks sandbox (ELKS_API_URL)")
        host, port = parse_addr(settings.DEMO_ADDR)
        if not options["no_serve"]:
            _check_free(host, port, what="the dashboard")
        call_command("migrate", interactive=False, verbosity=0)
        sandbox = SandboxServer(
            host=api.hostname or "127.0.0.1",
            port=api.port or 8046,
            db=settings.SANDBOX_DB,
            master_username=settings.ELKS_USERNAME,
            master_password=settings.ELKS_PASSWORD,
        )
        try:
            sandbox.start()
        except OSError as exc:
            raise CommandError(
                f"Cannot start the 46elks sandbox on {api.netloc} ({exc}). Is another "
                "`make demo` still running? Another --addr, or SANDBOX_PORT, moves it."
            ) from exc
        self.stdout.write(f"46elks sandbox serving {sandbox.base_url}")
        infobip_api = urlsplit(settings.INFOBIP_BASE_URL)
        infobip_sandbox = InfobipSandbox(
            host=infobip_api.hostname or "127.0.0.1",
            port=infobip_api.port or 8047,
            api_key=settings.INFOBIP_API_KEY,
        )
        try:
            infobip_sandbox.start()
        except OSError as exc:
            sandbox.stop()
            raise CommandError(
                f"Cannot start the Infobip sandbox on {infobip_api.netloc} ({exc}). Another "
                "--addr, or INFOBIP_SANDBOX_PORT, moves it."
            ) from exc
        self.stdout.write(f"Infobip sandbox serving {infobip_sandbox.base_url}")
        background = start_background(settings.DEMO_STATE_DIR)
        try:
            if not wait_ready(background):
                raise CommandError("The demo's background worker did not start.")
            logins = seed_demo()
            if options["no_serve"]:
                self._print_logins(logins)
                return
            ready = threading.Thread(
                target=self._when_serving, args=(sandbox, logins), name="demo-ready", daemon=True
            )
            ready.start()
            call_command(
                "runserver",
                settings.DEMO_ADDR,
                use_reloader=False,
                use_ipv6=":" in host.strip("[]"),
            )
        except KeyboardInterrupt:
            pass
        finally:
            _stop(background, sandbox, infobip_sandbox)

    def _when_serving(self, sandbox: SandboxServer, logins: list[tuple[str, str]]) -> None:
        """Once the dashboard answers: the first inbound SMS, then the logins, printed last."""
        if _wait_for_server(settings.DEMO_URL):
            _demo_inbound(sandbox)
        self._print_logins(logins)

    def _print_logins(self, logins: list[tuple[str, str]]) -> None:
        self.stdout.write(self.style.SUCCESS(f"\nDemo logins (password for all: {DEMO_PASSWORD})"))
        for role, email in logins:
            self.stdout.write(f"  {role:<24} {email}")
        self.stdout.write(f"(46elks calls back to {settings.PUBLIC_BASE_URL})")
        self.stdout.write(f"Demo control panel (staff): {settings.DEMO_URL}/staff/demo/")
        self.stdout.write("Background tasks run in this process; Ctrl-C stops everything.")
        self.stdout.write(self.style.SUCCESS(f"\nOpen {settings.DEMO_URL}/\n"))


def _stop(background: DemoBackground, *servers: SandboxServer | InfobipSandbox) -> None:
    background.stop()
    for server in servers:
        server.stop()


def _check_free(host: str, port: int, *, what: str) -> None:
    """Fail before seeding (which registers callback URLs) if nothing could listen there."""
    bind = host.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    try:
        socket.create_server((bind, port), family=family).close()
    except OSError as exc:
        raise CommandError(
            f"Cannot serve {what} on {host}:{port} ({exc}). Is another `make demo` "
            "running there? Choose another address: DEMO_ADDR=127.0.0.1:8100 make demo"
        ) from exc


DEMO_INBOUND = [
    ("+46701112233", "Hi! Can I book a car for 18:00 today?"),
    ("+46704445566", "Do you deliver on Sundays?"),
]


def _wait_for_server(url: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            return True
        except OSError:
            time.sleep(0.3)
    return False


def _demo_inbound(sandbox: SandboxServer) -> None:
    """Let the sandbox post a few inbound SMS for real, once the dashboard answers.

    Only for demo numbers whose inbox is still empty, so a second `make demo` adds nothing.
    """
    from django_scopes import scopes_disabled

    from messaging.models import Message
    from numbers.models import PhoneNumber

    with scopes_disabled():
        numbers = [
            n
            for n in PhoneNumber.objects.filter(status="active", has_sms=True)
            if not Message.objects.filter(number=n).exclude(source=Message.Source.HISTORY).exists()
        ]
    for number, (sender, text) in zip(numbers, DEMO_INBOUND, strict=False):
        sandbox.inbound_sms(to=number.number, from_=sender, message=text)
