"""Background work of the last mile: plans of a hub's day, and parcels with courier companies
(booked, their webhooks applied, polled every quarter of an hour)."""

from crontask import cron
from django.db import transaction
from django.tasks import task

from allied.core.tasks import retrying


@retrying(max_attempts=2, base_delay=5, max_delay=30)
@task
def plan_hub_day(run_id: int) -> dict[str, int]:
    """Plan one hub's day as the run asks (its time limit), progress and outcome on the run."""
    from allied.delivery.services.planning import plan_run_execute

    run = plan_run_execute(run_id=run_id)
    return {"routes": len(run.summary.get("routes", [])), "unplanned": len(run.summary.get("unplanned", []))}


@retrying(max_attempts=8, base_delay=30, max_delay=3600)
@task
def book_courier_task(task_id: int) -> str:
    """Book one courier stop; a courier that cannot be reached is tried again with backoff (a
    refusal is noted on the stop, not retried). Safe to run twice: a booked stop is left alone."""
    from allied.delivery.services.couriers import courier_task_book

    return courier_task_book(task_id=task_id).consignment_id


@retrying(max_attempts=5, base_delay=5, max_delay=300)
@task
def apply_courier_webhook(webhook_id: int) -> list[str]:
    """Apply one courier webhook's events to the stops; applied once, whatever runs twice."""
    from allied.couriers.services import courier_webhook_finish
    from allied.delivery.services.couriers import courier_webhook_apply

    try:
        with transaction.atomic(durable=True):
            return courier_webhook_apply(webhook_id=webhook_id)
    except Exception as error:
        with transaction.atomic(durable=True):
            courier_webhook_finish(webhook_id=webhook_id, outcome=[], failed=f"{type(error).__name__}: {error}")
        raise


@retrying(max_attempts=3, base_delay=30, max_delay=300)
@task
def poll_courier_task(task_id: int) -> list[str]:
    """Ask the courier where one booked stop is and apply the answer."""
    from allied.delivery.services.couriers import courier_task_poll

    return courier_task_poll(task_id=task_id)


@cron("*/15 * * * *")
@task
def poll_courier_stops() -> int:
    """Every booked courier stop the courier has not finished with is polled every 15 minutes, so
    a webhook the courier never sent is caught within a quarter of an hour."""
    from allied.delivery.services.couriers import courier_tasks_to_poll

    due = courier_tasks_to_poll()
    for task_id in due:
        poll_courier_task.enqueue(task_id)
    return len(due)
