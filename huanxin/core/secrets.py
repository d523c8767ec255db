"""Local secrets for the embedded default installation.

Production passes every secret through the environment. A pilot started with ``make run`` has no
environment, so the first start writes fresh random secrets to ``var/secrets.json`` (readable by the
owner only) and says where, so that a restart can still decrypt what was stored.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from pathlib import Path


def _new_secrets() -> dict[str, str]:
    return {
        "secret_key": secrets.token_urlsafe(50),
        "pii_keys": "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "pii_hmac_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "trace_signing_key": base64.b64encode(os.urandom(32)).decode(),
    }


def _complete(path: Path, values: dict[str, str]) -> dict[str, str]:
    """Add secrets introduced by a newer version to an existing file, never changing the ones it has."""
    missing = {key: value for key, value in _new_secrets().items() if key not in values}
    if not missing:
        return values
    values = {**values, **missing}
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle)
    os.replace(temporary, path)
    return values


def load_or_create_local_secrets(path: Path) -> dict[str, str]:
    """Read ``path``, creating it with new random secrets (mode 0600) when it does not exist."""
    if path.exists():
        return _complete(path, dict(json.loads(path.read_text(encoding="utf-8"))))
    values = _new_secrets()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not each write different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _complete(path, dict(json.loads(path.read_text(encoding="utf-8"))))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle)
    sys.stderr.write(f"已生成本地密钥文件 / generated local key file: {path}\n")
    return values
