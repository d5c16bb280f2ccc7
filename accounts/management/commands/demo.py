"""`make demo`: migrate, start the 46elks sandbox, load demo data and serve the dashboard."""

from __future__ import annotations

import threading
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.demo import DEMO_PASSWORD, seed_demo
from providers.elks.sandbox.server import SandboxServer
from providers.infobip.sandbox import InfobipSandbox


class Command(BaseCommand):
    help = "Serve the dashboard with demo data against the built-in 46elks sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Set up, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG or "127.0.0.1" not in settings.ELKS_API_URL:
            raise CommandError("demo runs only with config.settings.demo (the local sandbox)")
        call_command("migrate", interactive=False, verbosity=0)
        api = urlsplit(settings.ELKS_API_URL)
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
                f"Cannot start the 46elks sandbox on {api.netloc} ({exc}). "
                "Is another `make demo` still running?"
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
            raise CommandError(f"Cannot start the Infobip sandbox ({exc}).") from exc
        self.stdout.write(f"Infobip sandbox serving {infobip_sandbox.base_url}")
        logins = seed_demo()
        self.stdout.write(self.style.SUCCESS(f"\nDemo logins (password for all: {DEMO_PASSWORD})"))
        for role, email in logins:
            self.stdout.write(f"  {role:<24} {email}")
        self.stdout.write(f"\nOpen http://{options['addr']}/\n")
        if options["no_serve"]:
            sandbox.stop()
            infobip_sandbox.stop()
            return
        threading.Thread(target=_demo_inbound, args=(sandbox, options["addr"]), daemon=True).start()
        call_command("runserver", options["addr"], use_reloader=False)


DEMO_INBOUND = [
    ("+46701112233", "Hi! Can I book a car for 18:00 today?"),
    ("+46704445566", "Do you deliver on Sundays?"),
]


def _demo_inbound(sandbox: SandboxServer, addr: str) -> None:
    """Once the server answers, let the sandbox post a few inbound SMS for real.

    Only for demo numbers whose inbox is still empty, so a second `make demo` adds nothing.
    """
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://{addr}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    from django_scopes import scopes_disabled

    from messaging.models import Message
    from numbers.models import PhoneNumber

    with scopes_disabled():
        numbers = [
            n
            for n in PhoneNumber.objects.filter(status="active", has_sms=True)
            if not Message.objects.filter(number=n).exists()
        ]
    for number, (sender, text) in zip(numbers, DEMO_INBOUND, strict=False):
        sandbox.inbound_sms(to=number.number, from_=sender, message=text)
