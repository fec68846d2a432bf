"""The retention job: applies every app's declared retention rule. A row past its rule loses its
personal fields (or, where the app declared nothing in the row outlives the person, the row
itself); what it did is recorded as a RetentionRun, and a second run finds nothing left to do."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from allied.accounts.policy import PRIVACY_MANAGE, Actor, require
from allied.core.audit import audit_record
from allied.core.privacy import DELETE, ModelDeclaration, Retention, declarations
from allied.core.selectors import rows_past_retention
from allied.privacy.models import RetentionRun


@dataclass(frozen=True)
class _Blank:
    """What a field holds once its person is gone."""

    value: Any
    per_row: bool = False  # a unique field: each row gets its own placeholder
    is_file: bool = False


def _blank(field: models.Field) -> _Blank:
    if isinstance(field, models.FileField):
        return _Blank("", is_file=True)
    if field.unique and isinstance(field, models.CharField):
        return _Blank("erased-{pk}@erased.invalid" if isinstance(field, models.EmailField) else "erased-{pk}", True)
    if field.null:
        return _Blank(None)
    if field.has_default():
        return _Blank(field.get_default())
    if isinstance(field, models.CharField | models.TextField):
        return _Blank("")
    raise ValueError(f"{field.model._meta.label}.{field.name} has no value that says nothing about a person")


def _concrete(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise ValueError(f"{model._meta.label}.{name} is a reverse relation, not a field that holds data")
    return field


def _still_personal(name: str, blank: _Blank) -> Q:
    if blank.per_row:
        return ~Q(**{f"{name}__startswith": "erased-"})
    if blank.value is None:
        return Q(**{f"{name}__isnull": False})
    return ~Q(**{name: blank.value})


def _rules(declaration: ModelDeclaration) -> dict[Retention, list[str]]:
    fields_by_rule: dict[Retention, list[str]] = defaultdict(list)
    for name, personal in declaration.personal.items():
        fields_by_rule[personal.retention].append(name)
    return fields_by_rule


def _redact(model: type[models.Model], names: list[str], rows: Any, dry_run: bool) -> int:
    blanks = {name: _blank(_concrete(model, name)) for name in names}
    needing = Q()
    for name, blank in blanks.items():
        needing |= _still_personal(name, blank)
    rows = rows.filter(needing)
    if dry_run:
        return int(rows.count())
    per_row = {name: blank for name, blank in blanks.items() if blank.per_row or blank.is_file}
    if per_row:
        for row in rows.only("pk", *per_row):
            for name, blank in per_row.items():
                if blank.is_file and getattr(row, name):
                    getattr(row, name).delete(save=False)
        ids = list(rows.values_list("pk", flat=True))
        for pk in ids:
            model._default_manager.filter(pk=pk).update(
                **{name: blank.value.format(pk=pk) for name, blank in per_row.items() if blank.per_row}
            )
    else:
        ids = []
    bulk = {name: blank.value for name, blank in blanks.items() if not blank.per_row}
    if ids:
        return int(model._default_manager.filter(pk__in=ids).update(**bulk)) if bulk else len(ids)
    return int(rows.update(**bulk))


def _delete(rows: Any, dry_run: bool) -> tuple[int, str]:
    if dry_run:
        return int(rows.count()), ""
    deleted = 0
    for row in rows.iterator():
        try:
            with transaction.atomic():
                row.delete()
            deleted += 1
        except (ProtectedError, RestrictedError) as kept:
            return deleted, f"kept while other records refer to it ({kept.args[0][:120]})"
    return deleted, ""


def _apply(declaration: ModelDeclaration, now: datetime, dry_run: bool) -> list[dict[str, Any]]:
    model = declaration.model
    results = []
    for rule, names in _rules(declaration).items():
        expired = rows_past_retention(declaration, names[0], now=now)
        note = ""
        with transaction.atomic():
            if declaration.on_expiry == DELETE:
                rows, note = _delete(expired, dry_run)
            else:
                rows = _redact(model, names, expired, dry_run)
        results.append(
            {
                "model": declaration.model_label,
                "fields": sorted(names),
                "rule": rule.description,
                "action": "delete" if declaration.on_expiry == DELETE else "redact",
                "rows": rows,
                "note": note,
            }
        )
    return results


def retention_run(*, actor: Actor, dry_run: bool = False, now: datetime | None = None) -> RetentionRun:
    """Apply every declared retention rule once (or, with `dry_run`, count what it would touch).
    Each model's rule runs in its own transaction, so one refusal does not undo the rest."""
    if not actor.is_system:
        require(actor, PRIVACY_MANAGE)
    now = now or timezone.now()
    run = RetentionRun.objects.create(dry_run=dry_run, triggered_by=actor.label)
    results = []
    for _, declaration in sorted(declarations().items()):
        if declaration.personal:
            results.extend(_apply(declaration, now, dry_run))
    run.results = results
    run.rows = sum(result["rows"] for result in results)
    run.finished_at = timezone.now()
    run.save(update_fields=["results", "rows", "finished_at"])
    if not dry_run and run.rows:
        audit_record(action="privacy.retention_applied", actor=actor, target=run, changes={"rows": run.rows})
    return run
