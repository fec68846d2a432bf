from django.db import migrations, models


class Migration(migrations.Migration):
    """Manifest.carrier already held codes (the old TextChoices values); the choices move to the
    carrier registry in allied.core.carriers, so the column only grows to match Order.carrier."""

    dependencies = [
        ("fulfillment", "0002_ordering_by_key_columns"),
    ]

    operations = [
        migrations.AlterField(
            model_name="manifest",
            name="carrier",
            field=models.CharField(help_text="A code from allied.core.carriers.", max_length=40),
        ),
    ]
