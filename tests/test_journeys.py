"""Journeys: several steps, as each role clicks them in the real dashboard (headless Chromium),
over a 2,000-graduate demo store. Each journey checks the store and the screen after its steps,
never a single widget alone (issue #16: every defect found by clicking is in one of them).

The steps wait on the app's state (tests/browser.py: the script has finished running), never on
fixed sleeps. Screenshots of each step go to the test's tmp dir.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from pipelines.store import SYSTEM, Store
from tests.browser import (
    TODAY,
    assert_no_exception,
    build_demo,
    choose,
    grid,
    grid_rows,
    open_page,
    serve_dashboard,
    settle_after,
    tick,
    wait_settled,
)
from tests.browser import (
    screenshot as _screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("journeys"), graduates=2000)


@pytest.fixture(scope="module")
def demo_url(demo_db: Path) -> Iterator[str]:
    with serve_dashboard(demo_db, today=TODAY) as base_url:
        yield base_url


def rows(db: Path, text: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with Store(db, today=TODAY).reading(SYSTEM) as reader:
        return reader._conn.execute(text, params or []).fetchall()


def shot(page: Page, folder: Path, name: str) -> None:
    """A screenshot of this step, in the test's own tmp dir."""
    path = _screenshot(page, f"journey-{folder.name}-{name}")
    (folder / f"{name}.png").write_bytes(path.read_bytes())


# --- the dean -------------------------------------------------------------------------------


def _approved_by_dean(db: Path) -> set[tuple[str, int]]:
    return {
        (sid, no)
        for sid, no in rows(
            db,
            """
        select r.student_id, r.revision_no from reviews v join registrations r using (registration_id)
        where v.reviewer = 'dean' and v.decision = 'approve' and v.level = 'college'""",
        )
    }


def test_a_dean_bulk_approves_twice_and_exactly_the_revisions_shown_are_approved(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    open_page(page, demo_url, "review", user="dean")
    choose(page, "退档风险标记", "无标记")
    before = _approved_by_dean(demo_db)
    approved: set[tuple[str, int]] = set()
    for round_no in (1, 2):
        queue = grid(page, 1)
        header, *listed = grid_rows(queue)
        sid, no = header.index("学号"), header.index("版本")
        for row in range(3):
            tick(page, queue, row)
        shown = {(line[sid], int(line[no])) for line in listed[:3]}
        # the action says what it acts on: the three graduates and revisions ticked
        plan = page.get_by_test_id("stTable")
        for student_id, _ in shown:
            expect(plan).to_contain_text(student_id)
        shot(page, tmp_path, f"{round_no}-ticked")
        settle_after(
            page, lambda: page.get_by_role("button", name=re.compile("^批量学院通过所选无标记的 3 条")).click()
        )
        assert_no_exception(page)
        expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="已通过 3 条")).to_be_visible()
        # nothing is ticked afterwards: no bulk button, no rows carried over onto the next ones
        expect(page.get_by_role("button", name=re.compile("^批量学院通过"))).to_have_count(0)
        shot(page, tmp_path, f"{round_no}-approved")
        approved |= shown
        assert _approved_by_dean(demo_db) - before == approved
    assert len(approved) == 6


def test_a_dean_returns_a_registration_and_finds_it_on_the_risk_page(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    ((registration_id, student_id, class_name),) = rows(
        demo_db,
        """
        select registration_id, student_id, class_name from graduate_stages
        where status = 'pending_college' and college_name = (select colleges[1] from users where username = 'dean')
            and registration_id not in (select registration_id from reviews)
        order by submitted_at desc limit 1""",
    )
    open_page(page, demo_url, "review", user="dean")
    page.get_by_label("班级", exact=True).fill(class_name)
    settle_after(page, lambda: page.get_by_label("班级", exact=True).press("Enter"))
    queue = grid(page, 1)
    header, *listed = grid_rows(queue)
    tick(page, queue, [line[header.index("学号")] for line in listed].index(student_id))
    expect(page.get_by_role("heading", name=re.compile(student_id))).to_be_visible()
    page.get_by_text("退回", exact=True).click()
    page.get_by_label("退回原因（毕业生会看到；可在模板后补充）").fill("邮编与地址不符，请核对")
    settle_after(page, lambda: page.get_by_role("button", name="提交审核意见").click())
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="已学院退回")).to_be_visible()
    shot(page, tmp_path, "1-returned")
    assert rows(demo_db, "select decision, reason from reviews where registration_id = ?", [registration_id]) == [
        ("return", "邮编与地址不符，请核对")
    ]

    open_page(page, demo_url, "risk", {"class": class_name}, user="dean")
    reasons = page.get_by_test_id("stButtonGroup")
    settle_after(page, lambda: reasons.get_by_text(re.compile("^登记被退回")).click())
    # the grid attaches its rows as it draws them (seen under load: the row not there yet)
    expect(grid(page, 0).locator("table tr", has_text=student_id)).to_be_attached()
    listing = grid_rows(grid(page, 0))
    line = next(line for line in listing if student_id in line)
    assert "邮编与地址不符，请核对" in line
    assert_no_exception(page)
    shot(page, tmp_path, "2-risk")


def test_a_dean_finds_their_own_student_whatever_the_address_left_behind(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    dean = "(select colleges[1] from users where username = 'dean')"
    ((student_id, name, own_class),) = rows(
        demo_db,
        f"""
        select student_id, name, class_name from graduates where college_name = {dean}
        order by class_name, student_id limit 1""",
    )
    ((other_class,),) = rows(
        demo_db,
        f"""
        select max(class_name) from graduates where college_name = {dean} and class_name <> ?""",
        [own_class],
    )
    # a class left in the address by another page, and no filter bar on this one
    open_page(page, demo_url, "detail", {"class": other_class}, user="dean")
    box = page.get_by_label("按学号或姓名查找（可输入一部分）")
    box.fill(student_id)
    settle_after(page, lambda: box.press("Enter"))
    assert_no_exception(page)
    link = page.get_by_role("link", name=re.compile(f"^{student_id} "))
    expect(link).to_be_visible()
    assert "q=" in page.url  # the search is in the address
    shot(page, tmp_path, "1-found")

    # open the graduate from the results, then reveal: the graduate stays, and it is recorded
    settle_after(page, lambda: link.click())
    expect(page.get_by_role("heading", name=f"{name}（{student_id}）")).to_be_visible()
    assert f"student={student_id}" in page.url
    settle_after(page, lambda: page.get_by_role("button", name=re.compile("^查看完整身份证号")).click())
    assert_no_exception(page)
    expect(page.get_by_role("heading", name=f"{name}（{student_id}）")).to_be_visible()
    expect(page.get_by_test_id("stAlertContentInfo").filter(has_text="完整信息")).to_be_visible()
    shot(page, tmp_path, "2-revealed")
    assert rows(
        demo_db,
        "select count(*) from audit_log where actor = 'dean' and action = 'reveal' and target = ?",
        [student_id],
    ) == [(1,)]


# --- the leader -----------------------------------------------------------------------------


def test_a_leader_drills_from_the_overview_to_a_student_reveals_and_finds_it_in_the_audit_log(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    ((college,),) = rows(
        demo_db,
        """
        select college_name from graduate_stages group by college_name
        order by avg(case when stage = 'not_registered' then 0 else 1 end), college_name limit 1""",
    )
    open_page(page, demo_url, "", user="admin")
    settle_after(page, lambda: page.get_by_role("link", name=college, exact=True).click())
    expect(page.get_by_role("heading", name=college, level=1)).to_be_visible()
    assert "college=" in page.url
    shot(page, tmp_path, "1-college")

    # a class lower down the ranking (not the first row), then the page stays on it
    ranking = grid(page, 0)
    header, *classes = grid_rows(ranking)
    assert len(classes) >= 3
    chosen = classes[2][header.index("班级")]
    tick(page, ranking, 2)
    assert_no_exception(page)
    expect(page.get_by_role("heading", name=chosen, level=1)).to_be_visible()
    assert "college=" in page.url and "class=" in page.url
    shot(page, tmp_path, "2-class")

    # a search within the class keeps the college and the class
    people = grid(page, 1)
    header, first, *_ = grid_rows(people)
    student_id, name = first[header.index("学号")], first[header.index("姓名")]
    box = page.get_by_label("按学号或姓名查找")
    box.fill(name)
    settle_after(page, lambda: box.press("Enter"))
    expect(page.get_by_role("heading", name=chosen, level=1)).to_be_visible()
    people = grid(page, 1)
    header, *found = grid_rows(people)
    row = [line[header.index("学号")] for line in found].index(student_id)
    tick(page, people, row)
    expect(page.get_by_role("heading", name=f"{name}（{student_id}）")).to_be_visible()
    shot(page, tmp_path, "3-student")

    settle_after(page, lambda: page.get_by_role("button", name=re.compile("^查看完整身份证号")).click())
    expect(page.get_by_test_id("stAlertContentInfo").filter(has_text="完整信息")).to_be_visible()
    wait_settled(page)
    settle_after(page, lambda: page.get_by_test_id("stSidebarNav").get_by_role("link", name="审计日志").click())
    assert_no_exception(page)
    expect(page.locator("td[role=gridcell]", has_text=student_id).first).to_be_attached()
    shot(page, tmp_path, "4-audit")
    assert rows(
        demo_db,
        "select count(*) from audit_log where actor = 'admin' and action = 'reveal' and target = ?",
        [student_id],
    ) == [(1,)]


# --- the graduate ---------------------------------------------------------------------------


def test_a_confirmed_graduate_saves_unchanged_stays_confirmed_then_changes_is_warned_and_reviewed(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    ((student_id,),) = rows(
        demo_db,
        """
        select min(users.username) from users join graduate_stages using (student_id)
        where users.role = 'graduate' and graduate_stages.stage = 'confirmed'""",
    )
    state = "select stage, status, revision_no from graduate_stages where student_id = ?"
    (before,) = rows(demo_db, state, [student_id])
    assert before[0] == "confirmed"
    open_page(page, demo_url, "register", user=student_id)
    expect(page.get_by_test_id("stAlertContentWarning").filter(has_text="这次确认将失效")).to_be_visible()
    shot(page, tmp_path, "1-form")

    # opened the form, changed nothing, clicked 提交: nothing is written, still confirmed
    settle_after(page, lambda: page.get_by_role("button", name="提交", exact=True).click())
    assert_no_exception(page)
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="未重新提交")).to_be_visible()
    assert rows(demo_db, state, [student_id]) == [before]
    shot(page, tmp_path, "2-unchanged")

    # a new unit: refused until the warning is acknowledged, then reviewed again
    unit = page.get_by_label("档案转递单位名称")
    unit.fill("南昌市红谷滩区人才服务中心")
    settle_after(page, lambda: unit.press("Tab"))
    settle_after(page, lambda: page.get_by_role("button", name="提交", exact=True).click())
    expect(page.get_by_test_id("stAlertContentError").filter(has_text="这次确认将失效")).to_be_visible()
    assert rows(demo_db, state, [student_id]) == [before]
    shot(page, tmp_path, "3-warned")
    settle_after(page, lambda: page.get_by_text("我已了解，仍要保存修改", exact=False).click())
    settle_after(page, lambda: page.get_by_role("button", name="提交", exact=True).click())
    assert_no_exception(page)
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="已提交，等待学院审核")).to_be_visible()
    assert rows(demo_db, state, [student_id])[0][1:] == ("pending_college", before[2] + 1)
    shot(page, tmp_path, "4-resubmitted")


# --- the office -----------------------------------------------------------------------------


def _verified(db: Path) -> int:
    ((count,),) = rows(db, "select count(*) from graduate_stages where is_verified")
    return int(count)


def test_an_admin_issues_a_class_s_reports_and_the_counts_agree_on_every_page(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    import subprocess

    ((college, class_name, ready, existing),) = rows(
        demo_db,
        """
        select college_name, class_name, count(*) filter (where is_confirmed),
            count(*) filter (where is_verified)
        from graduate_stages group by all
        having count(*) filter (where is_confirmed and not is_verified) > 0
            and count(*) filter (where is_verified) > 0
        order by college_name, class_name limit 1""",
    )
    open_page(page, demo_url, "", user="admin")
    (kpi_before,) = [
        int(t.replace(",", ""))
        for t in page.get_by_test_id("stMetric")
        .filter(has_text="已核验")
        .get_by_test_id("stMetricValue")
        .all_inner_texts()
    ]
    assert kpi_before == _verified(demo_db)
    open_page(page, demo_url, "reports", user="admin")
    choose(page, "学院", college)
    choose(page, "班级", class_name)

    def card(label: str) -> int:
        value = page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")
        return int(value.inner_text().replace(",", ""))

    assert card("可生成报告（已确认）") == ready
    had, fresh = card("已有且仍有效"), card("将新生成")
    assert had + fresh == ready
    shot(page, tmp_path, "1-before")
    settle_after(
        page, lambda: page.get_by_role("button", name=re.compile(f"^生成 {class_name} 的档案信息核验报告")).click()
    )
    assert_no_exception(page)
    result = page.get_by_test_id("stAlertContentSuccess").filter(has_text=f"共 {ready} 份")
    expect(result).to_contain_text(f"新生成 {fresh} 份，{had} 份已有且仍有效")
    assert card("已有且仍有效") == ready and card("将新生成") == 0  # the cards count what was just done
    shot(page, tmp_path, "2-issued")
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("^下载 核验报告_")).click()
    pdf = tmp_path / "reports.pdf"
    download.value.save_as(pdf)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(rf"^Pages:\s+{ready}$", info, re.M), info  # one page per report

    # the list of issued reports, searched by number; the overview rose by what was newly in force
    ((number,),) = rows(
        demo_db,
        """
        select max(report_number) from verification_reports join graduates using (student_id)
        where class_name = ? and kind = 'archive'""",
        [class_name],
    )
    box = page.get_by_label("核验编号（可输入一部分）")
    box.fill(number[-6:])
    settle_after(page, lambda: box.press("Enter"))
    assert [line for line in grid_rows(grid(page, 0))[1:] if line[0] == number]
    shot(page, tmp_path, "3-listed")
    after = _verified(demo_db)
    open_page(page, demo_url, "", user="admin")
    (kpi_after,) = [
        int(t.replace(",", ""))
        for t in page.get_by_test_id("stMetric")
        .filter(has_text="已核验")
        .get_by_test_id("stMetricValue")
        .all_inner_texts()
    ]
    assert kpi_after == after == kpi_before - existing + ready  # every confirmed one of the class is verified now
    shot(page, tmp_path, "4-overview")


# --- the public -----------------------------------------------------------------------------


def test_a_receiving_unit_checks_a_report_from_its_qr_link_then_a_wrong_name_is_not_found(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    ((number, name),) = rows(
        demo_db,
        """
        select report_number, name from verification_report_status join graduates using (student_id)
        where report_status = 'active' and is_confirmation_current order by report_number limit 1""",
    )
    open_page(page, demo_url, "verify", {"number": number}, user=None)  # the QR code's link
    expect(page.get_by_label("核验编号或转递编号")).to_have_value(number)
    page.get_by_label("毕业生姓名").fill(name)
    settle_after(page, lambda: page.get_by_role("button", name="查询").click())
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("档案信息核验：生效中")
    shot(page, tmp_path, "1-valid")
    page.get_by_label("毕业生姓名").fill(name + "某")
    settle_after(page, lambda: page.get_by_role("button", name="查询").click())
    expect(page.get_by_test_id("stAlertContentError")).to_have_text(re.compile("^未找到"))
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
    shot(page, tmp_path, "2-not-found")
