"""The fakes' fixtures for tests beside them. A test elsewhere declares the same few lines (a fixture
of another directory's conftest is not visible to it)."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.shopify import FakeShopify, served_fake_shopify


@pytest.fixture
def fake_shopify(settings: Any) -> Iterator[FakeShopify]:
    yield from served_fake_shopify(settings)
