from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from allied.core.schemas import Cursor, Input, Limit, QueryInput, SafeText

Secret = Annotated[SafeText, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ConnectionCreateIn(Input):
    kind: Literal["shopify", "woocommerce", "marketplace"] = Field(examples=["shopify"])
    name: Annotated[SafeText, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        examples=["Main store"]
    )
    store_url: Annotated[SafeText, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] = Field(
        examples=["kohsar.myshopify.com"],
        description=(
            "The *.myshopify.com domain, the WooCommerce site's https:// address, or the marketplace's API address "
            "(https://api.daraz.com.bd/rest)."
        ),
    )
    credentials: dict[
        Literal[
            "access_token",
            "client_secret",
            "consumer_key",
            "consumer_secret",
            "webhook_secret",
            "app_key",
            "app_secret",
            "refresh_token",
        ],
        Secret,
    ] = Field(
        description=(
            "Tokens and secrets the store issued for Allied (never an account password). Shopify: `access_token` "
            "(Admin API) and `client_secret` (signs its webhooks). WooCommerce: `consumer_key`, `consumer_secret` "
            "and `webhook_secret`. Marketplace: `app_key`, `app_secret`, and the seller's `access_token` and "
            "`refresh_token`."
        ),
        examples=[{"access_token": "shpat_…", "client_secret": "shpss_…"}],
    )


class ConnectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    name: str
    store_url: str
    status: str = Field(examples=["active"], description="`active`, `paused` or `disconnected`.")
    public_id: UUID
    webhook_url: str = Field(description="Where the store must send its webhooks.")
    credential_hints: dict[str, str] = Field(description="The last four characters of each credential.")
    last_webhook_at: datetime | None
    created_at: datetime
    stock_sync: bool = Field(description="Whether Allied pushes available stock to the store.")
    set_up_at: datetime | None = Field(description="When Allied last subscribed the store's webhooks.")


class StoreAnswerOut(BaseModel):
    ok: bool
    message: str = Field(examples=["The store answered: Kohsar."])


class ComparisonOut(BaseModel):
    at: datetime
    days: int
    store_orders: int = Field(description="Store orders of the period Allied should have taken in.")
    allied_orders: int
    waiting: int = Field(description="Received from the store and waiting to be processed: not missing.")
    missing_in_allied_count: int
    missing_in_allied: list[dict[str, str]] = Field(description="`store_order_id` and `reason`, first 100.")
    missing_in_store_count: int
    missing_in_store: list[dict[str, str]] = Field(description="`number` and `store_order_id`, first 100.")


class ConnectionHealthOut(BaseModel):
    last_webhook_at: datetime | None
    waiting: int = Field(description="Deliveries received but not processed yet.")
    oldest_waiting_since: datetime | None = Field(description="The lag: since when the oldest of them waits.")
    processed: int
    rejected: int = Field(description="Put on hold or refused, with a reason.")
    failed: int
    last_poll_at: datetime | None
    last_poll_error: str
    last_check_at: datetime | None
    last_check_error: str
    last_stock_push_at: datetime | None
    last_stock_push_error: str
    stock_pending: int = Field(description="Products whose quantity the store has not been told yet.")
    comparison: ComparisonOut | None = Field(description="The last comparison of recent store orders with Allied's.")


EventTopic = Annotated[SafeText, StringConstraints(strip_whitespace=True, max_length=80)]
EndpointUrl = Annotated[SafeText, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Label = Annotated[SafeText, StringConstraints(strip_whitespace=True, max_length=100)]
TOPICS_HELP = (
    "Event types of the catalogue (`order.created`) or whole families (`order.*`, `inventory.*`, `product.*`, "
    "`inbound.*`, `shipment.*`, `delivery.*`): a family covers its types added later too."
)


class WebhookCreateIn(Input):
    url: EndpointUrl = Field(examples=["https://hooks.example.com/allied"], description="An https:// address.")
    event_types: list[EventTopic] = Field(examples=[["order.*", "inventory.level_changed"]], description=TOPICS_HELP)
    description: Label = Field(default="", examples=["Our ERP"])


class WebhookUpdateIn(Input):
    url: EndpointUrl | None = Field(default=None, examples=["https://hooks.example.com/allied/v2"])
    event_types: list[EventTopic] | None = Field(default=None, examples=[["order.*"]], description=TOPICS_HELP)
    description: Label | None = Field(default=None, examples=["Our ERP"])


class WebhookOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    status: str = Field(
        examples=["active"],
        description="`active`, `paused` (by you), or `disabled` (by Allied: its deliveries kept failing; resume it).",
    )
    disabled_reason: str
    secret_hint: str = Field(description="The last four characters of the signing secret.")
    created_at: datetime


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_…`), shown this once: keep it where your application can read it."
    )


class DeliveryAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    status_code: int | None = Field(description="The endpoint's HTTP status; none if it could not be reached.")
    duration_ms: int
    error: str


class DeliveryOut(BaseModel):
    id: int
    event_id: str = Field(examples=["evt_4711"], description="The `webhook-id` header and the envelope's `id`.")
    event_type: str
    status: str = Field(examples=["delivered"], description="`pending`, `delivered` or `failed`.")
    attempts: list[DeliveryAttemptOut]
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried next.")
    last_error: str


class DeliveryFilters(QueryInput):
    cursor: Cursor | None = None
    limit: Limit = 50


class DeliveryPageOut(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
