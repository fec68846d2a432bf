"""Reads across every app's declarations, for the privacy engine to act on."""

from datetime import datetime

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from allied.core.privacy import ModelDeclaration


def rows_past_retention(declaration: ModelDeclaration, field: str, *, now: datetime | None = None) -> QuerySet:
    """The rows whose `field` has outlived its retention: no longer kept by its condition, and with
    the first set of its dates older than the period. Rows with none of the dates set are kept."""
    rule = declaration.personal[field].retention
    cutoff = (now or timezone.now()) - rule.period
    rows = declaration.model._default_manager.all()
    if rule.kept_while is not None:
        rows = rows.exclude(rule.kept_while)
    if len(rule.counts_from) == 1:
        return rows.filter(**{f"{rule.counts_from[0]}__lt": cutoff})
    return rows.alias(retention_counts_from=Coalesce(*rule.counts_from)).filter(retention_counts_from__lt=cutoff)
