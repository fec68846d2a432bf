"""Store deliveries rejected and erased before an erasure also replaced the reason: the reason
could quote the phone that could not be read, so it goes now (inbox_bodies_redact does so since)."""

from django.db import migrations

REDACTED_BODY = '{"redacted": true}'
ERASED_REASON = "The body was erased at a privacy request."


def erase_reasons(apps, schema_editor):
    InboxMessage = apps.get_model("integrations", "InboxMessage")
    erased = InboxMessage.objects.filter(status="rejected", body=REDACTED_BODY).exclude(reason=ERASED_REASON)
    erased.update(reason=ERASED_REASON)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0004_marketplace_sellers_share_an_address")]

    operations = [migrations.RunPython(erase_reasons, migrations.RunPython.noop)]
