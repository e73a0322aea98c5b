"""Who is asking, as far as a server can tell: the client address behind a reverse proxy.

The TCP peer of a dashboard behind nginx is nginx: every user would share one address (one
client's lock or rate limit would then be everyone's). The proxy's `X-Forwarded-For` names the
real client, but anyone can send that header: it is believed only when the peer is a proxy that
`DANGAN_TRUSTED_PROXIES` names, and then its rightmost address that is not itself a trusted
proxy is the client (the entries to its left were written by the client and prove nothing).
"""

from __future__ import annotations

import ipaddress

from pipelines import config

ENV_TRUSTED_PROXIES = "DANGAN_TRUSTED_PROXIES"  # comma-separated addresses or networks


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    found = []
    for part in (config.env(ENV_TRUSTED_PROXIES, "") or "").split(","):
        if part.strip():
            try:
                found.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"环境变量 {ENV_TRUSTED_PROXIES} 中的“{part.strip()}”不是 IP 地址或网段") from None
    return found


def _is_trusted(address: str, trusted: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = None) -> str:
    """The client's address: the peer, or through trusted proxies the forwarded one."""
    trusted = trusted_proxies() if trusted is None else trusted
    peer = (peer or "").strip()
    if not peer or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a forged or broken header: the proxy is all we know
    return peer
