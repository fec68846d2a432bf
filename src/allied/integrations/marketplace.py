"""Daraz (Lazada Open Platform, "Lazop"): orders are pulled, never pushed to Allied. Every request is
signed with the app secret; the seller's access token expires and is exchanged for a new one with
the refresh token. Daraz answers errors with HTTP 200 and a non-zero `code`."""

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.db import transaction
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.core.address import Address
from allied.core.outbound import OutboundError, OutboundHttp
from allied.integrations.connectors import (
    Action,
    Cancel,
    Ignore,
    MappingFailed,
    OrderPage,
    Shipment,
    StoreOrder,
    TakeIn,
    connector_register,
    store_amount,
    store_lines,
)
from allied.integrations.models import Connection
from allied.integrations.services.tokens import connection_credentials_refresh
from allied.orders.models import Channel, PaymentMethod
from allied.orders.services.intake import OrderInput

TOPIC = "order.updated"
SIGN_METHOD = "sha256"
TOKEN_ERRORS = frozenset({"IllegalAccessToken"})  # Lazop: "The specified access token is invalid or expired"
PAGE_SIZE = 100  # /orders/get answers at most 100
ITEMS_BATCH = 50  # order ids per /orders/items/get
STOCK_BATCH = 50  # SKUs per /product/price_quantity/update
REFRESH_MARGIN = timedelta(hours=6)  # a token this close to its expiry is exchanged before use
CANCELED = "canceled"
# Item statuses after which the order is no longer Allied's to take in: someone else shipped it, or
# it ended before the connection.
GONE = frozenset(
    {
        "shipped",
        "delivered",
        "failed_delivery",
        "returned",
        "shipped_back",
        "shipped_back_success",
        "shipped_back_failed",
        "lost_by_3pl",
        "damaged_by_3pl",
        "package_scrapped",
    }
)
TO_PACK = frozenset({"pending"})
TO_SHIP = frozenset({"pending", "packed", "repacked"})  # statuses from which ready-to-ship is legal
COUNTRIES = {"pakistan": "PK", "bangladesh": "BD", "sri lanka": "LK", "nepal": "NP", "myanmar": "MM"}


def lazop_sign(secret: str, api_path: str, params: Mapping[str, Any]) -> str:
    """Lazop's signature: upper-case hex HMAC-SHA256 with the app secret over the API path followed
    by every parameter, sorted by name, as name and value concatenated (the `sign` itself excluded)."""
    text = api_path + "".join(f"{name}{params[name]}" for name in sorted(params) if name != "sign")
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def daraz_time(value: Any) -> datetime | None:
    """Daraz writes times as "2026-12-05 10:00:00 +0500" (some APIs as ISO 8601)."""
    if not value:
        return None
    for pattern in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(str(value), pattern)
        except ValueError:
            continue
    return None


def _units(items: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Daraz answers one item row per unit: the rows still to deliver, as lines with quantities."""
    lines: dict[str, dict[str, Any]] = {}
    for row in items:
        if row.get("status") == CANCELED:
            continue
        sku = str(row.get("sku") or "")
        key = sku or f"no-sku-{row.get('order_item_id')}"
        line = lines.setdefault(
            key, {"sku": sku, "name": row.get("name", ""), "price": row.get("item_price"), "quantity": 0}
        )
        line["quantity"] += 1
    return list(lines.values())


def order_input(payload: Mapping[str, Any]) -> OrderInput:
    """A Daraz order with its items (as `MarketplaceClient` pulls them) as Allied's order input."""
    order = payload.get("order") or {}
    items = [row for row in payload.get("items") or [] if row.get("status") != CANCELED]
    address = order.get("address_shipping")
    if not isinstance(address, Mapping) or not address.get("address1"):
        raise MappingFailed("The order has no shipping address.")
    name = " ".join(filter(None, [address.get("first_name"), address.get("last_name")])).strip()
    shipping_fee = store_amount(order.get("shipping_fee"), "The shipping fee")
    cod = str(order.get("payment_method") or "").upper() == "COD"
    paid = sum((store_amount(row.get("paid_price"), "An item's paid price") for row in items), Decimal(0))
    country = str(address.get("country") or "")
    return OrderInput(
        channel=Channel.MARKETPLACE,
        external_id=str(order.get("order_id", "")),
        recipient_name=name or "—",
        recipient_phone=str(address.get("phone") or address.get("phone2") or ""),
        address=Address.given(
            line1=str(address.get("address1") or ""),
            line2=str(address.get("address2") or ""),
            area=str(address.get("address5") or ""),
            city=str(address.get("address4") or address.get("city") or ""),
            region=str(address.get("address3") or ""),
            postcode=str(address.get("post_code") or ""),
            country=COUNTRIES.get(country.lower(), country if len(country) == 2 else "PK"),
        ),
        currency=str(items[0].get("currency") or "") if items else "",
        payment_method=PaymentMethod.COD if cod else PaymentMethod.PREPAID,
        cod_amount=paid + shipping_fee if cod else Decimal(0),
        shipping_fee=shipping_fee,
        notes=str(order.get("remarks") or "")[:2000],
        lines=store_lines(_units(items), title="name"),
    )


class Marketplace:
    kind = "marketplace"
    credential_names: tuple[str, ...] = ("app_key", "app_secret", "access_token", "refresh_token")
    webhook_secret = ""  # orders are pulled; the marketplace's push is not used
    topics = frozenset({TOPIC})

    def is_ping(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return False

    def signature_valid(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> bool:
        return False  # nothing is taken through the webhook door

    def topic(self, headers: Mapping[str, str]) -> str:
        return ""

    def delivery_key(self, headers: Mapping[str, str]) -> str:
        return ""

    def store_order_id(self, topic: str, payload: Mapping[str, Any]) -> str:
        return str((payload.get("order") or {}).get("order_id", "")) if topic == TOPIC else ""

    def updated_at(self, payload: Mapping[str, Any]) -> datetime | None:
        return daraz_time((payload.get("order") or {}).get("updated_at"))

    def action(self, topic: str, payload: Mapping[str, Any]) -> Action:
        if topic != TOPIC:
            return Ignore(f"Allied does not act on {topic}.")
        order_id = self.store_order_id(topic, payload)
        statuses = {str(row.get("status") or "") for row in payload.get("items") or []}
        statuses = statuses or {str(status) for status in (payload.get("order") or {}).get("statuses") or []}
        if statuses == {CANCELED}:
            return Cancel(order_id)
        live = statuses - {CANCELED}
        if live <= GONE and live:
            return Ignore(f"Already {', '.join(sorted(live))} at Daraz: not Allied's to fulfil.")
        if "unpaid" in live:
            return Ignore("Not paid yet at Daraz; taken in once it is.")
        return TakeIn(order_input(payload))

    def client(self, connection: Connection, *, sleep: Callable[[float], None] = time.sleep) -> "MarketplaceClient":
        return MarketplaceClient(connection, sleep=sleep)


class MarketplaceClient:
    """One connection's conversation with Daraz: signed requests through `OutboundHttp`, the access
    token exchanged (and sealed in the vault) when it expires or is about to, the call then retried
    once."""

    def __init__(self, connection: Connection, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.connection = connection
        self.http = OutboundHttp(
            base_url=connection.store_url,
            organization_id=connection.organization_id,
            recipient_category="store_platforms",
            sleep=sleep,
        )
        self.app_key = connection.credential("app_key")
        self.app_secret = connection.credential("app_secret")
        self.access_token = connection.credential("access_token")

    # Requests ------------------------------------------------------------------------------

    def signed(self, path: str, params: Mapping[str, Any], *, access_token: str | None) -> dict[str, str]:
        """The parameters of one request with Lazop's system parameters and signature."""
        signed = {name: str(value) for name, value in params.items()}
        signed |= {"app_key": self.app_key, "sign_method": SIGN_METHOD, "timestamp": str(int(time.time() * 1000))}
        if access_token:
            signed["access_token"] = access_token
        signed["sign"] = lazop_sign(self.app_secret, path, signed)
        return signed

    def _send(
        self, method: str, path: str, params: Mapping[str, Any], *, access_token: str | None, shares: list[str]
    ) -> dict[str, Any]:
        signed = self.signed(path, params, access_token=access_token)
        if method == "GET":
            response = self.http.request("GET", path, params=signed, shares=shares)
        else:
            response = self.http.request("POST", path, data=signed, shares=shares)
        try:
            body = response.json()
        except ValueError as error:
            raise OutboundError(f"Daraz answered {path} with something that is not JSON.") from error
        if not isinstance(body, dict):
            raise OutboundError(f"Daraz answered {path} with something that is not an object.")
        return body

    def exchange(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, *, shares: list[str] | None = None
    ) -> dict[str, Any]:
        """One API call as Daraz answered it; an expired token is exchanged and the call retried once."""
        self._refresh_if_expiring()
        body = self._send(method, path, params or {}, access_token=self.access_token, shares=shares or [])
        if str(body.get("code")) in TOKEN_ERRORS:
            self.refresh()
            body = self._send(method, path, params or {}, access_token=self.access_token, shares=shares or [])
        return body

    def call(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, *, shares: list[str] | None = None
    ) -> dict[str, Any]:
        """`exchange`, a refusal (`code` not "0") raised as `OutboundError` with Daraz's message."""
        return _answer(path, self.exchange(method, path, params, shares=shares))

    # Tokens --------------------------------------------------------------------------------

    def _refresh_if_expiring(self) -> None:
        expires = self.connection.remote.get("access_token_expires_at")
        moment = datetime.fromisoformat(expires) if isinstance(expires, str) else None
        if moment is not None and moment - timezone.now() < REFRESH_MARGIN:
            self.refresh()

    def refresh(self) -> None:
        """Exchange the refresh token for new tokens and keep them sealed. Another worker may have
        done it already: a token newer than the one this client holds is taken instead."""
        stored = Connection.objects.get(pk=self.connection.pk)
        if stored.credentials.get("access_token") != self.connection.credentials.get("access_token"):
            self.connection, self.access_token = stored, stored.credential("access_token")
            return
        body = _answer(
            "/auth/token/refresh",
            self._send(
                "POST",
                "/auth/token/refresh",
                {"refresh_token": self.connection.credential("refresh_token")},
                access_token=None,
                shares=[],
            ),
        )
        if not body.get("access_token"):
            raise OutboundError("Daraz gave no access token in exchange for the refresh token.")
        values = {"access_token": str(body["access_token"])}
        if body.get("refresh_token"):
            values["refresh_token"] = str(body["refresh_token"])
        expires_in = int(body.get("expires_in") or 0)
        with transaction.atomic():  # kept even when the caller's work fails: the old token is spent
            self.connection = connection_credentials_refresh(
                connection=self.connection,
                values=values,
                expires_at=timezone.now() + timedelta(seconds=expires_in) if expires_in else None,
                actor=Actor.system(f"Marketplace connection {self.connection.pk}"),
            )
        self.access_token = values["access_token"]

    # StoreClient ---------------------------------------------------------------------------

    def check(self) -> str:
        data = self.call("GET", "/seller/get").get("data") or {}
        return str(data.get("name") or data.get("short_code") or "")

    def setup(self, *, webhook_address: str) -> dict[str, Any]:
        """Nothing to subscribe (orders are pulled); the seller the token belongs to is kept, since
        every seller of a marketplace shares its API address."""
        data = self.call("GET", "/seller/get").get("data") or {}
        return {"seller": str(data.get("short_code") or data.get("seller_id") or ""), "seller_name": data.get("name")}

    def orders_updated_since(self, since: datetime, cursor: str | None) -> OrderPage:
        offset = int(cursor or 0)
        data = (
            self.call(
                "GET",
                "/orders/get",
                {
                    "update_after": since.isoformat(timespec="seconds"),
                    "sort_by": "updated_at",
                    "sort_direction": "ASC",
                    "offset": offset,
                    "limit": PAGE_SIZE,
                },
            ).get("data")
            or {}
        )
        orders = list(data.get("orders") or [])
        items: dict[str, list[dict[str, Any]]] = {}
        ids = [str(order.get("order_id")) for order in orders]
        for start in range(0, len(ids), ITEMS_BATCH):
            batch = ids[start : start + ITEMS_BATCH]
            answered = self.call("GET", "/orders/items/get", {"order_ids": f"[{','.join(batch)}]"}).get("data") or []
            for entry in answered:
                items[str(entry.get("order_id"))] = list(entry.get("order_items") or [])
        page = []
        for order in orders:
            order_id = str(order.get("order_id"))
            updated = daraz_time(order.get("updated_at")) or timezone.now()
            payload = {"order": order, "items": items.get(order_id, [])}
            page.append(StoreOrder(store_order_id=order_id, updated_at=updated, topic=TOPIC, payload=payload))
        return OrderPage(orders=page, cursor=str(offset + len(orders)) if len(orders) == PAGE_SIZE else None)

    def shipment_confirm(self, shipment: Shipment) -> None:
        """Pack what is still pending, then mark every item not yet handed over ready to ship with
        the tracking number; items already ready to ship or shipped are left alone, so a repeat
        sends nothing."""
        rows = self.call("GET", "/order/items/get", {"order_id": shipment.store_order_id}).get("data") or []
        to_ship = [str(row["order_item_id"]) for row in rows if row.get("status") in TO_SHIP]
        to_pack = [str(row["order_item_id"]) for row in rows if row.get("status") in TO_PACK]
        if not to_ship:
            return
        if to_pack:
            self.call(
                "POST",
                "/order/pack",
                {
                    "shipping_provider": shipment.company,
                    "delivery_type": "dropship",
                    "order_item_ids": f"[{','.join(to_pack)}]",
                },
            )
        self.call(
            "POST",
            "/order/rts",
            {
                "delivery_type": "dropship",
                "order_item_ids": f"[{','.join(to_ship)}]",
                "shipment_provider": shipment.company,
                "tracking_number": shipment.tracking_number,
            },
        )

    def stock_set(self, available: Mapping[str, int]) -> list[str]:
        """Daraz's price and quantity update, 50 SKUs a request; SKUs it does not know are
        reported back, not raised."""
        unknown: list[str] = []
        skus = sorted(available)
        for start in range(0, len(skus), STOCK_BATCH):
            batch = skus[start : start + STOCK_BATCH]
            rows = "".join(
                f"<Sku><SellerSku>{escape(sku)}</SellerSku><Quantity>{max(0, int(available[sku]))}</Quantity></Sku>"
                for sku in batch
            )
            payload = (
                f'<?xml version="1.0" encoding="UTF-8" ?><Request><Product><Skus>{rows}</Skus></Product></Request>'
            )
            body = self.exchange("POST", "/product/price_quantity/update", {"payload": payload})
            refused = [str(entry.get("seller_sku")) for entry in body.get("detail") or [] if entry.get("seller_sku")]
            if str(body.get("code")) != "0" and not refused:
                _answer("/product/price_quantity/update", body)
            unknown += [sku for sku in refused if sku in batch]
        return unknown

    def close(self) -> None:
        self.http.close()


def _answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
    code = str(body.get("code", "0"))
    if code != "0":
        kind = body.get("type") or "ERROR"
        raise OutboundError(f"Daraz refused {path}: {body.get('message') or code} ({kind} {code})")
    return body


connector_register(Marketplace())
