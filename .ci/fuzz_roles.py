"""Signs in a user of each role against a running server and runs Schemathesis over every API operation as each.

Called by ``.ci/fuzz`` (which starts and stops the server); see there. Sessions are made the way a browser
makes them (the sign-in form, with its CSRF token) and tokens the way an organisation issues them (the API, by
the merchant's manager or the administrator), so the fuzz runs with exactly what a real client holds.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

PASSWORD = "Huanxin-demo-2024"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Revoking a token can revoke the very token (or another role's token) the run authenticates with, after which
# every later case of that role is a 401: that one operation runs for every role after all the others.
REVOKE = r"/accounts/tokens/\{token_id\}/revoke$"


@dataclass
class Role:
    name: str
    user: str | None  # None: anonymous
    how: str  # "none", "session" or "token"
    issuer: str = ""  # who issues the token: the merchant's manager or the administrator
    headers: list[str] = field(default_factory=list)


ROLES = [
    Role("anonymous", None, "none"),
    Role("resident", "13800138000", "session"),
    Role("clerk", "clerk", "token", issuer="manager"),
    Role("manager", "manager", "session"),
    Role("clerk_hd", "clerk_hd", "session"),
    Role("reviewer", "reviewer", "session"),
    Role("reviewer_cy", "reviewer_cy", "token", issuer="admin"),
    Role("finance", "finance", "token", issuer="admin"),
    Role("auditor", "auditor", "session"),
    Role("recycler", "recycler", "token", issuer="admin"),
    Role("dismantler", "dismantler", "session"),
    Role("admin", "admin", "session"),
]


def wait_for(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/v1/openapi.json", timeout=30).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.5)
    sys.exit(f"fuzz: the server at {base} did not answer within {seconds:.0f} s")


def sign_in(base: str, username: str) -> requests.Session:
    """A browser session: the sign-in form's CSRF cookie, then the form."""
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=30).raise_for_status()
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302 or "sessionid" not in session.cookies:
        sys.exit(f"fuzz: {username} could not sign in ({answer.status_code})")
    return session


def session_headers(session: requests.Session) -> list[str]:
    csrf = session.cookies["csrftoken"]
    return [f"Cookie: sessionid={session.cookies['sessionid']}; csrftoken={csrf}", f"X-CSRFToken: {csrf}"]


def me(base: str, session: requests.Session) -> dict:
    answer = session.get(f"{base}/api/v1/accounts/me", timeout=30)
    answer.raise_for_status()
    return answer.json()


def issue_token(base: str, issuer: requests.Session, holder: dict, role: str) -> str:
    organisation = holder["memberships"][0]["organisation_id"]
    answer = issuer.post(
        f"{base}/api/v1/accounts/organisations/{organisation}/tokens",
        json={"name": f"fuzz {role}", "user_id": holder["id"]},
        headers={"X-CSRFToken": issuer.cookies["csrftoken"]},
        timeout=30,
    )
    if answer.status_code != 201:
        sys.exit(f"fuzz: no token for {role}: {answer.status_code} {answer.text[:300]}")
    return answer.json()["token"]


def credentials(base: str, roles: list[Role]) -> None:
    sessions: dict[str, requests.Session] = {}

    def session_of(username: str) -> requests.Session:
        if username not in sessions:
            sessions[username] = sign_in(base, username)
        return sessions[username]

    for role in roles:
        if role.how == "session":
            assert role.user
            role.headers = session_headers(session_of(role.user))
        elif role.how == "token":
            assert role.user
            holder = me(base, session_of(role.user))
            token = issue_token(base, session_of(role.issuer), holder, role.name)
            role.headers = [f"Authorization: Bearer {token}"]


@dataclass
class Outcome:
    role: str
    phase: str
    code: int
    seconds: float
    operations: str
    cases: str
    summary: str


def run(base: str, work: Path, role: Role, phase: str, *, examples: int, seed: str) -> Outcome:
    reports = work / "reports" / f"{role.name}-{phase}"
    command = [
        str(Path(".venv/bin/schemathesis").resolve()),
        "--no-color",
        "run",
        f"{base}/api/v1/openapi.json",
        "--checks",
        CHECKS,
        "--phases",
        os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing"),
        "--max-examples",
        str(examples),
        # One thread per run (roles run side by side as processes instead): Schemathesis' threads have
        # been seen to trip a CPython 3.11 error ("AST constructor recursion depth mismatch").
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--report",
        "junit",
        "--report-dir",
        str(reports),
        "--suppress-health-check",
        "all",
        # Every failure of an operation, not only its first: one CI run names all there are.
        "--continue-on-failure",
    ]
    if seed:
        command += ["--seed", seed]
    command += ["--exclude-path-regex", REVOKE] if phase == "main" else ["--include-path-regex", REVOKE]
    for header in role.headers:
        command += ["--header", header]
    started = time.monotonic()
    # From the run's own directory: Schemathesis keeps its cache (for `st replay`) in ./.schemathesis.
    finished = subprocess.run(command, capture_output=True, text=True, check=False, cwd=work)
    seconds = time.monotonic() - started
    output = finished.stdout + finished.stderr
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "output.txt").write_text(output)
    tested = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"(\d+) generated", output)
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    if finished.returncode != 0:
        print(output[-20000:])
    return Outcome(
        role.name,
        phase,
        finished.returncode,
        seconds,
        tested.group(1) if tested else "?",
        cases.group(1) if cases else "?",
        summary,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--work", required=True, type=Path)
    arguments = parser.parse_args()
    examples = int(os.environ.get("FUZZ_EXAMPLES", "10"))
    seed = os.environ.get("FUZZ_SEED", "")
    wanted = os.environ.get("FUZZ_ROLES", "").split()
    roles = [role for role in ROLES if not wanted or role.name in wanted]

    wait_for(arguments.base)
    credentials(arguments.base, roles)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=int(os.environ.get("FUZZ_PARALLEL", "3"))) as pool:
        outcomes = list(
            pool.map(
                lambda role: run(arguments.base, arguments.work, role, "main", examples=examples, seed=seed), roles
            )
        )
        outcomes += list(
            pool.map(
                lambda role: run(arguments.base, arguments.work, role, "revoke", examples=examples, seed=seed), roles
            )
        )

    print(f"{'role':<12} {'phase':<7} {'ops':>4} {'cases':>6} {'seconds':>8}  result")
    for outcome in outcomes:
        result = "ok" if outcome.code == 0 else f"FAILED ({outcome.summary})"
        print(
            f"{outcome.role:<12} {outcome.phase:<7} {outcome.operations:>4} {outcome.cases:>6} "
            f"{outcome.seconds:>8.1f}  {result}"
        )
    print(
        f"fuzz: {len(roles)} roles, {sum(int(o.cases) for o in outcomes if o.cases.isdigit())} test cases "
        f"in {time.monotonic() - started:.0f} s"
    )
    return 1 if any(outcome.code != 0 for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
