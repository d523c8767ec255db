"""Celery tasks: each periodic job is one task that runs it through the same recorded, single-flight path."""

from __future__ import annotations

from celery import shared_task
from django.db import connections

from huanxin.core.jobs import run_job as run_registered_job


@shared_task(name="huanxin.core.tasks.run_job", acks_late=True)
def run_job(name: str) -> str:
    """Run a registered job; acks late so a worker killed mid-run leaves the message for another worker."""
    try:
        run = run_registered_job(name)
    finally:
        # A worker thread keeps no connection between tasks: a long-idle one would be dropped by the
        # server (or pgbouncer) and fail the next task.
        connections.close_all()
    return "skipped: already running" if run is None else f"{run.status}: {run.detail}"
