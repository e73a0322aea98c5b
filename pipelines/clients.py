"""Who is asking, as far as a server can tell: the client address behind a reverse proxy.

The TCP peer of a dashboard behind nginx is nginx: every user would share one address (one
client's lock or rate limit would then be everyone's). The proxy's `X-Forwarded-For` names the
real client, but anyone can send that header: it is believed only when the peer is a proxy that
`DANGAN_TRUSTED_PROXIES` names, and then its rightmost address that is not itself a trusted
proxy is the client (the entries to its left were written by the client and prove nothing).
"""

from __future__ import annotations

import ipaddress

from pipelines.store import config

ENV_TRUSTED_PROXIES = "DANGAN_TRUSTED_PROXIES"  # comma-separated addresses or networks


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> Address | None:
    """An address, IPv4-mapped IPv6 (`::ffff:10.0.0.2`, how a server bound to both stacks sees
    an IPv4 peer) as the IPv4 address it is; None if it is none."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip


def _network(text: str) -> Network:
    net = ipaddress.ip_network(text, strict=False)
    mapped = ipaddress.IPv6Network("::ffff:0:0/96")
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(mapped):
        first = net.network_address.ipv4_mapped
        assert first is not None
        return ipaddress.IPv4Network(f"{first}/{net.prefixlen - 96}")
    return net


def trusted_proxies() -> list[Network]:
    found = []
    for part in (config.env(ENV_TRUSTED_PROXIES, "") or "").split(","):
        if part.strip():
            try:
                found.append(_network(part.strip()))
            except ValueError:
                raise ValueError(f"环境变量 {ENV_TRUSTED_PROXIES} 中的“{part.strip()}”不是 IP 地址或网段") from None
    return found


def _is_trusted(address: str, trusted: list[Network]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in net for net in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted: list[Network] | None = None) -> str:
    """The client's address: the peer, or through trusted proxies the forwarded one."""
    trusted = trusted_proxies() if trusted is None else trusted
    peer = (peer or "").strip()
    known = _address(peer)
    peer = str(known) if known is not None else peer
    if not peer or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            found = _address(hop)
            return str(found) if found is not None else peer  # a forged or broken header: the proxy is all we know
    return peer
