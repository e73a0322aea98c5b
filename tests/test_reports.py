"""Confirmation and verification reports: the confirmation's snapshot and its voiding, report
numbers, the validity cap, status, idempotent issuing, the PDF read back (pdftotext, a rendered
page, the QR code), batches and the public look-up, through the CLI too."""

from __future__ import annotations

import re
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest

from pipelines import cli, imports, report_pdf, reports, reviews, selfservice, submissions
from pipelines.rules import workflow
from pipelines.store import SYSTEM, Actor, Store
from tests.conftest import (
    REGISTRATION_HEADER,
    ROSTER_HEADER,
    SUBMISSION_FORM,
    registration_row,
    roster_row,
    table,
    write_csv,
)

CAP = date(2024, 12, 30)  # graduation 2024-06-30 + 6 months


def _student(i: int) -> str:
    return f"00240{i:05d}"


@pytest.fixture
def approved(store: Store, tmp_path: Path) -> Store:
    """Four graduates whose registrations passed both levels (0 and 2: 服装设计学院, 服设200/202班);
    graduate 3 has hukou at the school."""
    roster = [roster_row(i, 户口是否迁入学校="是" if i == 3 else "否") for i in range(4)]
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, roster))
    rows = [registration_row(i, 审核状态="已通过") for i in range(4)]
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, rows))
    destinations = [{"学号": _student(i), "姓名": f"学生{i}", "毕业去向代码": "70"} for i in range(4)]
    imports.import_file(
        store, SYSTEM, "destinations", write_csv(tmp_path / "d.csv", ["学号", "姓名", "毕业去向代码"], destinations)
    )
    return store


def _stage(store: Store, student_id: str) -> str:
    return str(table(store, "select stage from graduate_stages where student_id = ?", [student_id])[0][0])


def test_a_report_needs_a_confirmation_in_force(approved: Store) -> None:
    with pytest.raises(reports.ReportRefused, match="尚未确认登记去向"):
        reports.issue(approved, SYSTEM, _student(0), "archive", CAP)
    reports.confirm(approved, SYSTEM, _student(0))
    assert _stage(approved, _student(0)) == "confirmed"
    issued = reports.issue(approved, SYSTEM, _student(0), "archive", CAP)
    assert issued.is_new and _stage(approved, _student(0)) == "verified"


def test_a_confirmation_needs_school_approval(store: Store, tmp_path: Path) -> None:
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    imports.import_file(
        store,
        SYSTEM,
        "registrations",
        write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, [registration_row(0, 审核状态="待校审核")]),
    )
    with pytest.raises(reports.ReportRefused, match="须通过学校审核（当前：待校审核）"):
        reports.confirm(store, SYSTEM, _student(0))


def test_a_later_change_voids_the_confirmation_and_the_report_in_force(approved: Store, tmp_path: Path) -> None:
    sid = _student(0)
    reports.confirm(approved, SYSTEM, sid)
    issued = reports.issue(approved, SYSTEM, sid, "archive", CAP)
    with approved.reading(SYSTEM) as reader:
        name = reader.rows("report_documents", ids=[issued.report_id])[0]["name"]
        assert reports.verify(reader, name, issued.report_number).valid
    # the destination changes (a new destination record): nothing resets a flag, the history decides
    imports.import_file(
        approved,
        SYSTEM,
        "destinations",
        write_csv(
            tmp_path / "d.csv",
            ["学号", "姓名", "毕业去向代码", "单位名称"],
            [{"学号": sid, "姓名": "学生0", "毕业去向代码": "80", "单位名称": "江西财经大学"}],
        ),
    )
    assert _stage(approved, sid) == "approved"  # dropped back: not confirmed any more
    with approved.reading(SYSTEM) as reader:
        verdict = reports.verify(reader, name, issued.report_number)
    assert verdict.found and not verdict.valid and verdict.status == "void" and "已失效" in verdict.label
    with pytest.raises(reports.ReportRefused, match="确认后信息有变更"):
        reports.issue(approved, SYSTEM, sid, "archive", CAP)
    # confirming again allows a new report, with a new number
    reports.confirm(approved, SYSTEM, sid)
    again = reports.issue(approved, SYSTEM, sid, "archive", CAP)
    assert again.is_new and again.report_number != issued.report_number


def test_a_resubmitted_registration_also_voids_the_confirmation(approved: Store) -> None:
    sid = _student(1)
    reports.confirm(approved, SYSTEM, sid)
    submissions.submit(approved, SYSTEM, sid, SUBMISSION_FORM, voiding_ok=True)  # reviewed again
    assert _stage(approved, sid) == "pending_college"
    with pytest.raises(reports.ReportRefused, match="尚未确认登记去向"):
        reports.issue(approved, SYSTEM, sid, "archive", CAP)


def test_report_numbers_have_the_seed_shape_and_are_drawn_fresh() -> None:
    numbers = {reports.new_report_number(2024, "10001") for _ in range(2000)}
    assert len(numbers) == 2000
    for number in list(numbers)[:200]:
        # the national layout: cohort, 院校代码, 8 characters (the seed's 241000186KCVW56)
        assert re.fullmatch(r"2410001[2-9A-HJKMNP-Z]{8}", number) and reports.looks_like_report_number(number)
    assert not set("01OIL") & set("".join(n[7:] for n in numbers))
    for seed_number in ("241000186KCVW56", "2410001DSU9N8GX", " 2410001dsu9n8gx "):
        assert reports.looks_like_report_number(seed_number)
    assert reports.looks_like_report_number("24" + "23456789ABCDE")  # numbers issued in the older layout
    for bad in ("2410001DSU9N8G", "2410001DSU9N8GXX", "AB10001DSU9N8GX", "2410001DSU9N8G*"):
        assert not reports.looks_like_report_number(bad)
    with pytest.raises(reports.ReportRefused, match="院校代码"):
        reports.new_report_number(2024, "")


def test_the_validity_date_is_capped_at_graduation_plus_six_months(approved: Store) -> None:
    sid = _student(0)
    reports.confirm(approved, SYSTEM, sid)
    with pytest.raises(reports.ReportRefused, match="最晚为 2024-12-30"):
        reports.issue(approved, SYSTEM, sid, "archive", date(2024, 12, 31))
    with pytest.raises(reports.ReportRefused, match="不能早于今天"):
        reports.issue(approved, SYSTEM, sid, "archive", date(2024, 6, 9))
    assert table(approved, "select count(*) from verification_reports") == [(0,)]


def test_status_unset_then_active_closed_and_reissued_and_expired(approved: Store) -> None:
    sid = _student(0)
    reports.confirm(approved, SYSTEM, sid)
    unset = reports.issue(approved, SYSTEM, sid, "archive")
    assert unset.valid_until is None and _stage(approved, sid) == "confirmed"
    with approved.reading(SYSTEM) as reader:
        assert reports.verify(reader, "学生0", unset.report_number).status == "unset"
    dated = reports.issue(approved, SYSTEM, sid, "archive", date(2024, 7, 31))  # the same report gets its date
    assert not dated.is_new and dated.report_number == unset.report_number and dated.valid_until == date(2024, 7, 31)
    assert reports.issue(approved, SYSTEM, sid, "archive", CAP).report_number == unset.report_number  # no duplicate
    with approved.reading(SYSTEM) as reader:
        assert reports.verify(reader, "学生0", unset.report_number).status == "active"
    with approved.reading(SYSTEM, as_of=date(2024, 8, 1)) as reader:  # after its date
        assert reports.verify(reader, "学生0", unset.report_number).status == "expired"
    reports.close(approved, SYSTEM, unset.report_number)
    with pytest.raises(reports.ReportRefused, match="已于 .* 关闭"):
        reports.close(approved, SYSTEM, unset.report_number)
    with approved.reading(SYSTEM) as reader:
        assert reports.verify(reader, "学生0", unset.report_number).status == "closed"
    reissued = reports.issue(approved, SYSTEM, sid, "archive", CAP)
    assert reissued.is_new and reissued.report_number != unset.report_number
    assert [
        a for (a,) in table(approved, "select action from audit_log where action like 'report:%' order by audit_id")
    ] == [
        "report:issue:archive",
        "report:issue:archive",
        "report:issue:archive",
        "report:close",
        "report:issue:archive",
    ]


def test_hukou_reports_only_for_hukou_at_school_with_a_hukou_registration(approved: Store) -> None:
    reports.confirm(approved, SYSTEM, _student(0))
    with pytest.raises(reports.ReportRefused, match="户口不在学校或未登记户口信息"):
        reports.issue(approved, SYSTEM, _student(0), "hukou", CAP)
    # hukou at school, but nothing registered: the office may not confirm for them either (#14)
    with pytest.raises(reports.ReportRefused, match="户口在学校，须先填写户口信息登记"):
        reports.confirm(approved, SYSTEM, _student(3))
    with pytest.raises(reports.ReportRefused, match="尚未确认登记去向"):
        reports.issue(approved, SYSTEM, _student(3), "hukou", CAP)


def test_only_issuers_issue_and_a_dean_cannot_reach_another_college(approved: Store) -> None:
    reports.confirm(approved, SYSTEM, _student(0))
    with pytest.raises(reports.ReportRefused, match="不能生成或关闭核验报告"):
        reports.issue(approved, Actor("院长", "college_reviewer", ("商学院",)), _student(0), "archive", CAP)
    with pytest.raises(reports.ReportRefused, match="不在名单中，或不在你的范围内"):
        reports.issue(approved, Actor("商学院管理员", "admin", ("商学院",)), _student(0), "archive", CAP)


def _pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_pdf_has_searchable_chinese_a_qr_code_and_one_a4_page(
    approved: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from io import BytesIO

    import segno
    from PIL import Image

    monkeypatch.setenv(report_pdf.ENV_VERIFY_URL, "https://jy.example.edu.cn/verify")
    reports.confirm(approved, SYSTEM, _student(0))
    out = tmp_path / "r.pdf"
    assert (
        cli.main(
            [
                "--db",
                str(approved.path),
                "--today",
                "2024-06-10",
                "report",
                "issue",
                "--student",
                _student(0),
                "--valid-until",
                "2024-12-30",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    ((number,),) = table(approved, "select report_number from verification_reports")
    text = _pdftotext(out)
    for expected in (
        "江西服装学院",
        "毕业去向登记核验报告",
        "档案信息核验",
        "学生0",
        _student(0),
        number,
        "2024-12-30 23:59:59",
        "南昌市人才服务中心",
        "转回生源地",
        "330000",
        "0791-86123456",
    ):
        assert expected in text, expected
    full_id = table(approved, "select id_number from graduates where student_id = ?", [_student(0)])[0][0]
    assert full_id not in text and f"{full_id[:4]}**********{full_id[-4:]}" in text
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+1\b", info) and "595.28 x 841.89" in info  # one A4 page
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-singlefile", str(out), str(tmp_path / "page")], check=True)
    page = Image.open(tmp_path / "page.png").convert("L")
    assert page.size == (827, 1170)
    # the QR code: the page's one image is exactly segno's code for the look-up address
    subprocess.run(["pdfimages", "-png", str(out), str(tmp_path / "img")], check=True)
    (embedded,) = sorted(tmp_path.glob("img-*.png"))
    expected = BytesIO()
    segno.make(report_pdf.verify_url(number), error="m").save(expected, kind="png", scale=6, border=2)
    got, want = Image.open(embedded).convert("L"), Image.open(expected).convert("L")
    assert got.size == want.size and got.tobytes() == want.tobytes()
    artifacts = Path(__file__).parent.parent / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.save(artifacts / "report-page.png")
    assert report_pdf.verify_url(number) == f"https://jy.example.edu.cn/verify?number={number}"


def test_batch_issuing_is_ordered_idempotent_and_comes_as_pdf_or_zip(approved: Store, tmp_path: Path) -> None:
    for i in (0, 2):
        reports.confirm(approved, SYSTEM, _student(i))
    db = ["--db", str(approved.path), "--today", "2024-06-10"]
    merged = tmp_path / "college.pdf"
    assert (
        cli.main(
            [*db, "report", "batch", "--college", "服装设计学院", "--valid-until", "2024-12-30", "--out", str(merged)]
        )
        == 0
    )
    assert table(approved, "select count(*) from verification_reports") == [(2,)]
    text = _pdftotext(merged)
    assert text.count("毕业去向登记核验报告") == 2 and text.index(_student(0)) < text.index(_student(2))
    bundle = tmp_path / "college.zip"
    assert (
        cli.main(
            [*db, "report", "batch", "--college", "服装设计学院", "--valid-until", "2024-12-30", "--out", str(bundle)]
        )
        == 0
    )
    assert table(approved, "select count(*) from verification_reports") == [(2,)]  # run again: no duplicates
    with zipfile.ZipFile(bundle) as archive:
        names = sorted(archive.namelist())
        assert len(names) == 2 and all(n.endswith(".pdf") and "档案信息核验" in n for n in names)
        single = tmp_path / "single.pdf"
        single.write_bytes(archive.read(names[0]))
    text = _pdftotext(single)  # the batch's own font subset still prints every character
    for expected in (
        "毕业去向登记核验报告",
        "档案信息核验",
        "学生0",
        "南昌市人才服务中心",
        "核验编号",
        "本报告依据毕业生确认的毕业去向登记信息生成",
    ):
        assert expected in text, expected


def test_verify_answers_not_found_alike_for_a_wrong_name_or_number(
    approved: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    reports.confirm(approved, SYSTEM, _student(0))
    issued = reports.issue(approved, SYSTEM, _student(0), "archive", CAP)
    db = ["--db", str(approved.path), "--today", "2024-06-10"]
    assert cli.main([*db, "verify", "--name", "学生0", "--number", issued.report_number.lower()]) == 0
    assert "生效中" in capsys.readouterr().out
    wrong_number = issued.report_number[:-1] + ("A" if issued.report_number[-1] != "A" else "B")
    outputs = []
    for name, number in (("学生1", issued.report_number), ("学生0", wrong_number), ("学生0", "x")):
        assert cli.main([*db, "verify", "--name", name, "--number", number]) == 1
        outputs.append(capsys.readouterr().out)
    assert len(set(outputs)) == 1 and "未找到" in outputs[0]
    reports.close(approved, SYSTEM, issued.report_number)
    assert cli.main([*db, "verify", "--name", "学生0", "--number", issued.report_number]) == 1
    assert "已关闭" in capsys.readouterr().out


def test_review_then_confirm_then_report_end_to_end_keeps_stages_materialised(store: Store, tmp_path: Path) -> None:
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    imports.import_file(
        store, SYSTEM, "registrations", write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, [registration_row(0)])
    )
    sid = _student(0)
    reviews.decide_current(store, SYSTEM, sid, workflow.Decision("college", "approve"))
    reviews.decide_current(store, SYSTEM, sid, workflow.Decision("school", "approve"))
    selfservice.record_destination(store, SYSTEM, sid, "70", "", "")
    reports.confirm(store, SYSTEM, sid)
    reports.issue(store, SYSTEM, sid, "archive", CAP)
    with store.reading(SYSTEM) as reader:
        assert reader._conn.execute("select getvariable('use_stage_cache')").fetchall() == [(True,)]
        cached = reader._conn.execute("select * from graduate_stages").fetchall()
        assert cached == reader._conn.execute("select * from graduate_stages_live").fetchall()
    assert _stage(store, sid) == "verified"


def test_a_hukou_report_for_hukou_at_school_prints_the_migration(approved: Store, tmp_path: Path) -> None:
    import polars as pl

    sid = _student(3)

    def register_hukou(writer: object) -> None:
        writer.insert(
            "hukou_registrations",
            pl.DataFrame(
                [
                    {  # type: ignore[attr-defined]
                        "hukou_id": 1,
                        "student_id": sid,
                        "migration_type": "origin",
                        "province": "江西省",
                        "city": "南昌市",
                        "district": "东湖区",
                        "address_detail": "八一大道 1 号",
                        "recorded_at": writer.now(),
                    }
                ]
            ),
        )  # type: ignore[attr-defined]

    approved.transaction(SYSTEM, "test:hukou", register_hukou)
    reports.confirm(approved, SYSTEM, sid)
    out = tmp_path / "hukou.pdf"
    assert (
        cli.main(
            [
                "--db",
                str(approved.path),
                "--today",
                "2024-06-10",
                "report",
                "issue",
                "--student",
                sid,
                "--kind",
                "hukou",
                "--valid-until",
                "2024-12-30",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = _pdftotext(out)
    assert "户口信息核验" in text and "户口迁移" in text and "江西省南昌市东湖区八一大道 1 号" in text
    # the archive report is a separate one, with its own number
    archive = reports.issue(approved, SYSTEM, sid, "archive", CAP)
    assert (
        table(approved, "select count(distinct report_number) from verification_reports") == [(2,)] and archive.is_new
    )


def test_a_graduate_confirms_issues_and_closes_for_themself_only(approved: Store) -> None:
    me, other = _student(0), _student(2)
    graduate = Actor(me, "graduate", None, me)
    selfservice.record_destination(approved, graduate, me, "10", "江西省纺织工业集团", "江西省南昌市")
    reports.confirm(approved, graduate, me)
    issued = reports.issue(approved, graduate, me, "archive", date(2024, 12, 1))
    assert issued.is_new and issued.valid_until == date(2024, 12, 1)
    with pytest.raises(reports.ReportRefused, match="不在你的范围内"):
        reports.confirm(approved, graduate, other)  # the store shows a graduate no one else
    reports.confirm(approved, SYSTEM, other)
    theirs = reports.issue(approved, SYSTEM, other, "archive", date(2024, 12, 1))
    with pytest.raises(reports.ReportRefused):
        reports.issue(approved, graduate, other, "archive", date(2024, 12, 1))
    with pytest.raises(reports.ReportRefused, match="不在你的范围内"):
        reports.close(approved, graduate, theirs.report_number)
    reports.close(approved, graduate, issued.report_number)
    with approved.reading(graduate) as reader:
        assert reader.query("reports_of", student_id=me)["report_status"].to_list() == ["closed"]
        assert reader.query("reports_of", student_id=other).height == 0
    dean = Actor("院长", "college_reviewer", ("服装设计学院",))
    with pytest.raises(reports.ReportRefused, match="只有毕业生本人"):
        reports.confirm(approved, dean, me)  # confirming is the graduate's own act
    hukou_here = Actor(_student(3), "graduate", None, _student(3))
    selfservice.record_destination(approved, hukou_here, _student(3), "701")
    with pytest.raises(reports.ReportRefused, match="须先填写户口信息登记"):
        reports.confirm(approved, hukou_here, _student(3))
