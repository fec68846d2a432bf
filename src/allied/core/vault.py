"""Secrets at rest: encrypted with the current vault key, readable with any configured key.

`ALLIED_VAULT_KEYS` lists Fernet keys, the current one first. Each value is sealed for one
purpose and opens for no other. Every app registers the columns that hold sealed values
(`sealed_fields_register`, from its `AppConfig.ready()`), so `allied vault rotate` can re-seal
all of them under a new key without knowing the apps. Every plaintext that passes through here is
remembered by `core.secret_masking`, which masks it in log lines and error pages.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction

from allied.core.locks import sealed_row_for_update
from allied.core.secret_masking import secret_seen


class VaultError(Exception):
    pass


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.VAULT_KEYS])


def vault_encrypt(plaintext: str, *, purpose: str) -> str:
    """Encrypt for one purpose; a value sealed for one purpose never opens for another."""
    secret_seen(plaintext)
    return _fernet().encrypt(f"{purpose}\x00{plaintext}".encode()).decode()


def vault_decrypt(token: str, *, purpose: str) -> str:
    try:
        opened = _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise VaultError("The secret cannot be opened with the configured vault keys.") from error
    sealed_purpose, _, plaintext = opened.partition("\x00")
    if sealed_purpose != purpose:
        raise VaultError("The secret was sealed for another purpose.")
    secret_seen(plaintext)
    return plaintext


def vault_rotate(token: str) -> str:
    """Re-encrypt with the current (first) key, after a new key is put in front."""
    return _fernet().rotate(token.encode()).decode()


# The registry of sealed columns -----------------------------------------------------------------


@dataclass(frozen=True)
class SealedKind:
    """`text`: the column is one vault token. `json-values`: a JSON object whose values are tokens
    (or lists of tokens); only those under `keys` when keys are given."""

    name: Literal["text", "json-values"]
    keys: tuple[str, ...] = ()


TEXT = SealedKind("text")
JSON_VALUES = SealedKind("json-values")


def json_values(*keys: str) -> SealedKind:
    return SealedKind("json-values", keys)


@dataclass(frozen=True)
class SealedField:
    model_label: str  # "integrations.Connection"
    field: str
    kind: SealedKind

    def __str__(self) -> str:
        return f"{self.model_label}.{self.field}"

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def tokens(self, value: Any) -> Iterator[tuple[str, str]]:
        """(where, token) for every token in a column's value; `where` names it in a report."""
        if self.kind.name == "text":
            if value:
                yield self.field, value
            return
        if not isinstance(value, dict):
            return
        for key, item in value.items():
            if self.kind.keys and key not in self.kind.keys:
                continue
            items = item if isinstance(item, list) else [item]
            for index, token in enumerate(items):
                if isinstance(token, str) and token:
                    yield (f"{self.field}.{key}" + (f"[{index}]" if isinstance(item, list) else "")), token

    def replace(self, value: Any, resealed: dict[str, str]) -> Any:
        """The column's value with each token replaced by its re-sealed one (`resealed`: old -> new)."""
        if self.kind.name == "text":
            return resealed.get(value, value)
        replaced = {}
        for key, item in value.items():
            if self.kind.keys and key not in self.kind.keys:
                replaced[key] = item
            elif isinstance(item, list):
                replaced[key] = [resealed.get(token, token) if isinstance(token, str) else token for token in item]
            else:
                replaced[key] = resealed.get(item, item) if isinstance(item, str) else item
        return replaced


_sealed_fields: dict[str, SealedField] = {}


def sealed_fields_register(model_label: str, **fields: SealedKind) -> None:
    """Declare the columns of a model that hold vault tokens, e.g.
    `sealed_fields_register("core.Subscription", secret=TEXT)`; called from `AppConfig.ready()`."""
    for name, kind in fields.items():
        sealed = SealedField(model_label, name, kind)
        _sealed_fields[str(sealed)] = sealed


def sealed_fields() -> list[SealedField]:
    return sorted(_sealed_fields.values(), key=str)


@checks.register(checks.Tags.models)
def check_sealed_fields(**kwargs: Any) -> list[checks.CheckMessage]:
    """A registered column that does not exist would be skipped by every rotation."""
    problems: list[checks.CheckMessage] = []
    for sealed in sealed_fields():
        try:
            sealed.model._meta.get_field(sealed.field)
        except (LookupError, FieldDoesNotExist):
            problems.append(checks.Error(f"Sealed field {sealed} does not exist.", id="core.E101"))
    return problems


# Rotation -----------------------------------------------------------------------------------------


@dataclass
class SealedFieldReport:
    sealed: SealedField
    rotated: int = 0  # re-sealed under the newest key (or, checking, would be)
    current: int = 0  # already sealed under the newest key
    unreadable: list[str] = field(default_factory=list)  # "pk 7 credentials.client_secret": no key opens it

    def as_text(self, *, check: bool) -> str:
        verb = "to rotate" if check else "rotated"
        return (
            f"{self.sealed}: {self.rotated} {verb}, {self.current} already current, {len(self.unreadable)} unreadable"
        )


def _reseal_tokens(
    sealed: SealedField, pk: Any, value: Any, report: SealedFieldReport, newest: Fernet, every: MultiFernet
) -> dict[str, str]:
    resealed = {}
    for where, token in sealed.tokens(value):
        try:
            newest.extract_timestamp(token.encode())  # verifies the token's signature with the newest key
        except InvalidToken:
            pass
        else:
            report.current += 1
            continue
        try:
            resealed[token] = every.rotate(token.encode()).decode()
        except InvalidToken:
            report.unreadable.append(f"pk {pk} {where}")
        else:
            report.rotated += 1
    return resealed


def sealed_values_rotate(*, check: bool = False, batch_size: int = 200) -> list[SealedFieldReport]:
    """Re-seal every registered sealed value under the newest vault key (the first of
    `ALLIED_VAULT_KEYS`), so the older keys can then be removed. Rows are read in batches of
    primary keys; each row is locked, re-read and written in its own transaction, so writers are
    never held up for long and a rotation stopped halfway is simply run again (values already
    under the newest key are left alone). A value that no configured key opens is reported,
    never changed. `check` only counts. Run it outside any transaction."""
    keys = [Fernet(key.encode()) for key in settings.VAULT_KEYS]
    newest, every = keys[0], MultiFernet(keys)
    reports = []
    for sealed in sealed_fields():
        report = SealedFieldReport(sealed)
        for pk in _primary_keys(sealed, batch_size):
            if check:
                value = sealed.model._default_manager.filter(pk=pk).values_list(sealed.field, flat=True).first()
                _reseal_tokens(sealed, pk, value, report, newest, every)
                continue
            with transaction.atomic(durable=True):
                row = sealed_row_for_update(sealed.model, pk=pk, field=sealed.field)
                if row is None:
                    continue
                value = getattr(row, sealed.field)
                resealed = _reseal_tokens(sealed, pk, value, report, newest, every)
                if resealed:
                    sealed.model._default_manager.filter(pk=pk).update(
                        **{sealed.field: sealed.replace(value, resealed)}
                    )
        reports.append(report)
    return reports


def _primary_keys(sealed: SealedField, batch_size: int) -> Iterator[Any]:
    rows = sealed.model._default_manager.order_by("pk")
    if sealed.kind.name == "text":
        rows = rows.exclude(**{f"{sealed.field}__isnull": True}).exclude(**{sealed.field: ""})
    last = None
    while True:
        batch = list((rows if last is None else rows.filter(pk__gt=last)).values_list("pk", flat=True)[:batch_size])
        yield from batch
        if len(batch) < batch_size:
            return
        last = batch[-1]
