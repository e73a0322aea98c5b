"""The graduate's own side in the domain: 省/市/区 data, the form's blocking rules, 毕业去向填报,
户口信息登记, the change deadline, who may write, and the status page's next step."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipelines import campaigns, cli, imports, reports, reviews, selfservice, submissions
from pipelines.rules import divisions, workflow
from pipelines.store import SYSTEM, Actor, Store
from tests.conftest import ROSTER_HEADER, SUBMISSION_FORM, roster_row, table, write_csv


def _student(i: int) -> str:
    return f"00240{i:05d}"


def _me(i: int) -> Actor:
    return Actor(_student(i), "graduate", None, _student(i))


DEAN = Actor("dean", "college_reviewer", ("服装设计学院",))
SCHOOL = Actor("office", "school_reviewer")


@pytest.fixture
def roster(store: Store, tmp_path: Path) -> Store:
    """Four graduates, none registered; graduate 2 (服装设计学院) has hukou at the school."""
    rows = [roster_row(i, 户口是否迁入学校="是" if i == 2 else "否") for i in range(4)]
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, rows))
    return store


def _count(store: Store, table_name: str) -> int:
    return int(table(store, f"select count(*) from {table_name}")[0][0])


def _audit(store: Store, action: str) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in table(
            store,
            "select actor, coalesce(detail->>'outcome', '') from audit_log where action = ? order by audit_id",
            [action],
        )
    ]


def test_divisions_cover_the_country_at_three_levels() -> None:
    jiangxi = divisions.cities_of("36")
    assert [c.name for c in jiangxi][:2] == ["南昌市", "景德镇市"] and len(jiangxi) == 11
    nanchang = divisions.city_named("36", "南昌市")
    assert nanchang is not None and nanchang.code == "360100"
    assert "青山湖区" in [d.name for d in divisions.districts_of("360100")]
    # a municipality is its own city; its districts hang below it
    assert [c.name for c in divisions.cities_of("11")] == ["北京市"]
    assert "海淀区" in [d.name for d in divisions.districts_of("110000")]
    # county-level cities directly under a province are cities without districts
    assert "仙桃市" in [c.name for c in divisions.cities_of("42")] and divisions.districts_of("429004") == []
    # every city of every province lists under the province of its own code
    for province in divisions.PROVINCES:
        for city in divisions.cities_of(province.code):
            assert city.code[:2] == province.code
            assert all(
                d.code[:4] == city.code[:4] or province.is_municipality for d in divisions.districts_of(city.code)
            )
    total = sum(
        len(divisions.cities_of(p.code)) + sum(len(divisions.districts_of(c.code)) for c in divisions.cities_of(p.code))
        for p in divisions.PROVINCES
    )
    assert total > 3000
    assert divisions.address_problem("江西省", "南昌市", "青山湖区") is None
    assert divisions.address_problem("广东省", "东莞市", "") is None
    assert divisions.address_problem("江西省", "南昌市", "") == "请选择区/县"
    assert divisions.address_problem("江西省", "南昌市", "海淀区") == "“海淀区”不是南昌市的区/县"
    assert divisions.address_problem("江西", "南昌市", "东湖区") == "请选择省份"


def test_a_graduate_form_is_held_to_the_national_forms_rules(roster: Store) -> None:
    me = _me(0)
    cases = {
        "情况说明": SUBMISSION_FORM | {"note": ""},
        "情况说明超长": SUBMISSION_FORM | {"note": "说" * 201},
        "缺少证明材料": SUBMISSION_FORM | {"transfer_type": "employer", "unit_name": "江西省人才交流中心"},
        "邮编格式错误": SUBMISSION_FORM | {"postcode": "33000"},
        "电话格式错误": SUBMISSION_FORM | {"phone": "12345"},
        "不是南昌市的区/县": SUBMISSION_FORM | {"district": "海淀区"},
    }
    for expected, form in cases.items():
        with pytest.raises(submissions.SubmissionRefused, match=expected):
            submissions.submit(roster, me, me.name, form)
    assert _count(roster, "registrations") == 0
    # full-width digits, spaces and +86 are what people type: normalised before the checks and the store
    typed = SUBMISSION_FORM | {
        "postcode": "３３０ ０００",
        "phone": "+86 138 0013 8000",
        "unit_name": " 南昌市人才服务中心 ",
    }
    assert submissions.form_problems(typed, 0) == []
    # hints (not blocking): the contact is a relative; it is submitted and flagged for the reviewer
    new_id = submissions.submit(roster, me, me.name, SUBMISSION_FORM | {"contact": "母亲", "note": "说" * 200})
    flags = table(roster, "select flags from registrations where registration_id = ?", [new_id])[0][0]
    assert flags == ["contact_is_self_or_family"]
    other = _me(1)
    stored = submissions.submit(roster, other, other.name, typed)
    assert table(
        roster, "select unit_name, postcode, phone from registrations where registration_id = ?", [stored]
    ) == [("南昌市人才服务中心", "330000", "13800138000")]


def test_only_the_graduate_or_the_office_fills_in_the_graduates_forms(roster: Store) -> None:
    sid = _student(0)
    for call in (
        lambda a: submissions.submit(roster, a, sid, SUBMISSION_FORM),
        lambda a: selfservice.record_destination(roster, a, sid, "10", "江西省人才交流中心", "江西省南昌市"),
        lambda a: selfservice.record_hukou(
            roster, a, _student(2), "origin", "江西省", "南昌市", "东湖区", "八一大道 1 号"
        ),
    ):
        for refused in (DEAN, SCHOOL, Actor("a", "analyst")):
            with pytest.raises(submissions.SubmissionRefused, match="只有毕业生本人"):
                call(refused)
    assert [o for _, o in _audit(roster, "registration:submit")] == ["refused"] * 3
    assert [o for _, o in _audit(roster, "destination:record")] == ["refused"] * 3
    assert [o for _, o in _audit(roster, "hukou:record")] == ["refused"] * 3
    # a graduate cannot write another graduate's record: the store shows them no one else
    with pytest.raises(submissions.SubmissionRefused, match="不在名单中，或不在你的范围内"):
        selfservice.record_destination(roster, _me(1), sid, "80", "南昌大学", "江西省南昌市")
    assert _count(roster, "destinations") == 0 and _count(roster, "registrations") == 0


def test_destination_rules_and_unchanged_saves_write_nothing(roster: Store) -> None:
    me = _me(0)
    assert selfservice.destination_problems("10", "", "") == [
        "请填写就业单位名称",
        "请填写所在地（省市；出国出境填国家或地区）",
    ]
    assert selfservice.destination_problems("80", "南昌大学", "") == ["请填写所在地（省市；出国出境填国家或地区）"]
    assert selfservice.destination_problems("701", "", "") == []
    assert selfservice.destination_problems("99", "", "") == ["毕业去向代码无效：'99'"]
    with pytest.raises(submissions.SubmissionRefused, match="请填写升学院校名称"):
        selfservice.record_destination(roster, me, me.name, "801", "", "")
    first = selfservice.record_destination(roster, me, me.name, "10", "江西省纺织集团", "江西省南昌市")
    assert first is not None
    assert selfservice.record_destination(roster, me, me.name, " 10", "江西省纺织集团 ", "江西省南昌市") is None
    # a destination with no unit drops what was typed for one
    second = selfservice.record_destination(roster, me, me.name, "701", "某公司", "某地")
    assert second is not None and second != first
    rows = table(
        roster, "select destination_code, employer_name, employer_location from destinations order by destination_id"
    )
    assert rows == [("10", "江西省纺织集团", "江西省南昌市"), ("701", None, None)]
    detail = table(roster, "select destination_code from graduate_stages where student_id = ?", [me.name])
    assert detail == [("701",)]
    assert [o for _, o in _audit(roster, "destination:record")] == ["", "unchanged", ""]


def test_hukou_only_for_graduates_whose_hukou_is_at_the_school(roster: Store) -> None:
    with pytest.raises(submissions.SubmissionRefused, match="户口未迁入学校的毕业生无需登记户口信息"):
        selfservice.record_hukou(roster, _me(0), _student(0), "origin", "江西省", "南昌市", "东湖区", "八一大道 1 号")
    me = _me(2)
    with pytest.raises(submissions.SubmissionRefused, match="请选择区/县；请填写详细地址"):
        selfservice.record_hukou(roster, me, me.name, "origin", "江西省", "南昌市", "", "")
    hukou_id = selfservice.record_hukou(
        roster, me, me.name, "employer", "北京市", "北京市", "海淀区", "中关村大街 1 号"
    )
    assert hukou_id is not None
    assert (
        selfservice.record_hukou(roster, me, me.name, "employer", "北京市", "北京市", "海淀区", "中关村大街 1 号")
        is None
    )
    assert table(roster, "select hukou_id from graduate_stages where student_id = ?", [me.name]) == [(hukou_id,)]


def test_a_change_after_confirmation_voids_it_and_the_deadline_ends_changes(roster: Store) -> None:
    me = _me(2)
    selfservice.record_destination(roster, me, me.name, "10", "江西省纺织集团", "江西省南昌市")
    registration = submissions.submit(roster, me, me.name, SUBMISSION_FORM)
    reviews.decide(roster, SYSTEM, registration, workflow.Decision("college", "approve", ""))
    reviews.decide(roster, SYSTEM, registration, workflow.Decision("school", "approve", ""))
    selfservice.record_hukou(roster, me, me.name, "origin", "江西省", "南昌市", "东湖区", "八一大道 1 号")
    reports.confirm(roster, me, me.name)
    stage = "select stage from graduate_stages where student_id = ?"
    assert table(roster, stage, [me.name]) == [("confirmed",)]
    # a change that voids the confirmation is refused until the graduate has agreed to it
    with pytest.raises(submissions.ChangeVoids, match="确认去向登记。保存这次修改后，这次确认将失效"):
        selfservice.record_hukou(roster, me, me.name, "origin", "江西省", "南昌市", "东湖区", "八一大道 2 号")
    assert table(roster, stage, [me.name]) == [("confirmed",)]
    selfservice.record_hukou(
        roster, me, me.name, "origin", "江西省", "南昌市", "东湖区", "八一大道 2 号", voiding_ok=True
    )
    assert table(roster, stage, [me.name]) == [("approved",)]  # confirm again
    # after the campaign's change deadline a graduate cannot change anything; the office can
    campaigns.save_campaign(roster, SYSTEM, campaigns.default_campaign(2024, "江西服装学院"))  # changes until 08-31
    late = Store(roster.path, today=date(2024, 9, 1))
    with pytest.raises(submissions.SubmissionRefused, match="已过信息修改截止日期（2024-08-31）"):
        selfservice.record_destination(late, me, me.name, "80", "南昌大学", "江西省南昌市")
    assert selfservice.record_destination(late, SYSTEM, me.name, "80", "南昌大学", "江西省南昌市") is not None


def _confirmed_with_report(store: Store) -> tuple[Actor, int, str]:
    """Graduate 1: registered, approved by college and school, confirmed, report issued."""
    me = _me(1)
    selfservice.record_destination(store, me, me.name, "10", "江西省纺织集团", "江西省南昌市")
    registration = submissions.submit(store, me, me.name, SUBMISSION_FORM)
    assert registration is not None
    reviews.decide(store, SYSTEM, registration, workflow.Decision("college", "approve", ""))
    reviews.decide(store, SYSTEM, registration, workflow.Decision("school", "approve", ""))
    reports.confirm(store, me, me.name)
    issued = reports.issue(store, me, me.name, "archive", date(2024, 12, 1))
    return me, registration, issued.report_number


def test_an_unchanged_submission_writes_nothing_and_keeps_the_confirmation(roster: Store) -> None:
    """Defect 2 of #16: a confirmed graduate submitted the form unchanged, which made revision 2,
    sent them back to 待院审核 and voided the confirmation."""
    me, registration, _ = _confirmed_with_report(roster)
    stage = "select stage, revision_no from graduate_stages where student_id = ?"
    assert table(roster, stage, [me.name]) == [("verified", 1)]
    before = _count(roster, "registrations")
    # the same form as the page sends it: unstripped text, full-width digits, no images
    same = {
        **SUBMISSION_FORM,
        "unit_name": f" {SUBMISSION_FORM['unit_name']} ",
        "postcode": SUBMISSION_FORM["postcode"].translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    }
    assert submissions.submit(roster, me, me.name, same) is None
    assert _count(roster, "registrations") == before
    assert table(roster, stage, [me.name]) == [("verified", 1)]
    assert _audit(roster, "registration:submit")[-1] == (me.name, "unchanged")


def test_a_change_that_voids_a_confirmation_and_a_report_says_so_and_needs_consent(roster: Store) -> None:
    me, _, number = _confirmed_with_report(roster)
    changed = {**SUBMISSION_FORM, "unit_name": "南昌市东湖区人才服务中心"}
    with pytest.raises(submissions.ChangeVoids, match=f"核验报告 {number} 也将失效"):
        submissions.submit(roster, me, me.name, changed)
    assert table(roster, "select stage from graduate_stages where student_id = ?", [me.name]) == [("verified",)]
    assert submissions.submit(roster, me, me.name, changed, voiding_ok=True) is not None
    assert table(roster, "select stage, status from graduate_stages where student_id = ?", [me.name]) == [
        ("pending_college", "pending_college")
    ]
    # nothing is in force any more, so the next change asks nothing
    with roster.reading(me) as reader:
        assert submissions.void_warning(*submissions.void_facts(reader, me.name)) is None


CAMPAIGN = {
    "registration_deadline": date(2024, 6, 17),
    "change_deadline": date(2024, 8, 31),
    "default_graduation_date": date(2024, 6, 30),
}


def _row(stage: str, **more: object) -> dict[str, object]:
    return {
        "stage": stage,
        "status": more.pop("status", None),
        "destination_code": "10",
        "hukou_id": None,
        "is_hukou_at_school": False,
        "return_reason": None,
    } | more


@pytest.mark.parametrize(
    ("row", "page", "words"),
    [
        (_row("not_registered", destination_code=None), "destination_form", "先填报毕业去向"),
        (_row("not_registered"), "registration_form", "填写档案信息登记"),
        (_row("pending_college", status="pending_college"), None, "等待学院审核"),
        (_row("pending_school", status="pending_school"), None, "等待学校"),
        (_row("returned", status="returned", return_reason="地址不详细"), "registration_form", "按退回原因修改"),
        (_row("approved", status="approved", is_hukou_at_school=True), "hukou_form", "户口信息登记"),
        (_row("approved", status="approved", is_hukou_at_school=True, hukou_id=3), "confirm", "去向登记确认"),
        (_row("confirmed", status="approved"), "authorize", "核验授权"),
        (_row("verified", status="approved", report_valid_until=date(2024, 12, 1)), None, "有效期至 2024-12-01"),
    ],
)
def test_the_status_page_says_what_to_do_next(row: dict[str, object], page: str | None, words: str) -> None:
    step = selfservice.next_step(row, CAMPAIGN, date(2024, 6, 10))
    assert step.page == page and words in step.next_step
    assert step.days_left == 7 and step.headline == workflow.STAGES[row["stage"]]  # type: ignore[index]
    assert step.return_reason == ("地址不详细" if row["stage"] == "returned" else None)
    assert ("还剩 7 天" in step.deadline_note) == (row["stage"] in ("not_registered", "returned"))


def test_the_status_page_after_the_deadline_and_after_needs_update() -> None:
    late = selfservice.next_step(_row("not_registered"), CAMPAIGN, date(2024, 6, 20))
    assert late.days_left == -3 and "已过 3 天" in late.deadline_note
    again = selfservice.next_step(_row("approved", status="approved"), CAMPAIGN, date(2024, 6, 10), needs_update=True)
    assert again.page == "confirm" and "信息有误" in again.next_step


def test_the_cli_does_the_graduates_jobs_for_the_office(roster: Store, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(roster.path), "--today", "2024-06-10"]
    sid = _student(2)
    assert cli.main([*db, "graduate", "status", "--student", sid]) == 0
    out = capsys.readouterr().out
    assert f"学生2（{sid}）：未登记" in out and "下一步：先填报毕业去向" in out and "还剩 7 天" in out
    assert cli.main([*db, "graduate", "destination", "--student", sid, "--code", "10"]) == 1
    assert "请填写就业单位名称" in capsys.readouterr().err
    assert (
        cli.main(
            [
                *db,
                "graduate",
                "destination",
                "--student",
                sid,
                "--code",
                "80",
                "--unit",
                "南昌大学",
                "--location",
                "江西省南昌市",
            ]
        )
        == 0
    )
    assert "已保存" in capsys.readouterr().out
    assert (
        cli.main(
            [
                *db,
                "graduate",
                "hukou",
                "--student",
                sid,
                "--type",
                "study_elsewhere",
                "--province",
                "江西省",
                "--city",
                "南昌市",
                "--district",
                "红谷滩区",
                "--address",
                "学府大道 999 号",
            ]
        )
        == 0
    )
    assert cli.main([*db, "graduate", "confirm", "--student", sid]) == 1
    assert "须通过学校审核（尚未登记）" in capsys.readouterr().err
    assert table(roster, "select destination_code from destinations where student_id = ?", [sid]) == [("80",)]
    assert table(roster, "select migration_type, district from hukou_registrations") == [
        ("study_elsewhere", "红谷滩区")
    ]
