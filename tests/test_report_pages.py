"""The 核验报告 and 核验查询 pages with AppTest on a built demo store: a batch issued with a
download, idempotent when run again, and a public look-up that says only valid or 未找到,
rate-limited."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.store import Store
from tests import apptest
from tests.apptest import open_page, page_alone, refused_page, sql

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from apptest.demo_store(tmp_path_factory, "reports", graduates=1500, seed=5)


def test_a_class_batch_is_issued_downloadable_and_not_duplicated(demo_store: Store, tmp_path: Path) -> None:
    ((college, class_name),) = sql(
        demo_store,
        """
        select college_name, class_name from graduate_stages where is_confirmed and not is_verified
        group by all order by count(*) desc limit 1""",
    )
    app = open_page("screens/review/reports.py")
    app.selectbox(key="rp_college").set_value(college).run()
    app.selectbox(key="rp_class").set_value(class_name).run()
    ((confirmed,),) = sql(
        demo_store, "select count(*) from graduate_stages where class_name = ? and is_confirmed", [class_name]
    )
    assert {m.label: m.value for m in app.metric}["可生成报告（已确认）"] == f"{confirmed:,}"
    before = sql(demo_store, "select count(*) from verification_reports")[0][0]
    button = next(b for b in app.button if b.label.startswith(f"生成 {class_name} 的档案信息核验报告"))
    button.click().run()
    assert not app.exception, [e.value for e in app.exception]
    summary = " ".join(s.value for s in app.success)
    issued_now = sql(demo_store, "select count(*) from verification_reports")[0][0] - before
    assert f"共 {confirmed} 份" in summary and f"新生成 {issued_now} 份" in summary and issued_now > 0
    download = app.get("download_button")
    assert download and f"核验报告_{class_name}_档案信息核验.pdf" in str(download[0].proto).replace("\\", "")
    # every confirmed graduate of the class now has an archive report in force
    assert sql(
        demo_store,
        "select count(*) from graduate_stages where class_name = ? and is_confirmed and not is_verified",
        [class_name],
    ) == [(0,)]
    next(b for b in app.button if b.label.startswith(f"生成 {class_name}")).click().run()
    assert sql(demo_store, "select count(*) from verification_reports")[0][0] - before == issued_now  # no duplicates
    assert f"新生成 0 份，{confirmed} 份已有且仍有效" in " ".join(s.value for s in app.success)


def test_a_college_reviewer_cannot_issue(demo_store: Store) -> None:
    app = page_alone("screens/review/reports.py", "dean")
    assert refused_page(app) and not any(b.label.startswith("生成 ") for b in app.button)


def test_the_public_lookup_answers_valid_or_not_found_and_limits_attempts(demo_store: Store) -> None:
    ((name, number, unit),) = sql(
        demo_store,
        """
        select g.name, v.report_number, r.unit_name from verification_report_status v
        join graduates g using (student_id) join confirmations c using (confirmation_id)
        join registrations r on r.registration_id = c.registration_id
        where v.report_status = 'active' and v.is_confirmation_current order by v.report_id limit 1""",
    )
    app = open_page("screens/public/verify.py", number=number)
    assert app.text_input[1].value == number  # the QR code's link fills the number in
    app.text_input[0].input(name)
    app.button[0].click().run()
    assert any("生效中" in s.value for s in app.success)
    assert any(unit in m.value for m in app.markdown)
    app.text_input[0].input(name + "某")
    app.button[0].click().run()
    wrong_name = [e.value for e in app.error]
    app.text_input[0].input(name)
    app.text_input[1].input(number[:-1] + ("2" if number[-1] != "2" else "3"))
    app.button[0].click().run()
    assert wrong_name == [e.value for e in app.error] == ["未找到：姓名、核验编号或转递编号不正确。"]
    for _ in range(8):  # 10 look-ups in 10 minutes per client; this AppTest is one client
        app.button[0].click().run()
    assert any("查询过于频繁" in e.value for e in app.error), [e.value for e in app.error]


def test_pdftotext_is_available_for_the_report_tests() -> None:
    assert subprocess.run(["pdftotext", "-v"], capture_output=True).returncode == 0
