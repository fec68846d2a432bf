"""Every permission decision in one place, used by pages, the API and the admin alike.

An Actor is whoever is acting: a signed-in member of one organization, an API key of a
partner's application, or the system itself (tasks, commands). Roles and API scopes both
map to the same permission names, so a view and its API twin ask the same question.
"""

from dataclasses import dataclass
from typing import Any

from allied.accounts.roles import MFA_REQUIRED_ROLES, ApiScope, Role
from allied.core.errors import PermissionDenied

CONSOLE_ACCESS = "console.access"
PORTAL_ACCESS = "portal.access"
ADMIN_ACCESS = "admin.access"
ORGANIZATIONS_VIEW_ALL = "organizations.view_all"
ORGANIZATIONS_MANAGE = "organizations.manage"
TEAM_VIEW = "team.view"
TEAM_MANAGE = "team.manage"
API_KEYS_MANAGE = "api_keys.manage"
AUDIT_VIEW = "audit.view"
CATALOG_VIEW = "catalog.view"
CATALOG_MANAGE = "catalog.manage"
INVENTORY_VIEW = "inventory.view"
INVENTORY_MANAGE = "inventory.manage"
ORDERS_VIEW = "orders.view"
ORDERS_MANAGE = "orders.manage"
# AES's own work on the floor and on the road: no partner role or API scope holds these.
ORDERS_FULFIL = "orders.fulfil"  # start picking, pick, pack, hand over, returns back in
WAREHOUSE_MANAGE = "warehouse.manage"  # receive, put away, adjust, count
DELIVERY_RECORD = "delivery.record"  # the outcome of a delivery attempt
TRACKING_VIEW = "tracking.view"
WEBHOOKS_MANAGE = "webhooks.manage"
INTEGRATIONS_MANAGE = "integrations.manage"  # connect, pause and disconnect stores
DELIVERY_VIEW = "delivery.view"
DELIVERY_MANAGE = "delivery.manage"  # AES dispatch: hubs, riders, shifts, every partner's stops, plans
DELIVERY_REQUEST = "delivery.request"  # a partner asks for pickups and drop-offs of its own
FINANCE_VIEW = "finance.view"
FINANCE_MANAGE = "finance.manage"
PRIVACY_MANAGE = "privacy.manage"
WEBSITE_MANAGE = "website.manage"  # the public website's pages (the CMS)
LEADS_MANAGE = "leads.manage"  # inquiries and feedback from the website, and their pipeline

_OPERATOR_COMMON = {
    CONSOLE_ACCESS,
    ORGANIZATIONS_VIEW_ALL,
    TEAM_VIEW,
    CATALOG_VIEW,
    INVENTORY_VIEW,
    ORDERS_VIEW,
    TRACKING_VIEW,
}
_PARTNER_COMMON = {PORTAL_ACCESS, TEAM_VIEW, CATALOG_VIEW, INVENTORY_VIEW, ORDERS_VIEW, TRACKING_VIEW}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        _OPERATOR_COMMON
        | {ADMIN_ACCESS, ORGANIZATIONS_MANAGE, TEAM_MANAGE, AUDIT_VIEW, CATALOG_MANAGE, INVENTORY_MANAGE}
        | {ORDERS_MANAGE, DELIVERY_VIEW, DELIVERY_MANAGE, FINANCE_VIEW, WEBHOOKS_MANAGE}
        | {ORDERS_FULFIL, WAREHOUSE_MANAGE, DELIVERY_RECORD, INTEGRATIONS_MANAGE}
        | {WEBSITE_MANAGE, LEADS_MANAGE}
    ),
    Role.DISPATCHER: frozenset(_OPERATOR_COMMON | {ORDERS_MANAGE, DELIVERY_VIEW, DELIVERY_MANAGE, DELIVERY_RECORD}),
    Role.WAREHOUSE: frozenset(_OPERATOR_COMMON | {INVENTORY_MANAGE, ORDERS_MANAGE, ORDERS_FULFIL, WAREHOUSE_MANAGE}),
    Role.RIDER: frozenset({CONSOLE_ACCESS, DELIVERY_VIEW, TRACKING_VIEW, DELIVERY_RECORD}),
    Role.FINANCE: frozenset(_OPERATOR_COMMON | {FINANCE_VIEW, FINANCE_MANAGE, AUDIT_VIEW}),
    Role.PRIVACY_OFFICER: frozenset(_OPERATOR_COMMON | {PRIVACY_MANAGE, AUDIT_VIEW}),
    Role.SUPPORT: frozenset(_OPERATOR_COMMON | {DELIVERY_VIEW, LEADS_MANAGE}),
    Role.OWNER: frozenset(
        _PARTNER_COMMON
        | {TEAM_MANAGE, API_KEYS_MANAGE, CATALOG_MANAGE, INVENTORY_MANAGE, ORDERS_MANAGE}
        | {WEBHOOKS_MANAGE, FINANCE_VIEW, INTEGRATIONS_MANAGE, DELIVERY_VIEW, DELIVERY_REQUEST}
    ),
    Role.MANAGER: frozenset(
        _PARTNER_COMMON
        | {CATALOG_MANAGE, INVENTORY_MANAGE, ORDERS_MANAGE, FINANCE_VIEW, DELIVERY_VIEW, DELIVERY_REQUEST}
    ),
    Role.VIEWER: frozenset(_PARTNER_COMMON),
}

SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    ApiScope.ORDERS_READ: frozenset({ORDERS_VIEW}),
    ApiScope.ORDERS_WRITE: frozenset({ORDERS_VIEW, ORDERS_MANAGE}),
    ApiScope.INVENTORY_READ: frozenset({CATALOG_VIEW, INVENTORY_VIEW}),
    ApiScope.INVENTORY_WRITE: frozenset({CATALOG_VIEW, INVENTORY_VIEW, CATALOG_MANAGE, INVENTORY_MANAGE}),
    ApiScope.TRACKING_READ: frozenset({TRACKING_VIEW}),
    ApiScope.WEBHOOKS_MANAGE: frozenset({WEBHOOKS_MANAGE}),
    ApiScope.INTEGRATIONS_MANAGE: frozenset({INTEGRATIONS_MANAGE}),
    ApiScope.DELIVERY_READ: frozenset({DELIVERY_VIEW, TRACKING_VIEW}),
    ApiScope.DELIVERY_WRITE: frozenset({DELIVERY_VIEW, TRACKING_VIEW, DELIVERY_REQUEST}),
    ApiScope.DISPATCH_MANAGE: frozenset({DELIVERY_VIEW, TRACKING_VIEW, DELIVERY_MANAGE}),
    ApiScope.PRIVACY_MANAGE: frozenset({PRIVACY_MANAGE}),
}


ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


@dataclass(frozen=True)
class Actor:
    user: Any = None
    organization: Any = None
    role: str = ""
    api_key: Any = None
    system_label: str = ""

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        """Allied itself: scheduled tasks, commands, integrations acting for AES."""
        return cls(system_label=label)

    @property
    def is_system(self) -> bool:
        return bool(self.system_label)

    @property
    def is_operator(self) -> bool:
        return self.is_system or (self.organization is not None and self.organization.is_operator)

    @property
    def label(self) -> str:
        if self.system_label:
            return self.system_label
        if self.api_key is not None:
            return f"api key {self.api_key.prefix} ({self.api_key.name})"
        if self.user is not None:
            return str(self.user.email)
        return "anonymous"

    @property
    def permissions(self) -> frozenset[str]:
        if self.system_label:
            return ALL_PERMISSIONS
        if self.api_key is not None:
            return frozenset().union(*(SCOPE_PERMISSIONS.get(scope, frozenset()) for scope in self.api_key.scopes))
        return ROLE_PERMISSIONS.get(self.role, frozenset())


def actor_can(actor: Actor | None, permission: str) -> bool:
    return actor is not None and permission in actor.permissions


def require(actor: Actor | None, permission: str) -> None:
    if not actor_can(actor, permission):
        raise PermissionDenied(f"Your role does not allow this ({permission}).")


def role_requires_mfa(role: str) -> bool:
    return role in MFA_REQUIRED_ROLES


def can_manage_team_of(actor: Actor, organization: Any) -> bool:
    """Partner owners manage their own team; operator admins manage AES's team and onboard partners."""
    if actor_can(actor, ORGANIZATIONS_MANAGE):
        return True
    return actor_can(actor, TEAM_MANAGE) and actor.organization == organization
