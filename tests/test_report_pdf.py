"""Verification report PDFs read back with poppler (pdftotext, pdffonts, pdfinfo): a merged
batch embeds one font subset and prints every report in order, the process pool prints what
one process prints, every ZIP member is a PDF of its own, hostile text still prints, and a
worker that fails says so in Chinese (#17)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import time
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pipelines import processes, report_pdf, reports
from pipelines.store import SYSTEM, Store, config
from tests.pdfs import in_order as _in_order
from tests.pdfs import pages as _pages
from tests.pdfs import text as _text
from tests.pdfs import write as _write
from tests.test_reports import approved  # noqa: F401  (fixture)

FIXED_TEXT = (
    "毕业去向登记核验报告",
    "档案信息核验",
    "核验编号",
    "有效期至",
    "档案转递单位名称",
    "本报告依据毕业生确认的毕业去向登记信息生成",
)


@pytest.fixture
def document(approved: Store) -> dict[str, Any]:  # noqa: F811
    """One real row of sql/queries/report_documents.sql (graduate 0, confirmed, issued)."""
    reports.confirm(approved, SYSTEM, "0024000000")
    issued = reports.issue(approved, SYSTEM, "0024000000", "archive", date(2024, 12, 30))
    (found,) = reports.documents(approved, SYSTEM, [issued.report_id])
    return found


def _batch(document: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """`count` reports that differ in name, number and unit: names made of characters that the
    first report does not print, so the batch font really is the batch's."""
    surnames, given = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜", "子涵梓轩浩宇欣怡一诺雨泽俊熙"
    return [
        {
            **document,
            "report_number": f"2410001{i:08d}",
            "student_id": f"02001{i:05d}",
            "name": surnames[i % len(surnames)] + given[i % len(given)] + given[(i * 7) % len(given)],
            "unit_name": f"{surnames[(i * 3) % len(surnames)]}州市人才服务中心第{i}分部",
        }
        for i in range(count)
    ]


def _fonts(path: Path) -> list[list[str]]:
    """pdffonts' rows: name, type, encoding, emb, sub, uni, … (the header's two lines left out)."""
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
    return [line.split() for line in lines[2:] if line.strip()]


def _stream(pdf: bytes, key: str) -> bytes:
    """The decompressed stream that the (one) font's `key` entry names."""
    import zlib

    number = re.search(rf"/{key} (\d+) 0 R".encode(), pdf)
    assert number, key
    found = re.search(rb"\n" + number.group(1) + rb" 0 obj\n<< /Length (\d+)[^>]*>>\nstream\n", pdf)
    assert found, key
    return zlib.decompress(pdf[found.end() : found.end() + int(found.group(1))])


def _drawn_characters(pdf: bytes) -> set[str]:
    """The characters whose glyph in the embedded font has an outline (read with fontTools
    through the file's ToUnicode and CIDToGIDMap)."""
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(_stream(pdf, "FontFile2")))
    to_gid = _stream(pdf, "CIDToGIDMap")
    order, glyf = font.getGlyphOrder(), font["glyf"]
    drawn = set()
    to_unicode = "".join(re.findall(r"beginbfchar(.*?)endbfchar", _stream(pdf, "ToUnicode").decode(), re.DOTALL))
    for code, text in re.findall(r"<([0-9A-F]{4})> <([0-9A-F]+)>", to_unicode):
        gid = int.from_bytes(to_gid[2 * int(code, 16) : 2 * int(code, 16) + 2], "big")
        if glyf[order[gid]].numberOfContours:
            drawn.add(bytes.fromhex(text).decode("utf-16-be"))
    return drawn


def test_a_merged_batch_embeds_one_font_subset_and_prints_every_report_in_order(
    document: dict[str, Any], tmp_path: Path
) -> None:
    batch = _batch(document, 40)
    merged = _write(tmp_path, "batch.pdf", report_pdf.render(batch))
    assert _pages(merged) == len(batch)
    (font,) = _fonts(merged)  # one font, embedded as a subset, with a ToUnicode map
    assert re.match(r"^[A-Z]{6}\+", font[0]), font
    assert font[-5:-2] == ["yes", "yes", "yes"], font
    text = _text(merged)
    assert _in_order(text, [v for doc in batch for v in (doc["report_number"], doc["name"], doc["unit_name"])])
    for page in (1, len(batch)):
        assert all(fixed in _text(merged, page) for fixed in FIXED_TEXT)


@pytest.mark.slow
def test_the_process_pool_prints_what_one_process_prints(document: dict[str, Any], tmp_path: Path) -> None:
    batch = _batch(document, 24)
    serial = _write(tmp_path, "serial.pdf", report_pdf.render(batch, workers=1))
    done: list[int] = []
    pooled = _write(tmp_path, "pooled.pdf", report_pdf.render(batch, done.append, workers=2))
    assert done == list(range(1, len(batch) + 1))  # progress still counts every report, in order
    assert _pages(pooled) == _pages(serial) == len(batch)
    assert len(_fonts(pooled)) == 1
    for page in range(1, len(batch) + 1):
        assert _text(pooled, page) == _text(serial, page), page
    assert _text(pooled) == _text(serial)
    with (
        zipfile.ZipFile(io.BytesIO(report_pdf.render_zip(batch, workers=1))) as one,
        zipfile.ZipFile(io.BytesIO(report_pdf.render_zip(batch, workers=2))) as two,
    ):
        assert one.namelist() == two.namelist() and len(one.namelist()) == len(batch)
        for name in one.namelist():
            assert _text(_write(tmp_path, "a.pdf", one.read(name))) == _text(
                _write(tmp_path, "b.pdf", two.read(name))
            ), name


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_every_zip_member_is_a_pdf_of_its_own_with_its_report(
    document: dict[str, Any], tmp_path: Path, workers: int
) -> None:
    batch = _batch(document, 12)
    done: list[int] = []
    with zipfile.ZipFile(io.BytesIO(report_pdf.render_zip(batch, done.append, workers=workers))) as archive:
        names = archive.namelist()
        assert done == list(range(1, len(batch) + 1))
        assert len(names) == len(batch)
        for doc, name in zip(batch, names, strict=True):
            assert name.endswith(f"_{doc['name']}_档案信息核验_{doc['report_number']}.pdf"), name
            member = _write(tmp_path, "member.pdf", archive.read(name))
            assert _pages(member) == 1
            (font,) = _fonts(member)
            assert font[-5:-2] == ["yes", "yes", "yes"], font
            text = _text(member)
            for expected in (*FIXED_TEXT, doc["name"], doc["report_number"], doc["unit_name"], doc["student_id"]):
                assert expected in text, (name, expected)
            others = [d["report_number"] for d in batch if d is not doc]
            assert not any(number in text for number in others)
            # its font draws every character it shows (pdftotext reads ToUnicode, so it would
            # not tell a glyph left empty), and only those
            drawn = _drawn_characters(archive.read(name))
            assert set(doc["name"] + doc["unit_name"] + "".join(FIXED_TEXT)) <= drawn
            assert drawn <= set(text)


HOSTILE = {
    "markup": "<b>**粗体**</b> [链接](javascript:alert(1)) <script>x</script> $x$ ${{7*7}}",
    "invisible": "王\u200b小\u200d明\u202e\ufeff\u00ad\x00\x07",
    "lines": "第一行\n第二行\r\n\t第三行",
    "parens": "括号(未闭合 \\ 反斜杠 ) 和 （全角）",
}


def test_hostile_text_prints_as_text(document: dict[str, Any], tmp_path: Path) -> None:
    long_name = "欧阳" + "很长的名字" * 60  # 302 characters: wraps, and still prints from its start
    batch = [
        {**document, "report_number": f"2410001{i:08d}", "name": value}
        for i, value in enumerate([*HOSTILE.values(), long_name])
    ]
    batch[0] = {
        **batch[0],
        "unit_name": HOSTILE["markup"],
        "contact": HOSTILE["parens"],
        "employer_name": None,
        "class_name": None,
        "destination_code": None,
        "notice_number": None,
    }
    merged = _write(tmp_path, "hostile.pdf", report_pdf.render(batch))
    assert _pages(merged) == len(batch)
    flat = "".join(_text(merged, 1).split())
    assert "<b>**粗体**</b>[链接](javascript:alert(1))<script>x</script>$x$${{7*7}}" in flat
    assert "括号(未闭合\\反斜杠)和（全角）" in flat and "未填报" in flat
    assert "王" in _text(merged, 2) and "明" in _text(merged, 2)
    assert "第一行" in _text(merged, 3) and "第三行" in _text(merged, 3)
    assert "欧阳很长的名字很长" in "".join(_text(merged, 5).split())
    with zipfile.ZipFile(io.BytesIO(report_pdf.render_zip(batch))) as archive:
        names = archive.namelist()
        assert len(names) == len(batch)
        # a member's name is a plain file name: no folders, no markup characters, nothing invisible
        assert all(len(n.encode()) <= 255 for n in names), names  # what file systems take
        assert not [n for n in names if re.search(r'[/\\:*?"<>|\x00-\x1f\u200b-\u200f\u202a-\u202e\ufeff]', n)], names
        for name in names:
            assert _pages(_write(tmp_path, "m.pdf", archive.read(name))) == 1


class _DiesInAWorker(str):
    """A name that is plain text in the parent and ends the worker process that receives it:
    a stand-in for a worker killed (out of memory, say) in the middle of a batch."""

    def __reduce__(self) -> tuple[Any, ...]:
        return os._exit, (3,)


@pytest.mark.slow
def test_a_failing_worker_gives_a_chinese_error_not_a_hang(document: dict[str, Any]) -> None:
    batch = _batch(document, 8)
    broken = [*batch[:5], {k: v for k, v in batch[5].items() if k != "name"}, *batch[6:]]
    with pytest.raises(report_pdf.ReportPdfError, match="排版.*失败"):
        report_pdf.render(broken, workers=2)
    dying = [*batch[:3], {**batch[3], "name": _DiesInAWorker("张三")}, *batch[4:]]
    with pytest.raises(report_pdf.ReportPdfError, match="子进程意外退出"):
        report_pdf.render_zip(dying, workers=2)
    assert report_pdf.render(batch, workers=2).startswith(b"%PDF")  # the next batch works again


class _HangsInAWorker(str):
    """A name that is plain text in the parent and never lets the worker that receives it answer."""

    def __reduce__(self) -> tuple[Any, ...]:
        return time.sleep, (3600,)


@pytest.mark.slow
def test_a_stuck_worker_is_stopped_with_a_chinese_error(
    document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processes, "TASK_TIMEOUT_S", 3.0)
    batch = _batch(document, 8)
    stuck = [*batch[:3], {**batch[3], "name": _HangsInAWorker("张三")}, *batch[4:]]
    started = time.monotonic()
    with pytest.raises(report_pdf.ReportPdfError, match="3 秒没有响应"):
        report_pdf.render(stuck, workers=2)
    assert time.monotonic() - started < 60  # stopped, not waited for the hour
    assert report_pdf.render(batch, workers=2).startswith(b"%PDF")


def test_workers_read_the_running_commands_settings_not_the_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `dangan report batch` handed to the dashboard server runs with the caller's DANGAN_*
    variables (config.environment); its PDF workers must see them too, e.g. the address the QR
    codes carry, not the server's."""
    monkeypatch.setenv("DANGAN_VERIFY_URL", "http://server.invalid/verify")
    with config.environment({"DANGAN_VERIFY_URL": "https://dangan.example.edu.cn/verify"}):
        here = report_pdf.verify_url("241000100000001")
        (there,) = processes.ordered_map(report_pdf.verify_url, ["241000100000001"], 1)
    assert here == there == "https://dangan.example.edu.cn/verify?number=241000100000001"
    (outside,) = processes.ordered_map(report_pdf.verify_url, ["241000100000001"], 1)
    assert outside == "http://server.invalid/verify?number=241000100000001"


def test_a_cut_font_is_truetype_with_only_the_glyphs_asked_for(tmp_path: Path) -> None:
    import pylopdf_fonts_zh_cn
    from fontTools.ttLib import TTFont

    from pipelines import pdf_file

    path = tmp_path / "batch.ttf"
    pdf_file.batch_font("档案核验报告AZ09", pylopdf_fonts_zh_cn.sans_path(), path)
    batch = TTFont(str(path))
    cmap = batch.getBestCmap()
    wanted = {batch.getGlyphID(cmap[ord(ch)]): ch for ch in "核验A"}
    cut = TTFont(io.BytesIO(pdf_file.FontCutter(path).cut(wanted)), checkChecksums=2)  # raises on a bad checksum
    order, batch_order = cut.getGlyphOrder(), batch.getGlyphOrder()
    assert len(order) == len(batch_order)  # glyph ids kept: nothing renumbered
    glyf, batch_glyf = cut["glyf"], batch["glyf"]
    assert {gid for gid, name in enumerate(order) if glyf[name].numberOfContours} == {0, *wanted}  # .notdef too
    for gid in wanted:
        assert glyf[order[gid]].getCoordinates(glyf)[0] == batch_glyf[batch_order[gid]].getCoordinates(batch_glyf)[0]
        assert cut["hmtx"][order[gid]] == batch["hmtx"][batch_order[gid]]
    assert {chr(c): order.index(name) for c, name in cut.getBestCmap().items()} == {
        ch: gid for gid, ch in wanted.items()
    }


def test_the_qr_code_is_segnos_own() -> None:
    """pipelines.qr picks the data mask on arrays; the modules are segno's, mask and all."""
    import random

    import numpy as np
    import segno

    from pipelines import qr

    rng = random.Random(20240617)
    bases = [
        "http://localhost:8501/verify?number=",
        "https://jy.example.edu.cn/verify?number=",
        "https://jyzx.jxfzxy.edu.cn/dangan/verify?school=10001&number=",
    ]  # versions 4 and 5
    masks = set()
    for i in range(1500):
        number = "24" + "".join(rng.choice(reports.ALPHABET) for _ in range(13))
        url = bases[i % len(bases)] + number
        expected = segno.make(url, error="m")
        masks.add(expected.mask)
        assert np.array_equal(qr.modules(url), np.array(expected.matrix)), url
    assert masks == set(range(8))  # every mask was the best one somewhere
