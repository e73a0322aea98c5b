"""The archive leaves the school (#19): bags, batches, waybills, receipts, returns and waits, on a
real demo store, through the domain functions the pages and the CLI call."""

from __future__ import annotations

import shutil
import threading
from datetime import date
from pathlib import Path

import pytest

from pipelines import accounts, campaigns, demo, dispatch, lookups, reviews, submissions
from pipelines.rules import dispatch as rules
from pipelines.rules import workflow
from pipelines.store import SYSTEM, Store, StoreError
from tests.conftest import SUBMISSION_FORM, table, write_csv, write_xlsx

TODAY = "2024-06-10"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = Store(tmp_path_factory.mktemp("dispatch") / "demo.duckdb", today=TODAY)
    demo.build_demo(store, graduates=800, seed=11, as_of=date(2024, 6, 10))
    saved = campaigns.campaign_of(store, SYSTEM, 2024)
    assert saved is not None
    campaigns.save_campaign(store, SYSTEM, campaigns.replace(saved, school_province="江西"))
    return store.path


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Store:
    shutil.copy(built, tmp_path / "d.duckdb")
    return Store(tmp_path / "d.duckdb", today=TODAY)


def ids(store: Store, where: str) -> list[str]:
    return [r[0] for r in table(store, f"select student_id from archive_status where {where} order by student_id")]


def status(store: Store, student_id: str) -> str:
    return table(store, "select dispatch_status from archive_status where student_id = ?", [student_id])[0][0]


def s10(n: int, service: str = "EA") -> str:
    serial = f"{n:08d}"
    return f"{service}{serial}{rules.s10_check_digit(serial)}CN"


def sent(store: Store, count: int = 4) -> list[str]:
    """Bag, batch and send `count` verified graduates' archives; their 学号."""
    chosen = ids(store, "is_verified")[:count]
    assert dispatch.mark_bags(store, SYSTEM, chosen).done == chosen
    batch = dispatch.build_batch(store, SYSTEM, 2024)
    assert batch.added >= count
    entries = [dispatch.Entry(f"第 {i + 2} 行", sid, s10(5000 + i)) for i, sid in enumerate(chosen)]
    assert dispatch.record_waybills(store, SYSTEM, entries).done == chosen
    return chosen


# --- the rules ------------------------------------------------------------------------------------


def test_s10_check_digits_are_the_published_ones() -> None:
    assert rules.s10_check_digit("47312482") == 9  # UPU's worked example
    assert rules.waybill_problem(rules.EMS, "EA123456785CN") is None
    assert "校验码" in (rules.waybill_problem(rules.EMS, "EA123456784CN") or "")
    assert "EMS" in (rules.waybill_problem(rules.EMS, "RR123456785CN") or "")
    assert rules.waybill_problem(rules.JIYAO, "RR123456785CN") is None
    assert "CN" in (rules.waybill_problem(rules.JIYAO, "EA123456785US") or "")
    assert rules.waybill_problem(rules.EMS, rules.clean_waybill(" 1151 2423 58360 ")) is None
    # as people paste them: full-width, zero-width spaces, dashes, lower case
    assert rules.clean_waybill("ｅａ１２３４５６７８５ｃｎ") == "EA123456785CN"
    assert rules.clean_waybill("EA\u200b1234-5678-5\ufeffCN") == "EA123456785CN"
    assert "格式不对" in (rules.waybill_problem(rules.EMS, rules.clean_waybill("<b>EA123</b>")) or "")
    assert "格式不对" in (rules.waybill_problem(rules.EMS, "SF1234567890") or "")


def test_the_channel_rule_sends_ems_inside_the_province_and_jiyao_outside() -> None:
    assert rules.channel_for("ems_in_province", "江西省", "江西省") == rules.EMS
    assert rules.channel_for("ems_in_province", "江西省", "广东省") == rules.JIYAO
    assert rules.channel_for("ems_in_province", None, "江西省") == rules.JIYAO  # unknown: the safe way
    assert rules.channel_for("jiyao", "江西省", "江西省") == rules.JIYAO
    assert rules.channel_for("ems", "江西省", "广东省") == rules.EMS
    assert all(rule.source for rule in rules.CHANNEL_RULES.values())


def test_a_wait_is_two_years_at_the_most() -> None:
    today = date(2024, 6, 10)
    assert rules.wait_problem(rules.HELD, "考研", date(2026, 6, 10), today) is None
    assert "两年" in (rules.wait_problem(rules.KEPT, "入伍", date(2026, 6, 11), today) or "")
    assert "原因" in (rules.wait_problem(rules.HELD, " ", date(2025, 1, 1), today) or "")
    assert "早于今天" in (rules.wait_problem(rules.HELD, "x", date(2024, 6, 9), today) or "")


# --- bags -----------------------------------------------------------------------------------------


def test_a_bag_needs_the_report_in_force_and_a_dean_marks_only_their_college(store: Store) -> None:
    verified = ids(store, "is_verified")
    unverified = ids(store, "is_ready and not is_verified")[:2]
    not_ready = ids(store, "not is_ready")[:1]
    done = dispatch.mark_bags(store, SYSTEM, [verified[0], *unverified, *not_ready, "0000000000"])
    assert done.done == [verified[0]]
    reasons = dict(done.refused)
    assert all("核验报告" in reasons[s] for s in unverified)
    assert "尚未通过审核" in reasons[not_ready[0]]
    assert "不在名单中" in reasons["0000000000"]
    assert status(store, verified[0]) == rules.BAGGED
    assert (
        table(store, "select items from archive_bags where student_id = ?", [verified[0]])[0][0][0] == rules.REPORT_ITEM
    )

    dean = accounts.login(store, "dean", demo.DEMO_PASSWORD, client="test").actor
    (college,) = dean.colleges or ()
    other = table(
        store, "select student_id from archive_status where is_verified and college_name <> ? limit 1", [college]
    )
    own = table(
        store, "select student_id from archive_status where is_verified and college_name = ? limit 1", [college]
    )
    marked = dispatch.mark_bags(store, dean, [own[0][0], other[0][0]])
    assert marked.done == [own[0][0]] and "不在你的范围内" in dict(marked.refused)[other[0][0]]
    analyst = accounts.login(store, "analyst", demo.DEMO_PASSWORD, client="test").actor
    with pytest.raises(StoreError, match="不能标记档案袋"):
        dispatch.mark_bags(store, analyst, [own[0][0]])
    assert table(store, "select count(*) from audit_log where action = 'dispatch:bag'") == [(3,)]


# --- batches --------------------------------------------------------------------------------------


def test_a_batch_takes_the_bagged_archives_once_with_the_channel_the_rule_gives(store: Store) -> None:
    verified = ids(store, "is_verified")
    dispatch.mark_bags(store, SYSTEM, verified)
    first = dispatch.build_batch(store, SYSTEM, 2024)
    assert first.batch_no is not None and first.added == len(verified)
    again = dispatch.build_batch(store, SYSTEM, 2024)
    assert again.batch_no is None and again.not_ready["已在转递批次中"] == len(verified)
    channels = dict(
        table(
            store,
            "select r.province = '江西省', list_distinct(list(a.channel)) from archive_status a "
            "join registrations r using (registration_id) where a.batch_no is not null group by all",
        )
    )
    assert channels.get(True, [rules.EMS]) == [rules.EMS] and channels.get(False, [rules.JIYAO]) == [rules.JIYAO]
    assert table(store, "select count(*) - count(distinct student_id) from batch_members where removed_at is null") == [
        (0,)
    ]


def test_two_offices_building_batches_at_once_never_put_an_archive_in_two(store: Store) -> None:
    dispatch.mark_bags(store, SYSTEM, ids(store, "is_verified"))
    results: list[object] = []

    def build() -> None:
        try:
            results.append(dispatch.build_batch(store, SYSTEM, 2024))
        except StoreError as exc:  # a busy store is fine; a doubled archive is not
            results.append(exc)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    made = [r for r in results if isinstance(r, dispatch.Batch) and r.batch_no is not None]
    assert len(made) == 1
    assert table(store, "select count(*), count(distinct student_id) from batch_members")[0][0] == made[0].added
    assert table(store, "select count(distinct student_id) from batch_members") == [(made[0].added,)]


def test_an_archive_whose_registration_changes_is_taken_out_with_a_warning(store: Store) -> None:
    verified = ids(store, "is_verified")[:3]
    dispatch.mark_bags(store, SYSTEM, verified)
    dispatch.build_batch(store, SYSTEM, 2024)
    changed = verified[0]
    form = {**SUBMISSION_FORM, "address_detail": "八一大道 100 号 2 栋"}
    submissions.submit(store, SYSTEM, changed, form, voiding_ok=True)
    assert table(store, "select is_stale_in_batch from archive_status where student_id = ?", [changed]) == [(True,)]
    rebuilt = dispatch.build_batch(store, SYSTEM, 2024)
    assert [sid for sid, _ in rebuilt.taken_out] == [changed]
    assert table(store, "select batch_no, is_stale_in_batch from archive_status where student_id = ?", [changed]) == [
        (None, False)
    ]
    reason = table(store, "select removed_reason from batch_members where student_id = ?", [changed])[0][0]
    assert reason == dispatch.STALE


# --- waybills -------------------------------------------------------------------------------------


def test_a_waybill_file_with_one_bad_row_is_refused_whole_naming_the_row_and_format(
    store: Store, tmp_path: Path
) -> None:
    chosen = ids(store, "is_verified")[:3]
    dispatch.mark_bags(store, SYSTEM, chosen)
    dispatch.build_batch(store, SYSTEM, 2024)
    numbers = dict(
        table(
            store,
            "select a.student_id, r.transfer_number from archive_status a join registrations r using (registration_id) where a.student_id in ?",
            [chosen],
        )
    )
    # the post's batch export: a title row, then 序号/邮件号/收件人/转递编号/交寄日期
    header = ["序号", "邮件号", "收件人", "转递编号", "交寄日期"]
    rows = [
        {"序号": 1, "邮件号": s10(101), "收件人": "人事处", "转递编号": numbers[chosen[0]], "交寄日期": "2024-06-08"},
        {
            "序号": 2,
            "邮件号": "EA00000102 9CN",
            "收件人": "人事处",
            "转递编号": numbers[chosen[1]],
            "交寄日期": "2024-06-08",
        },
        {"序号": 3, "邮件号": s10(103), "收件人": "人事处", "转递编号": numbers[chosen[2]], "交寄日期": "2024-06-08"},
    ]
    path = write_xlsx(tmp_path / "邮政批量交寄.xlsx", header, rows, title_rows=["中国邮政 批量交寄清单"])
    entries = dispatch.read_entries(path)
    assert [e.where for e in entries] == [
        "邮政批量交寄.xlsx 第 3 行",
        "邮政批量交寄.xlsx 第 4 行",
        "邮政批量交寄.xlsx 第 5 行",
    ]
    with pytest.raises(StoreError) as refused:
        dispatch.record_waybills(store, SYSTEM, entries, source=path.name)
    message = str(refused.value)
    assert "第 4 行“运单号”列" in message and "校验码" in message
    assert table(store, "select count(*) from waybills") == [(0,)]  # nothing half-written

    fixed = [dispatch.Entry(e.where, e.key, s10(102) if "第 4 行" in e.where else e.waybill, e.day) for e in entries]
    assert sorted(dispatch.record_waybills(store, SYSTEM, fixed).done) == sorted(chosen)
    assert all(status(store, sid) == rules.SENT for sid in chosen)
    assert table(store, "select distinct sent_on from waybills") == [(date(2024, 6, 8),)]


def test_one_waybill_is_never_on_two_archives(store: Store) -> None:
    chosen = ids(store, "is_verified")[:2]
    dispatch.mark_bags(store, SYSTEM, chosen)
    dispatch.build_batch(store, SYSTEM, 2024)
    dispatch.record_waybills(store, SYSTEM, [dispatch.Entry("页面", chosen[0], s10(7))])
    with pytest.raises(StoreError, match="已登记在另一份档案上"):
        dispatch.record_waybills(store, SYSTEM, [dispatch.Entry("页面", chosen[1], s10(7))])
    with pytest.raises(StoreError, match="重复"):
        dispatch.record_waybills(
            store, SYSTEM, [dispatch.Entry("第 2 行", chosen[1], s10(8)), dispatch.Entry("第 3 行", chosen[1], s10(8))]
        )


# --- receipts, returns, waits ---------------------------------------------------------------------


def test_a_unit_confirms_receipt_on_the_public_page_and_a_wrong_part_says_not_found(store: Store) -> None:
    (sid,) = sent(store, 1)
    name, number = table(
        store,
        "select g.name, r.transfer_number from archive_status g join registrations r using (registration_id) where g.student_id = ?",
        [sid],
    )[0]
    wrong = [
        lookups.confirm_receipt(store, name + "甲", number, "某市人才服务中心", "10.0.0.1"),
        lookups.confirm_receipt(
            store, name, number[:-1] + ("0" if number[-1] != "0" else "1"), "某市人才服务中心", "10.0.0.1"
        ),
    ]
    assert all(a.verdict is not None and not a.verdict.found for a in wrong)
    assert {a.verdict.label for a in wrong if a.verdict} == {"未找到"}
    answer = lookups.confirm_receipt(store, name, number.lower(), "某市人才服务中心", "10.0.0.2")
    assert answer.verdict is not None and answer.verdict.status == "archive_received"
    assert status(store, sid) == rules.RECEIVED
    assert table(store, "select received_by from archive_status where student_id = ?", [sid]) == [("某市人才服务中心",)]
    events = [
        r[0]
        for r in table(
            store, "select detail->>'outcome' from audit_log where action = 'verify:lookup' order by logged_at"
        )
    ]
    assert events == ["not_found", "not_found", "found"]
    with store.reading(SYSTEM) as reader:
        timeline = reader.query("registration_timeline", student_id=sid)
    assert "received" in timeline["level"].to_list() and "sent_ems" in timeline["level"].to_list() + ["sent_ems"]


def test_receipts_share_the_lookup_limits(store: Store) -> None:
    (sid,) = sent(store, 1)
    limits = lookups.Limits(per_client=2, per_number=50, per_name=50, global_slow=1000, global_block=2000)
    answers = [lookups.confirm_receipt(store, "无此人", "X" * 18, "单位", "10.9.9.9", limits) for _ in range(3)]
    assert [a.verdict is None for a in answers] == [False, False, True]


def test_a_return_reopens_the_registration_and_the_archive_re_enters_dispatch(store: Store) -> None:
    (sid,) = sent(store, 1)
    with pytest.raises(StoreError, match="退档原因"):
        dispatch.record_return(store, SYSTEM, sid, "no_such_reason")
    reason = dispatch.record_return(store, SYSTEM, sid, "address", "门牌号缺失")
    assert reason == "档案被退回：地址错误或不详细；门牌号缺失"
    assert status(store, sid) == rules.RETURNED
    stage, return_reason = table(store, "select stage, return_reason from graduate_stages where student_id = ?", [sid])[
        0
    ]
    assert stage == workflow.RETURNED and return_reason == reason  # what the graduate sees on 我的登记
    with pytest.raises(StoreError, match="尚未寄出"):
        dispatch.record_return(store, SYSTEM, sid, "address")
    assert dispatch.build_batch(store, SYSTEM, 2024).not_ready.get("登记未通过审核或未确认", 0) >= 1

    # the graduate registers again; the new revision is reviewed, confirmed, and leaves again
    form = {**SUBMISSION_FORM, "address_detail": "八一大道 100 号 8 号楼 302 室"}
    submissions.submit(store, SYSTEM, sid, form, voiding_ok=True)
    reviews.decide_current(store, SYSTEM, sid, workflow.Decision("college", "approve"))
    reviews.decide_current(store, SYSTEM, sid, workflow.Decision("school", "approve"))
    from pipelines import reports

    reports.confirm(store, SYSTEM, sid)
    assert status(store, sid) == rules.BAGGED  # the bag came back with the archive
    batch = dispatch.build_batch(store, SYSTEM, 2024)
    assert batch.added == 1 and batch.batch_no is not None


def test_a_held_archive_waits_and_is_not_batched(store: Store) -> None:
    chosen = ids(store, "is_verified")[:1]
    dispatch.mark_bags(store, SYSTEM, chosen)
    with pytest.raises(StoreError, match="最长两年"):
        dispatch.set_wait(store, SYSTEM, chosen[0], rules.KEPT, "应征入伍", date(2027, 1, 1))
    dispatch.set_wait(store, SYSTEM, chosen[0], rules.HELD, "考研复试", date(2024, 9, 1))
    assert status(store, chosen[0]) == rules.HELD
    batch = dispatch.build_batch(store, SYSTEM, 2024)
    assert batch.not_ready.get("暂缓转递") == 1
    dispatch.set_wait(store, SYSTEM, chosen[0], "released")
    assert status(store, chosen[0]) == rules.BAGGED


# --- files and the CLI ----------------------------------------------------------------------------


def test_receipts_file_and_a_file_without_the_columns(store: Store, tmp_path: Path) -> None:
    chosen = sent(store, 2)
    numbers = [
        r[0]
        for r in table(
            store,
            "select r.transfer_number from archive_status a join registrations r using (registration_id) where a.student_id in ? order by 1",
            [chosen],
        )
    ]
    path = write_csv(
        tmp_path / "回执.csv",
        ["转递编号", "签收单位", "签收日期"],
        [{"转递编号": n, "签收单位": "南昌市人才服务中心", "签收日期": "2024/06/09"} for n in numbers],
    )
    done = dispatch.import_receipts(store, SYSTEM, dispatch.read_entries(path, receipts=True), source=path.name)
    assert sorted(done.done) == sorted(chosen)
    bad = write_csv(tmp_path / "乱.csv", ["姓名", "单号"], [{"姓名": "<script>x</script>", "单号": "1"}])
    with pytest.raises(StoreError, match="没有找到表头"):
        dispatch.read_entries(bad)


def test_the_cli_runs_a_batch_from_bags_to_printed_papers(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dangan dispatch bag|batch|slips|labels|list|waybills|status` as the office types them;
    the slips are read back with pdftotext: the unit and masked 身份证号, never the full one."""
    from pipelines import cli
    from tests import pdfs

    chosen = ids(store, "is_verified")[:3]
    db = ["--db", str(store.path), "--today", TODAY]
    assert cli.main([*db, "dispatch", "bag", "--student", ",".join(chosen)]) == 0
    assert cli.main([*db, "dispatch", "batch"]) == 0
    batch_no = table(store, "select max(batch_no) from dispatch_batches")[0][0]
    for kind in ("slips", "labels", "list"):
        out = tmp_path / f"{kind}.pdf"
        assert cli.main([*db, "dispatch", kind, "--batch", str(batch_no), "--out", str(out)]) == 0
    unit, id_number = table(
        store,
        "select r.unit_name, g.id_number from archive_status a join registrations r using (registration_id) "
        "join graduates g on g.student_id = a.student_id where a.student_id = ?",
        [chosen[0]],
    )[0]
    slips = pdfs.text(tmp_path / "slips.pdf")
    assert pdfs.pages(tmp_path / "slips.pdf") == 3
    assert unit[:8] in slips.replace(" ", "") and id_number not in slips and id_number[-4:] in slips
    assert "交寄" in pdfs.text(tmp_path / "list.pdf")
    assert table(store, "select count(*) from audit_log where action like 'export:dispatch_%'") == [(3,)]
    number = table(
        store,
        "select r.transfer_number from archive_status a join registrations r using (registration_id) where a.student_id = ?",
        [chosen[0]],
    )[0][0]
    assert cli.main([*db, "dispatch", "waybills", "--student", number, "--waybill", s10(42)]) == 0
    capsys.readouterr()
    assert cli.main([*db, "dispatch", "status"]) == 0
    assert "已寄出" in capsys.readouterr().out


@pytest.mark.slow
def test_the_dispatch_demo_plays_the_weeks_through_the_product(tmp_path: Path) -> None:
    """`dangan demo --phase dispatch`: bags, batches, waybills, receipts, returns and waits, with
    returns whose causes the seeded mistakes foretold, so the checks' page has numbers."""
    store = Store(tmp_path / "d.duckdb", today=demo.DISPATCH_AS_OF.isoformat())
    demo.build_demo(store, graduates=2500, seed=5, as_of=demo.DISPATCH_AS_OF)
    counts = demo.add_dispatch(store, demo.DISPATCH_AS_OF, seed=5)
    assert counts["sent"] > 0 and counts["received"] > 0 and counts["returned"] > 0
    assert counts.get("held", 0) + counts.get("kept", 0) > 0
    statuses = dict(table(store, "select dispatch_status, count(*) from archive_status group by all"))
    assert statuses[rules.RECEIVED] == counts["received"] and statuses[rules.RETURNED] == counts["returned"]
    per_check, uncaught = dispatch.check_learning(store, SYSTEM, 2024)
    assert per_check["caught"].sum() > 0  # some returns were foretold by a flag
    assert per_check["received_flagged"].sum() > 0  # and some flagged archives arrived anyway
    assert set(uncaught["return_code"].to_list()) <= set(rules.RETURN_REASONS)
    # every fact went through the rules: a returned archive's registration is reopened
    assert table(
        store, "select count(*) from archive_status where dispatch_status = 'returned' and stage <> 'returned'"
    ) == [(0,)]


def test_the_campaign_keeps_its_dispatch_settings_when_another_one_changes(store: Store) -> None:
    from pipelines import cli

    db = ["--db", str(store.path), "--today", TODAY]
    assert (
        cli.main([*db, "campaign", "set", "--cohort", "2024", "--dispatch-rule", "ems", "--school-province", "广东"])
        == 0
    )
    assert cli.main([*db, "campaign", "set", "--cohort", "2024", "--bag-items", "毕业生登记表、成绩单"]) == 0
    assert cli.main([*db, "campaign", "set", "--cohort", "2024", "--notice", "江服就发〔2024〕28号"]) == 0
    saved = campaigns.campaign_of(store, SYSTEM, 2024)
    assert saved is not None
    assert (saved.dispatch_rule, saved.school_province, saved.bag_items) == (
        "ems",
        "广东省",
        ("毕业生登记表", "成绩单"),
    )
    assert dispatch.bag_list(saved) == [rules.REPORT_ITEM, "毕业生登记表", "成绩单"]
    assert cli.main([*db, "campaign", "set", "--cohort", "2024", "--school-province", "火星"]) == 1
