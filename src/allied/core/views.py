import datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from allied.core.tasks import workers_alive_since


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: 503 when the database is unreachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        since = timezone.now() - datetime.timedelta(seconds=settings.ALLIED_WORKER_LOST_AFTER_SECONDS)
        worker = "ok" if workers_alive_since(since) else "stale"
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable", "worker": "unknown"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "worker": worker})
