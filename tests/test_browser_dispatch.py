"""A receiving unit confirms an archive's receipt on the public 核验查询 page in headless Chromium
(not logged in): name + 转递编号 + its own name; a wrong name says 未找到; the store then has the
archive received, and the unit's name (markup in it) shows as text on the detail page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipelines import campaigns, dispatch
from pipelines.rules import dispatch as rules
from pipelines.store import SYSTEM, Store
from tests.browser import TODAY, assert_no_exception, build_demo, open_page, screenshot, serve_dashboard, settle_after

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE_UNIT = "<img src=x onerror=alert(1)>**粗体**"


def _sent_archive(db: Path) -> tuple[str, str, str]:
    """One verified graduate's archive bagged, batched and sent: (学号, 姓名, 转递编号)."""
    store = Store(db, today=TODAY)
    saved = campaigns.campaign_of(store, SYSTEM, 2024)
    assert saved is not None
    campaigns.save_campaign(store, SYSTEM, campaigns.replace(saved, school_province="江西"))
    with store.reading(SYSTEM) as reader:
        ((student_id, name, number),) = reader._conn.execute(
            "select a.student_id, a.name, r.transfer_number from archive_status a join registrations r"
            " using (registration_id) where a.is_verified and r.transfer_number is not null"
            " order by a.student_id limit 1"
        ).fetchall()
    assert dispatch.mark_bags(store, SYSTEM, [student_id]).done == [student_id]
    assert dispatch.build_batch(store, SYSTEM, 2024).batch_no is not None
    serial = "12345678"
    waybill = f"EA{serial}{rules.s10_check_digit(serial)}CN"
    assert dispatch.record_waybills(store, SYSTEM, [dispatch.Entry("页面", student_id, waybill)]).done == [student_id]
    return student_id, name, number


def _confirm(page: Page, name: str, number: str, unit: str) -> None:
    page.locator(".st-key-receipt_name input").fill(name)
    page.locator(".st-key-receipt_number input").fill(number)
    page.locator(".st-key-receipt_unit input").fill(unit)
    settle_after(page, lambda: page.get_by_role("button", name="确认收到档案").click())


def test_a_receiving_unit_confirms_receipt_on_the_public_page(page: Page, tmp_path: Path) -> None:
    db = build_demo(tmp_path, graduates=300)
    student_id, name, number = _sent_archive(db)
    page.on("dialog", lambda dialog: dialog.dismiss())  # an alert would mean the markup ran
    with serve_dashboard(db, today=TODAY) as base_url:
        open_page(page, base_url, "verify", user=None)
        assert_no_exception(page)
        expect(page.get_by_role("heading", name="接收单位确认收到档案")).to_be_visible()
        _confirm(page, name, number, HOSTILE_UNIT)
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("贵单位已收到该毕业生的档案，谢谢")
        screenshot(page, "dispatch-receipt")
        _confirm(page, name + "某", number, "某市人才服务中心")
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("未找到")

        with Store(db, today=TODAY).reading(SYSTEM) as reader:
            ((status, unit),) = reader._conn.execute(
                "select dispatch_status, received_by from archive_status where student_id = ?", [student_id]
            ).fetchall()
        assert status == rules.RECEIVED and "<img" in unit and "**粗体**" in unit

        # the unit's name on the detail page (its block and the timeline's 原因/说明): text, never markup
        open_page(page, base_url, "detail", {"student": student_id})
        assert_no_exception(page)
        expect(page.get_by_text("已签收").first).to_be_visible()
        assert page.locator("img[src='x']").count() == 0 and page.locator("strong", has_text="粗体").count() == 0
        expect(page.locator("td", has_text="**粗体**").first).to_be_attached()
        screenshot(page, "dispatch-detail-received")
