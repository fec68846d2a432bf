from crontask import cron
from django.db import transaction
from django.tasks import task

from allied.accounts.policy import Actor
from allied.privacy.services.notice import notice_refresh
from allied.privacy.services.requests import privacy_requests_remind
from allied.privacy.services.retention import retention_run


@cron("23 2 * * *")
@task
def apply_retention() -> int:
    """Nightly: every declared retention rule, each in its own transaction."""
    return retention_run(actor=Actor.system("retention schedule")).rows


@cron("7 8 * * *")
@task
def remind_privacy_requests() -> int:
    """Each morning: the privacy officers hear of requests due within a week."""
    return privacy_requests_remind()


@cron("53 2 * * *")
@task
def refresh_privacy_notice() -> int:
    """A changed setting the notice states publishes a new version without a deploy."""
    with transaction.atomic(durable=True):
        return notice_refresh().number
