"""Tracking codes: printed on the label, encoded in its barcode, scanned at handover, typed into
the public tracking page.

A code reads `AES-XXXX-XXXX-XXXX-C`: twelve symbols of Crockford's base32 carrying 60 bits from
`secrets` (so codes can be neither guessed nor walked one by one: a million parcels in flight
leave a guess about one chance in 10^12), then one check symbol. The alphabet has no I, L, O or U,
so nothing reads as 0 or 1 or as another letter; when people type O, I or L anyway, they are read
as 0 and 1, as Crockford's decoding does.

The check symbol is chosen so that the 13 symbols, read as elements of GF(32) and weighted by
successive powers of a primitive element, sum to zero. The weights are distinct and non-zero, so
changing any one symbol (the check symbol included) or swapping any two different symbols,
adjacent or not, always breaks the sum. Unlike Crockford's own mod-37 check, the check symbol
comes from the same 32 symbols, so no `*~$=` ends up on a label or in a URL.
"""

import secrets
from collections.abc import Callable

from allied.orders.models import Order

PREFIX = "AES"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_SYMBOLS = 12
RANDOM_BITS = 5 * RANDOM_SYMBOLS
GROUP = 4

_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_MODULUS = 0b100101  # x^5 + x^2 + 1, primitive over GF(2): x generates all 31 non-zero elements


def _times_x(value: int) -> int:
    value <<= 1
    return value ^ _MODULUS if value & 0b100000 else value


def _weighted_sum(values: list[int]) -> int:
    """Σ value_i · x^(n-1-i) in GF(32), by Horner's rule (addition in GF(2^5) is XOR)."""
    total = 0
    for value in values:
        total = _times_x(total) ^ value
    return total


def _check_value(values: list[int]) -> int:
    """The symbol that makes the weighted sum of values + [check] zero."""
    return _times_x(_weighted_sum(values))


def _formatted(symbols: str) -> str:
    body, check = symbols[:-1], symbols[-1]
    groups = [body[start : start + GROUP] for start in range(0, len(body), GROUP)]
    return "-".join([PREFIX, *groups, check])


def tracking_code_generate(*, draw: Callable[[int], int] = secrets.randbits) -> str:
    """A fresh code with 60 random bits (`draw` is the source of those bits: `secrets` but in tests)."""
    number = draw(RANDOM_BITS)
    values = [(number >> (5 * place)) & 0b11111 for place in reversed(range(RANDOM_SYMBOLS))]
    values.append(_check_value(values))
    return _formatted("".join(ALPHABET[value] for value in values))


def tracking_code_normalize(raw: str) -> str | None:
    """The code in its printed form (`AES-XXXX-XXXX-XXXX-C`), whatever the case, spaces and hyphens
    it was typed or scanned with; None when it is not a tracking code or its check symbol fails."""
    if len(raw) > 64:
        return None
    compact = "".join(raw.split()).replace("-", "").upper()
    if not compact.startswith(PREFIX):
        return None
    symbols = compact.removeprefix(PREFIX).translate(_READ_AS)
    if len(symbols) != RANDOM_SYMBOLS + 1 or not all(symbol in _VALUES for symbol in symbols):
        return None
    if _weighted_sum([_VALUES[symbol] for symbol in symbols]) != 0:
        return None
    return _formatted(symbols)


def tracking_code_is_valid(code: str) -> bool:
    """Whether this is a well-formed tracking code with a correct check symbol (normalised first)."""
    return tracking_code_normalize(code) is not None


def tracking_code_new(*, draw: Callable[[int], int] = secrets.randbits) -> str:
    """A code no order carries yet. With 60 bits a repeat is astronomically unlikely, but drawing
    again costs one indexed lookup; two packers drawing the same new code in the same instant
    would still meet the unique constraint rather than share a code."""
    while True:
        code = tracking_code_generate(draw=draw)
        if not Order.objects.filter(tracking_code=code).exists():
            return code
