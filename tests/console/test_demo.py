"""`make demo` on any address: callbacks, allowed hosts, sandbox ports and state follow it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope, scopes_disabled

from console.demo_address import (
    addr_from_command_line,
    demo_address,
    parse_addr,
)

ROOT = Path(__file__).resolve().parents[2]


def _ports(addr: str) -> set[int]:
    demo = demo_address(addr, base_dir=ROOT)
    return {demo.port, demo.elks_sandbox_port, demo.infobip_sandbox_port}


def test_the_default_address_keeps_the_documented_ports_and_folder() -> None:
    demo = demo_address("127.0.0.1:8000", base_dir=ROOT)
    assert demo.public_base_url == "http://127.0.0.1:8000"
    assert demo.elks_api_url == "http://127.0.0.1:8046/a1"
    assert demo.infobip_base_url == "http://127.0.0.1:8064"
    assert demo.allowed_hosts == ["127.0.0.1", "localhost"]
    assert demo.state_dir == ROOT / ".demo"


@pytest.mark.parametrize("second", ["127.0.0.1:8001", "127.0.0.1:8010", "8080", "8100", "9000"])
def test_a_second_demo_gets_its_own_callback_base_sandbox_ports_and_state(second: str) -> None:
    first = demo_address("127.0.0.1:8000", base_dir=ROOT)
    other = demo_address(second, base_dir=ROOT)
    assert other.public_base_url != first.public_base_url
    assert other.public_base_url == f"http://127.0.0.1:{other.port}"
    assert other.elks_sandbox_port != first.elks_sandbox_port
    assert other.infobip_sandbox_port != first.infobip_sandbox_port
    # Neither claims a port the other uses, whichever starts first.
    assert _ports("127.0.0.1:8000").isdisjoint(_ports(second))
    assert other.state_dir != first.state_dir


def test_every_interface_calls_back_on_loopback_and_answers_any_host() -> None:
    demo = demo_address("0.0.0.0:8100", base_dir=ROOT)
    assert demo.public_base_url == "http://127.0.0.1:8100"
    assert demo.local_url == "http://127.0.0.1:8100"
    assert demo.allowed_hosts == ["*"]


def test_a_named_host_is_the_callback_host_and_an_allowed_host() -> None:
    demo = demo_address("demo.local:8200", base_dir=ROOT)
    assert demo.public_base_url == "http://demo.local:8200"
    assert demo.allowed_hosts == ["demo.local", "127.0.0.1", "localhost"]
    ipv6 = demo_address("[::1]:8200", base_dir=ROOT)
    assert ipv6.public_base_url == "http://[::1]:8200"
    assert ipv6.bind_host == "::1" and ipv6.ipv6


def test_explicit_variables_win_over_the_derived_values(tmp_path: Path) -> None:
    environ = {
        "PUBLIC_BASE_URL": "https://tunnel.example/",
        "SANDBOX_PORT": "9146",
        "INFOBIP_SANDBOX_PORT": "9147",
        "DEMO_DIR": str(tmp_path),
    }
    demo = demo_address("127.0.0.1:8300", environ=environ, base_dir=ROOT)
    assert demo.public_base_url == "https://tunnel.example"
    assert (demo.elks_sandbox_port, demo.infobip_sandbox_port) == (9146, 9147)
    assert demo.state_dir == tmp_path / "8300"


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("8310", ("127.0.0.1", 8310)),
        ("localhost:8310", ("localhost", 8310)),
        ("0.0.0.0:8310", ("0.0.0.0", 8310)),
        (":8310", ("0.0.0.0", 8310)),
        ("[::1]:8310", ("[::1]", 8310)),
    ],
)
def test_addresses_parse(addr: str, expected: tuple[str, int]) -> None:
    assert parse_addr(addr) == expected


@pytest.mark.parametrize("addr", ["", "host", "host:", "1.2.3.4:99999", "::1:8000"])
def test_bad_addresses_are_refused(addr: str) -> None:
    with pytest.raises(ValueError):
        parse_addr(addr)


def test_the_address_is_read_from_the_demo_command_line_only() -> None:
    assert addr_from_command_line(["manage.py", "demo", "--addr", "127.0.0.1:8310"]) == (
        "127.0.0.1:8310"
    )
    assert addr_from_command_line(["manage.py", "demo", "--no-serve", "--addr=8310"]) == "8310"
    assert addr_from_command_line(["manage.py", "demo"]) is None
    assert addr_from_command_line(["manage.py", "runserver", "--addr", "8310"]) is None


def _demo_settings(tmp_path: Path, argv: list[str], **env: str) -> dict[str, object]:
    """Load config.settings.demo in a fresh process (settings are read once per process)."""
    script = """
import json, sys
sys.argv = json.loads(sys.argv[1])
import django
django.setup()
from django.conf import settings
from numbers.models import PhoneNumber
from numbers.hooks import hook_url
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "DEMO_ADDR": settings.DEMO_ADDR,
    "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "ELKS_API_URL": settings.ELKS_API_URL,
    "INFOBIP_BASE_URL": settings.INFOBIP_BASE_URL,
    "DATABASE": str(settings.DATABASES["default"]["NAME"]),
    "SANDBOX_DB": settings.SANDBOX_DB,
    "hook_url": hook_url(PhoneNumber(hook_token="tok"), "sms"),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "EMAIL_BACKEND": settings.EMAIL_BACKEND,
    "EMAIL_FILE_PATH": settings.EMAIL_FILE_PATH,
}))
"""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_")
        and k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "PUBLIC_BASE_URL",
            "ALLOWED_HOSTS",
            "DEBUG",
            "DEMO_ADDR",
            "SANDBOX_PORT",
            "INFOBIP_SANDBOX_PORT",
            "ELKS_API_URL",
            "INFOBIP_BASE_URL",
        }
    }
    environ.update(DJANGO_SETTINGS_MODULE="config.settings.demo", DEMO_DIR=str(tmp_path), **env)
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(argv)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_two_demo_settings_on_different_addresses_differ_in_everything_address_bound(
    tmp_path: Path,
) -> None:
    first = _demo_settings(tmp_path, ["manage.py", "demo"])
    second = _demo_settings(tmp_path, ["manage.py", "demo", "--addr", "127.0.0.1:8310"])
    from_env = _demo_settings(tmp_path, ["manage.py", "demo"], DEMO_ADDR="127.0.0.1:8310")

    assert first["DEBUG"] is False
    assert first["PUBLIC_BASE_URL"] == "http://127.0.0.1:8000"
    assert first["hook_url"] == "http://127.0.0.1:8000/hooks/elks/tok/sms/"
    assert first["ELKS_API_URL"] == "http://127.0.0.1:8046/a1"
    assert first["INFOBIP_BASE_URL"] == "http://127.0.0.1:8064"

    assert second == from_env  # --addr and DEMO_ADDR are the same thing
    assert second["DEMO_ADDR"] == "127.0.0.1:8310"
    assert second["PUBLIC_BASE_URL"] == "http://127.0.0.1:8310"
    assert second["hook_url"] == "http://127.0.0.1:8310/hooks/elks/tok/sms/"
    assert second["ELKS_API_URL"] == "http://127.0.0.1:8356/a1"
    assert second["INFOBIP_BASE_URL"] == "http://127.0.0.1:8374"
    assert second["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert second["DATABASE"] == str(tmp_path / "8310" / "db.sqlite3")
    assert second["SANDBOX_DB"] == str(tmp_path / "8310" / "sandbox.sqlite3")
    assert first["DATABASE"] == str(tmp_path / "db.sqlite3")
    # Background work runs in the demo's own worker thread, not inside the request.
    assert first["eager"] is False
    assert first["broker"] == "memory://"
    # Invitation mail goes to a file in the state folder, not the console.
    assert first["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert first["EMAIL_FILE_PATH"] == str(tmp_path / "mail")


def test_the_command_refuses_settings_other_than_the_demo_ones() -> None:
    with pytest.raises(CommandError, match=r"config\.settings\.demo"):
        call_command("demo", "--no-serve")


def test_the_command_refuses_an_address_the_settings_were_not_derived_for(settings) -> None:
    settings.DEMO_ADDR = "127.0.0.1:8000"
    with pytest.raises(CommandError, match=r"DEMO_ADDR=127\.0\.0\.1:8100"):
        call_command("demo", "--no-serve", "--addr", "127.0.0.1:8100")


@pytest.mark.django_db
def test_a_demo_moved_to_another_address_points_its_numbers_callbacks_there(
    elks,
    settings,
) -> None:
    from accounts.models import Tenant
    from console.demo import seed_demo
    from providers.clients import elks_for_tenant

    def callback_bases() -> set[str]:
        with scopes_disabled():
            tenants = list(Tenant.objects.exclude(elks_subaccount_id=None))
        return {
            number.sms_url.split("/hooks/")[0]
            for tenant in tenants
            for number in elks_for_tenant(tenant).numbers()
            if number.sms_url
        }

    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    seed_demo()
    assert callback_bases() == {"http://127.0.0.1:8000"}

    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8310"
    seed_demo()
    assert callback_bases() == {"http://127.0.0.1:8310"}


@pytest.mark.django_db
def test_seeding_gives_phones_and_a_named_contact_list_once(elks, settings) -> None:
    from accounts.models import User
    from console.demo import DEMO_CONTACTS, DEMO_LIST, DEMO_TENANTS, seed_demo
    from messaging.contacts.models import Contact, ContactList

    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    seed_demo()
    seed_demo()  # a second `make demo` on the same state adds nothing

    with scopes_disabled():
        for demo in DEMO_TENANTS:
            assert User.objects.get(email=demo.owner).phone == demo.owner_phone
            assert User.objects.get(email=demo.member).phone == demo.member_phone
            regulars = ContactList.objects.get(tenant__name=demo.name, name=DEMO_LIST)
            assert regulars.contacts.count() == len(DEMO_CONTACTS)
        assert Contact.objects.count() == len(DEMO_CONTACTS) * len(DEMO_TENANTS)
        assert not Contact.objects.filter(name="").exists()


@pytest.mark.django_db
def test_seeding_spreads_60_days_of_traffic_into_the_chart_rollups(elks, settings) -> None:
    from datetime import timedelta

    from django.db.models import Count, Max, Min, Sum
    from django.utils import timezone

    from calls.models import Call
    from console.demo import HISTORY_DAYS, seed_demo
    from console.traffic.models import DailyTraffic
    from messaging.models import Message

    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    seed_demo()
    with scopes_disabled():
        history = Message.objects.filter(source=Message.Source.HISTORY)
        first_run = (history.count(), Call.objects.filter(source=Call.Source.HISTORY).count())
        span = history.aggregate(first=Min("created"), last=Max("created"))
        statuses = dict(
            history.filter(direction="out").values_list("status").annotate(n=Count("id"))
        )
        seed_demo()  # a second `make demo` adds no history twice
        assert first_run == (
            history.count(),
            Call.objects.filter(source=Call.Source.HISTORY).count(),
        )
        rolled = DailyTraffic.objects.aggregate(
            days=Count("day", distinct=True), calls=Sum("calls_in")
        )
    now = timezone.now()
    assert now - span["first"] > timedelta(days=HISTORY_DAYS - 2)
    assert now - span["last"] < timedelta(days=2)
    assert statuses.get("failed") and statuses.get("delivered")  # some deliveries fail
    assert rolled["days"] >= HISTORY_DAYS - 1 and rolled["calls"] > 0
    # The sandbox counted the history once, so 46elks' figure and the spend chart agree.
    with scopes_disabled():
        tenant = history.first().tenant
        seeded = Message.objects.filter(tenant=tenant, source="history").aggregate(s=Sum("cost"))
        seeded_calls = Call.objects.filter(tenant=tenant, source="history").aggregate(s=Sum("cost"))
    tenant.refresh_from_db()
    assert tenant.usage >= seeded["s"] + seeded_calls["s"]
    assert tenant.usage < seeded["s"] + seeded_calls["s"] + 100_000  # plus a few live sends
    # "Usage this month" is this month's spend (the history before it was snapshotted).
    from billing.selectors import month_start, usage_this_month

    with scopes_disabled():
        this_month = (
            Message.objects.filter(
                tenant=tenant, source="history", created__gte=month_start()
            ).aggregate(s=Sum("cost"))["s"]
            or 0
        )
        this_month += (
            Call.objects.filter(
                tenant=tenant, source="history", created__gte=month_start()
            ).aggregate(s=Sum("cost"))["s"]
            or 0
        )
    with scope(tenant=tenant.pk):  # the selector reads the tenant's own snapshots
        assert this_month <= usage_this_month(tenant=tenant) < this_month + 100_000


@pytest.mark.django_db
def test_seeding_rates_the_history_into_the_ledger_once(elks, settings) -> None:
    from django.db.models import Sum

    from billing.ledger.models import UsageEntry
    from billing.models import BillingAccount, TopUp
    from console.demo import seed_demo
    from messaging.models import Message

    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    seed_demo()
    with scopes_disabled():
        entries = UsageEntry.objects.count()
        history = Message.objects.filter(source=Message.Source.HISTORY, direction="out")
        rated = UsageEntry.objects.filter(
            source__in=[f"message:{pk}" for pk in history.values_list("pk", flat=True)]
        )
        assert rated.values("source").distinct().count() == history.count()
        # Billed on the days they happened: the ledger spans the history, not just today.
        assert UsageEntry.objects.values("day").distinct().count() > 30
        assert UsageEntry.objects.filter(kind="number").exists()
        seed_demo()  # a second seeding rates nothing twice
        assert UsageEntry.objects.count() == entries
        acme = BillingAccount.objects.get(tenant__name="Acme Taxi")
        florist = BillingAccount.objects.get(tenant__name="Nordic Florist")
        assert acme.plan.name == "Business" and not acme.is_prepaid
        assert florist.is_prepaid and TopUp.objects.filter(tenant=florist.tenant).count() == 1
        price = UsageEntry.objects.aggregate(p=Sum("price"), c=Sum("provider_cost"))
    assert price["p"] > price["c"] > 0  # the reseller's margin is there
    with scopes_disabled():
        # Acme's number was rented on its own plan (Business: 45 SEK a month), not the default.
        months = UsageEntry.objects.filter(tenant__name="Acme Taxi", kind="number")
        assert set(months.values_list("price", flat=True)) == {45 * 10_000}


@pytest.mark.django_db
def test_seeding_issues_last_months_invoice_for_acme_once(elks, settings) -> None:
    from billing.invoices.models import Invoice
    from console.demo import seed_demo

    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    seed_demo()
    seed_demo()
    with scopes_disabled():
        issued = Invoice.objects.filter(tenant__name="Acme Taxi", status="issued")
        assert issued.count() == 1
        invoice = issued.get()
        assert invoice.total > 0 and invoice.lines.exists()
        # Florist is prepaid: a statement, left as a draft for staff to review.
        assert Invoice.objects.filter(tenant__name="Nordic Florist", kind="statement").exists()
        from calls.models import Call
        from messaging.models import Message

        assert not Message.objects.filter(source="history", direction="out", price=None).exists()
        assert not Call.objects.filter(source="history", state="success", price=None).exists()
