from django.db import migrations, models


class Migration(migrations.Migration):
    """A tracking code names one parcel; an empty code means not packed yet, so it is left out."""

    dependencies = [
        ("orders", "0006_new_tracking_codes"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(
                condition=models.Q(("tracking_code", ""), _negated=True),
                fields=("tracking_code",),
                name="order_tracking_code_unique",
            ),
        ),
    ]
