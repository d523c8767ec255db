"""Periodic jobs: one registry feeds both Celery beat (production) and ``huanxin jobs run-due`` (the
embedded default and operators).

Each app registers its own jobs in its ``jobs.py`` (``register(...)`` at import); ``CoreConfig.ready()`` imports
every installed app's ``jobs`` module, so the kernel never names an app. Every job is idempotent and resumable
by construction (it works from the state of the rows, never from memory), and a run is recorded in
:class:`JobRun`; at most one run of a job is in flight at a time.
"""

from __future__ import annotations

import datetime
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from huanxin.core import idempotency, ratelimit
from huanxin.core.models import JobRun

logger = logging.getLogger("huanxin.jobs")
# A run still marked as running after this long died with its process; the next run may take over.
STALE_RUN = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Job:
    name: str
    every: datetime.timedelta
    target: Callable[[], Any]
    description: str

    def function(self) -> Callable[[], Any]:
        """What a run calls; every job takes no arguments and returns a short result to record."""
        return self.target


# In registration order: apps in INSTALLED_APPS order, and each app's jobs in the order it registers them.
JOBS: list[Job] = []
JOBS_BY_NAME: dict[str, Job] = {}


def register(name: str, *, every: datetime.timedelta, target: Callable[[], Any], description: str) -> Job:
    """Add a periodic job; a name is registered once (a second, different job under it is a mistake)."""
    job = Job(name, every, target, description)
    known = JOBS_BY_NAME.get(name)
    if known is not None:
        if known != job:
            raise ValueError(f"job {name!r} is already registered with another definition")
        return known
    JOBS.append(job)
    JOBS_BY_NAME[name] = job
    return job


register(
    "core.purge_idempotency",
    every=datetime.timedelta(hours=6),
    target=idempotency.purge_expired,
    description="清理过期的幂等请求记录",
)
register(
    "core.purge_rate_limits",
    every=datetime.timedelta(hours=1),
    target=ratelimit.purge_expired,
    description="清理已结束时间窗的登录和验证码频率计数",
)


def run_job(name: str, *, now: datetime.datetime | None = None) -> JobRun | None:
    """Run one job now and record it; None when another run of it is still in flight."""
    job = JOBS_BY_NAME[name]
    now = now or timezone.now()
    JobRun.objects.filter(name=name, status=JobRun.Status.RUNNING, started_at__lt=now - STALE_RUN).update(
        status=JobRun.Status.FAILED, finished_at=now, detail="进程中断（超时接管）"
    )
    try:
        with transaction.atomic():
            run = JobRun.objects.create(name=name, started_at=now)
    except IntegrityError:
        return None
    try:
        result = job.function()()
    except Exception:
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRun.Status.FAILED, finished_at=timezone.now(), detail=traceback.format_exc()[-2000:]
        )
        logger.exception("job %s failed", name)
        raise
    JobRun.objects.filter(pk=run.pk).update(
        status=JobRun.Status.DONE, finished_at=timezone.now(), detail=str(result)[:2000]
    )
    run.refresh_from_db()
    return run


def due_jobs(now: datetime.datetime | None = None) -> list[Job]:
    """Jobs whose last run started longer ago than their interval (or never ran)."""
    now = now or timezone.now()
    due = []
    for job in JOBS:
        last = JobRun.objects.filter(name=job.name).order_by("-started_at").values_list("started_at", flat=True).first()
        if last is None or now - last >= job.every:
            due.append(job)
    return due


def run_due(now: datetime.datetime | None = None) -> dict[str, str]:
    """Run every due job once; a failing job is recorded and does not stop the others."""
    outcome = {}
    for job in due_jobs(now):
        try:
            run = run_job(job.name)
        except Exception as exc:
            outcome[job.name] = f"failed: {exc.__class__.__name__}"
            continue
        outcome[job.name] = "skipped: already running" if run is None else f"done: {run.detail}"
    return outcome
