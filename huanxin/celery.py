"""Celery for production: RabbitMQ (or Redis) as broker via CELERY_BROKER_URL; beat runs the job registry.

celery -A huanxin worker -l info
celery -A huanxin beat -l info
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huanxin.settings")

app = Celery("huanxin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["huanxin.core"])


@app.on_after_finalize.connect
def _schedule(sender: Celery, **kwargs: object) -> None:
    from huanxin.core.jobs import JOBS

    for job in JOBS:
        sender.add_periodic_task(
            job.every.total_seconds(), sender.signature("huanxin.core.tasks.run_job", args=(job.name,)), name=job.name
        )
