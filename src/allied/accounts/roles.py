from django.db import models


class OrganizationKind(models.TextChoices):
    OPERATOR = "operator", "AES (operator)"
    PARTNER = "partner", "Brand partner"


class Role(models.TextChoices):
    # AES operator staff
    ADMIN = "admin", "Administrator"
    DISPATCHER = "dispatcher", "Dispatcher"
    WAREHOUSE = "warehouse", "Warehouse staff"
    RIDER = "rider", "Rider"
    FINANCE = "finance", "Finance"
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"
    SUPPORT = "support", "Support"
    # Brand partner staff
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    VIEWER = "viewer", "Viewer"


OPERATOR_ROLES = frozenset(
    {Role.ADMIN, Role.DISPATCHER, Role.WAREHOUSE, Role.RIDER, Role.FINANCE, Role.PRIVACY_OFFICER, Role.SUPPORT}
)
PARTNER_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.VIEWER})
ROLES_BY_KIND = {OrganizationKind.OPERATOR: OPERATOR_ROLES, OrganizationKind.PARTNER: PARTNER_ROLES}

# Roles whose holders can move money, read everyone's personal data or change who has access.
MFA_REQUIRED_ROLES = frozenset({Role.ADMIN, Role.FINANCE, Role.PRIVACY_OFFICER})


class ApiScope(models.TextChoices):
    ORDERS_READ = "orders:read", "Read orders"
    ORDERS_WRITE = "orders:write", "Create and change orders"
    INVENTORY_READ = "inventory:read", "Read products and stock"
    INVENTORY_WRITE = "inventory:write", "Change products and stock"
    TRACKING_READ = "tracking:read", "Read tracking"
    WEBHOOKS_MANAGE = "webhooks:manage", "Manage webhooks"
    INTEGRATIONS_MANAGE = "integrations:manage", "Connect and manage stores"
    DELIVERY_READ = "delivery:read", "Read delivery stops and their tracking"
    DELIVERY_WRITE = "delivery:write", "Ask for pickups and drop-offs"
    DISPATCH_MANAGE = "dispatch:manage", "AES dispatch: hubs, riders, shifts, stops and route plans"
    PRIVACY_MANAGE = "privacy:manage", "AES privacy: the records of processing"


# Scopes only a key of AES itself may hold, and the only ones it may hold (decision 0008).
OPERATOR_SCOPES = frozenset({ApiScope.DISPATCH_MANAGE, ApiScope.PRIVACY_MANAGE})
