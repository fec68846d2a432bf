from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from allied.core.schemas import Cursor, Input, Limit, QueryInput, SafeText

Secret = Annotated[SafeText, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ConnectionCreateIn(Input):
    kind: Literal["shopify", "woocommerce"] = Field(examples=["shopify"])
    name: Annotated[SafeText, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        examples=["Main store"]
    )
    store_url: Annotated[SafeText, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] = Field(
        examples=["kohsar.myshopify.com"],
        description="The *.myshopify.com domain, or the WooCommerce site's https:// address.",
    )
    credentials: dict[
        Literal["access_token", "client_secret", "consumer_key", "consumer_secret", "webhook_secret"], Secret
    ] = Field(
        description=(
            "Tokens and secrets the store issued for Allied (never an account password). Shopify: `access_token` "
            "(Admin API) and `client_secret` (signs its webhooks). WooCommerce: `consumer_key`, `consumer_secret` "
            "and `webhook_secret`."
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
