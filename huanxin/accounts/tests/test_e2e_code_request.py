"""The code request in a real browser (Debian's Chromium driven by Playwright): a refusal replaces the status
line instead of leaving "已发送" on screen, and the resend button counts its cooldown down."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# serialized_rollback: a plain transactional test flushes the tables and post_migrate refills the content types
# under new ids, which the serialized-rollback tests that run later (catalogue) then collide with.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def test_refusals_show_and_the_resend_button_counts_down(live_server, browser, sms_outbox, settings):
    settings.HUANXIN_OTP_RESEND_SECONDS = 30
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    page.goto(f"{live_server.url}/accounts/register/")
    page.fill("#id_phone", "12345")
    page.click("#code-status button")
    page.wait_for_selector('#code-status [data-code="invalid_length"]')
    assert "已发送" not in page.inner_text("#code-status")
    page.fill("#id_phone", "139 1234 5678")
    page.click("#code-status button")
    page.wait_for_selector('#code-status [data-code="code_sent"]')
    button = page.locator("#code-status button")
    assert button.is_disabled()
    first = button.inner_text()
    assert first.startswith("重新发送（")
    assert first.endswith("秒）")
    page.wait_for_function(
        "t => document.querySelector('#code-status button').textContent !== t", arg=first, timeout=5000
    )
    assert len(sms_outbox) == 1
    # A second request inside the cooldown (another tab, a script) is refused by the server with the wait.
    page.evaluate("document.querySelector('#code-status button').disabled = false")
    page.evaluate("document.querySelector('#code-status button').removeAttribute('data-cooldown')")
    page.click("#code-status button")
    page.wait_for_selector('#code-status [data-code="otp_resend_cooldown"]')
    assert "秒后重新获取验证码" in page.inner_text("#code-status")
    assert "已发送" not in page.inner_text("#code-status")
    assert page.locator("#code-status button").is_disabled()
    assert len(sms_outbox) == 1
