import factory

from allied.inventory.models import Bin, BinKind, Warehouse


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = "KHI-W1"
    name = "Karachi Fulfilment Centre"
    address_line1 = "Plot 14, Korangi"
    city = "Karachi"


class BinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bin
        django_get_or_create = ("warehouse", "code")

    warehouse = factory.SubFactory(WarehouseFactory)
    code = factory.Sequence(lambda n: f"A-{n:02d}-01")
    kind = BinKind.STORAGE
