"""Tracking codes: their format, their check symbol (property tests over every 60-bit payload)
and their uniqueness in the database."""

import re

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from allied.orders.models import Order
from allied.orders.services.intake import order_create
from allied.orders.tracking import (
    ALPHABET,
    RANDOM_BITS,
    tracking_code_generate,
    tracking_code_is_valid,
    tracking_code_new,
    tracking_code_normalize,
)
from tests.catalog.factories import ProductFactory
from tests.orders.factories import order_input

PRINTED = re.compile(r"AES-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]")
payloads = st.integers(min_value=0, max_value=2**RANDOM_BITS - 1)


def code_of(payload: int) -> str:
    return tracking_code_generate(draw=lambda bits: payload)


def symbols_of(code: str) -> str:
    """The 13 symbols after the prefix, without hyphens."""
    return code.replace("-", "").removeprefix("AES")


@given(payloads)
def test_every_payload_gives_a_valid_printed_code_that_encodes_it(payload: int) -> None:
    code = code_of(payload)

    assert PRINTED.fullmatch(code), code
    assert len(code) == 20  # the column's width
    assert tracking_code_is_valid(code)
    assert sum(ALPHABET.index(s) << (5 * (11 - i)) for i, s in enumerate(symbols_of(code)[:12])) == payload


@given(payloads, st.integers(min_value=0, max_value=12), st.sampled_from(ALPHABET))
def test_any_single_wrong_symbol_is_caught(payload: int, position: int, typed: str) -> None:
    symbols = symbols_of(code_of(payload))
    mistyped = symbols[:position] + typed + symbols[position + 1 :]

    assert tracking_code_is_valid("AES" + mistyped) == (mistyped == symbols)


@given(payloads, st.integers(min_value=0, max_value=11))
def test_any_swap_of_two_neighbouring_symbols_is_caught(payload: int, position: int) -> None:
    symbols = list(symbols_of(code_of(payload)))
    swapped = symbols.copy()
    swapped[position], swapped[position + 1] = symbols[position + 1], symbols[position]

    assert tracking_code_is_valid("AES" + "".join(swapped)) == (swapped == symbols)


@given(payloads, st.integers(min_value=0, max_value=12), st.integers(min_value=0, max_value=12))
def test_any_swap_of_two_symbols_anywhere_is_caught(payload: int, first: int, second: int) -> None:
    symbols = list(symbols_of(code_of(payload)))
    swapped = symbols.copy()
    swapped[first], swapped[second] = symbols[second], symbols[first]

    assert tracking_code_is_valid("AES" + "".join(swapped)) == (swapped == symbols)


@given(payloads, st.sampled_from(["{}", "{lower}", "{compact}", "{compact_lower}", " {spaced} ", "{spaced_lower}"]))
def test_case_spaces_and_hyphens_do_not_matter(payload: int, shape: str) -> None:
    code = code_of(payload)
    compact = code.replace("-", "")
    typed = shape.format(
        code,
        lower=code.lower(),
        compact=compact,
        compact_lower=compact.lower(),
        spaced=code.replace("-", " "),
        spaced_lower=code.replace("-", " ").lower(),
    )

    assert tracking_code_normalize(typed) == code


def test_o_i_and_l_typed_by_people_read_as_zero_and_one() -> None:
    values = [0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    code = code_of(sum(value << (5 * (11 - place)) for place, value in enumerate(values)))
    assert code.startswith("AES-0101-2345-6789-")

    assert tracking_code_normalize(code.replace("0", "o").replace("1", "I", 1).replace("1", "l")) == code


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "AES",
        "AES1234567890",  # the old format
        "XYZ-F8PS-YF0H-PKJR-7",  # another prefix
        "AES-F8PS-YF0H-PKJR",  # no check symbol
        "AES-F8PS-YF0H-PKJR-77",  # one symbol too many
        "AES-F8PS-YF0H-PKJU-7",  # U is not in the alphabet
        "AES-F8PS-YF0H-PKJR-8",  # a wrong check symbol
        "AES-F8PS-YF0H-PKJR-7" * 4,
    ],
)
def test_anything_else_is_not_a_tracking_code(raw: str) -> None:
    assert tracking_code_normalize(raw) is None
    assert not tracking_code_is_valid(raw)


def test_the_documented_example_is_valid() -> None:
    assert tracking_code_is_valid("AES-F8PS-YF0H-PKJR-7")


def test_generated_codes_come_from_sixty_random_bits() -> None:
    codes = {tracking_code_generate() for _ in range(2000)}

    assert len(codes) == 2000
    assert all(tracking_code_is_valid(code) for code in codes)
    # Every symbol of the alphabet shows up in every random position.
    for position in range(12):
        assert {symbols_of(code)[position] for code in codes} == set(ALPHABET)


@pytest.mark.django_db
def test_a_code_already_in_use_is_drawn_again(partner_a, floor, system_actor) -> None:
    ProductFactory(organization=partner_a, sku="TEE")
    order = order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=system_actor).order
    taken, fresh = 0x1111111111, 0x2222222222
    Order.objects.filter(pk=order.pk).update(tracking_code=code_of(taken))
    draws = iter([taken, taken, fresh])

    code = tracking_code_new(draw=lambda bits: next(draws))

    assert code == code_of(fresh)


@pytest.mark.django_db
def test_two_orders_cannot_share_a_tracking_code_but_many_can_have_none(partner_a, floor, system_actor) -> None:
    ProductFactory(organization=partner_a, sku="TEE")
    first, second, third = (
        order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=system_actor).order for _ in range(3)
    )
    code = tracking_code_generate()
    Order.objects.filter(pk=first.pk).update(tracking_code=code)

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=second.pk).update(tracking_code=code)

    assert Order.objects.filter(tracking_code="").count() == 2
    assert {second.pk, third.pk} == set(Order.objects.filter(tracking_code="").values_list("pk", flat=True))
