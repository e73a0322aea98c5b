"""The 导入 and 届别设置 pages as the office clicks through them (AppTest over a real demo store):
upload, the detected kind, a preview that writes nothing, the refusal table, the import, and a
campaign created and changed. (The same journey in Chromium: tests/test_browser.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines import exports, imports
from pipelines.store import SYSTEM, Store
from tests import apptest, layouts
from tests.apptest import open_page, sql
from tests.conftest import data_snapshot

pytestmark = pytest.mark.slow
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from apptest.demo_store(tmp_path_factory, "imports", graduates=400, seed=14)


def _unregistered(store: Store, n: int) -> list[tuple[str, str]]:
    return [
        (s, name)
        for s, name in sql(
            store,
            "select student_id, name from graduate_stages where stage = 'not_registered' order by student_id limit ?",
            [n],
        )
    ]


def _dispatch(tmp_path: Path, people: list[tuple[str, str]], bad: int | None = None) -> bytes:
    rows = [
        layouts.dispatch_row(i, 学号=sid, 姓名=name, 提交时间="2024-06-01 09:00:00")
        for i, (sid, name) in enumerate(people)
    ]
    if bad is not None:
        rows[bad]["档案转寄类型名称"] = "寄回家里"
    return layouts.dispatch_export(tmp_path / "派遣管理.xlsx", rows).read_bytes()


def _click(app: AppTest, label: str) -> AppTest:
    next(b for b in app.button if b.label == label).click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _text(app: AppTest) -> str:
    """What the page's text elements say, as a reader sees it (Markdown escapes removed)."""
    said = "\n".join(
        str(e.value) for kind in ("markdown", "caption", "info", "warning", "error", "success") for e in app.get(kind)
    )
    return re.sub(r"\\(.)", r"\1", said)


def test_upload_preview_refusals_then_import(demo_store: Store, tmp_path: Path) -> None:
    people = _unregistered(demo_store, 5)
    content = _dispatch(tmp_path, people, bad=2)
    app = open_page("screens/admin/imports.py")
    assert not app.radio or app.radio[0].value is None
    app.get("file_uploader")[0].upload("派遣管理.xlsx", content, XLSX)
    app.run()
    kind = app.radio[0]
    assert kind.value == "registrations" and "自动识别为“档案信息登记”" in _text(app)

    before = data_snapshot(demo_store)
    _click(app, "预览（不写入）")
    assert data_snapshot(demo_store) == before, "a preview writes nothing"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"读取行数": "5", "新增": "4", "更新": "0", "未变": "0", "拒绝": "1"}
    mapping = app.table[0].value
    assert dict(zip(mapping["文件中的表头"], mapping["导入为"], strict=True))["档案转寄单位"] == "档案转递单位名称"
    assert "“序号”（A 列）" in _text(app) and "“班级”（J 列）" in _text(app)
    refusals = app.dataframe[0].value
    assert refusals["行号"].to_list() == [5] and refusals["值"].to_list() == ["寄回家里"]
    assert any(b.label.startswith("下载全部拒绝原因") for b in app.get("download_button"))
    assert next(b for b in app.button if b.label == "导入").disabled  # a row is refused and nothing is skipped

    app.checkbox[0].check().run()
    _click(app, "预览（不写入）")
    assert not next(b for b in app.button if b.label == "导入").disabled
    _click(app, "导入")
    assert "已写入：新增 4，更新 0，未变 0，拒绝 1" in _text(app)
    got = sql(
        demo_store,
        "select student_id, unit_name, transfer_number from registrations where student_id in "
        "(select unnest(?::varchar[])) order by 1",
        [[s for s, _ in people]],
    )
    assert [(s, u) for s, u, _ in got] == [(s, "南昌市人才服务中心") for i, (s, _) in enumerate(people) if i != 2]
    assert all(t and len(t) == 18 for _, _, t in got)
    ((detail,),) = sql(
        demo_store, "select detail from audit_log where action = 'import:registrations' order by audit_id desc limit 1"
    )
    assert json.loads(detail)["inserted"] == 4 and json.loads(detail)["refused"] == 1


def test_a_hostile_upload_is_refused_on_the_page(demo_store: Store, tmp_path: Path) -> None:
    app = open_page("screens/admin/imports.py")
    app.get("file_uploader")[0].upload("名单.xlsx", layouts.far_cell(tmp_path / "far.xlsx").read_bytes(), XLSX)
    app.run()
    app.radio[0].set_value("roster").run()
    _click(app, "预览（不写入）")
    assert "（范围 A1:XFD1048576）有 16,384 列，超过上限" in _text(app)
    assert not app.dataframe


def test_the_refusal_file_is_text_and_recorded(demo_store: Store) -> None:
    errors = [imports.RowError("x.xlsx", 3, "姓名", '=HYPERLINK("http://evil.example","点此")', "姓名与名单不符")]
    data, rows = exports.import_refusals_file(
        demo_store, SYSTEM, imports.refusal_table(errors), "x.xlsx", "x_拒绝原因.xlsx"
    )
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert (
        rows == 1 and sheet["C2"].value == '=HYPERLINK("http://evil.example","点此")' and sheet["C2"].data_type == "s"
    )
    assert sql(demo_store, "select target from audit_log where action = 'export:import_refusals'") == [
        ("x_拒绝原因.xlsx",)
    ]


def test_only_the_office_has_the_import_and_campaign_pages(demo_store: Store) -> None:
    for page in ("screens/admin/imports.py", "screens/admin/campaign.py"):
        app = apptest.page_alone(page, "school")
        assert apptest.refused_page(app) and not app.get("file_uploader")


def test_a_campaign_is_created_and_changed_on_its_page(demo_store: Store) -> None:
    app = open_page("screens/admin/campaign.py")
    assert app.selectbox[0].value == 2024
    app.selectbox[0].set_value(0).run()  # 新建一届
    inputs = {t.label: t for t in app.text_input}
    assert app.number_input[0].value == 2025 and inputs["院校代码（5 位）"].value == "10001"
    inputs["通知文号"].set_value("江服就发〔2025〕12号")
    inputs["院校代码（5 位）"].set_value("1234")
    _click(app, "保存")
    assert "院校代码应为 5 位数字" in _text(app)
    assert sql(demo_store, "select count(*) from campaigns where cohort = 2025") == [(0,)]
    inputs = {t.label: t for t in app.text_input}
    assert inputs["院校代码（5 位）"].value == "1234"  # what was typed stays, to be corrected
    inputs["院校代码（5 位）"].set_value("10001")
    _click(app, "保存")
    assert "已保存 2025 届登记工作" in _text(app)
    assert sql(
        demo_store,
        "select notice_number, school_code, registration_deadline::varchar from campaigns where cohort = 2025",
    ) == [("江服就发〔2025〕12号", "10001", "2025-06-17")]
    assert sql(demo_store, "select count(*) from audit_log where action = 'campaign:set' and target = '2025'") == [(1,)]
