from decimal import Decimal

import factory

from allied.catalog.models import Product
from tests.accounts.factories import OrganizationFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    organization = factory.SubFactory(OrganizationFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    barcodes = factory.Sequence(lambda n: [f"{4000000000000 + n}"])
    weight_grams = 500
    declared_value = Decimal("1200.00")
