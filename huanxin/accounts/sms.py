"""Sending one-time codes by SMS. Production plugs in the operator's gateway via HUANXIN_SMS_BACKEND."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from huanxin.core.domain.masking import mask_mobile

logger = logging.getLogger("huanxin.sms")


class SmsBackend(Protocol):
    def send_code(self, phone: str, code: str, purpose: str) -> None: ...


class LogSmsBackend:
    """The embedded default: writes the code to the server log, with the number masked."""

    def send_code(self, phone: str, code: str, purpose: str) -> None:
        logger.info(
            "短信验证码 %s → %s（用途：%s，%d 分钟内有效）",
            code,
            mask_mobile(phone),
            purpose,
            settings.HUANXIN_OTP_TTL_SECONDS // 60,
        )


class OutboxSmsBackend:
    """Keeps sent messages in memory; for tests that must read the code a resident would receive."""

    def __init__(self) -> None:
        self.outbox: list[tuple[str, str, str]] = []

    def send_code(self, phone: str, code: str, purpose: str) -> None:
        self.outbox.append((phone, code, purpose))


@lru_cache(maxsize=4)
def _backend(path: str) -> SmsBackend:
    backend: SmsBackend = import_string(path)()
    return backend


def get_sms_backend() -> SmsBackend:
    return _backend(settings.HUANXIN_SMS_BACKEND)
