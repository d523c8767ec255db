"""``check --deploy`` is clean under the production settings documented in docs/OPERATIONS.md."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

OPERATIONS = Path(settings.BASE_DIR) / "docs" / "OPERATIONS.md"


def _documented_production_environment() -> dict[str, str]:
    """The ``HUANXIN_…=value`` block of OPERATIONS.md, with a real secret key for the placeholder."""
    found = dict(re.findall(r"^    (HUANXIN_[A-Z_]+)=(\S+)$", OPERATIONS.read_text(encoding="utf-8"), re.M))
    assert {"HUANXIN_SECRET_KEY", "HUANXIN_SSL_REDIRECT", "HUANXIN_HSTS_SECONDS"} <= found.keys()
    found["HUANXIN_SECRET_KEY"] = secrets.token_urlsafe(60)
    return found


def test_the_deploy_checks_pass_under_the_documented_production_settings(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HUANXIN_", "DJANGO_"))}
    environment |= _documented_production_environment()
    environment |= {"HUANXIN_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "huanxin.settings"}
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
