import importlib
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core import signing
from django.core.cache import cache
from django.test import Client

from allied.accounts.models import Membership, Organization
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.website.spam import STAMP, STAMP_SALT


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()


@pytest.fixture(autouse=True)
def _site_pages(db: None) -> None:
    """The pages the site opens with (its data migration), also after a transactional test elsewhere
    emptied the tables."""
    seed_site_pages()


def seed_site_pages() -> None:
    seed = importlib.import_module("allied.website.migrations.0002_seed_pages").seed
    seed(django_apps, None)


def stamp(seconds_ago: float = 10) -> str:
    """The signed time a form was shown, `seconds_ago`."""
    return signing.dumps(time.time() - seconds_ago, salt=STAMP_SALT)


INQUIRY = {
    "name": "Sana Qureshi",
    "email": "sana@kohsar-crafts.example",
    "phone": "0300 1234567",
    "company": "Kohsar Crafts",
    "relationship": "Founder",
    "service": "fulfilment",
    "message": "We ship 800 orders a month from Lahore and need a warehouse.",
    "contact_preference": "either",
}


@pytest.fixture
def inquiry() -> Callable[..., dict[str, Any]]:
    def make(**changes: Any) -> dict[str, Any]:
        return {**INQUIRY, STAMP: stamp(), **changes}

    return make


@pytest.fixture
def admin(operator_org: Organization, member: Callable[..., Membership]) -> Membership:
    return member(operator_org, Role.ADMIN)


@pytest.fixture
def support(operator_org: Organization, member: Callable[..., Membership]) -> Membership:
    return member(operator_org, Role.SUPPORT)


@pytest.fixture
def admin_actor(admin: Membership) -> Actor:
    return Actor(user=admin.user, organization=admin.organization, role=Role.ADMIN)


@pytest.fixture
def support_actor(support: Membership) -> Actor:
    return Actor(user=support.user, organization=support.organization, role=Role.SUPPORT)


@pytest.fixture
def admin_client(admin: Membership, client_for: Callable[[Membership], Client]) -> Client:
    return client_for(admin)
