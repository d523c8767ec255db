"""A retry may take over a key at once when the worker that reserved it died, and only then."""

import json
import signal
import subprocess
import sys

import pytest
from django.db import connection
from django.test import RequestFactory

from huanxin.accounts.models import Organisation
from huanxin.conftest import api_client_for, valid_uscc
from huanxin.core import liveness
from huanxin.core.idempotency import caller_scope, request_fingerprint
from huanxin.core.models import AuditEntry, IdempotencyRecord

pytestmark = pytest.mark.django_db

PATH = "/api/v1/accounts/organisations"


class Worker:
    """A separate process standing in for the worker that runs the first attempt: on PostgreSQL it holds
    a database session (the request's owner there), elsewhere the process itself is the owner."""

    def __init__(self) -> None:
        if connection.vendor == "postgresql":
            settings = connection.settings_dict
            dsn = (
                f"host={settings['HOST'] or '127.0.0.1'} port={settings['PORT'] or 5432} "
                f"user={settings['USER']} dbname={settings['NAME']}"
            )
            code = (
                "import sys, time, psycopg\n"
                "c = psycopg.connect(sys.argv[1], autocommit=True)\n"
                "pid, started = c.execute(sys.argv[2]).fetchone()\n"
                "print(f'{pid}|{started}', flush=True)\n"
                "time.sleep(300)\n"
            )
            args = [sys.executable, "-c", code, dsn, liveness.SESSION_QUERY]
        else:
            args = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(300)"]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if connection.vendor == "postgresql":
            pid, started = line.split("|", 1)
            self.owner = liveness.session_owner(int(pid), started)
        else:
            self.owner = liveness.process_owner(self.process.pid, 1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        if connection.vendor == "postgresql":
            # The server notices the closed socket as the client dies; give the backend a moment to exit.
            import time

            for _ in range(100):
                if liveness.is_gone(self.owner):
                    return
                time.sleep(0.05)

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.kill()


def _body(uscc: str) -> str:
    return json.dumps({"name": "北京幂等电器有限公司", "kind": "merchant", "uscc": uscc, "district": "110105"})


def _reserve_for(worker: Worker, user, uscc: str, key: str) -> IdempotencyRecord:
    """The pending record the first attempt left, as its reservation wrote it (owner included)."""
    request = RequestFactory().post(PATH, data=_body(uscc), content_type="application/json")
    request.user = user
    return IdempotencyRecord.objects.create(
        scope=caller_scope(request),
        key=key,
        request_hash=request_fingerprint(request),
        method="POST",
        path=PATH,
        owner=worker.owner,
    )


def _post(client, uscc: str, key: str):
    return client.post(PATH, data=_body(uscc), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_waits_while_the_first_attempts_worker_lives_and_takes_over_once_it_died(personas):
    client = api_client_for(personas.admin)
    uscc = valid_uscc()
    with Worker() as worker:
        _reserve_for(worker, personas.admin, uscc, "crash-1")
        audit_rows = AuditEntry.objects.count()

        busy = _post(client, uscc, "crash-1")

        assert busy.status_code == 409
        assert busy.json()["code"] == "idempotency_in_progress"
        assert not Organisation.objects.filter(uscc=uscc).exists()
        assert AuditEntry.objects.count() == audit_rows

        worker.kill()
        retried = _post(client, uscc, "crash-1")
        replayed = _post(client, uscc, "crash-1")

    assert retried.status_code == 201, retried.content
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.content == retried.content
    assert Organisation.objects.filter(uscc=uscc).count() == 1
    record = IdempotencyRecord.objects.get(key="crash-1")
    assert record.state == IdempotencyRecord.State.DONE
    assert record.owner == liveness.owner()  # the retry took the key over


def test_a_record_without_an_owner_still_waits_for_its_age():
    assert not liveness.is_gone("")
    assert not liveness.is_gone("os:another-machine:1:1:1")


def test_the_running_request_is_its_own_live_owner():
    assert not liveness.is_gone(liveness.owner())


def test_without_the_owner_check_no_owner_is_written_and_a_dead_workers_key_waits(personas, settings):
    settings.HUANXIN_IDEMPOTENCY_OWNER_CHECK = False
    assert liveness.owner() == ""
    client = api_client_for(personas.admin)
    uscc = valid_uscc()
    with Worker() as worker:
        record = _reserve_for(worker, personas.admin, uscc, "crash-2")
        IdempotencyRecord.objects.filter(pk=record.pk).update(owner="")
        worker.kill()
        assert _post(client, uscc, "crash-2").status_code == 409
    assert not Organisation.objects.filter(uscc=uscc).exists()
