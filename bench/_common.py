"""What the benchmark scripts share: the bench database's lifecycle, Django set up against it, gunicorn
serving it, and small timing helpers.

The scripts import it as ``from _common import ...``: a script run as ``python bench/<name>.py`` has its
own folder first on sys.path (bench is not a package). Importing this module also puts the repository
root on sys.path, so that ``huanxin`` is importable from the scripts and from this module.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_DATABASE_NAME = re.compile(r"[A-Za-z0-9_]+")


# ---------------------------------------------------------------------------------------------------------
# The bench database
# ---------------------------------------------------------------------------------------------------------


def dsn(database: str) -> str:
    """The psycopg connection string of a database on the local PostgreSQL server."""
    return f"host=127.0.0.1 port=5432 user=postgres dbname={database}"


ADMIN_DSN = dsn("postgres")


def database_url(database: str) -> str:
    """The DATABASE_URL the settings read for a database on the local PostgreSQL server."""
    return f"postgres://postgres@127.0.0.1:5432/{database}"


def checked_database_name(name: str) -> str:
    """The name, if it is letters, digits and underscores only (it is quoted into DROP/CREATE DATABASE)."""
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"database name {name!r}: letters, digits and underscores only")
    return name


def create_database(name: str) -> None:
    """A fresh, empty database (one left behind by an earlier run is dropped first)."""
    name = checked_database_name(name)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    """Drop the database, ending the sessions still connected to it."""
    name = checked_database_name(name)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database_argument(value: str) -> str:
    try:
        return checked_database_name(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_database_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    """--database (created fresh, dropped at the end) and --keep."""
    parser.add_argument(
        "--database",
        type=_database_argument,
        default=default,
        help=f"database created fresh and dropped at the end ({default})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and the temporary directory")


# ---------------------------------------------------------------------------------------------------------
# Django in this process, and its lifecycle around a run
# ---------------------------------------------------------------------------------------------------------


def django_environment(database: str, var_dir: Path) -> dict[str, str]:
    """The settings a city installation reads from its environment, pointed at the bench database."""
    return {
        "DJANGO_SETTINGS_MODULE": "huanxin.settings",
        "DATABASE_URL": database_url(database),
        "HUANXIN_VAR_DIR": str(var_dir),
    }


def setup_django(database: str, var_dir: Path) -> None:
    """Django in this process against the bench database, logging warnings only."""
    os.environ.update(django_environment(database, var_dir))
    os.environ.setdefault("HUANXIN_LOG_LEVEL", "WARNING")  # this process only; gunicorn gets the default
    import django

    django.setup()


@contextlib.contextmanager
def bench_database(database: str, *, keep: bool, prefix: str) -> Iterator[Path]:
    """A fresh database and a temporary HUANXIN_VAR_DIR, Django set up against them; yields the directory.

    On exit the database connections are closed and the database is dropped unless ``keep``. The directory
    holds the generated secrets and the server log: it is deleted after a successful run unless ``keep``,
    and kept (and named) after a failure.
    """
    var_dir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        create_database(database)
    except BaseException:
        shutil.rmtree(var_dir, ignore_errors=True)
        raise
    failed = True
    try:
        setup_django(database, var_dir)
        yield var_dir
        failed = False
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            with contextlib.suppress(Exception):
                connections.close_all()
        if not keep:
            drop_database(database)
        if failed:
            print(f"server log and secrets kept in {var_dir}")
        elif keep:
            print(f"kept: database {database}, server log and secrets in {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------
# The application server
# ---------------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclasses.dataclass(frozen=True)
class Server:
    port: int
    pid: int  # the gunicorn master; its workers are its children


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@contextlib.contextmanager
def gunicorn(database: str, var_dir: Path, *, workers: int, threads: int = 1, timeout: int) -> Iterator[Server]:
    """gunicorn serving ``huanxin.wsgi:application`` on 127.0.0.1 with the settings a city installation
    uses, sync workers (gthread when ``threads`` > 1); yields once /healthz answers. The log goes to
    ``var_dir/gunicorn.log``."""
    port = free_port()
    environment = {**os.environ, **django_environment(database, var_dir)}
    environment.pop("HUANXIN_LOG_LEVEL", None)  # the server logs as installed (INFO)
    command = [
        sys.executable, "-m", "gunicorn", "huanxin.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread" if threads > 1 else "sync",
        "--threads", str(threads),
        "--timeout", str(timeout),
    ]  # fmt: skip
    log = (var_dir / "gunicorn.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {process.returncode}; see {var_dir / 'gunicorn.log'}")
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# ---------------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def timed(label: str) -> Iterator[None]:
    """Print how long a block (or, as a decorator, each call of a function) took."""
    started = time.perf_counter()
    yield
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)


def percentile_ms(latencies: Sequence[float], fraction: float) -> float:
    """The latency (seconds) below which ``fraction`` of the samples lie, in milliseconds; 0 without samples."""
    if not latencies:
        return 0.0
    ordered = sorted(latencies)
    return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def load_average() -> float:
    """The one-minute load average: other work on the machine skews every figure, this says how much."""
    return round(os.getloadavg()[0], 2)


def migrate() -> None:
    """``huanxin migrate`` against the bench database, in a subprocess with this process's environment."""
    command = Path(sys.executable).with_name("huanxin")
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "huanxin"]
    subprocess.run([*argv, "migrate", "--verbosity", "0"], cwd=ROOT, check=True, env=os.environ.copy())


class StatementClock:
    """Counts the statements Django sends and the wall time spent waiting for them (an execute wrapper)."""

    def __init__(self) -> None:
        self.statements = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.statements += 1


@contextlib.contextmanager
def clocked() -> Iterator[StatementClock]:
    from django.db import connection

    clock = StatementClock()
    with connection.execute_wrapper(clock):
        yield clock
