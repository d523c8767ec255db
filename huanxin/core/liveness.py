"""Who is running a request, and whether they still are.

An ``Idempotency-Key`` is reserved by a pending record before its request acts. When the worker running
that request dies (killed by a timeout, out of memory, a deploy), nothing removes the record, and without
knowing whether the first attempt still runs a retry could only wait until the record is old. So the
record names its *owner*, and a retry asks whether the owner is gone:

* on PostgreSQL the owner is the database session of the request (backend pid and start time). A worker
  that dies takes its connections with it, on any host, so a session that no longer exists runs nothing;
* elsewhere (SQLite: one machine) the owner is the operating-system process and thread: a process that no
  longer exists (or whose pid now belongs to a later process) runs nothing.

An owner that cannot be judged (another host's process, an empty owner from before owners were written)
is treated as running: the caller falls back to the age of the record.
"""

from __future__ import annotations

import os
import socket
import threading
from functools import cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

_PG = "pg"
_OS = "os"


# The database session's identity: its pid is reused by later sessions, its start time is not. The time is
# kept as ISO 8601 text with its offset (independent of the session's DateStyle) and compared as a timestamp.
SESSION_QUERY = (
    "SELECT pid, to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
    " FROM pg_stat_activity WHERE pid = pg_backend_pid()"
)


def owner(using: str = DEFAULT_DB_ALIAS) -> str:
    """The token naming whoever runs the current request, to store with what it reserves (empty, so never
    judged gone, when ``HUANXIN_IDEMPOTENCY_OWNER_CHECK`` is off)."""
    if not settings.HUANXIN_IDEMPOTENCY_OWNER_CHECK:
        return ""
    connection = connections[using]
    if connection.vendor == "postgresql":
        return _session_token(using)
    return process_owner(os.getpid(), threading.get_ident())


def session_owner(pid: int, started: str) -> str:
    """The token of the PostgreSQL session ``pid`` that started at ``started`` (as ``SESSION_QUERY`` reads)."""
    return f"{_PG}:{pid}:{started}"


def process_owner(pid: int, thread: int) -> str:
    """The token of thread ``thread`` of process ``pid`` on this machine."""
    return ":".join((_OS, _hostname(), str(pid), _process_start(pid), str(thread)))


def is_gone(token: str, using: str = DEFAULT_DB_ALIAS) -> bool:
    """True only when the owner named by ``token`` certainly runs nothing any more."""
    kind, _, rest = token.partition(":")
    if kind == _PG and connections[using].vendor == "postgresql":
        pid, _, started = rest.partition(":")
        if not pid.isdigit() or not started:
            return False
        with connections[using].cursor() as cursor:
            # Within a transaction PostgreSQL keeps the first snapshot of the sessions it read: drop it.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            # A session of another database role shows its pid but may hide its start time (NULL without
            # pg_read_all_stats): such a session counts as alive, never as gone.
            cursor.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s"
                " AND (backend_start IS NULL OR backend_start = %s::timestamptz))",
                [int(pid), started],
            )
            row = cursor.fetchone()
        return bool(row and row[0])
    if kind == _OS:
        parts = rest.split(":")
        if len(parts) != 4 or parts[0] != _hostname() or not parts[1].isdigit():
            return False  # another machine's process: not ours to judge
        process, started, thread = int(parts[1]), parts[2], parts[3]
        if process == os.getpid():
            return not any(str(alive.ident) == thread for alive in threading.enumerate())
        return _process_start(process) != started
    return False


def _session_token(using: str) -> str:
    """``pg:<backend pid>:<backend start>`` of the connection, read once per database session."""
    connection = connections[using]
    connection.ensure_connection()
    raw = connection.connection
    cached = getattr(connection, "_huanxin_owner", None)
    if cached is not None and cached[0] is raw:
        return str(cached[1])
    with connection.cursor() as cursor:
        cursor.execute(SESSION_QUERY)
        row = cursor.fetchone()
    token = session_owner(row[0], row[1]) if row else ""
    connection._huanxin_owner = (raw, token)  # type: ignore[attr-defined]
    return token


@cache
def _hostname() -> str:
    return socket.gethostname().replace(":", "_")


def _process_start(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, Linux), telling it from a later process that
    reuses the pid; ``"?"`` where /proc is not there but the process exists, ``""`` when it does not."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
            return stat.read().rsplit(")", 1)[1].split()[19]
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return ""
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return ""
    except PermissionError:
        pass
    return "?"
