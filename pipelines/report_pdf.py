"""The verification report as a print-ready A4 PDF (fpdf2 lays it out, Noto Sans SC from a pip package).

The text is real text in an embedded, subset font, so it can be selected and searched. A QR
code (segno, with `qr` choosing its mask faster) carries the public look-up address with the 核验编号. One report per page; a
batch is one PDF in class and advisor order, or a ZIP of single PDFs.

Printing speed (#17): a batch first cuts one font with every character it can print
(`_batch`), fpdf2 lays the pages out with it, and `pdf_file` writes the files, each with a font
cut to its own glyphs (the merged PDF: one font for the batch). A batch of `PARALLEL_FROM`
reports or more is laid out in worker processes (`processes`: fresh interpreters, not forks of a
parent that may hold DuckDB connections and threads), `CHUNK` reports a task, from plain dicts;
the pages come back in order, so the workers print what one process prints.
"""

from __future__ import annotations

import io
import os
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
from fpdf.enums import MethodReturnValue, WrapMode, XPos, YPos

from pipelines import pdf_file, processes, qr
from pipelines.rules import identity, verification
from pipelines.store import config

ENV_VERIFY_URL = "DANGAN_VERIFY_URL"
DEFAULT_VERIFY_URL = "http://localhost:8501/verify"
FONT = pdf_file.FONT
TITLE = "毕业去向登记核验报告"
LABEL_WIDTH = 42.0
LINE = 8.0
QR_WIDTH = 38.0  # mm
# Reports from which a batch is laid out in worker processes: each takes ~0.5 s of processor
# time to start, and on a busy machine they did not pay for themselves below this.
PARALLEL_FROM = 500
CHUNK = 50  # reports a worker lays out per task
NAME_CHARS = 40  # of a graduate's name in a ZIP member's file name (file names stop at 255 bytes)


class ReportPdfError(ValueError):
    """A batch whose PDF could not be made; the message says why, in Chinese."""


def verify_url(report_number: str) -> str:
    """The public look-up address a report's QR code carries."""
    base = config.env(ENV_VERIFY_URL, DEFAULT_VERIFY_URL) or DEFAULT_VERIFY_URL
    return f"{base}{'&' if '?' in base else '?'}{urlencode({'number': report_number})}"


@contextmanager
def _batch(documents: list[dict[str, Any]]) -> Iterator[pdf_file.Batch]:
    text = {ch for doc in documents for value in doc.values() if value is not None for ch in str(value)}
    text |= set(Path(__file__).read_text(encoding="utf-8"))  # every label and sentence printed
    text |= set("".join(verification.KIND_LABELS.values()))
    with pdf_file.batch(text) as batch:
        yield batch


class _Document(pdf_file.Layout):
    def __init__(self, batch: pdf_file.Batch) -> None:
        super().__init__(batch)
        self.set_margins(18, 16, 18)
        self.qr = b""  # the QR code of the page being laid out, and its pixels a side
        self.qr_pixels = 0
        self._lines: dict[tuple[float, float, str, float], list[str]] = {}

    def report(self, doc: dict[str, Any]) -> pdf_file.Page:
        _page(self, doc)
        try:
            return self.taken(self.page_content(), self.qr, self.qr_pixels)
        except pdf_file.LayoutError as exc:
            raise ReportPdfError(str(exc)) from exc

    def heading(self, text: str, size: float) -> None:
        self.set_font(FONT, size=size)
        self.cell(0, size * 0.6, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def section(self, text: str) -> None:
        self.ln(3)
        self.set_font(FONT, size=12)
        self.set_fill_color(230, 236, 245)
        self.cell(0, LINE, f"  {text}", fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def field(self, label: str, value: str) -> None:
        self.set_font(FONT, size=10.5)
        self.set_text_color(90, 90, 90)
        self.cell(LABEL_WIDTH, LINE, label)
        self.set_text_color(0, 0, 0)
        value = value or "—"
        # A value that fits on its line is one cell: multi_cell costs four times as much (#17).
        if (
            "\n" not in value
            and "\r" not in value
            and self.get_string_width(value) <= self.w - self.r_margin - self.x - 2 * self.c_margin
        ):
            self.cell(0, LINE, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            self.multi_cell(0, LINE, value, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, width: float, height: float, text: str) -> None:
        """One of our own sentences, wrapped by multi_cell once per document and then drawn line
        by line: breaking the lines is a fifth of a page's time (#17)."""
        key = (width, height, text, self.font_size_pt)
        if key not in self._lines:
            lines = self.multi_cell(
                width, height, text, wrapmode=WrapMode.CHAR, dry_run=True, output=MethodReturnValue.LINES
            )
            assert isinstance(lines, list)
            self._lines[key] = lines
        for line in self._lines[key]:
            self.cell(width, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def qr_code(self, report_number: str, x: float, y: float) -> None:
        """segno's code for the look-up address (border 2, 6 pixels a module), drawn at x, y."""
        modules = np.pad(qr.modules(verify_url(report_number)), 2)
        pixels = np.repeat(np.repeat(modules, 6, axis=0), 6, axis=1)
        self.qr = zlib.compress(np.packbits(1 - pixels, axis=1).tobytes())  # 1-bit grey: 0 is dark
        self.qr_pixels = pixels.shape[0]
        side = QR_WIDTH * self.k
        self._out(f"q {side:.2f} 0 0 {side:.2f} {x * self.k:.2f} {(self.h - y - QR_WIDTH) * self.k:.2f} cm /QR Do Q")


def _page(pdf: _Document, doc: dict[str, Any]) -> None:
    pdf.add_page()
    kind = verification.KIND_LABELS.get(doc["kind"], doc["kind"])
    pdf.heading(f"{doc['school_name']}", 13)
    pdf.ln(2)
    pdf.heading("毕业去向登记核验报告", 20)
    pdf.ln(2)
    pdf.heading(
        f"{kind} · {doc['cohort']} 届毕业生" + (f" · {doc['notice_number']}" if doc["notice_number"] else ""), 11
    )

    top = pdf.get_y() + 4
    pdf.qr_code(doc["report_number"], pdf.w - pdf.r_margin - QR_WIDTH, top)
    pdf.set_xy(pdf.l_margin, top)
    pdf.set_font(FONT, size=10.5)
    for label, value in (
        ("核验编号", doc["report_number"]),
        ("有效期至", f"{doc['valid_until']:%Y-%m-%d} 23:59:59" if doc["valid_until"] else "未设置（未确认）"),
        ("生成时间", f"{doc['issued_at']:%Y-%m-%d %H:%M:%S}"),
    ):
        pdf.cell(LABEL_WIDTH, LINE, label)
        pdf.cell(0, LINE, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(90, 90, 90)
    pdf.paragraph(
        pdf.w - pdf.l_margin - pdf.r_margin - 42,
        5,
        "扫描右侧二维码，或在核验查询页输入姓名和核验编号，可查询本报告是否有效。",
    )
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(max(pdf.get_y(), top + 40))

    pdf.section("毕业生")
    pdf.field("姓名", doc["name"])
    pdf.field("学号", doc["student_id"])
    pdf.field("身份证号", identity.mask_id_number(doc["id_number"] or ""))
    pdf.field("学院 / 专业 / 班级", " / ".join(v for v in (doc["college_name"], doc["major"], doc["class_name"]) if v))

    pdf.section("毕业去向")
    destination = (
        f"{doc['destination_name'] or ''}（{doc['destination_code']}）" if doc["destination_code"] else "未填报"
    )
    pdf.field("毕业去向", destination)
    pdf.field("单位 / 学校", doc["employer_name"] or "")

    pdf.section("档案转递")
    pdf.field("转递编号", doc["transfer_number"] or "—")
    pdf.field("档案转递类型", doc["transfer_type_label"] or "")
    pdf.field("档案转递单位名称", doc["unit_name"] or "")
    pdf.field("档案转递单位地址", doc["unit_address"] or "")
    pdf.field("邮编", doc["postcode"] or "")
    pdf.field("联系人/联系部门", doc["contact"] or "")
    pdf.field("联系电话", doc["unit_phone"] or "")

    if doc["hukou_type_label"] or doc["kind"] == "hukou":
        pdf.section("户口迁移")
        pdf.field("户口迁移类型", doc["hukou_type_label"] or "")
        pdf.field("户口迁移地址", doc["hukou_address"] or "")

    pdf.set_y(pdf.h - pdf.b_margin - 22)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(90, 90, 90)
    pdf.paragraph(
        0,
        5,
        "本报告依据毕业生确认的毕业去向登记信息生成。毕业去向、档案或户口信息变更后，本报告自动失效，"
        "须重新确认后再次核验。查询核验服务截止到毕业时间加六个月。身份证号已脱敏。",
    )
    pdf.set_text_color(0, 0, 0)


def render(
    documents: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None, *, workers: int | None = None
) -> bytes:
    """One PDF with a page per report (rows of sql/queries/report_documents.sql, in order) and one
    font subset. `progress(i)` is called as report i is laid out; `workers` (default: one
    process below PARALLEL_FROM reports, else one per core) sets how many processes lay out."""
    documents = list(documents)
    if not documents:
        raise ValueError("没有可打印的核验报告")
    with _batch(documents) as batch:
        pages = [page for chunk in _laid_out(batch, documents, False, progress, workers) for page in chunk]
        return _Document(batch).file(pages, pdf_file.FontCutter(Path(batch.font_path)), TITLE)


def render_zip(
    documents: list[dict[str, Any]], progress: Callable[[int], None] | None = None, *, workers: int | None = None
) -> bytes:
    """A ZIP of single-report PDFs, named 班级_学号_姓名_类型_核验编号.pdf, each with a font of
    its own glyphs only. Arguments as for `render`."""
    buffer = io.BytesIO()
    # The members are compressed PDFs: deflating them again would save a few per cent for
    # about a millisecond each in this one process.
    with _batch(documents) as batch, zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        files = (data for chunk in _laid_out(batch, documents, True, progress, workers) for data in chunk)
        for doc, data in zip(documents, files, strict=True):
            archive.writestr(f"{_member_name(doc)}.pdf", data)
    return buffer.getvalue()


def _laid_out(
    batch: pdf_file.Batch,
    documents: list[dict[str, Any]],
    as_files: bool,
    progress: Callable[[int], None] | None,
    workers: int | None,
) -> Iterator[list[Any]]:
    """The chunks of `documents` laid out (pages, or single-page files), in order."""
    count = workers or (1 if len(documents) < PARALLEL_FROM else _cores())
    size = max(1, min(CHUNK, -(-len(documents) // (count * 4))))
    chunks = [documents[i : i + size] for i in range(0, len(documents), size)]
    work = partial(_lay_out, batch, as_files=as_files)
    done = 0
    for chunk, result in zip(chunks, map(work, chunks) if count == 1 else _pooled(work, chunks, count), strict=True):
        for _ in chunk:
            done += 1
            if progress:
                progress(done)
        yield result


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _pooled(
    work: Callable[[list[dict[str, Any]]], list[Any]], chunks: list[list[dict[str, Any]]], count: int
) -> Iterator[list[Any]]:
    try:
        yield from processes.ordered_map(work, chunks, count)
    except processes.WorkerStuck as exc:
        raise ReportPdfError(
            f"排版 PDF 的子进程 {processes.TASK_TIMEOUT_S:.0f} 秒没有响应，已停止，PDF 没有生成；"
            "请缩小范围（例如按班级）后重试"
        ) from exc
    except processes.WorkerDied as exc:
        raise ReportPdfError(
            "排版 PDF 的子进程意外退出（可能是内存不足），PDF 没有生成；请缩小范围（例如按班级）后重试"
        ) from exc
    except ReportPdfError:
        raise
    except Exception as exc:  # anything else: still one clear message
        raise ReportPdfError(f"排版 PDF 失败：{exc}") from exc


def _lay_out(batch: pdf_file.Batch, documents: list[dict[str, Any]], as_files: bool) -> list[Any]:
    """A chunk's pages, or (`as_files`) a single-page PDF each. Runs in a worker process."""
    pdf = _Document(batch)
    pages = []
    for doc in documents:
        try:
            pages.append(pdf.report(doc))
        except ReportPdfError:
            raise
        except Exception as exc:
            raise ReportPdfError(f"排版核验报告 {doc.get('report_number') or ''} 失败：{exc!r}") from exc
    if not as_files:
        return pages
    cutter = pdf_file.FontCutter(Path(batch.font_path))
    return [pdf.file([page], cutter, TITLE) for page in pages]


def _member_name(doc: dict[str, Any]) -> str:
    kind = verification.KIND_LABELS.get(doc["kind"], doc["kind"])
    name = _safe(str(doc["name"] or ""))[:NAME_CHARS]
    return "_".join(
        _safe(str(v)) for v in (doc["class_name"] or "未分班", doc["student_id"], name, kind, doc["report_number"])
    )


def _safe(name: str) -> str:
    """A file-name part: no path or reserved characters, nothing invisible (controls, format
    characters such as U+200B or U+202E), no line breaks."""
    return "".join("_" if c in '/\\:*?"<>|' or unicodedata.category(c)[0] in "CZ" and c != " " else c for c in name)
