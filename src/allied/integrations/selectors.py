from uuid import UUID

from django.db.models import QuerySet

from allied.accounts.policy import INTEGRATIONS_MANAGE, Actor, require
from allied.core.errors import NotFound
from allied.integrations.models import Connection, InboxMessage


def connection_for_webhook(*, kind: str, public_id: str) -> Connection | None:
    """The connection a store's webhook names in its address, whatever its status."""
    try:
        key = UUID(public_id)
    except ValueError:
        return None
    return Connection.objects.select_related("organization").filter(kind=kind, public_id=key).first()


def connections_visible_to(actor: Actor) -> QuerySet[Connection]:
    require(actor, INTEGRATIONS_MANAGE)
    return Connection.objects.visible_to(actor).select_related("organization")


def access_connection(actor: Actor, connection_id: int) -> Connection:
    try:
        return connections_visible_to(actor).get(pk=connection_id)
    except Connection.DoesNotExist:
        raise NotFound("No such connection.") from None


def inbox_of(connection: Connection) -> QuerySet[InboxMessage]:
    return connection.inbox.select_related("order")
