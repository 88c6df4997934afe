"""What the outbound guard allows, and how long and how much it waits: pure values.

The settings build and check them (``fetch_allow``, ``Settings.link_limits``) when they
load; ``ostogether.edges.fetch``, the guard itself, enforces them on every hop. They live
in the core so that the settings import nothing but the core; the guard re-exports them
(``fetch.Allow``, ``fetch.parse_allow``, ``fetch.Limits``).
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from ostogether.core.errors import ConfigError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# --------------------------------------------------------------------- what is allowed

@dataclass(frozen=True)
class Allow:
    """Exceptions to the public-only rule: host names (with an optional port) and
    address ranges."""

    hosts: frozenset[tuple[str, int | None]] = frozenset()
    networks: tuple[IPNetwork, ...] = ()
    addresses: frozenset[tuple[IPAddress, int | None]] = frozenset()

    def host(self, name: str, port: int) -> bool:
        name = name.lower().rstrip(".")
        return (name, None) in self.hosts or (name, port) in self.hosts

    def address(self, ip: IPAddress, port: int) -> bool:
        return ((ip, None) in self.addresses or (ip, port) in self.addresses
                or any(ip.version == n.version and ip in n for n in self.networks))


@functools.lru_cache(maxsize=16)
def parse_allow(text: str, where: str = "fetch_allow") -> Allow:
    """``"intranet.example:8080, 10.0.0.0/8, 127.0.0.1/32"`` → Allow; ConfigError with the
    bad entry otherwise."""
    hosts: set[tuple[str, int | None]] = set()
    networks: list[IPNetwork] = []
    addresses: set[tuple[IPAddress, int | None]] = set()
    for raw in (t.strip() for t in text.split(",")):
        if not raw:
            continue
        if "/" in raw:
            try:
                networks.append(ipaddress.ip_network(raw, strict=False))
            except ValueError:
                raise ConfigError(f"{where}: '{raw}' is not an address range such as "
                                  f"10.0.0.0/8 or fd00::/8.") from None
            continue
        host, port = raw, None
        if raw.startswith("["):  # [::1]:8080
            host, _, rest = raw[1:].partition("]")
            port_text = rest.removeprefix(":")
            port = int(port_text) if port_text.isdigit() else None
        elif raw.count(":") == 1:
            host, _, port_text = raw.partition(":")
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ConfigError(f"{where}: '{raw}' has a bad port; write host or host:port.")
            port = int(port_text)
        if not host or any(c.isspace() for c in host):
            raise ConfigError(f"{where}: '{raw}' is not a host name, host:port or range.")
        try:  # an address names what a name resolves to, as well as itself
            addresses.add((ipaddress.ip_address(host), port))
        except ValueError:
            hosts.add((host.lower().rstrip("."), port))
    return Allow(frozenset(hosts), tuple(networks), frozenset(addresses))


# --------------------------------------------------------------------------- limits

@dataclass(frozen=True)
class Limits:
    """How long and how much: ``deadline`` is the total for every hop, connect, headers
    and body; ``read_timeout`` bounds each wait for data within it."""

    deadline: float = 25.0
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
