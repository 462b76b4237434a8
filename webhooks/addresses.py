"""Where a webhook may be sent: public addresses only (SSRF), checked after DNS resolution.

The check runs when an admin saves an endpoint and again before every attempt, and the attempt
connects to the very address that passed (see services._send), so a host name that resolves to a
public address at save time and to 127.0.0.1 later (DNS rebinding) is refused too.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(Exception):
    """The URL may never be called as it is (its address is private, its scheme wrong …)."""


class ResolutionFailed(Exception):
    """The host name did not resolve; that may pass (DNS trouble), so an attempt is retried."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL, without brackets
    port: int
    addresses: list[IPAddress]


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return _("a loopback address")
    if address.is_link_local:
        return _("a link-local address")
    if address.is_multicast:
        return _("a multicast address")
    if address.is_private:
        return _("a private address")
    if address.is_unspecified or address.is_reserved or not address.is_global:
        return _("a reserved address")
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ResolutionFailed(
            _("The host name %(host)s cannot be resolved.") % {"host": host}
        ) from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_url(url: str, *, allow_private: bool, require_https: bool) -> Target:
    """The URL's target with the addresses its host resolves to now; raises UrlRefused when it
    is not an http(s) URL, needs https, carries credentials, or any of its addresses is not
    public (unless ``allow_private``), and ResolutionFailed when the host does not resolve."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused(_("Enter an http:// or https:// URL."))
    if require_https and parts.scheme != "https":
        raise UrlRefused(_("Use an https:// URL."))
    if parts.username is not None or parts.password is not None:
        raise UrlRefused(_("Put no user name or password in the URL."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UrlRefused(_("The port in the URL is not valid.")) from exc
    addresses = _resolve(parts.hostname, port)
    if not addresses:
        raise ResolutionFailed(
            _("The host name %(host)s cannot be resolved.") % {"host": parts.hostname}
        )
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason:
                raise UrlRefused(
                    _(
                        "%(host)s resolves to %(address)s, %(reason)s; webhooks go to public "
                        "addresses only."
                    )
                    % {"host": parts.hostname, "address": address, "reason": reason}
                )
    return Target(scheme=parts.scheme, host=parts.hostname, port=port, addresses=addresses)
