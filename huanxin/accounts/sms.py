"""Sending one-time codes by SMS. Production plugs in the operator's gateway via HUANXIN_SMS_BACKEND."""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from huanxin.core.domain.masking import mask_mobile

logger = logging.getLogger("huanxin.sms")


class SmsBackend(Protocol):
    def send_code(self, phone: str, code: str, purpose: str) -> None: ...


DEMO_CODES_FILE = "sms-codes.txt"
DEMO_CODES_KEPT = 20


def demo_codes_path() -> Path:
    """Where the embedded backend keeps the codes it "sent": a file in ``var/`` readable by its owner only."""
    return Path(settings.VAR_DIR) / DEMO_CODES_FILE


class LogSmsBackend:
    """The embedded default: sends nothing. The server log gets a line with the code and the number masked
    (logs are shipped and kept; a code in them would let a log reader sign in as the resident); the code
    itself goes to ``var/sms-codes.txt`` (mode 0600, the last 20 codes) so that a demo can be tried."""

    def send_code(self, phone: str, code: str, purpose: str) -> None:
        path = demo_codes_path()
        minutes = settings.HUANXIN_OTP_TTL_SECONDS // 60
        line = f"{timezone.localtime():%Y-%m-%d %H:%M:%S}  {mask_mobile(phone)}  {purpose}  {code}\n"
        kept = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else []
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as codes:
            codes.writelines([*kept[-(DEMO_CODES_KEPT - 1) :], line])
        logger.info(
            "短信验证码 %s → %s（用途：%s，%d 分钟内有效；演示环境不发短信，验证码见 %s）",
            "*" * len(code),
            mask_mobile(phone),
            purpose,
            minutes,
            path,
        )

    def send_text(self, phone: str, text: str, purpose: str) -> None:
        """A notice (not a code): the demo logs it with the number masked; production's gateway sends it."""
        logger.info("短信通知 → %s（%s）：%s", mask_mobile(phone), purpose, text)


class OutboxSmsBackend:
    """Keeps sent messages in memory; for tests that must read the code a resident would receive."""

    def __init__(self) -> None:
        self.outbox: list[tuple[str, str, str]] = []

    def send_code(self, phone: str, code: str, purpose: str) -> None:
        self.outbox.append((phone, code, purpose))

    def send_text(self, phone: str, text: str, purpose: str) -> None:
        self.outbox.append((phone, text, purpose))


@lru_cache(maxsize=4)
def _backend(path: str) -> SmsBackend:
    backend: SmsBackend = import_string(path)()
    return backend


def get_sms_backend() -> SmsBackend:
    return _backend(settings.HUANXIN_SMS_BACKEND)


def send_notice(phone: str, text: str, purpose: str) -> None:
    """Send a notice by SMS (补正 asked, decided, paid) through the configured backend; a backend that only
    sends codes logs the notice instead of failing the caller."""
    backend = get_sms_backend()
    sender = getattr(backend, "send_text", None)
    if sender is None:
        logger.warning("短信通道不支持通知短信，未发送：%s → %s", purpose, mask_mobile(phone))
        return
    sender(phone, text, purpose)
