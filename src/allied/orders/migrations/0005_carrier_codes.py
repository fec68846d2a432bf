"""Order.carrier stored the carrier's display label; from now on it stores the registry code
(allied.core.carriers), so an order leads to its carrier and, later, to the carrier's adapter."""

from django.db import migrations

# The labels the old fulfilment.Carrier choices wrote at handover, frozen here as they were.
CODE_OF_LABEL = {
    "AES riders": "aes_riders",
    "TCS": "tcs",
    "Leopards Courier": "leopards",
    "M&P": "mp",
}
LABEL_OF_CODE = {code: label for label, code in CODE_OF_LABEL.items()}


def carrier_code_of(value: str) -> str:
    """The code for a stored label (compared without regard to case or surrounding spaces); a
    value that is already a code, or that no carrier ever had, is kept as it is."""
    by_folded_label = {label.casefold(): code for label, code in CODE_OF_LABEL.items()}
    return by_folded_label.get(value.strip().casefold(), value)


def _convert(apps, mapping) -> None:
    Order = apps.get_model("orders", "Order")
    for value in Order.objects.exclude(carrier="").values_list("carrier", flat=True).distinct():
        converted = mapping(value)
        if converted != value:
            Order.objects.filter(carrier=value).update(carrier=converted)


def labels_to_codes(apps, schema_editor) -> None:
    _convert(apps, carrier_code_of)


def codes_to_labels(apps, schema_editor) -> None:
    _convert(apps, lambda value: LABEL_OF_CODE.get(value, value))


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_organization_index_served_by_unique"),
    ]

    operations = [
        migrations.RunPython(labels_to_codes, codes_to_labels, elidable=False),
    ]
