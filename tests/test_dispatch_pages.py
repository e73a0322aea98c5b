"""The 档案转递 and 检查与退档 pages, and the dispatch block of 我的登记, with AppTest on a built
demo store: the office bags a class, builds a batch, records a waybill and sees it sent; a dean
sees their college only and builds nothing; an analyst is refused; the checks learn from a
return; a graduate sees their waybill."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from pipelines import accounts, campaigns, dispatch
from pipelines.rules import dispatch as rules
from pipelines.store import SYSTEM, Store
from tests import apptest
from tests.apptest import open_page, page_alone, refused_page, sql

pytestmark = pytest.mark.slow

PAGE = "screens/dispatch/dispatch.py"
LEARNING = "screens/dispatch/learning.py"
HOSTILE_UNIT = "<img src=x onerror=alert(1)>**粗体**"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    for store in apptest.demo_store(tmp_path_factory, "dispatch_pages", graduates=800, seed=11):
        saved = campaigns.campaign_of(store, SYSTEM, 2024)
        assert saved is not None
        campaigns.save_campaign(store, SYSTEM, campaigns.replace(saved, school_province="江西"))
        yield store


def s10(n: int) -> str:
    serial = f"{n:08d}"
    return f"EA{serial}{rules.s10_check_digit(serial)}CN"


def _button(app: AppTest, label: str) -> AppTest:
    return next(b for b in app.button if b.label == label).click().run()


def _texts(app: AppTest) -> str:
    parts = [*app.markdown, *app.caption, *app.info, *app.warning, *app.error, *app.success]
    return "\n".join(str(p.value) for p in parts)


def _account(store: Store, student_id: str) -> None:
    if not sql(store, "select 1 from users where username = ?", [student_id]):
        accounts.add_user(
            store, SYSTEM, student_id, "graduate", "grad12345", student_id=student_id, must_change_password=False
        )


def _status(store: Store, student_id: str) -> str:
    return str(sql(store, "select dispatch_status from archive_status where student_id = ?", [student_id])[0][0])


def send_one(store: Store, n: int) -> str:
    """Bag, batch and send one verified graduate's archive (not yet in the dispatch); 学号."""
    ((student_id,),) = sql(
        store,
        "select min(student_id) from archive_status where is_verified and dispatch_status = 'not_bagged'"
        " and batch_no is null",
    )
    assert dispatch.mark_bags(store, SYSTEM, [student_id]).done == [student_id]
    assert dispatch.build_batch(store, SYSTEM, 2024).batch_no is not None
    assert dispatch.record_waybills(store, SYSTEM, [dispatch.Entry("页面", student_id, s10(n))]).done == [student_id]
    return str(student_id)


def test_the_office_bags_a_class_builds_a_batch_records_a_waybill_and_sees_it_sent(demo_store: Store) -> None:
    ((college, class_name, verified),) = sql(
        demo_store,
        """select college_name, class_name, count(*) filter (where is_verified) from archive_status
           where is_ready and dispatch_status = 'not_bagged' group by all
           having count(*) filter (where is_verified) > 0 order by 3 desc, 2 limit 1""",
    )
    app = open_page(PAGE)
    assert [t.label for t in app.tabs] == ["进度", "装袋", "编批次", "打印", "运单号", "退档与暂缓"]
    assert rules.REPORT_ITEM in _texts(app)  # the campaign's bag list, the report first

    # 装袋: the whole class; those without a report in force are refused, each with why
    app.selectbox(key="bag_college").set_value(college).run()
    app.selectbox(key="bag_class").set_value(class_name).run()
    app.checkbox(key="bag_all").check().run()
    app.button(key="bag_mark").click().run()
    assert any(f"已标记 {verified:,} 份档案袋已齐" in s.value for s in app.success)
    ((bagged,),) = sql(
        demo_store, "select count(*) from archive_status where class_name = ? and is_bagged", [class_name]
    )
    assert bagged == verified
    ((ready,),) = sql(demo_store, "select count(*) from archive_status where class_name = ? and is_ready", [class_name])
    if ready > verified:
        assert any("核验报告" in w.value for w in app.warning)

    # 编批次: the class's bagged archives go into one batch, which the 打印 tab then offers
    app.selectbox(key="batch_college").set_value(college).run()
    app.selectbox(key="batch_class").set_value(class_name).run()
    app.button(key="batch_build").click().run()
    ((batch_no,),) = sql(
        demo_store,
        "select max(batch_no) from archive_status where class_name = ? and batch_no is not null",
        [class_name],
    )
    assert any(f"已编入第 {batch_no} 批：共 {verified:,} 份" in s.value for s in app.success)
    assert (
        batch_no in app.selectbox(key="print_batch").options
        or f"第 {batch_no} 批" in app.selectbox(key="print_batch").options
    )
    batches = next(d.value for d in app.dataframe if "批次号" in d.value.columns)
    assert batch_no in batches["批次号"].tolist()

    # 运单号: typed for one archive; its status is then 已寄出
    ((student_id,),) = sql(demo_store, "select min(student_id) from archive_status where batch_no = ? ", [batch_no])
    app.text_input(key="wb_key").input(student_id)
    app.text_input(key="wb_number").input(s10(7001))
    _button(app, "登记运单号")
    assert any("已登记 1 个运单号" in s.value for s in app.success), _texts(app)
    assert _status(demo_store, student_id) == rules.SENT
    assert int({m.label: m.value for m in app.metric}["已寄出"].replace(",", "")) >= 1

    # a bad waybill is refused with its reason, as text
    ((other,),) = sql(
        demo_store,
        "select min(student_id) from archive_status where batch_no = ? and student_id > ?",
        [batch_no, student_id],
    )
    if other is not None:
        app.text_input(key="wb_key").input(other)
        app.text_input(key="wb_number").input("EA123456784CN")
        _button(app, "登记运单号")
        assert any("校验码" in e.value for e in app.error)
        assert _status(demo_store, other) == rules.BAGGED


def test_a_dean_sees_their_college_only_and_cannot_build_batches(demo_store: Store) -> None:
    college = apptest.dean_college(demo_store)
    app = open_page(PAGE, "dean")
    assert [t.label for t in app.tabs] == ["进度", "装袋"]
    assert app.selectbox(key="bag_college").options == [college]
    assert not [b for b in app.button if b.key == "batch_build"]
    table = next(d.value for d in app.dataframe if "学院" in d.value.columns)
    assert set(table["学院"]) <= {college}
    ((mine,),) = sql(
        demo_store,
        "select count(*) from archive_status where college_name = ? and is_ready and dispatch_status = 'not_bagged'",
        [college],
    )
    assert {m.label: m.value for m in app.metric}["待装袋"] == f"{mine:,}"


def test_an_analyst_cannot_open_the_dispatch_pages(demo_store: Store) -> None:
    assert refused_page(page_alone(PAGE, "analyst"))
    assert refused_page(page_alone(LEARNING, "analyst"))


def test_the_learning_page_counts_a_return_and_the_graduate_sees_it(demo_store: Store) -> None:
    returned = send_one(demo_store, 8001)
    dispatch.record_return(demo_store, SYSTEM, returned, "unit_gone", "单位已撤销")
    app = open_page(LEARNING)
    texts = _texts(app)
    ((sent, came_back),) = sql(
        demo_store,
        """select count(*), count(*) filter (where student_id in
               (select student_id from archive_events where kind = 'returned')) from waybills""",
    )
    assert f"已寄出 {sent:,} 份" in texts and f"被退回 {came_back:,} 份" in texts
    assert "召回率" in texts and "精确率" in texts
    per_check, uncaught = app.dataframe[0].value, app.dataframe[1].value
    assert list(per_check.columns) == [
        "检查",
        "退档前已标记",
        "应捕捉的退档",
        "捕捉到",
        "召回率",
        "标记后仍送达",
        "精确率",
    ]
    assert "接收单位已撤销或更名" in uncaught["退档原因"].tolist()  # no check is meant for it yet

    # the graduate's 我的登记: the return, and the registration reopened
    _account(demo_store, returned)
    mine = open_page(None, returned)
    shown = _texts(mine)
    assert "档案被退回" in shown and "接收单位已撤销或更名" in shown and "重新提交" in shown


def test_the_graduate_sees_the_waybill_and_the_receiving_unit_as_text(demo_store: Store) -> None:
    from pipelines import lookups

    student_id = send_one(demo_store, 9001)
    _account(demo_store, student_id)
    mine = open_page(None, student_id)
    block = [t.value for t in mine.table]
    flat = " ".join(str(v) for table in block for v in table.to_numpy().ravel().tolist())
    assert s10(9001) in flat and rules.STATUSES[rules.SENT] in flat

    ((name, number),) = sql(
        demo_store,
        "select a.name, r.transfer_number from archive_status a join registrations r using (registration_id)"
        " where a.student_id = ?",
        [student_id],
    )
    answer = lookups.confirm_receipt(demo_store, name, number, HOSTILE_UNIT, "10.1.2.3")
    assert answer.verdict is not None and answer.verdict.found
    ((unit,),) = sql(demo_store, "select received_by from archive_status where student_id = ?", [student_id])
    assert "<img" in unit and "**粗体**" in unit  # kept as typed (spaces aside)
    staff = open_page("screens/drill/detail.py", "admin", student=student_id)
    tables = " ".join(str(v) for t in staff.table for v in t.value.to_numpy().ravel().tolist())
    frames = " ".join(str(v) for d in staff.dataframe for v in d.value.to_numpy().ravel().tolist())
    assert plain(unit) in tables  # the block: the unit as text, its markup escaped
    assert unit in frames  # the timeline's 原因/说明: the unit literally
    assert rules.STATUSES[rules.RECEIVED] in tables
    assert not any("<img" in m.value for m in staff.markdown)


def test_after_the_deadline_overview_and_risk_show_the_dispatch(demo_store: Store) -> None:
    """Last in the module: it moves the campaign's deadline into the past."""
    from datetime import date, timedelta

    ((student_id,),) = sql(
        demo_store,
        "select min(student_id) from archive_status where is_verified and dispatch_status = 'not_bagged'"
        " and batch_no is null",
    )
    dispatch.mark_bags(demo_store, SYSTEM, [student_id])
    dispatch.build_batch(demo_store, SYSTEM, 2024)
    long_ago = apptest.TODAY - timedelta(days=20)
    entry = dispatch.Entry("页面", student_id, s10(9501), long_ago)
    assert dispatch.record_waybills(demo_store, SYSTEM, [entry]).done == [student_id]
    before = open_page("screens/progress/overview.py")
    assert "档案转递" not in [s.value for s in before.subheader]
    saved = campaigns.campaign_of(demo_store, SYSTEM, 2024)
    assert saved is not None
    campaigns.save_campaign(demo_store, SYSTEM, campaigns.replace(saved, registration_deadline=date(2024, 6, 1)))

    overview = open_page("screens/progress/overview.py")
    assert "档案转递" in [s.value for s in overview.subheader]
    shown = {m.label: m.value for m in overview.metric}
    ((returned, not_bagged),) = sql(
        demo_store,
        "select count(*) filter (where dispatch_status = 'returned'),"
        " count(*) filter (where dispatch_status = 'not_bagged' and is_ready) from archive_status",
    )
    assert shown["被退回"] == f"{returned:,}" and shown["待装袋"] == f"{not_bagged:,}"

    risk = open_page("screens/progress/risk.py")
    cards = {m.label: m.value for m in risk.metric}
    assert cards["寄出超过 15 天未签收"] == "1"
    overdue = next(d.value for d in risk.dataframe if "运单号" in d.value.columns)
    assert overdue["学号"].tolist() == [student_id] and overdue["运单号"].tolist() == [s10(9501)]
    analyst = open_page("screens/progress/risk.py", "analyst")
    assert not [d for d in analyst.dataframe if "运单号" in d.value.columns]
