"""Fixed-window limits per client address, kept in the cache: the public pages' defence against
one client asking too often (tracking lookups, the website's forms). The address is only a cache
key for the window's length; it is never stored with what the client sent.

Limits on reads count in the READ_LIMITS cache, which never writes to the database (settings.py:
in process memory when there is no Redis), so a public GET writes nothing."""

import ipaddress
import time

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.http import HttpRequest

READ_LIMITS = "read_limits"


def client_network(request: HttpRequest) -> str:
    """The client's address; an IPv6 client's /64, which one household or phone holds whole."""
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def over_limit(
    request: HttpRequest, scope: str, limit: int, window: int, *, counter: str = DEFAULT_CACHE_ALIAS
) -> bool:
    """Count one use in the client's current fixed window of the `counter` cache; True past `limit`."""
    cache = caches[counter]
    key = f"allied:{scope}:{client_network(request)}:{int(time.time() // window)}"
    if cache.add(key, 1, timeout=window):
        return False
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=window)
        return False
