"""Per-request context (request id, client network) carried to logs and audit rows."""

import ipaddress
from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_prefix: str = ""


_current_request: ContextVar[RequestContext | None] = ContextVar("current_request", default=None)
NO_REQUEST = RequestContext()


def request_context() -> RequestContext:
    return _current_request.get() or NO_REQUEST


def enter_request(context: RequestContext) -> Token[RequestContext | None]:
    return _current_request.set(context)


def leave_request(token: Token[RequestContext | None]) -> None:
    _current_request.reset(token)


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
