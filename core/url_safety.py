"""Which customer webhook URLs we may post to: the address and port rules, shared by the form
that saves a URL and the worker that posts to it (DNS can change in between, so both check).

Invariant: we only ever connect to an address that is publicly routable as itself *and*, when it
is one of the IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo), whose
embedded IPv4 address is publicly routable too; and only on an allowed port.

Why each rule:
- `ipaddress.is_global` alone is not enough: on the Pythons we run it calls multicast
  (224.0.0.0/4, ff0e::/16), site-local fec0::/10 and NAT64/6to4/IPv4-compatible forms of
  127.0.0.1 or 10.0.0.1 "global". A gateway that translates 64:ff9b::a00:1 reaches 10.0.0.1.
- IPv4-compatible addresses (::a.b.c.d) are deprecated (RFC 4291) and never a real host's
  address: refused outright.
- Ports: anything but 80/443 lets a URL talk to SMTP, Redis, databases ... on a public host.
  Staff can widen `CUSTOMER_WEBHOOK_ALLOWED_PORTS`.

Pure functions, no Django beyond reading settings; they return a reason (str) or None.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
SITE_LOCAL = ipaddress.ip_network("fec0::/10")
DEFAULT_PORTS = (80, 443)


class UnsafeURL(Exception):
    """The URL may not be posted to (scheme, port, or resolves to a non-public address)."""


def allowed_ports() -> frozenset[int]:
    ports = getattr(settings, "CUSTOMER_WEBHOOK_ALLOWED_PORTS", DEFAULT_PORTS)
    return frozenset(int(p) for p in ports)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition form carries (mapped, NAT64, 6to4, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64_WELL_KNOWN or address in NAT64_LOCAL_USE:
        # RFC 6052 with a /96 prefix: the IPv4 address is the last 32 bits.
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # (server, client): the client is the one we would reach
    return None


def _ipv4_refusal(address: ipaddress.IPv4Address) -> str | None:
    if address.is_unspecified:
        return "is unspecified"
    if address.is_loopback:
        return "is a loopback address"
    if address.is_link_local:
        return "is link-local"
    if address.is_multicast:
        return "is a multicast address"
    if address.is_reserved:
        return "is a reserved address"
    if address.is_private or not address.is_global:
        return "is a private or internal address"
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why we will not connect to this address, or None when it is public."""
    if isinstance(address, ipaddress.IPv4Address):
        return _ipv4_refusal(address)
    if address.is_unspecified:
        return "is unspecified"
    if address.is_loopback:
        return "is a loopback address"
    if address.is_multicast:
        return "is a multicast address"
    if address.is_link_local:
        return "is link-local"
    if address in SITE_LOCAL or address.is_site_local:
        return "is site-local"
    if address in IPV4_COMPATIBLE:
        return "is an IPv4-compatible IPv6 address (deprecated, not accepted)"
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = _ipv4_refusal(inner)
        if reason is not None:
            return f"carries the IPv4 address {inner}, which {reason}"
        if address.ipv4_mapped is not None or address in NAT64_WELL_KNOWN:
            return None  # the public IPv4 host itself, through the mapping or a NAT64 gateway
        if address in NAT64_LOCAL_USE:
            return "is a local-use NAT64 address"
    if address.is_reserved:
        return "is a reserved address"
    if address.is_private or not address.is_global:
        return "is a private or internal address"
    return None


def url_port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("The URL's port is not a number between 0 and 65535.") from exc
    return port or (443 if parts.scheme == "https" else 80)


def port_refusal(port: int) -> str | None:
    ports = allowed_ports()
    if port in ports:
        return None
    listed = ", ".join(str(p) for p in sorted(ports))
    return f"Port {port} is not allowed for webhooks (allowed: {listed})."


def public_addresses(url: str, *, allow_private: bool = False) -> list[IPAddress]:
    """Every address the URL's host resolves to, after the scheme, port and address rules.

    Raises UnsafeURL with a sentence fit for a form error. `allow_private` (tests and the local
    demo only) lifts the port and address rules and allows plain http://.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise UnsafeURL("Use an https:// URL.")
    host = parts.hostname or ""
    if not host:
        raise UnsafeURL("The URL has no host.")
    port = url_port(parts)
    if not allow_private and (reason := port_refusal(port)):
        raise UnsafeURL(reason)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host “{host}” does not resolve.") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        # Scope ids ("fe80::1%eth0") are not part of the address.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not allow_private and (reason := address_refusal(address)):
            raise UnsafeURL(f"The URL's host resolves to {address}, which {reason}.")
        addresses.append(address)
    if not addresses:
        raise UnsafeURL(f"The host “{host}” does not resolve.")
    return addresses


def connect_address(address: IPAddress) -> str:
    """The address string to connect to: an IPv4-mapped address is dialled as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
