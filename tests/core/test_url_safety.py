"""Customer webhook URLs: the address and port rules, when the URL is saved and when posting.

DNS is replaced by a table (`getaddrinfo` patched) so each case names the address the host
"resolves" to; IP literals in URLs go through the same lookup.
"""

from __future__ import annotations

import socket

import pytest
from django_scopes import scope, scopes_disabled

from core.url_safety import address_refusal, embedded_ipv4
from messaging.customer_webhooks import services as cw
from messaging.customer_webhooks.models import WebhookDelivery
from numbers.forms import RoutingForm
from numbers.models import PhoneNumber
from tests.conftest import World, client_for

REFUSED = [
    # (address the host resolves to, words the form error must contain)
    ("127.0.0.1", "loopback"),
    ("10.0.0.5", "private or internal"),
    ("169.254.169.254", "link-local"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.251", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("100.64.0.1", "private or internal"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fec0::1", "site-local"),
    ("fd00::1", "private or internal"),
    ("ff0e::1", "multicast"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "carries the IPv4 address 127.0.0.1"),
    ("::ffff:10.0.0.1", "carries the IPv4 address 10.0.0.1"),
    # NAT64 (RFC 6052 well-known and RFC 8215 local-use prefixes)
    ("64:ff9b::7f00:1", "carries the IPv4 address 127.0.0.1"),
    ("64:ff9b::a9fe:a9fe", "carries the IPv4 address 169.254.169.254"),
    ("64:ff9b:1::a00:1", "carries the IPv4 address 10.0.0.1"),
    ("64:ff9b:1::808:808", "local-use NAT64"),
    # 6to4
    ("2002:7f00:1::1", "carries the IPv4 address 127.0.0.1"),
    ("2002:a00:1::", "carries the IPv4 address 10.0.0.1"),
    # Teredo: the client address is stored inverted (here 10.0.0.1)
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "carries the IPv4 address 10.0.0.1"),
    # IPv4-compatible (deprecated)
    ("::7f00:1", "IPv4-compatible"),
    ("::808:808", "IPv4-compatible"),
]

ALLOWED = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::808:808"]


@pytest.fixture
def resolve_to(monkeypatch):
    def set_address(address: str) -> None:
        monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(0, 0, 0, "", (address, 443))])

    return set_address


@pytest.fixture
def number(world: World) -> PhoneNumber:
    return PhoneNumber.objects.create(
        tenant=world.tenant_a,
        provider_id="n1",
        number="+46766861475",
        country="se",
        has_sms=True,
        has_voice=True,
        status="active",
    )


def _form_accepts(world: World, number: PhoneNumber, url: str) -> bool:
    """The routing form alone (saving also calls 46elks, which is not what is tested here)."""
    with scope(tenant=world.tenant_a):
        form = RoutingForm({"sms_webhook_url": url}, instance=number)
        valid = form.is_valid()
    return valid and form.cleaned_data["sms_webhook_url"] == url


def _save_url(world: World, number: PhoneNumber, url: str):
    return client_for(world.owner_a).post(
        f"/t/{world.tenant_a.slug}/numbers/{number.pk}/routing/", {"sms_webhook_url": url}
    )


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_each_unsafe_address_is_refused_with_a_clear_form_error(
    world, number, resolve_to, settings, address, reason
) -> None:
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    resolve_to(address)
    response = _save_url(world, number, "https://hooks.example.com/in")
    page = response.content.decode()
    assert response.status_code == 400
    assert reason in page, page[:3000]
    number.refresh_from_db()
    assert number.sms_webhook_url == ""


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_each_unsafe_address_is_refused_at_send_time(address, reason, settings, resolve_to) -> None:
    """The URL may have resolved elsewhere when saved (DNS rebinding): checked again."""
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    resolve_to(address)
    with pytest.raises(cw.UnsafeURL, match=reason):
        cw.resolve_public("https://hooks.example.com/in")


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_pass(world, number, resolve_to, settings, address) -> None:
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    resolve_to(address)
    assert _form_accepts(world, number, "https://hooks.example.com/in")
    assert cw.resolve_public("https://hooks.example.com/in") == address


def test_an_ipv4_mapped_address_is_dialled_as_ipv4(resolve_to, settings) -> None:
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    resolve_to("::ffff:93.184.216.34")
    assert cw.resolve_public("https://hooks.example.com/in") == "93.184.216.34"


def test_embedded_ipv4_is_found_in_each_transition_form() -> None:
    import ipaddress

    def inner(text: str) -> str:
        return str(embedded_ipv4(ipaddress.IPv6Address(text)))

    assert inner("::ffff:1.2.3.4") == "1.2.3.4"
    assert inner("64:ff9b::1.2.3.4") == "1.2.3.4"
    assert inner("64:ff9b:1::102:304") == "1.2.3.4"
    assert inner("2002:102:304::1") == "1.2.3.4"
    assert inner("2001:0:4136:e378:8000:63bf:fefd:fcfb") == "1.2.3.4"
    assert embedded_ipv4(ipaddress.IPv6Address("2606:2800::1")) is None
    assert address_refusal(ipaddress.ip_address("8.8.8.8")) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://hooks.example.com:22/in", "Port 22 is not allowed"),
        ("https://hooks.example.com:6379/in", "Port 6379 is not allowed"),
        ("https://hooks.example.com:8443/in", "allowed: 80, 443"),
        ("https://93.184.216.34:25/in", "Port 25 is not allowed"),
    ],
)
def test_only_allowed_ports_are_accepted(world, number, resolve_to, settings, url, reason) -> None:
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    resolve_to("93.184.216.34")
    response = _save_url(world, number, url)
    assert response.status_code == 400
    assert reason in response.content.decode()
    with pytest.raises(cw.UnsafeURL, match=reason):
        cw.resolve_public(url)


def test_staff_can_allow_another_port(world, number, resolve_to, settings) -> None:
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    settings.CUSTOMER_WEBHOOK_ALLOWED_PORTS = [443, 8443]
    resolve_to("93.184.216.34")
    assert _form_accepts(world, number, "https://hooks.example.com:8443/in")
    assert _form_accepts(world, number, "https://hooks.example.com/in")
    assert not _form_accepts(world, number, "https://hooks.example.com:80/in")
    assert cw.resolve_public("https://hooks.example.com:8443/in") == "93.184.216.34"


def test_a_delivery_to_a_url_saved_before_the_port_rule_fails_cleanly(
    world, number, resolve_to, settings
) -> None:
    """A URL saved under older rules is not posted to: the attempt records why."""
    from django.utils import timezone

    from messaging.models import Message

    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    resolve_to("93.184.216.34")
    url = "https://hooks.example.com:6379/in"
    with scopes_disabled():
        PhoneNumber.objects.filter(pk=number.pk).update(sms_webhook_url=url)
        number.refresh_from_db()
        message = Message.objects.create(
            tenant=world.tenant_a,
            number=number,
            direction=Message.Direction.IN,
            other="+46700000001",
            ours=number.number,
            body="hello",
        )
        cw.secret_rotate(tenant=world.tenant_a)
        assert cw.deliveries_enqueue(message=message) == 1
        cw.deliveries_send_due(now=timezone.now())
        delivery = WebhookDelivery.objects.get()
    assert "Port 6379 is not allowed" in delivery.last_error
    assert delivery.status == WebhookDelivery.Status.PENDING
