"""Per-request context (request id, client network) carried to logs and audit rows."""

import ipaddress
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_prefix: str = ""


current_request: ContextVar[RequestContext] = ContextVar("current_request", default=RequestContext())


def truncate_ip(address: str | None) -> str:
    """Keep only the network of an address: /24 for IPv4, /48 for IPv6 (a person is not an IP)."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
