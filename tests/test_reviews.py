"""Review decisions: the rules, scope, replaced revisions, bulk approval, the audit trail, the
materialised stages kept in step, the CLI and the export of review results."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from pipelines import cli, exports, imports, reviews, submissions
from pipelines.rules import checks, identity, workflow
from pipelines.rules.filters import Filters
from pipelines.store import SYSTEM, Actor, Store, StoreError
from tests.conftest import (
    REGISTRATION_HEADER,
    ROSTER_HEADER,
    SUBMISSION_FORM,
    data_snapshot,
    registration_row,
    roster_row,
    table,
    write_csv,
)

APPROVE_COLLEGE = workflow.Decision("college", "approve")
APPROVE_SCHOOL = workflow.Decision("school", "approve")
DEAN_FASHION = Actor("服装院审核员", "college_reviewer", ("服装设计学院",))  # even students
DEAN_BUSINESS = Actor("商学院审核员", "college_reviewer", ("商学院",))  # odd students
SCHOOL = Actor("校审核员", "school_reviewer")


def _student(i: int) -> str:
    return f"00240{i:05d}"


@pytest.fixture
def pending(store: Store, tmp_path: Path) -> dict[str, int]:
    """Six graduates with a registration each, all 待院审核; numbers 4 and 5 are flagged (no door
    number). Returns {student_id: registration_id}."""
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(6)])
    )
    rows = [registration_row(i, 详细地址="八一大道" if i >= 4 else f"八一大道{i + 1}号") for i in range(6)]
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, rows))
    return dict(table(store, "select student_id, registration_id from registrations"))


def _shown(store: Store, ids: list[int]) -> list[reviews.Shown]:
    """The revisions `ids` as the review page lists them (graduate and revision number)."""
    rows = table(
        store,
        "select registration_id, student_id, revision_no from registrations where registration_id "
        "in (select unnest(?::bigint[]))",
        [ids],
    )
    found = {r[0]: reviews.Shown(*r) for r in rows}
    return [found[i] for i in ids if i in found]


def _status(store: Store, student_id: str) -> str:
    return str(table(store, "select status from current_registrations where student_id = ?", [student_id])[0][0])


def _stages_fresh_and_equal_live(store: Store) -> None:
    with store.reading(SYSTEM) as reader:
        assert reader._conn.execute("select getvariable('use_stage_cache')").fetchall() == [(True,)]
        cached = reader._conn.execute("select * from graduate_stages order by student_id").fetchall()
        live = reader._conn.execute("select * from graduate_stages_live order by student_id").fetchall()
        assert cached == live
        counts = reader.query("stats_breakdowns", cohort=2024, **Filters().params())
        reader._conn.execute("set variable use_count_cache = false")
        assert counts.equals(reader.query("stats_breakdowns", cohort=2024, **Filters().params()))


def test_a_registration_passes_both_levels_and_the_trail_records_each_decision(
    store: Store, pending: dict[str, int]
) -> None:
    sid = _student(0)
    assert reviews.decide(store, DEAN_FASHION, pending[sid], APPROVE_COLLEGE).status == workflow.PENDING_SCHOOL
    assert _status(store, sid) == workflow.PENDING_SCHOOL
    assert reviews.decide(store, SCHOOL, pending[sid], APPROVE_SCHOOL).status == workflow.APPROVED
    assert _status(store, sid) == workflow.APPROVED
    with store.reading(SYSTEM) as reader:
        timeline = reader.rows("registration_timeline", student_id=sid)
    assert [(e["event"], e["level"], e["decision"], e["actor"]) for e in timeline] == [
        ("submitted", None, None, "import"),
        ("reviewed", "college", "approve", "服装院审核员"),
        ("reviewed", "school", "approve", "校审核员"),
    ]
    audit = table(store, "select actor, action, detail from audit_log where action like 'review:%' order by audit_id")
    assert [(a, b) for a, b, _ in audit] == [
        ("服装院审核员", "review:college:approve"),
        ("校审核员", "review:school:approve"),
    ]
    assert json.loads(audit[0][2])["applied"] == [pending[sid]]
    _stages_fresh_and_equal_live(store)


def test_a_return_needs_a_reason_and_the_graduate_sees_it(store: Store, pending: dict[str, int]) -> None:
    sid = _student(0)
    with pytest.raises(workflow.WorkflowError, match="退回必须填写原因"):
        reviews.decide(store, DEAN_FASHION, pending[sid], workflow.Decision("college", "return", "  "))
    reviews.decide(store, DEAN_FASHION, pending[sid], workflow.Decision("college", "return", "地址不全"))
    assert table(store, "select status, return_reason from current_registrations where student_id = ?", [sid]) == [
        ("returned", "地址不全")
    ]
    _stages_fresh_and_equal_live(store)


def test_a_college_reviewer_never_acts_on_another_college_and_the_attempt_is_audited(
    store: Store, pending: dict[str, int]
) -> None:
    business_student = _student(1)
    with pytest.raises(reviews.ReviewRefused, match="不在你的审核范围内"):
        reviews.decide(store, DEAN_FASHION, pending[business_student], APPROVE_COLLEGE)
    with pytest.raises(reviews.ReviewRefused, match="没有登记，或不在你的审核范围内"):
        reviews.decide_current(store, DEAN_FASHION, business_student, APPROVE_COLLEGE)
    batch = reviews.decide_many(
        store, DEAN_FASHION, _shown(store, [pending[_student(0)], pending[business_student]]), APPROVE_COLLEGE
    )
    assert [o.student_id for o in batch.applied] == [_student(0)]
    assert [i for i, _ in batch.refused] == [pending[business_student]]
    assert table(store, "select count(*) from reviews where registration_id = ?", [pending[business_student]]) == [(0,)]
    refused = [
        json.loads(d)["refused"]
        for (d,) in table(store, "select detail from audit_log where actor = '服装院审核员' order by audit_id")
    ]
    assert refused[0][0]["registration_id"] == pending[business_student]


@pytest.mark.parametrize(
    ("actor", "level"), [(DEAN_FASHION, "school"), (SCHOOL, "college"), (Actor("x", "analyst"), "college")]
)
def test_a_role_decides_only_at_its_own_level(store: Store, pending: dict[str, int], actor: Actor, level: str) -> None:
    with pytest.raises(reviews.ReviewRefused, match="你的角色不能进行"):
        reviews.decide(store, actor, pending[_student(0)], workflow.Decision(level, "approve"))
    assert table(store, "select count(*) from reviews") == [(0,)]
    ((detail,),) = table(store, "select detail from audit_log where actor = ? and action like 'review:%'", [actor.name])
    assert "你的角色不能进行" in json.loads(detail)["refused"][0]["why"]  # the refused attempt is recorded


def test_the_second_of_two_decisions_on_one_revision_is_refused_with_who_decided(
    store: Store, pending: dict[str, int]
) -> None:
    sid = _student(0)
    reviews.decide(store, DEAN_FASHION, pending[sid], APPROVE_COLLEGE)
    other = Actor("另一位审核员", "college_reviewer", ("服装设计学院",))
    with pytest.raises(reviews.ReviewRefused, match="已由 服装院审核员 于 2024-06-10 .* 学院通过，你的审核未生效"):
        reviews.decide(store, other, pending[sid], workflow.Decision("college", "return", "重复"))
    assert table(store, "select count(*) from reviews") == [(1,)]
    assert _status(store, sid) == workflow.PENDING_SCHOOL


def test_a_decision_on_a_replaced_revision_is_refused(store: Store, pending: dict[str, int], tmp_path: Path) -> None:
    sid = _student(0)
    reviews.decide(store, DEAN_FASHION, pending[sid], workflow.Decision("college", "return", "地址不全"))
    with pytest.raises(submissions.SubmissionRefused, match="审核结束前不能修改"):
        submissions.submit(store, SYSTEM, _student(2), SUBMISSION_FORM)  # still 待院审核
    new_id = submissions.submit(store, SYSTEM, sid, SUBMISSION_FORM)
    assert table(store, "select revision_no, source from registrations where registration_id = ?", [new_id]) == [
        (2, "graduate")
    ]
    assert _status(store, sid) == workflow.PENDING_COLLEGE
    with pytest.raises(reviews.ReviewRefused, match="第 1 版登记已被毕业生重新提交的第 2 版取代"):
        reviews.decide(store, SCHOOL, pending[sid], APPROVE_SCHOOL)
    with pytest.raises(reviews.ReviewRefused, match="已被毕业生重新提交"):
        reviews.decide(store, DEAN_FASHION, pending[sid], APPROVE_COLLEGE)
    # a resubmission by import is replaced in the same way
    imports.import_file(
        store,
        SYSTEM,
        "registrations",
        write_csv(
            tmp_path / "again.csv",
            REGISTRATION_HEADER,
            [registration_row(0, 提交时间="2024-06-10 23:59:59", 详细地址="北京路 9 号")],
        ),
    )
    with pytest.raises(reviews.ReviewRefused, match="第 2 版登记已被毕业生重新提交的第 3 版取代"):
        reviews.decide(store, DEAN_FASHION, new_id, APPROVE_COLLEGE)
    assert table(store, "select count(*) from reviews where registration_id = ?", [new_id]) == [(0,)]
    _stages_fresh_and_equal_live(store)


def test_bulk_approval_takes_only_unflagged_items_and_never_returns(store: Store, pending: dict[str, int]) -> None:
    ids = [pending[_student(i)] for i in (0, 2, 4)]  # 4 is flagged
    batch = reviews.decide_many(store, DEAN_FASHION, _shown(store, ids), APPROVE_COLLEGE)
    assert sorted(o.registration_id for o in batch.applied) == ids[:2]
    assert batch.refused == [(ids[2], f"学生4（{_student(4)}）有退档风险标记，须逐条审核")]
    with pytest.raises(reviews.ReviewRefused, match="批量操作只能通过"):
        reviews.decide_many(store, DEAN_FASHION, _shown(store, ids), workflow.Decision("college", "return", "x"))
    # the flagged one is decided on its own
    assert reviews.decide(store, DEAN_FASHION, ids[2], APPROVE_COLLEGE).status == workflow.PENDING_SCHOOL
    _stages_fresh_and_equal_live(store)


def test_a_bulk_approval_refuses_revisions_other_than_those_the_reviewer_was_shown(
    store: Store, pending: dict[str, int]
) -> None:
    """#16: the page slid its selection onto other rows. A bulk decision names each revision as
    the reviewer saw it (graduate, revision number): one that is not that revision is refused."""
    mine, other = pending[_student(0)], pending[_student(2)]
    slid = [reviews.Shown(other, _student(0), 1), reviews.Shown(mine, _student(0), 2)]
    batch = reviews.decide_many(store, DEAN_FASHION, slid, APPROVE_COLLEGE)
    assert batch.applied == []
    assert [i for i, _ in batch.refused] == [other, mine]
    assert "不是页面显示的 " + _student(0) + " 第 1 版" in batch.refused[0][1]
    assert table(store, "select count(*) from reviews") == [(0,)]
    batch = reviews.decide_many(store, DEAN_FASHION, _shown(store, [mine]), APPROVE_COLLEGE)
    assert [o.registration_id for o in batch.applied] == [mine]


def test_a_submission_with_proofs_is_flagged_and_keeps_its_images(store: Store, pending: dict[str, int]) -> None:
    sid = _student(0)
    reviews.decide(store, DEAN_FASHION, pending[sid], workflow.Decision("college", "return", "缺材料"))
    form = SUBMISSION_FORM | {"transfer_type": "employer", "unit_name": "某某有限公司", "contact": "本人"}
    new_id = submissions.submit(store, SYSTEM, sid, form, [("调档函.jpeg", _jpeg_with_gps())])
    flags, proof_count = table(
        store, "select flags, proof_count from registrations where registration_id = ?", [new_id]
    )[0]
    assert {"unit_cannot_keep_archives", "contact_is_self_or_family"} <= set(flags) and proof_count == 1
    with store.reading(DEAN_FASHION) as reader:
        assert reader.rows("proofs_of", registration_id=new_id)[0]["file_name"] == "调档函.jpg"
    with store.reading(DEAN_BUSINESS) as reader:
        assert reader.rows("proofs_of", registration_id=new_id) == []
        assert reader.rows("review_item", registration_id=new_id) == []


@pytest.mark.parametrize(
    ("transfer_type", "code", "expected"),
    [
        ("study_elsewhere", "10", "不是升学"),
        ("employer", "801", "升学应由录取学校接收档案"),
        ("employer", "70", "未落实"),
        ("study_here", "80", None),
        ("origin", "70", None),
        ("employer", None, None),
    ],
)
def test_a_destination_that_disagrees_with_the_transfer_type_is_named(
    transfer_type: str, code: str | None, expected: str | None
) -> None:
    found = checks.destination_mismatch(transfer_type, code)
    assert (found is None) if expected is None else (found is not None and expected in found)


def test_the_review_queue_is_oldest_first_within_scope_and_filters_by_flag(
    store: Store, pending: dict[str, int]
) -> None:
    base = {
        "cohort": 2024,
        "level": "college",
        "college": None,
        "class": None,
        "transfer_type": None,
        "flag": None,
        "min_days": None,
        "limit": 50,
        "offset": 0,
    }
    with store.reading(DEAN_FASHION) as reader:
        queue = reader.query("review_queue", **base)
        flagged = reader.query("review_queue", **base | {"flag": "address_incomplete"})
        clean = reader.query("review_queue", **base | {"flag": "__none__"})
        old = reader.query("review_queue", **base | {"min_days": 30})
    assert queue["student_id"].to_list() == [_student(i) for i in (0, 2, 4)]
    assert flagged["student_id"].to_list() == [_student(4)] and clean.height == 2
    assert queue["total"][0] == 3 and queue["days_waiting"][0] == 21 and old.height == 0
    with store.reading(SYSTEM) as reader:
        workload = {
            (r["level"], r["college_name"]): r for r in reader.rows("review_workload", cohort=2024, long_days=3)
        }
    assert workload[("college", None)]["pending"] == 6 and workload[("college", "商学院")]["pending"] == 3
    assert workload[("college", None)]["waiting_long"] == 6


def test_cli_review_approves_returns_and_refuses(
    store: Store, pending: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(store.path), "--today", "2024-06-10"]
    sid = _student(3)
    assert cli.main([*db, "review", "approve", "--student", sid, "--level", "college", "--reviewer", "张老师"]) == 0
    assert "学院通过，当前状态：待校审核" in capsys.readouterr().out
    assert cli.main([*db, "review", "return", "--student", sid, "--level", "school"]) == 1
    assert "退回须用 --reason" in capsys.readouterr().err
    assert cli.main([*db, "review", "return", "--student", sid, "--level", "school", "--reason", "邮编有误"]) == 0
    assert cli.main([*db, "review", "approve", "--student", sid, "--level", "school"]) == 1
    assert "已由 system 于" in capsys.readouterr().err
    assert cli.main([*db, "review", "approve", "--student", "0000000000", "--level", "college"]) == 1
    assert table(store, "select reviewer, level, decision, reason from reviews order by review_id") == [
        ("张老师", "college", "approve", None),
        ("system", "school", "return", "邮编有误"),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_exported_review_results_import_back_without_changing_anything(
    store: Store, pending: dict[str, int], tmp_path: Path, suffix: str
) -> None:
    reviews.decide(store, DEAN_FASHION, pending[_student(0)], APPROVE_COLLEGE)
    reviews.decide(store, DEAN_BUSINESS, pending[_student(1)], workflow.Decision("college", "return", "=1+1 地址不全"))
    reviews.decide(store, DEAN_FASHION, pending[_student(2)], APPROVE_COLLEGE)
    reviews.decide(store, SCHOOL, pending[_student(2)], APPROVE_SCHOOL)
    out = tmp_path / f"results{suffix}"
    assert (
        cli.main(
            ["--db", str(store.path), "--today", "2024-06-10", "review", "export", "--out", str(out), "--unmasked"]
        )
        == 0
    )
    if suffix == ".xlsx":
        sheet = openpyxl.load_workbook(out).active
        header = [c.value for c in sheet[1]]
        rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
        assert rows[_student(1)]["退回原因"] == "=1+1 地址不全"  # a string cell, not a formula
        assert sheet.cell(row=2, column=header.index("退回原因") + 1).data_type == "s"
    else:
        text = out.read_bytes()
        assert text.startswith(b"\xef\xbb\xbf")
        assert "'=1+1 地址不全" in text.decode("utf-8-sig")
        header = text.decode("utf-8-sig").splitlines()[0].split(",")
    assert set(header) >= {"学号", "姓名", "档案转递类型", "审核状态", "退回原因", "提交时间"}
    audit = table(store, "select target, detail from audit_log where action = 'export:review_results'")
    assert audit[0][0] == out.name and json.loads(audit[0][1])["rows"] == 6
    before = data_snapshot(store)  # the csv's guard (a leading ' before =) is taken off again on import
    result = imports.import_file(store, SYSTEM, "registrations", out)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 6)
    assert data_snapshot(store) == before
    assert json.loads(audit[0][1])["unmasked"] is True


def test_the_review_results_export_is_masked_by_default_and_a_masked_file_cannot_be_imported(
    store: Store, pending: dict[str, int], tmp_path: Path
) -> None:
    out = tmp_path / "results.xlsx"
    assert cli.main(["--db", str(store.path), "--today", "2024-06-10", "review", "export", "--out", str(out)]) == 0
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    phones = dict(table(store, "select student_id, phone from registrations"))
    addresses = dict(table(store, "select student_id, address_detail from registrations"))
    assert rows and all(r["档案转递联系电话"] == identity.mask_phone(phones[r["学号"]]) for r in rows)
    assert all(r["详细地址"] == identity.mask_address(addresses[r["学号"]]) for r in rows)
    assert all(r["档案转递联系电话"] != phones[r["学号"]] for r in rows if phones[r["学号"]])
    before = data_snapshot(store)
    with pytest.raises(imports.ImportRefused) as refused:
        imports.import_file(store, SYSTEM, "registrations", out)
    assert "脱敏导出的文件不能再导入" in str(refused.value)
    assert data_snapshot(store) == before
    analyst = Actor("分析员", "analyst")
    with pytest.raises(StoreError, match="不能导出"):
        exports.review_results_file(store, analyst, 2024, Filters(), "csv", "x.csv")
    dean = Actor("院长", "college_reviewer", ("服装设计学院",))
    data, rows_out = exports.review_results_file(store, dean, 2024, Filters(), "csv", "y.csv")
    assert (
        rows_out
        == table(
            store,
            "select count(*) from graduates where college_name = '服装设计学院' "
            "and student_id in (select student_id from registrations)",
        )[0][0]
    )
    refusals = table(
        store,
        "select actor, target, detail from audit_log where action = 'export:review_results' "
        "and detail like '%refused%'",
    )
    assert refusals == [("分析员", "x.csv", '{"outcome": "refused", "role": "analyst"}')]


@pytest.mark.slow
@pytest.mark.parametrize("owned", [True, False], ids=["owned-by-this-process", "file-per-operation"])
def test_twenty_reviewers_in_threads_decide_1000_submissions_without_losing_or_doubling_one(
    store: Store, tmp_path: Path, owned: bool
) -> None:
    """1,000 submissions in 20 blocks of 50. Thread t works on block t and block t+1, so every
    submission is decided by two threads at once: first a few one by one (the other thread
    returning what this one approves, at school level too), then each whole block in bulk.
    Once with the store owned by this process as the dashboard owns it (one connection, a
    cursor each, writers in arrival order), once with a connection per operation."""
    import threading

    from pipelines import store as store_module

    if owned:
        store_module.own(store.path, "test")

    size, threads = 1000, 20
    store = Store(store.path, today="2024-06-10", lock_wait=600)  # 20 writers queue for one lock
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(size)])
    )
    imports.import_file(
        store,
        SYSTEM,
        "registrations",
        write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, [registration_row(i) for i in range(size)]),
    )
    ids = [r[0] for r in table(store, "select registration_id from registrations order by registration_id")]
    blocks = [ids[i::threads] for i in range(threads)]
    listed = {tuple(block): _shown(store, block) for block in blocks}
    applied: list[int] = []
    school: list[tuple[int, str]] = []
    refusals: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def reviewer(t: int) -> None:
        me = Actor(f"审核员{t}", "admin")
        mine = [blocks[t], blocks[(t + 1) % threads]]
        try:
            for block, verdict in zip(mine, ("approve", "return"), strict=True):
                for registration_id in block[:3]:
                    decision = workflow.Decision("college", verdict, "并发测试" if verdict == "return" else "")
                    try:
                        reviews.decide(store, me, registration_id, decision)
                        with lock:
                            applied.append(registration_id)
                    except reviews.ReviewRefused as exc:
                        with lock:
                            refusals.append(str(exc))
            for block in mine:
                batch = reviews.decide_many(store, me, listed[tuple(block)], APPROVE_COLLEGE)
                with lock:
                    applied.extend(o.registration_id for o in batch.applied)
                    refusals.extend(why for _, why in batch.refused)
            for block, verdict in zip(mine, ("approve", "return"), strict=True):
                for registration_id in block[3:5]:  # approved at college level by now
                    try:
                        reviews.decide(
                            store,
                            me,
                            registration_id,
                            workflow.Decision("school", verdict, "并发测试" if verdict == "return" else ""),
                        )
                        with lock:
                            school.append((registration_id, verdict))
                    except reviews.ReviewRefused as exc:
                        with lock:
                            refusals.append(str(exc))
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)

    workers = [threading.Thread(target=reviewer, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=600)
    assert not errors, errors[:3]
    assert sorted(applied) == ids  # every submission decided once at college level: none lost, none doubled
    college = table(store, "select registration_id, count(*) from reviews where level = 'college' group by 1")
    assert len(college) == size and {n for _, n in college} == {1}
    assert len(school) == 2 * threads and len({i for i, _ in school}) == 2 * threads
    assert table(store, "select count(*) from reviews where level = 'school'") == [(2 * threads,)]
    # attempts: 3 items a block twice one by one and twice in bulk, the other 47 twice in bulk,
    # 2 items a block twice at school level; every attempt but one per item and level is refused
    attempts = threads * (3 * 4 + 47 * 2) + threads * 2 * 2
    assert len(refusals) == attempts - size - 2 * threads
    assert all("你的审核未生效" in why for why in refusals)
    returned = {i for i, verdict in school if verdict == "return"}
    statuses = dict(table(store, "select registration_id, status from registration_status"))
    assert {i for i, s in statuses.items() if s == "approved"} == {i for i, v in school if v == "approve"}
    assert {i for i, s in statuses.items() if s == "returned"} >= returned
    _stages_fresh_and_equal_live(store)


def _jpeg_with_gps() -> bytes:
    from io import BytesIO

    from PIL import Image

    image = Image.new("RGB", (40, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90°
    exif[0x8825] = {1: "N", 2: (28.0, 41.0, 0.0)}  # GPS latitude
    exif[0x010F] = "Phone Maker"
    out = BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_proof_images_are_checked_by_content_and_lose_their_exif() -> None:
    from io import BytesIO

    from PIL import Image

    original = _jpeg_with_gps()
    assert Image.open(BytesIO(original)).getexif()
    proof = submissions.proof_image("../../调档函.jpeg", original)
    cleaned = Image.open(BytesIO(proof.content))
    assert proof.file_name == "调档函.jpg" and proof.mime_type == "image/jpeg"
    assert not cleaned.getexif() and cleaned.size == (20, 40)  # upright, as the EXIF asked
    with pytest.raises(submissions.SubmissionRefused, match="不是可识别的图片"):
        submissions.proof_image("接收函.png", b"<script>alert(1)</script>")
    with pytest.raises(submissions.SubmissionRefused, match="不是可识别的图片"):
        submissions.proof_image("接收函.jpg", original[:200])
