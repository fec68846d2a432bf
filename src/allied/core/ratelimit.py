"""Per-client limits for public forms and lookups, counted in the cache in fixed windows.

A client is its IP address, or an IPv6 client's /64 (which one household or phone holds whole).
Nothing is stored beyond the window, and the address is never written to the database.
"""

import ipaddress
import time

from django.core.cache import cache
from django.http import HttpRequest


def client_network(request: HttpRequest) -> str:
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def over_limit(request: HttpRequest, scope: str, limit: int, window: int) -> bool:
    """Count one use in the client's current fixed window; True past `limit`."""
    key = f"allied:{scope}:{client_network(request)}:{int(time.time() // window)}"
    if cache.add(key, 1, timeout=window):
        return False
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=window)
        return False
