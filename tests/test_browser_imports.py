"""The 导入 page in headless Chromium, as the office uses it: upload a real-layout file, preview,
work through the refusals (the downloaded xlsx), import; and a hostile upload that is refused
while a second session goes on working (the server stays up)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect

from pipelines.store import SYSTEM, Store
from tests import layouts
from tests.browser import (
    TODAY,
    assert_no_exception,
    build_demo,
    metric_label,
    new_page,
    open_page,
    screenshot,
    serve_dashboard,
    settle_after,
    wait_settled,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
UPLOAD = '[data-testid="stFileUploaderDropzoneInput"]'


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("browser-imports"), graduates=500)


@pytest.fixture(scope="module")
def demo_url(demo_db: Path) -> Iterator[str]:
    """The dashboard over the demo store, one server for the module."""
    with serve_dashboard(demo_db, today=TODAY) as base_url:
        yield base_url


def _sql(db: Path, text: str) -> list[tuple[object, ...]]:
    with Store(db, today=TODAY).reading(SYSTEM) as reader:
        conn = reader._conn
        return conn.execute(text).fetchall()


def _upload(page: Page, path: Path) -> None:
    settle_after(page, lambda: page.locator(UPLOAD).set_input_files(str(path)))


def _click(page: Page, name: str) -> None:
    settle_after(page, lambda: page.get_by_role("button", name=name, exact=True).click())


def test_upload_preview_refusals_then_import(page: Page, demo_url: str, demo_db: Path, tmp_path: Path) -> None:
    people = _sql(
        demo_db,
        "select student_id, name from graduates where student_id not in "
        "(select student_id from registrations) order by student_id limit 6",
    )
    rows = [
        layouts.dispatch_row(i, 学号=sid, 姓名=name, 提交时间="2024-06-01 09:00:00")
        for i, (sid, name) in enumerate(people)
    ]
    rows[4]["档案转寄类型名称"] = "寄回家里"
    path = layouts.dispatch_export(tmp_path / "派遣管理.xlsx", rows)

    open_page(page, demo_url, "import")
    expect(page.get_by_role("heading", name="导入", level=1)).to_be_visible()
    _upload(page, path)
    expect(page.get_by_text("按表头自动识别为“档案信息登记”")).to_be_visible()
    _click(page, "预览（不写入）")
    expect(page.get_by_text("预览（未写入任何数据）")).to_be_visible()
    for label, value in (("读取行数", "6"), ("新增", "5"), ("拒绝", "1")):
        expect(metric_label(page, label).locator("xpath=..").locator("xpath=..")).to_contain_text(value)
    table = page.get_by_test_id("stTable")
    expect(table).to_contain_text("档案转寄单位")
    expect(table).to_contain_text("档案转递单位名称")
    expect(page.get_by_text("“序号”（A 列）、“班级”（J 列）")).to_be_visible()
    expect(page.get_by_role("button", name="导入", exact=True)).to_be_disabled()
    assert _sql(demo_db, f"select count(*) from registrations where student_id = '{people[0][0]}'") == [(0,)]
    screenshot(page, "import-preview")

    with page.expect_download() as download:
        page.get_by_role("button", name="下载全部拒绝原因（派遣管理_拒绝原因.xlsx）").click()
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert [c.value for c in sheet[1]] == ["行号", "列", "值", "原因"]
    assert sheet["A2"].value == 7 and sheet["C2"].value == "寄回家里" and "六种档案转递类型" in sheet["D2"].value
    wait_settled(page)

    settle_after(page, lambda: page.get_by_text("跳过无效行：只导入有效行").click())
    _click(page, "预览（不写入）")
    _click(page, "导入")
    expect(page.get_by_text("已写入：新增 5，更新 0，未变 0，拒绝 1")).to_be_visible()
    screenshot(page, "import-done")
    got = _sql(
        demo_db,
        "select student_id, transfer_number from registrations where source = 'import' "
        f"and student_id in ({', '.join(repr(s) for s, _ in people)}) order by 1",
    )
    assert [s for s, _ in got] == [s for i, (s, _) in enumerate(people) if i != 4]
    assert all(t == layouts.transfer_number(i) for (_, t), i in zip(got, [0, 1, 2, 3, 5], strict=True))
    assert _sql(demo_db, "select count(*) from audit_log where action = 'export:import_refusals'") == [(1,)]


def test_a_hostile_upload_is_refused_and_another_session_keeps_working(
    browser: Browser, demo_url: str, tmp_path: Path
) -> None:
    """The file that made calamine allocate 6 GB (its declared size a lie): the reading child
    dies, the page says what was too big, and a second user, mid-session, is not disconnected."""
    import re

    layouts.sparse_sheet(tmp_path / "sparse.xlsx", tmp_path / "work.xlsx")
    lying = layouts.rewrite_sheet(
        tmp_path / "sparse.xlsx",
        tmp_path / "名单.xlsx",
        lambda data: re.sub(rb"<sheetData>", b'<dimension ref="A1:C2"/><sheetData>', data, count=1),
    )
    office, other = new_page(browser), new_page(browser)
    try:
        open_page(other, demo_url, user="school")  # the default page, 总览
        expect(other.get_by_role("heading", name="总览", level=1)).to_be_visible()
        open_page(office, demo_url, "import")
        _upload(office, lying)
        # told from its first rows alone: detecting never loads the sheet
        expect(office.get_by_text("按表头自动识别为“毕业生名单”")).to_be_visible()
        _click(office, "预览（不写入）")
        expect(office.get_by_text("1,000,000 行 × 200 列 = 200,000,000 个单元格，超过上限")).to_be_visible()
        screenshot(office, "import-hostile")
        # the other session: still connected, and its next click still runs
        settle_after(other, lambda: other.get_by_role("link", name="截止风险").click())
        expect(other.get_by_role("heading", name="截止风险", level=1)).to_be_visible()
        assert_no_exception(other)
        # and a fresh session still gets a page
        fresh = new_page(browser)
        open_page(fresh, demo_url)
        expect(fresh.get_by_role("heading", name="总览", level=1)).to_be_visible()
        fresh.context.close()
    finally:
        office.context.close()
        other.context.close()


def test_a_new_office_sets_up_a_cohort_and_imports_its_roster_in_the_dashboard(page: Page, tmp_path: Path) -> None:
    """From an empty store to a roster, without a shell: 届别设置, then 导入 of a platform roster
    (院系名称, no hukou column: the summary says hukou is recorded as unknown)."""
    from pipelines import accounts
    from pipelines.store import SYSTEM, Store

    path = tmp_path / "dangan.duckdb"
    store = Store(path, today=TODAY, lock_wait=10)
    store.ensure_ready()
    accounts.add_user(store, SYSTEM, "office", "admin", "office2024", must_change_password=False)
    roster = layouts.platform_roster(tmp_path / "学生名单.xlsx", [layouts.platform_roster_row(i) for i in range(8)])
    with serve_dashboard(path) as base_url:
        open_page(page, base_url, "campaign", user=None)
        from tests.browser import log_in

        log_in(page, "office", "office2024")
        expect(page.get_by_role("heading", name="届别设置", level=1)).to_be_visible()
        page.get_by_label("学校名称").fill("江西服装学院")
        page.get_by_role("textbox", name="院校代码（5 位）").fill("10001")
        page.get_by_label("通知文号").fill("江服就发〔2026〕3号")
        _click(page, "保存")
        expect(page.get_by_text("届登记工作。")).to_be_visible()
        settle_after(page, lambda: page.get_by_role("link", name="导入").click())
        _upload(page, roster)
        expect(page.get_by_text("按表头自动识别为“毕业生名单”")).to_be_visible()
        _click(page, "预览（不写入）")
        expect(page.get_by_text("户口记为“未知”（不是“不在学校”）")).to_be_visible()
        _click(page, "导入")
        expect(page.get_by_text("已写入：新增 8，更新 0，未变 0，拒绝 0")).to_be_visible()
        assert_no_exception(page)
        screenshot(page, "import-first-roster")
    assert _sql(path, "select count(*), count(is_hukou_at_school) from graduates") == [(8, 0)]
    assert _sql(path, "select school_code, notice_number from campaigns") == [("10001", "江服就发〔2026〕3号")]
