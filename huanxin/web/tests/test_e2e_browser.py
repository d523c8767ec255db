"""End to end in a real browser (Debian's Chromium driven by Playwright): a resident claims and shows the
code on a phone-sized screen, a clerk redeems it at the till. Skipped where Chromium is not installed
(.ci/run installs it)."""

from __future__ import annotations

import os
import shutil

import pytest
from django.db import connections

from huanxin.conftest import PASSWORD
from huanxin.trace.tests.conftest import chain  # noqa: F401  (the fixture, for the trace code test)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser():
    # Playwright's sync API runs an event loop; Django refuses database access from inside one unless told.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_a_resident_claims_on_a_phone_and_a_clerk_redeems_at_the_till(live_server, personas, browser):
    from huanxin.subsidies.models import Qualification, Redemption
    from huanxin.subsidies.tests.conftest import build_scene

    scene = build_scene(personas)
    resident = scene.resident()
    resident.username = "resident-e2e"
    resident.set_password(PASSWORD)
    resident.save()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = phone.new_page()
    sign_in(page, live_server.url, "resident-e2e")
    page.goto(f"{live_server.url}/me/subsidies/claim/")
    page.select_option("#id_programme", "cn-appliance-2026")
    page.select_option("#id_category", "fridge")
    page.click("form button[type=submit]")
    page.wait_for_selector(".qr svg")
    assert "最高可补贴 ¥1,500.00" in page.inner_text("main")
    assert page.locator(".countdown.big").inner_text().startswith("还剩")
    # The page fits a phone: nothing is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    code = page.inner_text(".code-big")
    qualification = Qualification.objects.get()

    till = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    clerk = personas.clerk
    sign_in(till, live_server.url, clerk.username)
    till.goto(f"{live_server.url}/merchant/redeem/")
    till.fill("#id_code", code)
    till.wait_for_selector("#code-info .message")
    assert "冰箱" in till.inner_text("#code-info")
    till.select_option("#id_product", str(scene.fridge.pk))
    till.fill("#id_serial", "SN-E2E-0001")
    till.fill("#id_price", "4999")
    till.click("form button[type=submit]")
    # The till shows the subsidy and the customer's payment; the clerk confirms with the customer.
    till.wait_for_selector("#quote-subsidy")
    assert till.inner_text("#quote-subsidy") == "¥749.85"
    assert till.inner_text("#quote-paid") == "¥4,249.15"
    assert Redemption.objects.count() == 0
    till.click("#confirm-redeem")
    till.wait_for_selector("text=核销成功")
    redemption = Redemption.objects.get()
    assert (redemption.qualification_id, redemption.subsidy_fen) == (qualification.pk, 74_985)

    # The customer brings it back: a whole-order return refunds what they paid and claws back the whole subsidy,
    # shown before it is committed.
    till.goto(f"{live_server.url}/merchant/redemptions/{redemption.pk}/")
    till.check("input[name=kind][value=full]")
    till.fill("#id_reason", "顾客不想要了")
    till.click("button[value=preview]")
    till.wait_for_selector("#return-quote")
    assert till.inner_text("[data-figure=refund]") == "¥4,249.15"
    assert till.inner_text("[data-figure=clawback]") == "¥749.85"
    assert not redemption.returns.exists()
    till.click("button[value=commit]")
    till.wait_for_selector("text=退货记录")
    redemption.refresh_from_db()
    assert redemption.status == "returned"
    # The resident's page shows what was actually refunded to them, not the price before subsidy.
    page.goto(f"{live_server.url}/me/subsidies/")
    assert "¥4,249.15" in page.inner_text("main")
    assert "¥4,999.00" not in page.inner_text("main")
    # Queries made here, after Playwright started, ran in a context (a greenlet) of their own, with their own
    # database connection that nothing else will close; left open, it keeps the test database from being
    # dropped at the end of the run.
    connections.close_all()


def test_anyone_types_the_printed_trace_code_and_sees_its_chain(live_server, chain, browser):  # noqa: F811
    from huanxin.trace.domain.codes import printed_code
    from huanxin.trace.tests.conftest import walk_to_dismantling

    item = walk_to_dismantling(chain)
    printed = printed_code(item.code)
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    page.goto(f"{live_server.url}/verify/")
    # As a person types it from the label, with a space and a full-width dot.
    page.fill("#id_code", " " + printed.replace(".", "。"))
    page.click("form button[type=submit]")
    page.wait_for_url(f"**/verify/**{printed.split('.')[1]}**")
    assert printed in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/verify/")
    page.fill("#id_code", "不是追溯码")
    page.click("form button[type=submit]")
    page.wait_for_selector(".error")
    assert "追溯码" in page.inner_text(".error")
    connections.close_all()
