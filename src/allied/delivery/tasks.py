"""Background work of the last mile: plans of a hub's day."""

from django.tasks import task

from allied.core.tasks import retrying


@retrying(max_attempts=2, base_delay=5, max_delay=30)
@task
def plan_hub_day(run_id: int) -> dict[str, int]:
    """Plan one hub's day as the run asks (its time limit), progress and outcome on the run."""
    from allied.delivery.services.planning import plan_run_execute

    run = plan_run_execute(run_id=run_id)
    return {"routes": len(run.summary.get("routes", [])), "unplanned": len(run.summary.get("unplanned", []))}
