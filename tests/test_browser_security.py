"""#15 in headless Chromium: hostile text from data stays text on the public 核验查询 page and on
登记详情 (no link, no image fetched, no bold), and a graduate activates their account with the
one-time code, the last six characters of their 身份证号 and a password of their own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipelines import activation, reports, reviews, selfservice, submissions
from pipelines.rules import workflow
from pipelines.store import SYSTEM, Store
from tests.browser import (
    TODAY,
    assert_no_exception,
    build_demo,
    log_in,
    open_page,
    screenshot,
    serve_dashboard,
    settle_after,
)
from tests.conftest import SUBMISSION_FORM

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HOSTILE = (
    "![p](http://127.0.0.1:9/x.png)[登录已过期请点此](http://127.0.0.1:9/phish) **已核验有效** "
    "<img src=http://127.0.0.1:9/y.png> :red[红字] 人才服务中心"
)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("browser-security"), graduates=300)


@pytest.fixture(scope="module")
def hostile_report(demo_db: Path) -> tuple[str, str, str]:
    """A graduate whose registration names HOSTILE as its unit, approved, confirmed, with an
    archive report in force: (学号, name, 核验编号)."""
    store = Store(demo_db, today=TODAY)
    with Store(demo_db, today=TODAY).reading(SYSTEM) as reader:
        conn = reader._conn
        ((sid, name),) = conn.execute(
            "select student_id, name from graduates where student_id not in "
            "(select student_id from registrations) order by 1 limit 1"
        ).fetchall()
    submissions.submit(store, SYSTEM, sid, {**SUBMISSION_FORM, "unit_name": HOSTILE})
    for level in ("college", "school"):
        reviews.decide_current(store, SYSTEM, sid, workflow.Decision(level, "approve"))
    selfservice.record_destination(store, SYSTEM, sid, "10", HOSTILE[:100], "江西省南昌市")
    with Store(demo_db, today=TODAY).reading(SYSTEM) as reader:
        conn = reader._conn
        hukou = conn.execute("select is_hukou_at_school from graduates where student_id = ?", [sid]).fetchall()[0][0]
    if hukou:
        selfservice.record_hukou(store, SYSTEM, sid, "origin", "江西省", "南昌市", "东湖区", "八一大道 1 号")
    reports.confirm(store, SYSTEM, sid)
    number = reports.issue(store, SYSTEM, sid, "archive", date(2024, 12, 30)).report_number
    return sid, name, number


@pytest.fixture(scope="module")
def demo_url(demo_db: Path, hostile_report: tuple[str, str, str]) -> Iterator[str]:
    with serve_dashboard(demo_db, today=TODAY) as base_url:
        yield base_url


def _no_markup_from(page: Page) -> None:
    """Nothing the hostile text asked for was made: no link to it, no image, no bold, no colour."""
    main = page.get_by_test_id("stMain")
    assert main.locator("a[href*='127.0.0.1:9']").count() == 0
    assert main.locator("img[src*='127.0.0.1:9']").count() == 0
    assert main.locator("strong", has_text="已核验有效").count() == 0
    shown = main.inner_text().replace("\u2060", "")  # the word joiners that stop automatic links
    assert "[登录已过期请点此](http://127.0.0.1:9/phish)" in shown and "**已核验有效**" in shown


def test_the_public_lookup_shows_a_hostile_unit_name_as_text(
    page: Page, demo_url: str, hostile_report: tuple[str, str, str]
) -> None:
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url) if "127.0.0.1:9" in request.url else None)
    _, name, number = hostile_report
    open_page(page, demo_url, "verify", {"number": number}, user=None)
    page.get_by_label("毕业生姓名").fill(name)
    settle_after(page, lambda: page.get_by_role("button", name="查询").click())
    expect(page.get_by_text("生效中")).to_be_visible()
    _no_markup_from(page)
    screenshot(page, "verify-hostile-unit")
    assert fetched == []


def test_the_detail_page_shows_hostile_text_as_text(
    page: Page, demo_url: str, hostile_report: tuple[str, str, str]
) -> None:
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url) if "127.0.0.1:9" in request.url else None)
    sid, _, _ = hostile_report
    open_page(page, demo_url, "detail", {"student": sid})
    assert_no_exception(page)
    _no_markup_from(page)
    assert fetched == []


def test_a_graduate_activates_with_the_code_and_logs_in_with_their_own_password(
    page: Page, demo_url: str, demo_db: Path
) -> None:
    store = Store(demo_db, today=TODAY)
    with Store(demo_db, today=TODAY).reading(SYSTEM) as reader:
        conn = reader._conn
        ((sid, id_number),) = conn.execute(
            "select student_id, id_number from graduates where id_number is not null and "
            "student_id not in (select username from users) order by 1 limit 1"
        ).fetchall()
    (issued,) = activation.issue_codes(store, SYSTEM, student_id=sid)
    open_page(page, demo_url, user=None)
    page.get_by_text("毕业生首次登录：激活账号").click()  # an expander opens in the browser, no rerun
    form = page.get_by_test_id("stForm").filter(has=page.get_by_text("激活码（12 位"))
    form.get_by_label("学号").fill(sid)
    form.get_by_label("激活码（12 位，可带或不带短横线）").fill(activation.shown(issued.code))
    form.get_by_label("身份证号后 6 位").fill("000000")  # the wrong second fact first
    form.get_by_label("设置密码（至少 8 位，含字母和数字）").fill("Mine2024x")
    form.get_by_label("再次输入密码").fill("Mine2024x")
    settle_after(page, lambda: form.get_by_role("button", name="激活并登录").click())
    expect(page.get_by_text("学号、激活码或身份证号后 6 位不正确")).to_be_visible()
    form.get_by_label("身份证号后 6 位").fill(id_number[-6:])
    form.get_by_label("设置密码（至少 8 位，含字母和数字）").fill("Mine2024x")
    form.get_by_label("再次输入密码").fill("Mine2024x")
    settle_after(page, lambda: form.get_by_role("button", name="激活并登录").click())
    expect(page.get_by_role("heading", name="我的登记", level=1)).to_be_visible()
    screenshot(page, "activated")
    settle_after(page, lambda: page.get_by_role("button", name="退出登录").click())
    log_in(page, sid, "Mine2024x")
    expect(page.get_by_role("heading", name="我的登记", level=1)).to_be_visible()
