"""Every packed order gets a new tracking code in the new format (AES-XXXX-XXXX-XXXX-C: 60 random
bits and a check symbol, allied.orders.tracking), so that the unique constraint of the next
migration holds and no guessable code stays in use.

Replacing codes is acceptable here, and only here: Allied has not handed a parcel to a real
carrier yet, so every code in a database today belongs to demo or test data, and no printed label,
carrier system or recipient's message holds one. Once real parcels travel, a code must never
change again.
"""

from django.db import migrations

from allied.orders.tracking import tracking_code_generate

BATCH = 1000


def replace_tracking_codes(apps, schema_editor) -> None:
    Order = apps.get_model("orders", "Order")
    packed = list(Order.objects.exclude(tracking_code="").order_by("pk").values_list("pk", flat=True))
    # Old codes (AES + 10 digits) can never equal a new one, so remembering the new ones is enough
    # to keep every code unique.
    drawn: set[str] = set()
    for start in range(0, len(packed), BATCH):
        batch = []
        for pk in packed[start : start + BATCH]:
            code = tracking_code_generate()
            while code in drawn:
                code = tracking_code_generate()
            drawn.add(code)
            batch.append(Order(pk=pk, tracking_code=code))
        Order.objects.bulk_update(batch, ["tracking_code"])


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_carrier_codes"),
    ]

    operations = [
        # Going back keeps the new codes: they fit the old column and the old code never read them.
        migrations.RunPython(replace_tracking_codes, migrations.RunPython.noop, elidable=False),
    ]
