from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from allied.core.schemas import Input, SafeText

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
