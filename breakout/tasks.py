"""Background jobs of the breakout app, run by ``manage.py live_worker`` (see ``live.jobs``:
jobs run at least once, so each is safe to repeat)."""

from __future__ import annotations

from django_tasks import task


@task()
def breakout_timer_job(parent_id: int) -> str:
    """A warning time or the end of a parent's timer: ``timers.breakout_timer_tick``."""
    from breakout.services.timers import breakout_timer_tick

    return breakout_timer_tick(parent_id=parent_id)
