"""导入: the office uploads a roster, destinations or registrations file, sees what importing it
would do (which header became which field, what is not imported, how many rows are new,
updated, unchanged or refused, and why), then imports it with progress. The same function as
`dangan import` (pipelines/imports.py), audited the same way."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import exports, imports, sheets
from pipelines.store import StoreError

user = widgets.require("imports")
actor = user.actor
st.title("导入")
campaign = data.campaign()
if campaign is None:
    st.warning("还没有任何一届的登记工作：导入名单前，请先在“届别设置”中新建一届。")
    st.page_link("screens/admin/campaign.py", label="去届别设置", icon="📅")
    st.stop()
widgets.campaign_header(campaign, data.today())
st.caption(
    "上传全国毕业去向登记系统、学校就业系统或平台（云就业、91job 等）导出的 xlsx / csv 文件。表头可以是常见的各种写法"
    "（README“导入文件”一节列出全部别名），文件中的每一列或被导入，或列为“未导入”。先预览，确认无误后再导入；"
    "默认任何一行无效则整个文件不导入。命令行：`dangan import 类型 文件 [--dry-run]`。"
)

# Files stay in the uploader until replaced; a new key empties it ("导入另一个文件").
round_key = st.session_state.setdefault("im_round", 0)
upload = display.file_uploader(
    "选择文件（xlsx、xls 或 csv）",
    types=["xlsx", "xls", "csv"],
    key=f"im_upload_{round_key}",
    max_mb=sheets.Limits.from_env().file_mb,
)
if upload is None:
    st.stop()
content = upload.getvalue()
digest = hashlib.sha256(content).hexdigest()
file_name = Path(upload.name).name or "上传的文件"


def _with_file(action: Any) -> Any:
    """Run `action(path)` on the upload saved under its own name (the readers take a path; the
    file lives only as long as this call)."""
    with tempfile.TemporaryDirectory(prefix="dangan-import-") as folder:
        safe = file_name if Path(file_name).suffix.lower() in (".xlsx", ".xls", ".csv") else "上传的文件"
        path = Path(folder) / safe
        path.write_bytes(content)
        return action(path, Path(folder))


detected: dict[str, str | None] = st.session_state.setdefault("im_detected", {})
if digest not in detected:
    with st.spinner("识别文件类型……"):
        detected[digest] = _with_file(lambda path, _folder: imports.detect_kind(path))
found = detected[digest]
kinds = list(imports.KINDS)
kind = st.radio(
    "文件类型",
    kinds,
    index=kinds.index(found) if found else None,
    horizontal=True,
    format_func=lambda k: imports.KINDS[k].label,
    key=f"im_kind_{digest[:12]}",
)
if found:
    st.caption(f"按表头自动识别为“{imports.KINDS[found].label}”，如不对请改选。")
else:
    st.caption("未能从表头识别文件类型，请选择；预览会说明缺少哪些列。")
skip = st.checkbox(
    "跳过无效行：只导入有效行，被拒绝的行单独列出（默认：任何一行无效，整个文件都不导入）", key="im_skip"
)

STAGES = {
    "读取": (0.0, 0.25),
    "校验": (0.25, 0.45),
    "写入数据库": (0.45, 1.0),
    "比对库中数据": (0.5, 0.6),
    "写入": (0.6, 0.95),
}


def _run(dry_run: bool) -> None:
    status = st.status("预览中（不写入）……" if dry_run else "导入中……", expanded=True)
    bar = status.progress(0.0)
    reached = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        low, high = STAGES.get(stage, (reached[0], reached[0]))
        reached[0] = max(reached[0], low + (high - low) * (done / total if total else 1))
        bar.progress(min(reached[0], 1.0), text=f"{stage} {done}/{total}" if total > 1 else stage)

    def work(path: Path, folder: Path) -> tuple[str, Any]:
        try:
            return "ok", imports.import_file(
                data.store(),
                actor,
                kind or "",
                path,
                skip_invalid=skip,
                dry_run=dry_run,
                progress=progress,
                refused_path=folder / "refused.csv",
            )
        except imports.ImportRefused as exc:
            return "refused", exc
        except StoreError as exc:
            return "error", str(exc)

    outcome = _with_file(work)
    status.update(
        label={"ok": "预览完成" if dry_run else "导入完成", "refused": "文件被拒绝", "error": "未能完成"}[outcome[0]],
        state="complete" if outcome[0] == "ok" else "error",
        expanded=False,
    )
    st.session_state["im_outcome"] = {
        "digest": digest,
        "kind": kind,
        "dry_run": dry_run,
        "skip": skip,
        "outcome": outcome,
    }


previewed = st.session_state.get("im_outcome")
same_file = bool(
    previewed and previewed["digest"] == digest and previewed["kind"] == kind and previewed["skip"] == skip
)
buttons = st.columns([1, 1, 4])
if buttons[0].button("预览（不写入）", disabled=kind is None):
    _run(dry_run=True)
    previewed = st.session_state["im_outcome"]
    same_file = True
can_import = (
    same_file
    and previewed is not None
    and previewed["dry_run"]
    and previewed["outcome"][0] == "ok"
    and (skip or not previewed["outcome"][1].errors)
)
if buttons[1].button(
    "导入", type="primary", disabled=not can_import, help="先预览；预览没有拒绝的行（或选择了跳过无效行）才能导入"
):
    _run(dry_run=False)
    previewed = st.session_state["im_outcome"]
    same_file = True


def _result(result: imports.ImportResult) -> None:
    cards = st.columns(5)
    for column, (label, value) in zip(
        cards,
        [
            ("读取行数", result.rows_read),
            ("新增", result.inserted),
            ("更新", result.updated),
            ("未变", result.unchanged),
            ("拒绝", result.refused),
        ],
        strict=True,
    ):
        column.metric(label, f"{value:,}", border=True)  # text: ours
    where = f"（工作表“{result.sheet}”）" if result.sheet and result.sheet != "CSV" else ""
    st.caption(
        f"{widgets.plain(result.file)}{widgets.plain(where)} · {imports.KINDS[result.kind].label}"
        + ("" if result.dry_run else f" · 导入批次 {result.batch_id:d}")
    )
    st.markdown("**列的对应**")
    widgets.text_table(
        pl.DataFrame({"文件中的表头": [h for h, _ in result.mapping], "导入为": [f for _, f in result.mapping]})
    )
    if result.ignored:
        st.warning(
            "**未导入的列**（文件中有、dangan 不导入或不认识的表头；如有应导入的列，请按 README 的别名表改名后重新上传）：  \n"
            + "、".join(widgets.plain(h) for h in result.ignored),
            icon="🧾",
        )
    else:
        st.caption("文件中的每一列都已导入。")
    for note in result.warnings:
        st.info(widgets.plain(note), icon="ℹ️")


def _refusals(errors: list[imports.RowError], source: str) -> None:
    table = imports.refusal_table(errors)
    whole = [e for e in errors if e.row is None]
    for e in whole:
        st.error(widgets.plain(e.reason), icon="⛔")
    if table.height == len(whole):
        return
    shown = table.filter(pl.col("行号").is_not_null())
    st.markdown(
        f"**被拒绝的行：{shown['行号'].n_unique():,} 行，{shown.height:,} 处问题**"
        + ("（下面显示前 1,000 处）" if shown.height > 1000 else "")
    )
    display.dataframe(shown.head(1000), hide_index=True, width="stretch")
    name = f"{Path(source).stem}_拒绝原因.xlsx"
    st.download_button(
        f"下载全部拒绝原因（{widgets.plain(name)}）",
        widgets.deferred_file(exports.import_refusals_file, actor, shown, source, name),
        file_name=name,
        icon="⬇️",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


if previewed and same_file:
    kind_done, outcome = previewed["outcome"]
    if kind_done == "ok":
        result: imports.ImportResult = outcome
        if result.dry_run:
            st.subheader("预览（未写入任何数据）")
            if result.errors and not previewed["skip"]:
                st.error(
                    f"有 {result.refused:,} 行无效：按默认规则整个文件不会导入。请改正后重新上传，或勾选“跳过无效行”后再预览。",
                    icon="⛔",
                )
        else:
            st.subheader("导入完成")
            st.success(
                f"已写入：新增 {result.inserted:,}，更新 {result.updated:,}，未变 {result.unchanged:,}，"
                f"拒绝 {result.refused:,}。",
                icon="✅",
            )
            if st.button("导入另一个文件"):
                st.session_state["im_round"] = round_key + 1
                st.session_state.pop("im_outcome", None)
                st.rerun()
        _result(result)
        if result.errors:
            _refusals(result.errors, result.file)
    elif kind_done == "refused":
        refusal: imports.ImportRefused = outcome
        st.subheader("文件被拒绝，未写入任何数据")
        if refusal.result is not None:
            _result(refusal.result)
        _refusals(refusal.errors, file_name)
    else:
        st.error(widgets.plain(outcome), icon="⛔")

with st.expander("导入上限", icon="📏"):
    limits = sheets.Limits.from_env()
    st.caption(
        f"文件不超过 {limits.file_mb} MB；xlsx 解压后不超过 {limits.unpacked_mb:,} MB；每个工作表不超过 {limits.rows:,} 行、"
        f"{limits.columns:,} 列、{limits.cells:,} 个单元格；读取在单独的进程中进行（内存上限 {limits.memory_mb:,} MB，"
        f"时间上限 {limits.seconds} 秒），超出时拒绝并说明哪一项过大。可用环境变量调整（README“配置”）。"
    )
