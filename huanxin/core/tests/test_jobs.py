import datetime
import socket

import pytest
from django.utils import timezone

from huanxin.core import jobs
from huanxin.core.models import JobRun

pytestmark = pytest.mark.django_db


def test_run_due_runs_each_job_once_per_interval():
    first = jobs.run_due()
    assert set(first) == {job.name for job in jobs.JOBS}
    assert all(result.startswith("done") for result in first.values())
    assert jobs.run_due() == {}
    later = timezone.now() + datetime.timedelta(minutes=6)
    assert set(jobs.run_due(now=later)) == {"subsidies.expire"}


def test_a_job_already_running_is_not_started_twice():
    JobRun.objects.create(name="subsidies.expire")
    assert jobs.run_job("subsidies.expire") is None
    assert JobRun.objects.filter(name="subsidies.expire").count() == 1


def test_a_run_left_running_by_a_dead_process_is_taken_over():
    JobRun.objects.create(name="subsidies.expire", started_at=timezone.now() - datetime.timedelta(hours=2))
    run = jobs.run_job("subsidies.expire")
    assert run is not None
    assert run.status == "done"
    assert JobRun.objects.get(name="subsidies.expire", status="failed").detail == "进程中断（超时接管）"


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(monkeypatch):
    def boom():
        raise RuntimeError("disk full")

    monkeypatch.setattr(jobs.Job, "function", lambda self: boom if self.name == "subsidies.expire" else (lambda: 0))
    outcome = jobs.run_due()
    assert outcome["subsidies.expire"] == "failed: RuntimeError"
    assert outcome["core.purge_idempotency"] == "done: 0"
    assert "disk full" in JobRun.objects.get(name="subsidies.expire").detail


def _rabbitmq_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_a_job_runs_as_a_celery_task_through_the_real_rabbitmq(personas):
    """A real worker thread consumes from the RabbitMQ on this machine and runs the expiry job."""
    if not _rabbitmq_up():
        pytest.skip("RabbitMQ is not running on 127.0.0.1:5672")
    from celery.contrib.testing.worker import start_worker

    from huanxin.celery import app
    from huanxin.core.tasks import run_job
    from huanxin.subsidies import services
    from huanxin.subsidies.models import Qualification
    from huanxin.subsidies.tests.conftest import build_scene

    scene = build_scene(personas)
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    Qualification.objects.filter(pk=qualification.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    app.conf.broker_url = "amqp://guest:guest@127.0.0.1:5672//"
    app.conf.result_backend = "rpc://"
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = run_job.delay("subsidies.expire").get(timeout=60)
    assert result == "done: 1"
    assert Qualification.objects.get(pk=qualification.pk).status == "expired"
    assert JobRun.objects.get(name="subsidies.expire").status == "done"


def test_every_app_registers_its_own_jobs_with_their_schedules():
    every = {job.name: job.every for job in jobs.JOBS}
    assert every == {
        "core.purge_idempotency": datetime.timedelta(hours=6),
        "core.purge_rate_limits": datetime.timedelta(hours=1),
        "subsidies.expire": datetime.timedelta(minutes=5),
        "settlement.close_periods": datetime.timedelta(minutes=15),
        "trace.checkpoints": datetime.timedelta(hours=1),
        "vehicles.clock_flags": datetime.timedelta(hours=1),
    }
    assert jobs.JOBS_BY_NAME["subsidies.expire"].function().__module__.startswith("huanxin.subsidies.")


def test_a_job_name_cannot_be_registered_twice_with_another_definition():
    known = jobs.JOBS_BY_NAME["subsidies.expire"]
    assert jobs.register(known.name, every=known.every, target=known.target, description=known.description) is known
    with pytest.raises(ValueError, match="already registered"):
        jobs.register(known.name, every=datetime.timedelta(minutes=1), target=known.target, description="")
    assert jobs.JOBS_BY_NAME["subsidies.expire"] is known
