import pytest

from allied.inventory.models import Stock
from tests.catalog.factories import ProductFactory
from tests.processes import run_allied

pytestmark = pytest.mark.django_db(transaction=True)


def test_verify_passes_on_consistent_books_and_fails_on_a_tampered_balance(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 7)

    consistent = run_allied("inventory", "verify")
    Stock.objects.filter(product=tee).update(on_hand=9)
    tampered = run_allied("inventory", "verify")

    assert consistent.returncode == 0, consistent.stderr
    assert "agree" in consistent.stdout
    assert tampered.returncode == 1
    assert "TEE @ KHI-W1: on_hand is 9 but the ledger sums to 7" in tampered.stderr
    assert "its bins hold 7" in tampered.stderr
