"""Helpers for calling services the way entry points do."""

from collections.abc import Callable

import pytest
from django.db import transaction

from allied.core.errors import DomainError


def refused(action: Callable[[], object]) -> DomainError:
    """Run a service that must refuse; its savepoint rolls back, so the test can go on querying."""
    with pytest.raises(DomainError) as raised, transaction.atomic():
        action()
    return raised.value
