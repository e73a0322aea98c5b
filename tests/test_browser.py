"""The real dashboard in headless Chromium: pages render, in Chinese, without exceptions.

Screenshots land in test-artifacts/screenshots/. Helpers are in tests/browser.py.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from pipelines import accounts
from pipelines.store import SYSTEM, Store
from tests.browser import (
    TODAY,
    assert_no_exception,
    build_demo,
    grid,
    log_in,
    metric_label,
    new_page,
    open_page,
    screenshot,
    serve_dashboard,
    settle_after,
    tick,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KPI_LABELS = ["毕业生", "已登记", "已通过", "已确认", "已核验"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("browser-demo"), graduates=2000)


@pytest.fixture(scope="module")
def demo_url(demo_db: Path) -> Iterator[str]:
    """The dashboard over the demo store, one server for the module."""
    with serve_dashboard(demo_db, today=TODAY) as base_url:
        yield base_url


def test_home_page_shows_the_campaign_in_chinese(page: Page, demo_url: str) -> None:
    open_page(page, demo_url)  # the default page, 总览
    assert_no_exception(page)
    expect(page.get_by_role("heading", name="总览", level=1)).to_be_visible()
    expect(page.get_by_text("江西服装学院 · 2024 届", exact=False)).to_be_visible()
    for label in KPI_LABELS:
        expect(metric_label(page, label)).to_be_visible()
    screenshot(page, "home")


def test_an_empty_store_shows_how_to_begin(page: Page, tmp_path: Path) -> None:
    path = tmp_path / "dangan.duckdb"
    store = Store(path, today=TODAY, lock_wait=10)
    store.ensure_ready()  # migrated, no campaign, no account
    with serve_dashboard(path) as base_url:
        open_page(page, base_url, user=None)
        assert_no_exception(page)
        info = page.get_by_test_id("stAlertContentInfo")
        expect(info).to_contain_text("dangan user add")  # the login screen says how to begin
        screenshot(page, "login-empty")
        accounts.add_user(store, SYSTEM, "office", "admin", "office2024", must_change_password=False)
        log_in(page, "office", "office2024")
        assert_no_exception(page)
        expect(info).to_be_visible()
        expect(info).to_contain_text("dangan demo")
        expect(page.get_by_test_id("stMetric")).to_have_count(0)
        screenshot(page, "home-empty")


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("", "总览"),
        ("risk", "截止风险"),
        ("stats", "统计分析"),
        ("review", "待审核"),
        ("reports", "核验报告"),
        ("college", "学院 / 班级"),
        ("detail", "登记详情"),
        ("audit", "审计日志"),
        ("users", "账号"),
        ("import", "导入"),
        ("campaign", "届别设置"),
        ("verify", "核验查询"),
    ],
)
def test_every_page_opens_without_an_exception(page: Page, demo_url: str, path: str, heading: str) -> None:
    open_page(page, demo_url, path)
    assert_no_exception(page)
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    screenshot(page, f"page-{path or 'overview'}")


def test_drill_from_overview_to_a_college_to_a_graduate(page: Page, demo_url: str) -> None:
    open_page(page, demo_url)
    settle_after(page, lambda: page.get_by_role("link", name="商学院", exact=True).click())
    expect(page.get_by_role("heading", name="商学院", level=1)).to_be_visible()
    assert "college=" in page.url
    assert_no_exception(page)
    screenshot(page, "drill-1-college")

    tick(page, grid(page, 1), 0)  # a graduate's row in the list opens their record
    expect(page.get_by_role("heading", name="登记详情", level=1)).to_be_visible()
    assert "student=" in page.url
    expect(page.get_by_role("heading", name="修改与审核记录")).to_be_visible()
    assert_no_exception(page)
    screenshot(page, "drill-2-graduate")


def test_a_link_with_filters_opens_the_same_view(page: Page, demo_url: str) -> None:
    open_page(page, demo_url, "risk", {"college": "商学院", "stage": "returned"})
    assert_no_exception(page)
    expect(page.get_by_role("button", name=re.compile("下载 商学院 催办名单"))).to_be_visible()
    screenshot(page, "risk-linked")


def test_a_reviewer_returns_a_registration_with_a_template_and_the_timeline_shows_it(
    page: Page, demo_url: str, demo_db: Path
) -> None:
    with Store(demo_db, today=TODAY).reading(SYSTEM) as reader:
        ((registration_id, student_id),) = reader._conn.execute(
            "select registration_id, student_id from graduate_stages where status = 'pending_college' "
            "order by submitted_at limit 1"
        ).fetchall()
    open_page(page, demo_url, "review", {"item": registration_id})
    assert_no_exception(page)
    expect(page.get_by_role("heading", name=re.compile(student_id))).to_be_visible()
    screenshot(page, "review-pane")
    page.get_by_text("退回", exact=True).click()
    page.get_by_label("常用退回原因").click()
    page.get_by_role("option", name=re.compile("^详细地址未写到门牌号")).click()
    page.get_by_label("退回原因（毕业生会看到；可在模板后补充）").fill("东风路后面请写楼栋和室号")
    settle_after(page, lambda: page.get_by_role("button", name="提交审核意见").click())
    assert_no_exception(page)
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="已学院退回")).to_be_visible()
    expect(page.get_by_role("button", name="提交审核意见")).to_have_count(0)  # decided: no second form
    screenshot(page, "review-returned")

    open_page(page, demo_url, "detail", {"student": student_id})
    expect(page.get_by_role("heading", name="修改与审核记录")).to_be_visible()
    # the grid draws on a canvas; its cells are in the DOM for accessibility, hidden
    expect(page.locator("td[role=gridcell]", has_text="学院退回第 1 版").first).to_be_attached()
    with Store(demo_db, today=TODAY).reading(SYSTEM) as reader:
        assert reader._conn.execute(
            "select decision, reason from reviews where registration_id = ?", [registration_id]
        ).fetchall() == [("return", "详细地址未写到门牌号（街道、楼栋、室），请补充完整；东风路后面请写楼栋和室号")]


def test_a_shared_link_opened_first_on_a_fresh_server_runs_inside_the_app(page: Page, demo_db: Path) -> None:
    """A dean's link (say /risk?college=…) may be the server's very first request: it must still
    run through app.py (navigation sections, wide layout), not as a bare page file."""
    with serve_dashboard(demo_db, today=TODAY) as base_url:
        open_page(page, base_url, "risk", {"college": "商学院"})
        assert_no_exception(page)
        expect(page.get_by_role("heading", name="截止风险", level=1)).to_be_visible()
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav.get_by_text("钻取", exact=True)).to_be_visible()
        expect(nav.get_by_role("link", name="待审核")).to_be_visible()
        expect(nav.get_by_role("link", name="risk", exact=True)).to_have_count(0)


def test_review_results_download_in_the_import_layout_and_audited(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    import openpyxl

    open_page(page, demo_url, "review")
    assert_no_exception(page)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name=re.compile("导出审核结果")).click()
    saved = tmp_path / "results.xlsx"
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["学号", "姓名", "档案转递类型"] and "审核状态" in header and "退回原因" in header
    with Store(demo_db, today=TODAY).reading(SYSTEM) as reader:
        ((registered,),) = reader._conn.execute("select count(registration_id) from graduate_stages").fetchall()
        audits = reader._conn.execute(
            "select actor, detail from audit_log where action = 'export:review_results'"
        ).fetchall()
    assert sheet.max_row - 1 == registered
    assert audits and audits[-1][0] == "admin" and f'"rows": {registered}' in audits[-1][1]


def test_a_receiving_unit_checks_a_report_from_its_qr_link(page: Page, demo_url: str, demo_db: Path) -> None:
    with Store(demo_db, today=TODAY).reading(SYSTEM) as reader:
        ((name, number),) = reader._conn.execute(
            "select g.name, v.report_number from verification_report_status v join graduates g using (student_id) "
            "where v.report_status = 'active' and v.is_confirmation_current order by v.report_id limit 1"
        ).fetchall()
    open_page(page, demo_url, "verify", {"number": number})  # what the report's QR code opens
    assert_no_exception(page)
    expect(page.get_by_label("核验编号")).to_have_value(number)
    page.get_by_label("毕业生姓名").fill(name)
    settle_after(page, lambda: page.get_by_role("button", name="查询").click())
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("档案信息核验：生效中")
    screenshot(page, "verify-valid")
    page.get_by_label("毕业生姓名").fill(name + "某")
    settle_after(page, lambda: page.get_by_role("button", name="查询").click())
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("未找到")


def test_html_and_script_in_a_registration_show_as_text(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    from pipelines import imports
    from tests.conftest import REGISTRATION_HEADER, registration_row, write_csv

    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>粗体</b>'
    store = Store(demo_db, today=TODAY)
    with store.reading(SYSTEM) as reader:
        ((student_id, name),) = reader._conn.execute(
            "select student_id, name from graduate_stages where status = 'returned' order by 1 limit 1"
        ).fetchall()
    row = registration_row(
        0, 学号=student_id, 姓名=name, 情况说明=attack, 档案转递单位名称=attack, 提交时间="2024-06-10 23:59:58"
    )
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "x.csv", REGISTRATION_HEADER, [row]))
    with store.reading(SYSTEM) as reader:
        ((registration_id,),) = reader._conn.execute(
            "select registration_id from current_registrations where student_id = ?", [student_id]
        ).fetchall()
    for path, query in (("detail", {"student": student_id}), ("review", {"item": registration_id})):
        open_page(page, demo_url, path, query)
        assert_no_exception(page)
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.__pwned") is None  # nothing ran
        assert page.locator("img[src='x']").count() == 0 and page.locator("b", has_text="粗体").count() == 0
        screenshot(page, f"injection-{path}")
    # the review pane shows the unit name as text in its (canvas) grid; the DOM copy proves it
    expect(page.locator("td[role=gridcell]", has_text="<script>").first).to_be_attached()


def test_a_dean_logs_in_from_a_shared_link_sees_their_pages_only_and_logs_out(
    page: Page, demo_url: str, demo_db: Path
) -> None:
    with Store(demo_db, today=TODAY).reading(SYSTEM) as reader:
        ((college,),) = reader._conn.execute("select colleges[1] from users where username = 'dean'").fetchall()
    open_page(page, demo_url, "risk", {"college": college}, user=None)
    expect(page.get_by_role("heading", name="登录 · 档案登记看板", level=1)).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)  # nothing but the form before a login
    log_in(page, "dean", "wrong-password1", refused=True)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("用户名或密码错误")
    log_in(page, "dean")
    assert_no_exception(page)
    expect(page.get_by_role("heading", name="截止风险", level=1)).to_be_visible()  # the link survived the login
    nav = page.get_by_test_id("stSidebarNav")
    for allowed in ("总览", "截止风险", "待审核", "学院 / 班级", "登记详情", "核验查询"):
        expect(nav.get_by_role("link", name=allowed)).to_be_visible()
    for hidden in ("核验报告", "审计日志", "账号"):
        expect(nav.get_by_role("link", name=hidden)).to_have_count(0)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("学院审核员/院长")
    screenshot(page, "dean-logged-in")
    settle_after(page, lambda: page.get_by_role("button", name="退出登录").click())
    expect(page.get_by_role("heading", name="登录 · 档案登记看板", level=1)).to_be_visible()
    expect(page.get_by_text("已退出登录。")).to_be_visible()


def test_an_analyst_pivots_and_downloads_the_brief_and_the_weekly_workbook(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    import openpyxl

    open_page(page, demo_url, "stats", user="analyst")
    assert_no_exception(page)
    expect(page.get_by_role("heading", name="统计分析", level=1)).to_be_visible()
    page.get_by_role("tab", name="毕业去向落实率").click()  # tabs switch in the browser: no rerun
    expect(page.get_by_text("毕业去向落实率 = 单位就业率", exact=False)).to_be_visible()
    page.get_by_role("tab", name="导出").click()
    expect(page.get_by_role("button", name=re.compile("登记名单"))).to_have_count(0)  # aggregates only
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name=re.compile("一页进度简报")).click()
    brief = tmp_path / "brief.pdf"
    download.value.save_as(brief)
    text = subprocess.run(["pdftotext", str(brief), "-"], capture_output=True, text=True, check=True).stdout
    assert "毕业生档案信息登记进度简报" in text
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name=re.compile("进度周报工作簿")).click()
    weekly = tmp_path / "weekly.xlsx"
    download.value.save_as(weekly)
    assert openpyxl.load_workbook(weekly).sheetnames[0] == "总体进度"
    screenshot(page, "stats-export")
    with Store(demo_db, today=TODAY).reading(SYSTEM) as reader:
        actions = [
            a
            for (a,) in reader._conn.execute(
                "select action from audit_log where actor = 'analyst' and action like 'export:%' order by audit_id"
            ).fetchall()
        ]
    assert actions[-2:] == ["export:brief", "export:weekly"]


def _png(color: tuple[int, int, int], path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (320, 200), color).save(path)
    return path


def _fill(page: Page, label: str, value: str) -> None:
    """Type into a text input and wait for the rerun its commit (leaving the field) causes."""
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    settle_after(page, lambda: field.evaluate("e => e.blur()"))


def _choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a selectbox; typed first, as long lists only draw the options in view."""
    page.get_by_label(label, exact=True).click()
    page.keyboard.type(option)
    settle_after(page, lambda: page.get_by_role("option", name=option, exact=True).click())


def _decide(browser: Browser, demo_url: str, user: str, registration_id: int, reason: str = "") -> None:
    """A reviewer account decides in the review pane, in a browser context of its own."""
    reviewer = new_page(browser)
    try:
        open_page(reviewer, demo_url, "review", {"item": registration_id}, user=user)
        if reason:
            reviewer.get_by_text("退回", exact=True).click()
            reviewer.get_by_label("退回原因（毕业生会看到；可在模板后补充）").fill(reason)
        settle_after(reviewer, lambda: reviewer.get_by_role("button", name="提交审核意见").click())
        assert_no_exception(reviewer)
        done = "退回" if reason else "通过"
        expect(
            reviewer.get_by_test_id("stAlertContentSuccess").filter(
                has_text=f"已{'学院' if user == 'dean' else '学校'}{done}"
            )
        ).to_be_visible()
    finally:
        reviewer.context.close()


def test_a_graduate_registers_is_returned_resubmits_confirms_and_downloads_the_report(
    page: Page, browser: Browser, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    """The seed's whole path, end to end: first login with the initial password, 毕业去向填报,
    档案信息登记 with two proof images, the dean returns it, the graduate resubmits, the dean and
    the school approve (their own accounts), 去向登记确认, 核验授权, the PDF downloaded and read."""
    store = Store(demo_db, today=TODAY)
    with store.reading(SYSTEM) as reader:
        ((dean_college,),) = reader._conn.execute("select colleges[1] from users where username = 'dean'").fetchall()
        ((student, name),) = reader._conn.execute(
            "select student_id, name from graduate_stages where stage = 'not_registered' and not is_hukou_at_school "
            "and college_name = ? and student_id not in (select username from users) order by student_id limit 1",
            [dean_college],
        ).fetchall()
    accounts.add_user(store, SYSTEM, student, "graduate", "chushi2024", student_id=student)  # must change it

    # first login: the initial password must be changed before anything else
    open_page(page, demo_url, user=None)
    log_in(page, student, "chushi2024")
    expect(page.get_by_role("heading", name="首次登录：请修改密码")).to_be_visible()
    page.get_by_label("原密码（就业处提供的初始密码）").fill("chushi2024")
    page.get_by_label("新密码（至少 8 位，含字母和数字）").fill("wode2024mima")
    page.get_by_label("再次输入新密码").fill("wode2024mima")
    settle_after(page, lambda: page.get_by_role("button", name="修改密码").click())
    expect(page.get_by_role("heading", name="我的登记", level=1)).to_be_visible()
    expect(page.get_by_text("下一步：")).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav")
    for link in ("我的登记", "毕业去向填报", "档案信息登记", "去向登记确认", "核验授权", "核验查询"):
        expect(nav.get_by_role("link", name=link)).to_be_visible()
    expect(nav.get_by_role("link", name="户口信息登记")).to_have_count(0)  # hukou not at the school
    expect(nav.get_by_role("link", name="总览")).to_have_count(0)

    # 毕业去向填报
    settle_after(page, lambda: nav.get_by_role("link", name="毕业去向填报").click())
    _choose(page, "毕业去向", "10 签就业协议形式就业")
    _fill(page, "就业单位名称", "江西省纺织工业集团有限公司")
    _fill(page, "所在地", "江西省南昌市")
    settle_after(page, lambda: page.get_by_role("button", name="保存").click())
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="毕业去向已保存")).to_be_visible()

    # 档案信息登记, 签约单位接收: the proof it needs is shown before submitting; two images
    settle_after(page, lambda: nav.get_by_role("link", name="档案信息登记").click())
    _choose(page, "档案转递类型", "签约单位接收")
    expect(page.get_by_text("所需证明材料：")).to_be_visible()
    _fill(page, "档案转递单位名称", "江西省纺织工业集团有限公司人力资源部")
    _choose(page, "档案转递单位地址：省", "江西省")
    _choose(page, "市", "南昌市")
    _choose(page, "区 / 县", "红谷滩区")
    _fill(page, "详细地址", "丰和中大道")
    _fill(page, "档案转递单位邮编", "330038")
    _fill(page, "档案转递联系人/联系部门", "人力资源部档案室")
    _fill(page, "档案转递联系电话", "0791-86661234")
    _fill(page, "情况说明（必填，200 字以内）", "已签就业协议，单位有档案保管权限")
    expect(page.get_by_text("已输入 16 / 200 字")).to_be_visible()
    expect(page.get_by_test_id("stAlertContentError").filter(has_text="缺少证明材料")).to_be_visible()
    expect(page.get_by_role("button", name="提交")).to_be_disabled()
    expect(page.get_by_test_id("stAlertContentWarning").filter(has_text="地址不详细")).to_be_visible()  # a hint
    images = [_png((200, 30, 30), tmp_path / "调档函.png"), _png((30, 30, 200), tmp_path / "就业协议.png")]
    settle_after(page, lambda: page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(images))
    expect(page.get_by_role("button", name="提交")).to_be_enabled()
    screenshot(page, "graduate-registration-form")
    settle_after(page, lambda: page.get_by_role("button", name="提交").click())
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="已提交，等待学院审核")).to_be_visible()
    with store.reading(SYSTEM) as reader:
        ((first, flags),) = reader._conn.execute(
            "select registration_id, flags from registrations where student_id = ?", [student]
        ).fetchall()
        assert reader._conn.execute(
            "select count(*) from registration_proofs where registration_id = ?", [first]
        ).fetchall() == [(2,)]
    assert flags == ["address_incomplete"]

    # the dean returns it; the graduate sees the reason and resubmits, keeping the images
    _decide(browser, demo_url, "dean", first, "详细地址请写到门牌号")
    settle_after(page, lambda: nav.get_by_role("link", name="我的登记").click())
    expect(page.get_by_test_id("stAlertContentError").filter(has_text="退回原因：详细地址请写到门牌号")).to_be_visible()
    settle_after(page, lambda: nav.get_by_role("link", name="档案信息登记").click())
    expect(page.get_by_label("档案转递单位名称", exact=True)).to_have_value("江西省纺织工业集团有限公司人力资源部")
    _fill(page, "详细地址", "丰和中大道 1188 号 5 栋")
    expect(page.get_by_text("沿用上一版的 2 张证明材料")).to_be_visible()
    settle_after(page, lambda: page.get_by_role("button", name="提交").click())
    with store.reading(SYSTEM) as reader:
        ((second, flags),) = reader._conn.execute(
            "select registration_id, flags from registrations where student_id = ? and revision_no = 2", [student]
        ).fetchall()
        assert reader._conn.execute(
            "select count(*) from registration_proofs where registration_id = ?", [second]
        ).fetchall() == [(2,)]
    assert flags == []

    # both levels approve, each with its own reviewer account
    _decide(browser, demo_url, "dean", second)
    _decide(browser, demo_url, "school", second)

    # 去向登记确认: everything on one page, then the answer
    settle_after(page, lambda: nav.get_by_role("link", name="去向登记确认").click())
    expect(page.get_by_text("江西省纺织工业集团有限公司人力资源部")).to_be_visible()
    settle_after(page, lambda: page.get_by_text("信息无误，确认登记去向").click())
    settle_after(page, lambda: page.get_by_role("button", name="提交").click())
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="已确认登记去向")).to_be_visible()

    # 核验授权: set the validity date (the cap by default), download the report
    settle_after(page, lambda: nav.get_by_role("link", name="核验授权").click())
    expect(page.get_by_text("设置有效期后生成核验报告和编号").first).to_be_visible()
    settle_after(page, lambda: page.get_by_role("button", name="设置有效期").click())
    expect(page.get_by_text("生效中")).to_be_visible()
    screenshot(page, "graduate-authorize")
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="查看下载报告").click()
    pdf = tmp_path / "report.pdf"
    download.value.save_as(pdf)
    with store.reading(SYSTEM) as reader:
        ((number, valid_until),) = reader._conn.execute(
            "select report_number, valid_until from verification_reports where student_id = ?", [student]
        ).fetchall()
        stage = reader._conn.execute("select stage from graduate_stages where student_id = ?", [student]).fetchall()
        exported = reader._conn.execute(
            "select count(*) from audit_log where actor = ? and action = 'export:report'", [student]
        ).fetchall()
    assert stage == [("verified",)] and exported == [(1,)]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for expected in (name, number, "江西省纺织工业集团有限公司人力资源部", f"{valid_until:%Y-%m-%d}"):
        assert expected in text, expected
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 5_000
