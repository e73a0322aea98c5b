"""档案转递: the archives leave the school. Progress per status and college, bags (a dean: their
college's, and nothing else), batches, the printed papers, waybills, returns and waits. Every
action is a domain function of pipelines/dispatch.py; a refusal shows as its Chinese message."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import campaigns, dispatch, sheets
from pipelines.rules import dispatch as dispatch_rules
from pipelines.rules import roles, verification
from pipelines.store import StoreError

STATUSES = dispatch_rules.STATUSES
CHANNELS = dispatch_rules.CHANNELS
WAIT_CHOICES = {**dispatch_rules.WAITS, "released": "取消暂缓"}
_DONE = "_dispatch_done"  # what the last action did, shown after the rerun

campaign, today, user = widgets.page_start("档案转递", "dispatch")
cohort = campaign["cohort"]
actor = user.actor
office = actor.role in roles.DISPATCHERS


BAG_PAGE = 100  # archives listed at once on 装袋 (the checkbox below covers the whole choice)


def act(action: Callable[[], Any], describe: Callable[[Any], list[tuple[str, str]]], where: str) -> None:
    """Run a domain action; on success rerun with what it did shown in section `where`, on a
    refusal show why (its message is text)."""
    try:
        result = action()
    except StoreError as exc:
        st.error(widgets.plain(str(exc)), icon="⛔")
        return
    st.session_state[_DONE] = (where, describe(result))
    st.rerun()


def show_done(where: str) -> None:
    """The messages the last action in this section left: (kind, text already plain)."""
    found = st.session_state.get(_DONE)
    if not found or found[0] != where:
        return
    st.session_state.pop(_DONE)
    shows = {"success": st.success, "warning": st.warning, "info": st.info}
    for kind, message in found[1]:
        shows[kind](message)  # text: ours (built from plain values below)


def status_label(column: str = "dispatch_status") -> pl.Expr:
    return pl.col(column).replace_strict(STATUSES, default=pl.col(column)).alias("转递状态")


def pick_scope(key: str) -> tuple[str | None, str | None]:
    """College and class (a dean: their own college only, as the store's scope lists)."""
    options = data.query("filter_options", cohort=cohort)
    colleges = options["college_name"].unique().sort().to_list()
    left, right = st.columns(2)
    college = left.selectbox(
        "学院",
        [None, *colleges] if len(colleges) != 1 else colleges,
        format_func=lambda v: v or "全部学院",
        key=f"{key}_college",
    )
    classes = (
        options.filter(pl.col("college_name") == college)["class_name"].drop_nulls().unique().sort().to_list()
        if college
        else []
    )
    class_name = right.selectbox(
        "班级",
        [None, *classes],
        format_func=lambda v: v or ("整个学院" if college else "（先选择学院）"),
        key=f"{key}_class",
        disabled=not classes,
    )
    return college, class_name


def with_file(upload: Any, action: Callable[[Path], Any]) -> Any:
    """Run `action(path)` on the upload saved under its own name (the readers take a path)."""
    name = Path(upload.name).name or "上传的文件"
    with tempfile.TemporaryDirectory(prefix="dangan-dispatch-") as folder:
        path = Path(folder) / (name if Path(name).suffix.lower() in (".xlsx", ".csv") else "上传的文件.csv")
        path.write_bytes(upload.getvalue())
        return action(path)


attention = data.query("dispatch_attention", cohort=cohort)  # a few names, not every archive
names = ["进度", "装袋", *(["编批次", "打印", "运单号", "退档与暂缓"] if office else [])]
tabs = dict(zip(names, st.tabs(names), strict=True))  # text: ours (the names above)
if not office:
    st.caption("学院审核员可查看本学院的转递进度并标记档案袋；编批次、打印、运单号、退档与暂缓由就业处办理。")

# --- 进度 ------------------------------------------------------------------------------------------

with tabs["进度"]:
    progress = data.query("dispatch_progress", cohort=cohort)
    counts = dict(progress.group_by("dispatch_status").agg(pl.col("archives").sum()).iter_rows())
    cards = st.columns(len(STATUSES))
    for column, (code, label) in zip(cards, STATUSES.items(), strict=True):
        column.metric(label, f"{counts.get(code, 0):,}", border=True)  # text: ours (STATUSES)
    st.caption("统计已通过审核并确认（可以转递）的档案，以及已进入转递流程的档案。")
    if progress.height:
        wide = progress.pivot(
            on="dispatch_status", index="college_name", values="archives", aggregate_function="sum"
        ).fill_null(0)
        wide = wide.with_columns(pl.lit(0, dtype=pl.Int64).alias(c) for c in STATUSES if c not in wide.columns)
        display.dataframe(
            wide.select(
                pl.col("college_name").alias("学院"),
                *(pl.col(c).alias(label) for c, label in STATUSES.items()),
                pl.sum_horizontal(*STATUSES).alias("合计"),
            ),
            hide_index=True,
            width="stretch",
        )
    stale = attention.filter(pl.col("is_stale_in_batch"))
    if stale.height:
        listed = "、".join(
            f"{widgets.plain(n)}（{widgets.plain(s)}）" for n, s in stale.select("name", "student_id").rows()
        )
        st.warning(
            f"登记已变更，将移出批次（{stale.height} 份；下次编批次时移出，新的登记须重新审核并确认）：{listed}",
            icon="⚠️",
        )

# --- 装袋 ------------------------------------------------------------------------------------------

with tabs["装袋"]:
    show_done("bag")
    items = dispatch.bag_list(campaigns.from_row(campaign))
    st.markdown("**档案袋清单**（每份档案袋须装齐）：" + "、".join(widgets.plain(t) for t in items))
    if dispatch_rules.REPORT_ITEM in items:
        st.caption("本届要求核验报告装袋：没有有效档案信息核验报告的毕业生不能标记为已齐。")
    college, class_name = pick_scope("bag")
    where: dict[str, Any] = {"cohort": cohort, "college": college, "class": class_name}
    scope = data.query("bag_candidates", **where)
    if scope.height == 0:
        st.info("所选范围内没有可以装袋的档案（登记须已通过审核并确认）。")
    else:
        bagged = int(scope["is_bagged"].sum())
        st.caption(
            f"可装袋 {scope.height:,} 份，其中档案袋已齐 {bagged:,} 份。选中档案（可多选），或勾选“所列未齐的全部”。"
        )
        offset = widgets.pager(scope.height, BAG_PAGE, key="bag_page")  # one page to the browser
        page = scope.sort("class_name", "student_id").slice(offset, BAG_PAGE)
        picked = widgets.selected_rows(
            page,
            display.headed(
                page,
                "class_name",
                "student_id",
                "name",
                pl.col("is_bagged").replace_strict({True: "已齐", False: "未齐"}).alias("档案袋"),
                pl.col("is_verified").replace_strict({True: "有效", False: "无"}).alias("核验报告"),
                status_label(),
            ),
            id_column="student_id",
            key="bag_rows",
            multi=True,
            hide_index=True,
            width="stretch",
        )
        whole = st.checkbox(f"所列未齐的全部（{scope.height - bagged:,} 份）", key="bag_all")
        chosen = scope.filter(~pl.col("is_bagged"))["student_id"].to_list() if whole else picked["student_id"].to_list()

        def bag_result(done: dispatch.Done) -> list[tuple[str, str]]:
            out = [("success", f"已标记 {len(done.done):,} 份档案袋已齐。")]
            if done.refused:
                out.append(
                    (
                        "warning",
                        f"{len(done.refused):,} 份未标记：" + "；".join(widgets.plain(w) for _, w in done.refused[:20]),
                    )
                )
            return out

        if st.button(f"标记档案袋已齐（{len(chosen):,} 份）", type="primary", disabled=not chosen, key="bag_mark"):
            act(lambda: dispatch.mark_bags(data.store(), actor, chosen), bag_result, "bag")

# --- 编批次 -----------------------------------------------------------------------------------------

if office:
    with tabs["编批次"]:
        show_done("batch")
        st.caption(
            "把已通过审核、已确认、档案袋已齐、未寄出也未暂缓的档案编入一个转递批次；寄送方式按本届的规则"
            f"（{dispatch_rules.CHANNEL_RULES.get(campaign.get('dispatch_rule') or '', dispatch_rules.CHANNEL_RULES[dispatch_rules.DEFAULT_RULE]).label}）。"
            "再次编批次不会重复编入；登记已变更的档案会先移出。"
        )
        college, class_name = pick_scope("batch")
        channel = st.radio(
            "寄送方式",
            [None, *CHANNELS],
            format_func=lambda c: CHANNELS[c] if c else "全部",
            horizontal=True,
            key="batch_channel",
        )

        def batch_result(batch: dispatch.Batch) -> list[tuple[str, str]]:
            out: list[tuple[str, str]] = []
            if batch.batch_no is None:
                out.append(("info", "没有可以编入的档案。"))
            else:
                by = "，".join(f"{CHANNELS.get(c, c)} {n:,} 份" for c, n in sorted(batch.by_channel.items()))
                out.append(("success", f"已编入第 {batch.batch_no:d} 批：共 {batch.added:,} 份（{by}）。"))
            if batch.taken_out:
                who = "、".join(f"{widgets.plain(n)}（{widgets.plain(s)}）" for s, n in batch.taken_out)
                out.append(("warning", f"登记已变更，已移出批次：{who}"))
            if batch.not_ready:
                why = "；".join(f"{widgets.plain(w)} {n:,} 份" for w, n in batch.not_ready.items())
                out.append(("info", f"未编入：{why}"))
            return out

        if st.button("编入转递批次", type="primary", key="batch_build"):
            act(
                lambda: dispatch.build_batch(
                    data.store(), actor, cohort, college=college, class_name=class_name, channel=channel
                ),
                batch_result,
                "batch",
            )

    batches = data.query("dispatch_batches", cohort=cohort)
    with tabs["编批次"]:
        st.subheader("转递批次")
        if batches.height == 0:
            st.caption("还没有转递批次。")
        else:
            display.dataframe(
                batches.select(
                    pl.col("batch").alias("批次号"),
                    pl.col("open").alias("待寄出"),
                    pl.col("sent").alias("已寄出"),
                    pl.col("jiyao").alias("机要"),
                    pl.col("ems").alias("EMS"),
                ),
                hide_index=True,
                width="stretch",
            )

    # --- 打印 --------------------------------------------------------------------------------------

    with tabs["打印"]:
        printable = batches["batch"].to_list()  # newest first; a sent batch can be printed again
        if not printable:
            st.info("还没有转递批次。先在“编批次”中编入转递批次。")
        else:
            batch_no = st.selectbox("转递批次", printable, format_func=lambda b: f"第 {b:d} 批", key="print_batch")
            st.caption(
                "打印内容含该批次中未被移出的档案（已寄出的批次可以补打）；导出将记入审计日志。身份证号等个人信息按接收方所需脱敏。"
            )
            columns = st.columns(len(dispatch.PAPERS))
            for column, (kind, label) in zip(columns, dispatch.PAPERS.items(), strict=True):
                file_name = f"第{int(batch_no)}批_{label}.pdf"
                column.download_button(
                    f"下载{label}（PDF）",  # text: ours (dispatch.PAPERS)
                    widgets.deferred_file(dispatch.papers, actor, cohort, int(batch_no), kind, file_name),
                    file_name=file_name,
                    mime="application/pdf",
                    icon="⬇️",
                    key=f"print_{kind}",
                )

    # --- 运单号 ------------------------------------------------------------------------------------

    with tabs["运单号"]:
        show_done("waybill")

        def waybill_result(done: dispatch.Done) -> list[tuple[str, str]]:
            out = [("success", f"已登记 {len(done.done):,} 个运单号，档案状态为“{STATUSES[dispatch_rules.SENT]}”。")]
            if done.refused:
                out.append(("info", f"{len(done.refused):,} 份档案的运单号未变，未重复登记。"))
            return out

        st.caption(
            "运单号须符合寄送方式的格式："
            + "；".join(dispatch_rules.WAYBILL_FORMATS.values())
            + "。一个运单号只能登记在一份档案上。"
        )
        st.markdown("**逐个登记**")
        with st.form("waybill_one"):
            left, middle, right = st.columns(3)
            key = left.text_input("转递编号或学号", max_chars=40, key="wb_key")
            waybill = middle.text_input("运单号", max_chars=30, key="wb_number")
            sent_on = right.date_input("寄出日期", value=today, max_value=today, format="YYYY-MM-DD", key="wb_day")
            typed = st.form_submit_button("登记运单号", type="primary")
        if typed:
            entry = dispatch.Entry("页面", key, waybill, sent_on if isinstance(sent_on, date) else None)
            act(lambda: dispatch.record_waybills(data.store(), actor, [entry]), waybill_result, "waybill")

        st.markdown("**从文件登记**")
        st.caption(
            "xlsx 或 csv：“转递编号”或“学号”一列、“运单号”（或 邮件号、EMS号、机要编号）一列，可有“寄出日期”。任何一行有误则整个文件不登记。"
        )
        round_key = st.session_state.setdefault("wb_round", 0)
        upload = display.file_uploader(
            "运单号文件", key=f"wb_upload_{round_key}", types=["xlsx", "csv"], max_mb=sheets.Limits.from_env().file_mb
        )
        if upload is not None and st.button("登记文件中的运单号", key="wb_file"):
            source = Path(upload.name).name or "上传的文件"

            def from_file() -> dispatch.Done:
                entries = with_file(upload, dispatch.read_entries)
                done = dispatch.record_waybills(data.store(), actor, entries, source=source)
                st.session_state["wb_round"] = round_key + 1
                return done

            act(from_file, waybill_result, "waybill")

        st.markdown("**签收回执**")
        st.caption(
            "接收单位或邮局退回的签收回执（xlsx 或 csv）：“转递编号”或“学号”一列、“接收单位”（或 签收单位）一列。"
        )
        receipt_round = st.session_state.setdefault("rc_round", 0)
        receipts = display.file_uploader(
            "签收回执文件",
            key=f"rc_upload_{receipt_round}",
            types=["xlsx", "csv"],
            max_mb=sheets.Limits.from_env().file_mb,
        )
        if receipts is not None and st.button("登记文件中的签收", key="rc_file"):
            receipt_source = Path(receipts.name).name or "上传的文件"

            def receipts_from_file() -> dispatch.Done:
                entries = with_file(receipts, lambda path: dispatch.read_entries(path, receipts=True))
                done = dispatch.import_receipts(data.store(), actor, entries, source=receipt_source)
                st.session_state["rc_round"] = receipt_round + 1
                return done

            act(
                receipts_from_file,
                lambda done: [("success", f"已登记 {len(done.done):,} 份档案的签收。")],
                "waybill",
            )

    # --- 退档与暂缓 ---------------------------------------------------------------------------------

    with tabs["退档与暂缓"]:
        show_done("return")
        st.markdown("**登记退档**")
        st.caption("档案被接收单位退回：登记原因后，该毕业生的登记重新打开，由其重新登记、再经审核并确认后重新转递。")
        with st.form("return_one"):
            left, right = st.columns(2)
            returned_id = left.text_input("学号", max_chars=20, key="rt_student")
            reason_code = right.selectbox(
                "退档原因",
                list(dispatch_rules.RETURN_REASONS),
                format_func=lambda c: dispatch_rules.RETURN_REASONS[c].label,
                key="rt_reason",
            )
            note = st.text_input("说明（可选，毕业生可见）", max_chars=200, key="rt_note")
            returned = st.form_submit_button("登记退档", type="primary")
        if returned:
            act(
                lambda: dispatch.record_return(data.store(), actor, returned_id.strip(), reason_code, note),
                lambda reason: [("success", f"已登记退档，登记已重新打开：{widgets.plain(reason)}")],
                "return",
            )

        st.markdown("**暂缓转递 / 留校保管**")
        latest = verification.add_months(today, dispatch_rules.MAX_WAIT_MONTHS)
        with st.form("wait_one"):
            left, middle, right = st.columns(3)
            waiting_id = left.text_input("学号", max_chars=20, key="wt_student")
            kind = middle.selectbox(
                "方式", [*dispatch_rules.WAITS, "released"], format_func=lambda k: WAIT_CHOICES[k], key="wt_kind"
            )
            until = right.date_input(
                "截止日期", value=None, min_value=today, max_value=latest, format="YYYY-MM-DD", key="wt_until"
            )
            wait_reason = st.text_input("原因（取消暂缓时不填）", max_chars=200, key="wt_reason")
            waited = st.form_submit_button("设置", type="primary")
        st.caption(f"最长两年（截止日期最晚 {latest:%Y-%m-%d}）。暂缓的档案不会编入转递批次，已在批次中的会移出。")
        if waited:
            act(
                lambda: dispatch.set_wait(
                    data.store(),
                    actor,
                    waiting_id.strip(),
                    kind,
                    wait_reason,
                    until if isinstance(until, date) else None,
                ),
                lambda _: [
                    ("success", f"已{WAIT_CHOICES[kind]}。" if kind == "released" else f"已设置{WAIT_CHOICES[kind]}。")
                ],
                "return",
            )

        waiting = attention.filter(pl.col("is_waiting"))
        if waiting.height:
            st.markdown(f"**暂缓中（{waiting.height:,} 份）**")
            display.dataframe(
                display.headed(
                    waiting,
                    "student_id",
                    "name",
                    "college_name",
                    status_label("wait_kind"),
                    "wait_reason",
                    "wait_until",
                ),
                hide_index=True,
                width="stretch",
            )
