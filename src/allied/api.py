"""The REST API under /api/v1/: one NinjaAPI, routers contributed by the apps."""

from ninja import Swagger

from allied.accounts.api import router as accounts_router
from allied.accounts.api_auth import ApiKeyAuth
from allied.catalog.api import router as catalog_router
from allied.core.problems import ProblemNinjaAPI, install_problem_handlers
from allied.delivery.api import router as delivery_router
from allied.fulfillment.api import router as returns_router
from allied.integrations.api import router as integrations_router
from allied.integrations.api_subscriptions import router as webhooks_router
from allied.inventory.api import router as inventory_router
from allied.orders.api import router as orders_router
from allied.privacy.api import router as privacy_router

api = ProblemNinjaAPI(
    title="Allied API",
    version="1.0.0",
    description=(
        "The REST API of Allied, AES's operations platform, for partners' own applications.\n\n"
        "Authenticate with an API key from the partner portal: `Authorization: Bearer allied_…`. "
        "Each key has scopes (`orders:read`, `orders:write`, `inventory:read`, `inventory:write`, "
        "`tracking:read`, `webhooks:manage`, `integrations:manage`; AES's own keys: `dispatch:manage`, "
        "`privacy:manage`). Every error is an RFC 9457 problem "
        "(`application/problem+json`) with a stable `code` and, for invalid input, an `errors` list naming each field. "
        "Lists use cursor pagination: pass `next_cursor` back as `cursor`."
    ),
    auth=ApiKeyAuth(),
    docs=Swagger(settings={"persistAuthorization": True}),
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api",
)
install_problem_handlers(api)
api.add_router("", accounts_router)
api.add_router("", catalog_router)
api.add_router("", inventory_router)
api.add_router("", orders_router)
api.add_router("", returns_router)
api.add_router("", integrations_router)
api.add_router("", webhooks_router)
api.add_router("", delivery_router)
api.add_router("", privacy_router)
