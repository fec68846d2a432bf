"""The row locks integrations take."""

from allied.integrations.models import Connection


def connection_locked(connection_id: int) -> Connection:
    """A connection held until the transaction ends: stock changes and the push that takes them
    are serialised on it, so no change falls between a push's read and its schedule."""
    return Connection.objects.select_for_update().get(pk=connection_id)
