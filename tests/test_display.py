"""What the pages show is Chinese and readable (#16, defect 11): no raw "None" / "null" / "NaN",
Chinese placeholders, dates and audit records, display names in timelines, and a Chinese
message with a reference (never a traceback) when a page fails.

The page tests open every page through app.py with AppTest, as the office, a dean and
graduates, and read what Streamlit would draw: each dataframe cell as the grid shows it (a
missing value as the dataframe's placeholder, "None" without one), and every text of every
other element.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from google.protobuf import json_format
from streamlit.testing.v1 import AppTest

from dashboard.app import ENTRIES
from pipelines import accounts, demo, reviews
from pipelines.rules import roles, workflow
from pipelines.store import SYSTEM, Actor, Store
from tests import apptest
from tests.apptest import APP, open_page, sql

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "dashboard"
PIPELINES = ROOT / "pipelines"

# A value shown as Python, SQL or pandas would spell a missing one.
RAW = re.compile(r"(?<![A-Za-z_])(None|null|NaN|NaT|nan)(?![A-Za-z_])")
# Proto fields that are not shown as text (ids say "None" for an element without a key).
NOT_SHOWN = {
    "id",
    "form_id",
    "arrow_data",
    "spec",
    "data",
    "page_script_hash",
    "page",
    "icon",
    "type",
    "url_path",
    "theme",
    "selection_mode",
    "editing_mode",
    "column_order",
    "columns",
}


# --- what a page shows ----------------------------------------------------------------------


def _cell_texts(value: Any, placeholder: str) -> list[str]:
    if value is None:
        return [placeholder]
    if isinstance(value, float) and math.isnan(value):
        return ["NaN"]
    if isinstance(value, list):
        return [text for item in value for text in _cell_texts(item, placeholder)]
    return [str(value)]


def cells(proto: Any) -> list[str]:
    """The texts of a dataframe's (or table's) cells as the grid draws them."""
    data = proto.arrow_data.data
    if not data and proto.HasField("lazy_data"):
        data = proto.lazy_data.initial_chunk.data
    try:
        placeholder = proto.placeholder if proto.HasField("placeholder") else "None"
    except ValueError:  # st.table has no placeholder: a missing value shows as "None"
        placeholder = "None"
    table = pa.ipc.open_stream(data).read_all()
    return [
        text for column in table.columns for value in column.to_pylist() for text in _cell_texts(value, placeholder)
    ]


def _strings(found: Any) -> Iterator[str]:
    if isinstance(found, dict):
        for key, value in found.items():
            if key not in NOT_SHOWN:
                yield from _strings(value)
    elif isinstance(found, list):
        for value in found:
            yield from _strings(value)
    elif isinstance(found, str):
        yield found


def shown_texts(app: AppTest) -> list[tuple[str, str]]:
    """(element type, text) for every text the page shows: dataframe and table cells, and the
    text fields of every other element (labels, options, bodies, values …); charts excepted."""
    found: list[tuple[str, str]] = []
    for root in (app.main, app.sidebar):
        for node in root:
            proto = getattr(node, "proto", None)
            if proto is None or node.type == "plotly_chart":
                continue
            if node.type in ("dataframe", "table"):
                found += [(node.type, text) for text in cells(proto)]
            else:
                fields = json_format.MessageToDict(proto, preserving_proto_field_name=True)
                found += [(node.type, text) for text in _strings(fields)]
    return found


def raw_values(app: AppTest) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text in shown_texts(app) if RAW.search(text)]


# --- the helpers ----------------------------------------------------------------------------


def test_for_display_fills_missing_text_and_lists_and_keeps_numbers_and_dates_typed() -> None:
    import polars as pl

    from dashboard.display import MISSING, for_display

    frame = pl.DataFrame(
        {"text": ["a", None], "list": [["x", None], None], "number": [1, None], "nothing": [None, None]},
        schema_overrides={"list": pl.List(pl.String)},
    )
    shown = for_display(frame)
    assert shown.to_dict(as_series=False) == {
        "text": ["a", MISSING],
        "list": [["x", MISSING], []],
        "number": [1, None],
        "nothing": [MISSING, MISSING],
    }
    assert shown.schema["number"] == pl.Int64  # the dataframe's placeholder shows it


def test_localized_formats_date_axes_only() -> None:
    from datetime import date

    import plotly.graph_objects as go

    from dashboard.display import DATE_HOVER, DATE_TICKS, localized

    figure = go.Figure(go.Scatter(x=[date(2024, 6, 1), date(2024, 6, 10)], y=[1, 2]))
    figure.add_trace(go.Bar(x=["服装设计学院"], y=[3], xaxis="x2", yaxis="y2"))
    figure.add_trace(go.Pie(labels=["a"], values=[1]))
    localized(figure)
    assert (figure.layout.xaxis.tickformat, figure.layout.xaxis.hoverformat) == (DATE_TICKS, DATE_HOVER)
    layout = figure.to_dict()["layout"]
    assert "tickformat" not in layout.get("xaxis2", {}) and "tickformat" not in layout.get("yaxis", {})


def test_a_detail_reads_as_chinese_key_value_text() -> None:
    from pipelines import auditlog

    assert (
        auditlog.detail_text('{"role": "college_reviewer", "colleges": ["服装设计学院"], "student_id": null}')
        == "角色：学院审核员/院长；学院：服装设计学院；学号：无"
    )
    assert (
        auditlog.detail_text({"outcome": "wrong_password", "client": "10.0.0.1", "failures": 2})
        == "结果：密码错误；来源地址：10.0.0.1；连续失败次数：2"
    )
    assert (
        auditlog.detail_text(
            {
                "level": "school",
                "decision": "return",
                "refused": [{"registration_id": 7, "why": "已审核"}],
                "filters": {"college": "商学院", "type": "origin"},
                "unmasked": False,
            }
        )
        == "审核级别：学校；审核决定：退回；未处理：（登记编号：7；原因：已审核）；筛选条件：（学院：商学院；转递类型：转回生源地）；未脱敏：否"
    )
    assert auditlog.detail_text("{}") == "" and auditlog.detail_text("不是 JSON") == "不是 JSON"


# --- the pages ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from apptest.demo_store(tmp_path_factory, "display", graduates=600, seed=11)


def _graduates(store: Store) -> dict[str, str]:
    """The demo graduate accounts by stage."""
    return dict(demo.demo_graduates(store, apptest.dean_college(store)))


def _page_query(store: Store, script: str, user: str) -> dict[str, str]:
    """The URL that makes `script` show the most: a graduate with a history, a college, an item."""
    college = apptest.dean_college(store)
    if script == "screens/drill/detail.py" and user in ("admin", "dean"):
        return {"student": _graduates(store)["verified"]}  # submitted, approved twice, confirmed
    if script == "screens/drill/college.py":
        return {"college": college}
    if script == "screens/review/review.py":
        ((item,),) = sql(
            store,
            "select min(registration_id) from graduate_stages where status = 'pending_college' and college_name = ?",
            [college],
        )
        return {"item": str(item)}
    return {}


apptest_hukou = "screens/graduate/hukou_form.py"
STAFF_PAGES = [
    (user, script)
    for user in ("admin", "dean")
    for _, script, _, _, _, key in ENTRIES
    if roles.may_open({"admin": "admin", "dean": "college_reviewer"}[user], key)
]
GRADUATE_PAGES = [
    (stage, script)
    for stage in ("not_registered", "returned", "approved", "verified")
    for _, script, _, _, _, key in ENTRIES
    if roles.may_open("graduate", key) and key != "verify"
]


@pytest.mark.slow
@pytest.mark.parametrize(("user", "script"), STAFF_PAGES)
def test_no_staff_page_shows_none_null_or_nan(demo_store: Store, user: str, script: str) -> None:
    app = open_page(script, user, **_page_query(demo_store, script, user))
    assert not raw_values(app), f"{script} as {user} shows raw missing values: {raw_values(app)[:10]}"


@pytest.mark.slow
@pytest.mark.parametrize(("stage", "script"), GRADUATE_PAGES)
def test_no_graduate_page_shows_none_null_or_nan(demo_store: Store, stage: str, script: str) -> None:
    student = _graduates(demo_store)[stage]
    ((at_school,),) = sql(demo_store, "select is_hukou_at_school from graduates where student_id = ?", [student])
    if script == apptest_hukou and not at_school:
        # 户口信息登记 is only for graduates whose hukou moved into the school: open it as one in
        # the same stage (given an account), so the page is checked for every stage
        ((student,),) = sql(
            demo_store, "select min(student_id) from graduate_stages where stage = ? and is_hukou_at_school", [stage]
        )
        assert student is not None, f"the demo store has no {stage} graduate with hukou at the school"
        if not sql(demo_store, "select 1 from users where username = ?", [student]):
            accounts.add_user(
                demo_store, SYSTEM, student, "graduate", "grad12345", student_id=student, must_change_password=False
            )
    app = open_page(script, student)
    assert not raw_values(app), f"{script} for a graduate ({stage}) shows raw missing values: {raw_values(app)[:10]}"


# --- one helper for every table, chart and uploader; Chinese placeholders -----------------------


def _calls(path: Path) -> Iterator[tuple[ast.Call, str, str]]:
    """Every call `x.name(...)` in a file: the call, its name and the name of its root (`st`,
    `display`, `column` …)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root: ast.AST = node.func.value
            while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
                root = root.func if isinstance(root, ast.Call) else root.value
            yield node, node.func.attr, root.id if isinstance(root, ast.Name) else ""


def test_every_table_chart_and_uploader_of_a_page_goes_through_the_display_helpers() -> None:
    """st.dataframe shows a missing value as "None", plotly dates in English, st.file_uploader
    English instructions: the pages call dashboard.display's versions, which do not."""
    direct = [
        f"{path.relative_to(ROOT)}:{call.lineno}: {root}.{name}"
        for path in sorted(DASHBOARD.rglob("*.py"))
        if path.name != "display.py"
        for call, name, root in _calls(path)
        if name in ("dataframe", "plotly_chart", "file_uploader", "data_editor") and root != "display"
    ]
    assert not direct, "call dashboard.display instead:\n" + "\n".join(direct)


def _has_cjk(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and re.search(r"[\u4e00-\u9fff]", n.value)
        for n in ast.walk(node)
    )


def test_every_open_selectbox_and_multiselect_has_a_chinese_placeholder() -> None:
    """Without one Streamlit shows "Choose an option" / "Choose options"."""
    missing = []
    for path in sorted(DASHBOARD.rglob("*.py")):
        for call, name, _root in _calls(path):
            keywords = {k.arg: k.value for k in call.keywords}
            index = keywords.get("index")
            index_none = isinstance(index, ast.Constant) and index.value is None
            if (name == "multiselect" or (name == "selectbox" and index_none)) and not (
                "placeholder" in keywords and _has_cjk(keywords["placeholder"])
            ):
                missing.append(f"{path.relative_to(ROOT)}:{call.lineno}: {name}")
    assert not missing, "pass placeholder= in Chinese:\n" + "\n".join(missing)


DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _date_axes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The layout of every axis that shows dates (a trace's x or y values are dates)."""
    layout = spec.get("layout", {})
    found = []
    for trace in spec.get("data", []):
        for axis in ("x", "y"):
            values = trace.get(axis)
            if isinstance(values, list) and values and isinstance(values[0], str) and DATE.match(values[0]):
                ref = trace.get(f"{axis}axis", axis)
                found.append(layout.get(f"{axis}axis{ref[1:]}", {}))
    return found


@pytest.mark.slow
def test_date_axes_show_chinese_dates(demo_store: Store) -> None:
    """Ticks as 6月10日 and hover as 2024-06-10, not "Jun 10"."""
    date_axes = 0
    for script in ("screens/progress/overview.py", "screens/progress/stats.py"):
        app = open_page(script)
        for chart in app.get("plotly_chart"):
            for axis in _date_axes(json.loads(chart.proto.spec)):
                date_axes += 1
                assert (axis.get("tickformat"), axis.get("hoverformat")) == ("%-m月%-d日", "%Y-%m-%d"), (script, axis)
    assert date_axes >= 2, "the overview and the stats trend each have a date axis"


# --- the audit log in Chinese ---------------------------------------------------------------

# Calls that write an audit record, and which argument names the action.
ACTION_ARGUMENT = {"transaction": 1, "record": 1, "_write": 1, "require": 3, "record_export": 2, "_may_issue": 2}


def _constants(tree: ast.AST) -> dict[str, list[ast.AST]]:
    found: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found.setdefault(node.targets[0].id, []).append(node.value)
    return found


def _action_patterns(node: ast.AST, names: dict[str, list[ast.AST]]) -> list[str]:
    """Regular expressions for the actions an argument can be (a name bound to nothing here is a
    parameter passed through: its callers are scanned)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [re.escape(node.value)]
    if isinstance(node, ast.JoinedStr):
        return ["".join(re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z_]+" for v in node.values)]
    if isinstance(node, ast.Name):
        return [p for value in names.get(node.id, []) for p in _action_patterns(value, names)]
    raise AssertionError(f"an action the scan cannot read: {ast.dump(node)}")


def written_actions() -> list[tuple[str, str]]:
    """(where, pattern) of every action written anywhere in pipelines/."""
    found = []
    for path in sorted(PIPELINES.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            index = ACTION_ARGUMENT.get(name)
            if index is None or len(node.args) <= index:
                continue
            found += [(f"{path.name}:{node.lineno}", p) for p in _action_patterns(node.args[index], names)]
    return found


def test_every_action_written_in_pipelines_has_a_chinese_label() -> None:
    from pipelines import auditlog, imports
    from pipelines.rules import verification
    from pipelines.rules.roles import EXPORTS

    written = written_actions()
    assert len(written) > 30, "the scan finds the audited writes"
    unlabelled = [(where, p) for where, p in written if not any(re.fullmatch(p, a) for a in auditlog.ACTIONS)]
    assert not unlabelled, f"actions without a label in pipelines/auditlog.ACTIONS: {unlabelled}"
    # the actions made of a domain table, one per entry
    made = (
        [f"review:{lv}:{d}" for lv in workflow.LEVELS for d in workflow.DECISIONS]
        + [f"report:issue:{k}" for k in verification.KIND_LABELS]
        + [f"import:{k}" for k in imports.KINDS]
        + [f"export:{k}" for k in EXPORTS]
    )
    assert set(made) <= set(auditlog.ACTIONS)
    for action, label in auditlog.ACTIONS.items():
        assert re.search(r"[\u4e00-\u9fff]", label) and action.split(":")[0] in auditlog.GROUPS, action


def _detail_dicts(tree: ast.AST) -> Iterator[ast.Dict]:
    """The dict literals that become an audit record's detail."""
    for node in ast.walk(tree):
        value: ast.AST | None = None
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "audit_detail" for t in targets):
                value = node.value
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("record", "record_export") and node.args:
                value = node.args[-1]
            elif name == "refuse":  # accounts.login / activation.activate: refuse(outcome, **more)
                value = ast.Dict(
                    keys=[ast.Constant(k.arg) for k in node.keywords], values=[k.value for k in node.keywords]
                )
        if value is not None:
            yield from (d for d in ast.walk(value) if isinstance(d, ast.Dict))


def test_every_audit_detail_key_and_outcome_has_a_chinese_label() -> None:
    from dataclasses import fields

    from pipelines import auditlog, campaigns
    from pipelines.rules import filters

    keys: set[str] = set()
    outcomes: set[str] = set()
    for path in sorted(PIPELINES.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for found in _detail_dicts(tree):
            for key, value in zip(found.keys, found.values, strict=True):
                if isinstance(key, ast.Constant):
                    keys.add(key.value)
                    if key.value == "outcome":
                        outcomes |= {
                            n.value for n in ast.walk(value) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                        }
        for node in ast.walk(tree):  # refuse("throttled") …
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "refuse"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                outcomes.add(node.args[0].value)
    assert {"outcome", "sha256", "applied"} <= keys and {"ok", "throttled", "shown"} <= outcomes, "the scan works"
    # keys made by comprehensions: 届别设置's fields, 修改账号's changes, the filters an export records
    keys |= {f.name for f in fields(campaigns.Campaign)} | {"display_name", "colleges", "oidc_subject", "disabled"}
    keys |= set(filters.URL_KEYS) | {"who", "action", "target", "date_from", "date_to"}
    assert not keys - set(auditlog.DETAIL_KEYS), (
        f"detail keys without a label: {sorted(keys - set(auditlog.DETAIL_KEYS))}"
    )
    assert not outcomes - set(auditlog.OUTCOMES), (
        f"outcomes without a label: {sorted(outcomes - set(auditlog.OUTCOMES))}"
    )


ASCII_ONLY = re.compile(r"^[\x20-\x7e]+$")


@pytest.mark.slow
def test_the_audit_page_shows_actions_roles_and_details_in_chinese(demo_store: Store) -> None:
    dean = Actor("dean", "college_reviewer", (apptest.dean_college(demo_store),))
    reviews.decide(demo_store, dean, _pending(demo_store), workflow.Decision("college", "return", "邮编有误"))
    reviews.decide(demo_store, dean, _pending(demo_store), workflow.Decision("college", "approve", ""))
    app = open_page("screens/admin/audit.py")
    table = app.dataframe[0].value
    assert not [a for a in table["操作"] if ASCII_ONLY.match(a)], list(table["操作"])
    assert not [r for r in table["角色"] if ASCII_ONLY.match(r)], list(table["角色"])
    assert not [d for d in table["详情"] if d and (d.startswith("{") or '": ' in d)], list(table["详情"])[:5]
    assert "学院审核退回" in set(table["操作"]) and any("原因：邮编有误" in d for d in table["详情"])
    assert "学院审核员/院长" in set(table["角色"])
    choices = app.selectbox(key="au_action")
    assert not [o for o in choices.options if ASCII_ONLY.match(o)], choices.options
    choices.set_value("review:").run()
    shown = set(app.dataframe[0].value["操作"])
    assert shown and shown <= {label for action, label in _labels().items() if action.startswith("review:")}


def _labels() -> dict[str, str]:
    from pipelines import auditlog

    return auditlog.ACTIONS


def _pending(store: Store) -> int:
    """A registration waiting for the dean, of a graduate without a demo account."""
    ((item,),) = sql(
        store,
        "select min(registration_id) from graduate_stages where status = 'pending_college' "
        "and college_name = ? and student_id not in (select username from users)",
        [apptest.dean_college(store)],
    )
    return int(item)


# --- timelines, links and labels ------------------------------------------------------------


@pytest.mark.slow
def test_the_timeline_names_people_as_the_demo_history_does(demo_store: Store) -> None:
    """A live decision is recorded under the account name ("dean"): the timeline shows the
    reviewer's display name (and, to staff, the account); no English source names."""
    student = _graduates(demo_store)["pending_college"]  # a demo graduate account
    ((item,),) = sql(demo_store, "select registration_id from graduate_stages where student_id = ?", [student])
    reviews.decide(
        demo_store,
        Actor("dean", "college_reviewer", (apptest.dean_college(demo_store),)),
        item,
        workflow.Decision("college", "approve", ""),
    )
    ((name,),) = sql(demo_store, "select display_name from users where username = 'dean'")
    staff = list(open_page("screens/drill/detail.py", student=student).dataframe[0].value["操作人"])
    assert f"{name}（dean）" in staff, staff
    assert not [p for p in staff if ASCII_ONLY.match(p)], staff
    mine = list(open_page("screens/drill/detail.py", student).dataframe[0].value["操作人"])
    assert name in mine and not [p for p in mine if "dean" in p or ASCII_ONLY.match(p)], mine


@pytest.mark.slow
def test_the_graduate_status_links_to_the_next_page_without_a_doubled_character(demo_store: Store) -> None:
    app = open_page("screens/drill/detail.py", _graduates(demo_store)["approved"])  # next: 去向登记确认
    labels = [link.proto.label for link in app.get("page_link")]
    assert "前往去向登记确认" in labels and not [label for label in labels if "去去" in label], labels


@pytest.mark.slow
def test_the_confirm_page_names_the_archive_fields_as_the_form_does(demo_store: Store) -> None:
    app = open_page("screens/graduate/confirm.py", _graduates(demo_store)["approved"])
    shown = set(app.table[0].value.index)  # text_table of a dict: the labels are the index
    for label in (
        "档案转递单位名称",
        "档案转递单位所在地",
        "档案转递单位邮编",
        "档案转递联系人/联系部门",
        "档案转递联系电话",
    ):
        assert label in shown, (label, sorted(shown))


# --- a page that fails ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_failing_page_shows_a_chinese_message_with_a_reference_and_logs_the_traceback(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from pipelines.rules import progress

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("演示故障 describe_risks")

    monkeypatch.setattr(progress, "describe_risks", broken)
    app = AppTest.from_file(APP, default_timeout=300)
    app.session_state["username"] = "admin"
    app.run()
    app.switch_page("screens/progress/risk.py")
    with caplog.at_level(logging.ERROR):
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    messages = [e.value for e in app.error]
    found = [m for m in messages if m.startswith("页面出错了，请稍后重试；如果再次出现，请把参考编号")]
    assert len(found) == 1, messages
    reference = re.search(r"参考编号 ([0-9a-f]{8}) 告诉管理员", found[0])
    assert reference, found[0]
    assert "Traceback" not in found[0] and "RuntimeError" not in found[0]
    logged = [r for r in caplog.records if reference.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info and "演示故障" in str(logged[0].exc_info[1]), caplog.text


def test_a_campaign_setting_not_set_is_recorded_as_null_not_as_the_word_none(tmp_path: Path) -> None:
    from datetime import date

    from pipelines import campaigns
    from pipelines.store import SYSTEM

    store = Store(tmp_path / "dangan.duckdb", today="2024-06-10", lock_wait=10)
    campaigns.save_campaign(
        store,
        SYSTEM,
        campaigns.Campaign(
            cohort=2024,
            school_name="江西服装学院",
            registration_deadline=date(2024, 6, 17),
            default_graduation_date=date(2024, 6, 30),
        ),
    )
    ((detail,),) = sql(store, "select detail from audit_log where action = 'campaign:set'")
    assert json.loads(detail)["notice_number"] is None and json.loads(detail)["cohort"] == "2024"
