"""The one-page progress brief for leaders (A4 PDF): the five stage counts with their change
since a week ago, each college's registration and approval rates as bars, the daily snapshots
as lines, 毕业去向落实率 with its definition, and the deadline risks. Charts are drawn with
fpdf2's own lines and rectangles (no browser, no image export), text in Noto Sans SC."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pylopdf_fonts_zh_cn
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from pipelines import statistics
from pipelines.access import require_export
from pipelines.privacy import record_export
from pipelines.rules import progress
from pipelines.rules.filters import Filters
from pipelines.store import Actor, Reader, Store

FONT = "NotoSansSC"
LEFT, WIDTH = 15.0, 180.0
KPIS = {
    "graduates": "毕业生",
    "registered": "已登记",
    "approved": "已通过",
    "confirmed": "已确认",
    "verified": "已核验",
}
LINES = {
    "registered": ((31, 119, 180), "已登记"),
    "approved": ((44, 160, 44), "已通过"),
    "confirmed": ((255, 127, 14), "已确认"),
    "verified": ((148, 103, 189), "已核验"),
}
LIGHT, DARK, GREY = (158, 202, 225), (33, 113, 181), (120, 120, 120)


def brief_file(store: Store, actor: Actor, cohort: int, file_name: str) -> tuple[bytes, int]:
    """The brief for `cohort` within the actor's scope; recorded like every export. Returns the
    PDF and the number of colleges it shows."""
    require_export(store, actor, "brief", file_name)
    with store.reading(actor) as reader:
        facts = gather(reader, cohort)
    data = render(facts)
    record_export(store, actor, "export:brief", file_name, data, facts["colleges"].height, {"cohort": cohort})
    return data, facts["colleges"].height


def gather(reader: Reader, cohort: int) -> dict[str, Any]:
    """Everything the page shows, read in one go."""
    everyone = Filters()
    school = statistics.pivot_rows(reader, cohort, everyone, statistics.NONE).row(0, named=True)
    history = statistics.series(reader, cohort)
    return {
        "cohort": cohort,
        "campaign": reader.one("campaign", cohort=cohort) or {"school_name": "", "registration_deadline": None},
        "today": reader.today,
        "school": school,
        "week": statistics.week_ago_change(history, reader.today),
        "colleges": statistics.pivot_rows(reader, cohort, everyone, "college").sort("registered_rate"),
        "history": history,
        "risks": dict(
            reader.query(
                "risk_counts", cohort=cohort, review_wait_days=progress.REVIEW_WAIT_DAYS, **everyone.params()
            ).iter_rows()
        ),
    }


class _Brief(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.add_font(FONT, fname=str(pylopdf_fonts_zh_cn.sans_path()))
        self.set_auto_page_break(False)
        self.set_margins(LEFT, 12, LEFT)
        self.add_page()

    def text_at(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        color: tuple[int, int, int] = (0, 0, 0),
        width: float = 0,
        align: str = "L",
    ) -> None:
        self.set_font(FONT, size=size)
        self.set_text_color(*color)
        self.set_xy(x, y)
        self.cell(width, size * 0.45, text, align=align, new_x=XPos.RIGHT, new_y=YPos.TOP)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def render(facts: dict[str, Any]) -> bytes:
    pdf = _Brief()
    campaign, today, school = facts["campaign"], facts["today"], facts["school"]
    deadline = campaign.get("registration_deadline")
    pdf.text_at(LEFT, 12, f"{campaign.get('school_name', '')} {facts['cohort']} 届毕业生档案信息登记进度简报", 16)
    left = f"，登记截止 {deadline:%Y-%m-%d}，{progress.deadline_phrase(deadline, today)}" if deadline else ""
    pdf.text_at(LEFT, 21, f"数据截至 {today:%Y-%m-%d}{left}", 9.5, GREY)
    y = _kpis(pdf, 29, school, facts["week"])
    y = _college_bars(pdf, y + 6, facts["colleges"])
    y = _history_lines(pdf, y + 6, facts["history"], today)
    _footer(pdf, y + 5, school, facts["risks"])
    return bytes(pdf.output())


def _kpis(pdf: _Brief, y: float, school: dict[str, Any], week: dict[str, Any] | None) -> float:
    box = WIDTH / len(KPIS)
    for i, (key, label) in enumerate(KPIS.items()):
        x = LEFT + i * box
        pdf.set_draw_color(200, 200, 200)
        pdf.rect(x + 1, y, box - 2, 22)
        pdf.text_at(x + 3, y + 2, label, 9, GREY)
        pdf.text_at(x + 3, y + 7, f"{int(school[key]):,}", 15)
        rate = "" if key == "graduates" else f"占 {_percent(school[f'{key}_rate'])}"
        change = "" if week is None else f"较上周 {int(school[key] - week[key]):+,}"
        pdf.text_at(x + 3, y + 15.5, " · ".join(p for p in (rate, change) if p), 7.5, GREY)
    return y + 22


def _college_bars(pdf: _Brief, y: float, colleges: pl.DataFrame) -> float:
    shown = colleges.tail(16)  # sorted by registration rate, lowest first: the lowest at the top
    pdf.text_at(
        LEFT,
        y,
        "各学院登记率（浅）与审核通过率（深）" + ("，登记率最低的 16 个学院" if colleges.height > 16 else ""),
        11,
    )
    y += 7
    label_w, bar_w, row_h = 38.0, WIDTH - 38.0 - 16, 5.2
    for row in shown.sort("registered_rate").iter_rows(named=True):
        pdf.text_at(LEFT, y + 0.6, str(row["row_key"])[:12], 8, width=label_w - 2, align="R")
        for rate, color, top, height in (
            (row["registered_rate"] or 0, LIGHT, 0.4, 4.0),
            (row["approved_rate"] or 0, DARK, 1.4, 2.0),
        ):
            pdf.set_fill_color(*color)
            pdf.rect(LEFT + label_w, y + top, max(0.2, bar_w * rate), height, style="F")
        pdf.text_at(
            LEFT + label_w + bar_w + 1.5,
            y + 0.6,
            f"{_percent(row['registered_rate'])} / {_percent(row['approved_rate'])}",
            7,
            GREY,
        )
        y += row_h
    pdf.set_draw_color(*GREY)
    for tick in (0, 0.5, 1.0):
        x = LEFT + label_w + bar_w * tick
        pdf.line(x, y + 0.5, x, y + 1.5)
        pdf.text_at(x - 4, y + 1.8, f"{tick:.0%}", 6.5, GREY, width=8, align="C")
    return y + 5


def _history_lines(pdf: _Brief, y: float, history: pl.DataFrame, today: date) -> float:
    recent = history.filter(pl.col("snapshot_day") > today - timedelta(days=42))
    pdf.text_at(LEFT, y, "近六周每日快照（人数）", 11)
    y += 7
    height = 48.0
    if recent.height < 2:
        pdf.text_at(LEFT, y, "快照不足两天：请每天运行 dangan snapshot。", 9, GREY)
        return y + 8
    left, width = LEFT + 12, WIDTH - 12 - 26
    top = float(max(recent["graduates"].to_list()) or 1)
    days: list[date] = recent["snapshot_day"].to_list()
    first, last = days[0], days[-1]
    span = max(1, (last - first).days)
    pdf.set_draw_color(*GREY)
    pdf.line(left, y + height, left + width, y + height)
    pdf.line(left, y, left, y + height)
    for share in (0, 0.5, 1.0):
        pdf.text_at(LEFT, y + height * (1 - share) - 1.5, f"{top * share:,.0f}", 6.5, GREY, width=11, align="R")
    for day in (first, last):
        x = left + width * (day - first).days / span
        pdf.text_at(x - 10, y + height + 1, f"{day:%m-%d}", 6.5, GREY, width=20, align="C")
    for i, (key, (color, label)) in enumerate(LINES.items()):
        points = [
            (left + width * (d - first).days / span, y + height * (1 - v / top))
            for d, v in zip(days, recent[key].to_list(), strict=True)
        ]
        pdf.set_draw_color(*color)
        pdf.set_line_width(0.6)
        pdf.polyline(points)
        pdf.set_line_width(0.2)
        pdf.set_fill_color(*color)
        pdf.rect(left + width + 4, y + 3 + i * 6, 3, 3, style="F")
        pdf.text_at(left + width + 8, y + 2.8 + i * 6, f"{label} {int(recent[key][-1]):,}", 7.5)
    return y + height + 6


def _footer(pdf: _Brief, y: float, school: dict[str, Any], risks: dict[str, int]) -> None:
    pdf.text_at(
        LEFT,
        y,
        f"毕业去向落实率 {_percent(school['placed_rate'])}（已落实 {int(school['placed']):,} 人，"
        f"其中单位就业 {int(school['employed']):,}、自主创业 {int(school['entrepreneur']):,}、"
        f"自由职业 {int(school['freelance']):,}、升学 {int(school['further_study']):,}）",
        10,
    )
    pdf.set_xy(LEFT, y + 6)
    pdf.set_font(FONT, size=7)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(WIDTH, 3.4, statistics.PLACEMENT_DEFINITION, wrapmode=WrapMode.CHAR)
    pdf.set_xy(LEFT, pdf.get_y() + 3)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(
        WIDTH,
        4.2,
        "截止风险：" + "；".join(f"{r.label} {risks.get(r.code, 0):,} 人" for r in progress.RISK_REASONS),
        wrapmode=WrapMode.CHAR,
    )
