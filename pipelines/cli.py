"""The `dangan` command: the same jobs as the dashboard, from a shell.

Exit codes: 0 success, 1 refused (bad input, busy store; the message says why), 2 usage.
"""

from __future__ import annotations

import argparse
import contextvars
import csv
import io
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipelines import accounts, activation, campaigns, exports, reports, reviews, selfservice, statistics
from pipelines import store as store_module
from pipelines.rules import dispatch as dispatch_rules
from pipelines.rules import filters, roles, transfer_types, verification, workflow
from pipelines.store import SYSTEM, Actor, Reader, Store, StoreError, channel, config

STATS_KEYS = list(workflow.COUNT_LABELS)
STATS_LABELS = list(workflow.COUNT_LABELS.values())
BY_LABELS = {
    "college": "学院",
    "major": "专业",
    "class": "班级",
    "transfer_type": "转递类型",
    "origin_province": "生源省份",
    "school": "全校",
}


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Progress:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < (0.2 if self.tty else 5):
            return
        self.last = now
        width = 30
        filled = int(width * done / total) if total else width
        line = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if self.tty:
            print("\r" + line, end="\n" if done >= total else "", file=sys.stderr, flush=True)
        else:
            _err(line)


def _cohort(args: argparse.Namespace, reader: Reader) -> int | None:
    """The cohort a command works on: `--cohort`, or the latest with a campaign (None: none yet)."""
    return getattr(args, "cohort", None) or (reader.one("latest_cohort") or {}).get("cohort")


def _store(args: argparse.Namespace) -> Store:
    return Store(args.db, today=args.today, on_wait=_err)


def cmd_campaign(args: argparse.Namespace) -> int:
    """Create a campaign, or change the options given of a saved one (the rest stay)."""
    store = _store(args)
    actor = _actor(args, store)
    saved = campaigns.campaign_of(store, actor, args.cohort)
    if saved is None and not args.school:
        raise ValueError(f"{args.cohort} 届还没有登记工作：新建时须用 --school 指定学校名称")
    base = saved or campaigns.default_campaign(args.cohort, args.school)

    def day(value: str | None, flag: str, default: Any) -> Any:
        return config.parse_day(value, flag) if value else default

    campaign = campaigns.Campaign(
        cohort=args.cohort,
        school_name=args.school or base.school_name,
        registration_deadline=day(args.deadline, "--deadline", base.registration_deadline),
        default_graduation_date=day(args.graduation_date, "--graduation-date", base.default_graduation_date),
        notice_number=args.notice if args.notice is not None else base.notice_number,
        notice_title=args.title if args.title is not None else base.notice_title,
        opens_on=day(args.opens, "--opens", base.opens_on),
        change_deadline=day(args.change_deadline, "--change-deadline", base.change_deadline),
        school_code=args.school_code if args.school_code is not None else base.school_code,
        dispatch_rule=args.dispatch_rule or base.dispatch_rule,
        school_province=args.school_province if args.school_province is not None else base.school_province,
        bag_requires_report=base.bag_requires_report if args.report_in_bag is None else args.report_in_bag == "yes",
        bag_items=tuple(i for i in args.bag_items.split("、") if i.strip())
        if args.bag_items is not None
        else base.bag_items,
    )
    campaigns.save_campaign(store, actor, campaign)
    print(
        f"已{'修改' if saved else '新建'} {campaign.cohort} 届登记工作：截止 {campaign.registration_deadline}，"
        f"通知 {campaign.notice_number or '（未填）'}，院校代码 {campaign.school_code or '（未填，不能生成核验编号）'}"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines import demo

    store = _store(args)
    dispatching = args.phase == "dispatch"
    default = demo.DISPATCH_AS_OF if dispatching else demo.DEFAULT_AS_OF
    as_of = config.parse_day(args.today, "--today") if args.today else default
    started = time.perf_counter()
    counts = demo.build_demo(
        store, graduates=args.graduates, seed=args.seed, as_of=as_of, progress=Progress("生成演示数据")
    )
    if dispatching:
        counts |= {f"dispatch:{k}": v for k, v in demo.add_dispatch(store, as_of, args.seed).items()}
    took = time.perf_counter() - started
    print(f"演示库已生成：{store.path}（{took:.1f} 秒）")
    for table, count in counts.items():
        print(f"  {table}: {count}")
    with store.reading(SYSTEM) as reader:
        graduates = reader.rows("demo_graduate_accounts")
    print(f"演示账号（密码都是 {demo.DEMO_PASSWORD}）：admin、school、dean、analyst；毕业生（用户名为学号）：")
    for row in graduates:
        print(f"  {row['username']}  {row['name']}  {row['college_name']}  {workflow.STAGES[row['stage']]}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from pipelines import imports, sheets

    sheets.warm()  # the reading process starts while the store is opened
    store = _store(args)
    bars: dict[str, Progress] = {}

    def stage(name: str, done: int, total: int) -> None:
        if done == 0 and name not in bars:
            _err(f"{name} ……")
        if total > 1:
            bars.setdefault(name, Progress(name))(done, total)

    try:
        result = imports.import_file(
            store,
            _actor(args, store),
            args.kind,
            args.file,
            skip_invalid=args.skip_invalid,
            cohort=args.cohort,
            refused_path=args.refused_out,
            progress=stage,
            dry_run=args.dry_run,
        )
    except imports.ImportRefused as exc:
        if exc.result is not None:
            for line in exc.result.column_lines():
                _err(line)
        raise
    print(result.summary())
    for line in result.column_lines():
        print(line)
    for warning in result.warnings:
        print(f"提示：{warning}")
    if args.dry_run and result.errors:
        print(f"将被拒绝的行（前 {min(len(result.errors), 20)} 处，共 {len(result.errors)} 处）：")
        for error in result.errors[:20]:
            print(f"  {error}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    store = _store(args)
    with store.reading(_actor(args, store)) as reader:
        cohort = _cohort(args, reader)
        if cohort is None:
            raise StoreError("库中还没有任何届别的登记工作；请先运行 dangan demo 或 dangan campaign set")
        rows = reader.rows("stats_by", by=args.by, cohort=cohort, **filters.NONE.params())
    records = [{"key": r["key"], **{k: int(r[k]) for k in STATS_KEYS}} for r in rows]
    if args.format == "json":
        print(json.dumps(records, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["key", *STATS_KEYS], lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        print(out.getvalue(), end="")
    else:
        print(_table([BY_LABELS[args.by], *STATS_LABELS], [[r["key"], *(r[k] for k in STATS_KEYS)] for r in records]))
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    store = _store(args)
    actor = _actor(args, store)
    if args.reviewer and actor == SYSTEM:
        actor = Actor(args.reviewer, SYSTEM.role)
    if args.action == "export":
        return _review_export(store, actor, args)
    if not args.student or not args.level:
        raise ValueError("审核须指定 --student 和 --level")
    if args.action == "return" and not (args.reason or "").strip():
        raise ValueError("退回须用 --reason 说明原因，毕业生会看到它")
    decision = workflow.Decision(args.level, args.action, args.reason or "")
    outcome = reviews.decide_current(store, actor, args.student, decision)
    print(
        f"{outcome.name}（{outcome.student_id}）{workflow.LEVELS[args.level]}"
        f"{workflow.DECISIONS[decision.decision]}，当前状态：{workflow.STATUS_LABELS[outcome.status]}"
    )
    return 0


def _review_export(store: Store, actor: Actor, args: argparse.Namespace) -> int:
    if not args.out:
        raise ValueError("导出须用 --out 指定文件（.csv 或 .xlsx）")
    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise ValueError(f"不支持的导出格式：{out.suffix or '（无扩展名）'}，请用 .csv 或 .xlsx")
    chosen = filters.Filters(college=args.college, class_name=args.class_name, stage=args.status)
    with store.reading(actor) as reader:
        cohort = _cohort(args, reader)
    data, rows = exports.review_results_file(
        store, actor, cohort, chosen, out.suffix.lower()[1:], out.name, unmasked=args.unmasked
    )
    out.write_bytes(data)
    print(
        f"已导出 {rows} 条审核结果到 {out}（与档案登记导入文件同样的列"
        + (
            "，未脱敏，可回传全国系统）"
            if args.unmasked
            else "；联系电话和详细地址已脱敏，回传全国系统请加 --unmasked）"
        )
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines import report_pdf  # fpdf and the font only for the commands that print

    store = _store(args)
    actor = _actor(args, store)
    valid_until = config.parse_day(args.valid_until, "--valid-until") if args.valid_until else None
    out = Path(args.out)
    if args.action == "issue":
        if not args.student:
            raise ValueError("report issue 须用 --student 指定学号")
        if out.suffix.lower() != ".pdf":
            raise ValueError("report issue 的 --out 须是 .pdf 文件")
        issued = reports.issue(store, actor, args.student, args.kind, valid_until)
        documents = reports.documents(store, actor, [issued.report_id])
        out.write_bytes(report_pdf.render(documents))
        state = "新生成" if issued.is_new else "已有、仍然有效的"
        until = f"{issued.valid_until:%Y-%m-%d}" if issued.valid_until else "未设置（未确认）"
        print(
            f"{state}{verification.KIND_LABELS[args.kind]}报告：核验编号 {issued.report_number}，有效期至 {until}；已写入 {out}"
        )
        return 0
    if bool(args.college) == bool(args.class_name):
        raise ValueError("report batch 须用 --college 或 --class 之一指定范围")
    if out.suffix.lower() not in (".pdf", ".zip"):
        raise ValueError("report batch 的 --out 须是 .pdf（合并打印）或 .zip（每人一个 PDF）")
    chosen = filters.Filters(college=args.college, class_name=args.class_name)
    with store.reading(actor) as reader:
        cohort = _cohort(args, reader)
        people = reader.query("report_candidates", cohort=cohort, kind=args.kind, **chosen.params())
    if people.height == 0:
        raise ValueError(f"{args.college or args.class_name} 没有毕业生")
    done, refused = reports.issue_many(
        store, actor, people["student_id"].to_list(), args.kind, valid_until, Progress("生成核验报告")
    )
    if not done:
        raise ValueError(f"没有可生成报告的毕业生（{len(refused)} 人未确认登记去向或不符合条件）")
    documents = reports.documents(store, actor, [r.report_id for r in done])
    bar = Progress("生成 PDF")
    data = (
        report_pdf.render(documents, lambda i: bar(i, len(documents)))
        if out.suffix.lower() == ".pdf"
        else report_pdf.render_zip(documents, lambda i: bar(i, len(documents)))
    )
    out.write_bytes(data)
    new = sum(r.is_new for r in done)
    print(f"{len(done)} 份报告（新生成 {new}，已有 {len(done) - new}）已写入 {out}；{len(refused)} 人未生成：")
    for student_id, why in refused[:20]:
        print(f"  {student_id}：{why}")
    if len(refused) > 20:
        print(f"  ……另有 {len(refused) - 20} 人")
    return 0


def cmd_dispatch(args: argparse.Namespace) -> int:
    """档案转递: bags, batches, the printed papers, waybills, receipts, returns, waits, status."""
    from pipelines import dispatch

    store = _store(args)
    actor = _actor(args, store)
    with store.reading(actor) as reader:
        cohort = _cohort(args, reader)
    if cohort is None:
        raise ValueError("库中还没有登记工作，请先 dangan campaign set")
    action = args.action
    if action == "bag":
        done = dispatch.mark_bags(store, actor, _student_ids(args), complete=not args.incomplete)
        print(
            f"{len(done.done)} 份档案袋已标记为{'未齐' if args.incomplete else '已齐'}；{len(done.refused)} 份未标记："
        )
        for sid, why in done.refused[:20]:
            print(f"  {sid}：{why}")
        return 0 if done.done or not done.refused else 1
    if action == "batch":
        made = dispatch.build_batch(
            store, actor, cohort, college=args.college, class_name=args.class_name, channel=args.channel
        )
        for sid, name in made.taken_out:
            print(f"注意：{name}（{sid}）{dispatch.STALE}")
        if made.batch_no is None:
            print("没有可编入批次的档案：" + "，".join(f"{why} {n} 人" for why, n in made.not_ready.items()))
            return 1
        counts = "，".join(f"{dispatch_rules.CHANNELS[c]} {n} 件" for c, n in sorted(made.by_channel.items()))
        print(f"第 {made.batch_no} 批：{made.added} 份档案（{counts}）")
        return 0
    if action in ("slips", "labels", "list"):
        if not args.batch or not args.out:
            raise ValueError(f"dispatch {action} 须用 --batch 指定批次、--out 指定 PDF 文件")
        data, rows = dispatch.papers(store, actor, cohort, int(args.batch), action, Path(args.out).name)
        Path(args.out).write_bytes(data)
        print(f"第 {args.batch} 批 {rows} 份档案的{dispatch.PAPERS[action]}已写入 {args.out}")
        return 0
    if action in ("waybills", "receipts"):
        if args.file:
            entries = dispatch.read_entries(Path(args.file), receipts=action == "receipts")
            source = Path(args.file).name
        else:
            if not (args.student and (args.waybill or args.unit)):
                raise ValueError(f"dispatch {action} 须用 --file 指定文件，或用 --student 和 --waybill/--unit 登记一份")
            day = config.parse_day(args.date, "--date") if args.date else None
            entries = [dispatch.Entry("命令行", args.student, args.waybill or "", day, args.unit or "")]
            source = "命令行"
        if action == "waybills":
            done = dispatch.record_waybills(store, actor, entries, source=source)
            print(f"{len(done.done)} 份档案已登记运单号（{len(done.refused)} 份未变）")
        else:
            done = dispatch.import_receipts(store, actor, entries, source=source)
            print(f"{len(done.done)} 份档案已登记签收")
        return 0
    if action == "return":
        if not args.student or not args.reason:
            raise ValueError(
                "dispatch return 须用 --student 指定学号、--reason 指定退档原因（"
                + "、".join(f"{k} {r.label}" for k, r in dispatch_rules.RETURN_REASONS.items())
                + "）"
            )
        reason = dispatch.record_return(store, actor, args.student, args.reason, args.note or "")
        print(f"已登记退档：{reason}。毕业生的档案登记已重新打开，须重新登记并审核。")
        return 0
    if action in ("hold", "keep", "release"):
        kind = {"hold": dispatch_rules.HELD, "keep": dispatch_rules.KEPT, "release": "released"}[action]
        if not args.student:
            raise ValueError(f"dispatch {action} 须用 --student 指定学号")
        until = config.parse_day(args.until, "--until") if args.until else None
        dispatch.set_wait(store, actor, args.student, kind, args.note or "", until)
        print(f"{args.student}：" + ("已取消暂缓" if kind == "released" else f"{dispatch_rules.WAITS[kind]}至 {until}"))
        return 0
    with store.reading(actor) as reader:  # status
        progress = reader.query("dispatch_progress", cohort=cohort)
    if progress.height == 0:
        print("还没有可转递的档案（登记须通过审核并确认）")
        return 0
    wide = progress.pivot(on="dispatch_status", index="college_name", values="archives").fill_null(0)
    statuses = [s for s in dispatch_rules.STATUSES if s in wide.columns]
    print("学院\t" + "\t".join(dispatch_rules.STATUSES[s] for s in statuses))
    for row in wide.iter_rows(named=True):
        print(f"{row['college_name']}\t" + "\t".join(str(row[s]) for s in statuses))
    return 0


def _student_ids(args: argparse.Namespace) -> list[str]:
    """学号 from --student (comma-separated) or --file (one a line)."""
    if args.file:
        lines = Path(args.file).read_text(encoding="utf-8-sig").splitlines()
        return [line.strip().split(",")[0] for line in lines if line.strip() and line.strip() != "学号"]
    if not args.student:
        raise ValueError("须用 --student 指定学号（可用逗号分隔多个），或用 --file 指定每行一个学号的文件")
    return [s for s in args.student.split(",") if s.strip()]


def cmd_snapshot(args: argparse.Namespace) -> int:
    store = _store(args)
    day, rows = statistics.take_snapshot(store, _actor(args, store))
    print(f"{day:%Y-%m-%d} 的快照" + (f"已保存（{rows} 行）" if rows else "今天已经保存过，未做改动"))
    return 0


EXPORT_FORMATS = {
    "stats": ("csv", "xlsx", "parquet"),
    "registrations": ("csv", "xlsx", "parquet"),
    "chase-list": ("csv", "xlsx", "parquet"),
    "weekly": ("xlsx",),
    "brief": ("pdf",),
}


def cmd_export(args: argparse.Namespace) -> int:
    store = _store(args)
    actor = _actor(args, store)
    out = Path(args.out)
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS[args.what]:
        raise ValueError(
            f"export {args.what} 的格式须是 {'、'.join(EXPORT_FORMATS[args.what])}"
            f"（用 --format 指定，或用相应扩展名的 --out），而不是“{fmt or '（无）'}”"
        )
    chosen = filters.Filters(college=args.college, class_name=args.class_name, stage=args.stage)
    with store.reading(actor) as reader:
        cohort = _cohort(args, reader)
        campaign = reader.one("campaign", cohort=cohort) if cohort else None
    if cohort is None or campaign is None:
        raise StoreError("库中还没有任何届别的登记工作；请先运行 dangan demo 或 dangan campaign set")
    if args.what == "stats":
        data, rows = exports.stats_file(store, actor, cohort, chosen, fmt, out.name)
    elif args.what == "registrations":
        data, rows = exports.registrations_file(store, actor, cohort, chosen, fmt, out.name)
    elif args.what == "chase-list":
        data, rows = exports.chase_list_file(
            store, actor, cohort, chosen, None, campaign["registration_deadline"], out.name, fmt
        )
    elif args.what == "weekly":
        data, rows = exports.weekly_workbook(store, actor, cohort, out.name)
    else:
        from pipelines import brief_pdf

        data, rows = brief_pdf.brief_file(store, actor, cohort, out.name)
    out.write_bytes(data)
    print(f"已导出 {out}（{rows:,} 行，{len(data) / 1024:,.0f} KB；已记入审计日志）")
    return 0


def cmd_graduate(args: argparse.Namespace) -> int:
    """The graduate's modules from a shell: the office acting for a graduate (or a graduate with
    `--as 学号`). The same domain functions as the dashboard's pages."""
    store = _store(args)
    actor = _actor(args, store)
    student = args.student or actor.student_id
    if not student:
        raise ValueError("须用 --student 指定学号")
    if args.action == "status":
        with store.reading(actor) as reader:
            found = reader.one("graduate_detail", student_id=student)
            if found is None:
                raise ValueError(f"学号 {student} 不在名单中，或不在你的范围内")
            step = selfservice.status(
                found,
                reader.one("campaign", cohort=found["cohort"]) or {},
                reader.today,
                reader.rows("confirmations_of", student_id=student),
                reader.rows("reports_of", student_id=student),
            )
        print(f"{found['name']}（{student}）：{step.headline}")
        if step.return_reason:
            print(f"退回原因：{step.return_reason}")
        print(f"下一步：{step.next_step}")
        print(step.deadline_note)
        return 0
    if args.action == "destination":
        if not args.code:
            raise ValueError("须用 --code 指定毕业去向代码（如 10、80、701）")
        saved = selfservice.record_destination(
            store, actor, student, args.code, args.unit or "", args.location or "", voiding_ok=args.void_confirmation
        )
    elif args.action == "hukou":
        saved = selfservice.record_hukou(
            store,
            actor,
            student,
            args.type or "",
            args.province or "",
            args.city or "",
            args.district or "",
            args.address or "",
            voiding_ok=args.void_confirmation,
        )
    else:
        reports.confirm(store, actor, student, args.answer)
        print(f"已记录：{reports.ANSWERS[args.answer]}")
        return 0
    print("已保存" if saved is not None else "与当前登记相同，未做改动")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    store = _store(args)
    from pipelines import lookups

    answer = lookups.look_up(store, args.name, args.number, f"cli:{config.env('USER', '') or ''}")
    if answer.verdict is None:
        print(f"查询过于频繁，请 {answer.wait_minutes} 分钟后再试")
        return 1
    verdict = answer.verdict
    if not verdict.found:
        print("未找到：姓名、核验编号或转递编号不正确")
        return 1
    if verdict.kind == reports.TRANSFER_KIND:
        print(f"档案转递（转递编号）：{verdict.label}；档案转递单位：{verdict.unit_name or '—'}")
        return 0 if verdict.valid else 1
    until = f"{verdict.valid_until:%Y-%m-%d} 23:59:59" if verdict.valid_until else "未设置"
    print(
        f"{verification.KIND_LABELS.get(verdict.kind or '', '')}：{verdict.label}；档案转递单位：{verdict.unit_name or '—'}；"
        f"有效期至：{until}"
    )
    return 0 if verdict.valid else 1


def _actor(args: argparse.Namespace, store: Store) -> Actor:
    """Who a command acts as: the system (whoever runs the command on the server may open the
    store file anyway), or with `--as USER` that account, logged in with its password
    (DANGAN_PASSWORD or a prompt) and bound by its role and colleges like on the dashboard."""
    name = getattr(args, "as_user", None)
    if not name:
        return SYSTEM
    password = config.env(config.ENV_PASSWORD) or _ask(f"{name} 的密码：")
    user = accounts.login(store, name, password, client="cli")
    if user.must_change_password:
        raise ValueError(f"账号 {name} 须先在看板登录并修改初始密码")
    return user.actor


def _password(args: argparse.Namespace, prompt: str) -> str:
    """A password from standard input (--password-stdin, for scripts) or typed at a prompt;
    never from the command line, where other users could read it in the process list."""
    if args.password_stdin:
        return _ask("", stdin=True)
    first = _ask(f"{prompt}：")
    if _ask("再输入一次：") != first:
        raise ValueError("两次输入的密码不一致")
    return first


NO_GRADUATE_PASSWORDS = (
    "毕业生账号不设统一或由就业处指定的初始密码（任何知道学号和这个密码的人都能抢先登录）："
    "请用 dangan user add-graduates --out 激活码.pdf 生成每人一个的一次性激活码，交班主任分发"
)


def cmd_user(args: argparse.Namespace) -> int:
    if args.passwords or (args.action == "add-graduates" and args.password_stdin):
        raise ValueError(NO_GRADUATE_PASSWORDS)
    store = _store(args)
    actor = _actor(args, store)
    if args.action == "list":
        rows = accounts.list_users(store, actor)
        print(
            _table(
                ["用户名", "姓名", "角色", "学院", "须改密码", "锁定至"],
                [
                    [
                        r["username"],
                        r["display_name"],
                        roles.ROLES.get(r["role"], r["role"]),
                        "、".join(r["colleges"] or []),
                        "是" if r["must_change_password"] else "",
                        f"{r['locked_until']:%Y-%m-%d %H:%M}" if r["locked_until"] else "",
                    ]
                    for r in rows
                ],
            )
        )
        return 0
    if args.action == "add-graduates":
        return _graduate_codes(store, actor, args)
    if not args.username:
        raise ValueError("须用 --username 指定用户名")
    if args.action == "add":
        if not args.role:
            raise ValueError("须用 --role 指定角色：" + "、".join(f"{k}（{v}）" for k, v in roles.ROLES.items()))
        if args.role == "graduate":
            if args.password_stdin:
                raise ValueError(NO_GRADUATE_PASSWORDS)
            issued = activation.issue_codes(store, actor, student_id=args.student or args.username)
            if not issued:
                raise ValueError(f"学号 {args.student or args.username} 已有激活过的账号，或不在名单中")
            print(
                f"已开通毕业生账号 {issued[0].student_id}；激活码 {activation.shown(issued[0].code)}"
                f"（{issued[0].expires_at:%Y-%m-%d} 前有效，只能用一次，请交本人）"
            )
            return 0
        user = accounts.add_user(
            store,
            actor,
            args.username,
            args.role,
            _password(args, "初始密码"),
            display_name=args.display_name,
            colleges=args.college,
            student_id=args.student,
            must_change_password=not args.no_change_required,
        )
        scope = f"，学院：{'、'.join(user.colleges)}" if user.colleges else ""
        print(
            f"已添加 {roles.ROLES[user.role]} {user.username}{scope}"
            + ("；首次登录须修改密码" if user.must_change_password else "")
        )
        return 0
    if args.action == "update":
        disabled = True if args.disable else False if args.enable else None
        user = accounts.update_user(
            store,
            actor,
            args.username,
            role=args.role,
            colleges=args.college,
            display_name=args.display_name,
            disabled=disabled,
            oidc_subject=args.oidc_subject,
        )
        scope = f"，学院：{'、'.join(user.colleges)}" if user.colleges else ""
        print(f"已修改 {user.username}：{roles.ROLES[user.role]}{scope}" + ("（已停用）" if disabled else ""))
        return 0
    with store.reading(actor) as reader:
        found = reader.one("user_by_name", username=args.username)
    if found is not None and found["role"] == "graduate":
        code = activation.reissue(store, actor, args.username)
        print(
            f"已为毕业生 {args.username} 生成新的激活码 {activation.shown(code.code)}（{code.expires_at:%Y-%m-%d} 前有效，"
            "原密码和旧激活码已失效），请交本人"
        )
        return 0
    accounts.reset_password(store, actor, args.username, _password(args, "新密码"))
    print(f"已重置 {args.username} 的密码（并解除锁定）；下次登录须修改密码")
    return 0


def _graduate_codes(store: Store, actor: Actor, args: argparse.Namespace) -> int:
    """`user add-graduates`: accounts for the scope's graduates, one-time codes on a sheet per class."""
    if not args.out:
        raise ValueError("须用 --out 指定激活码单：.pdf（每班一页，交班主任分发）或 .xlsx")
    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "xlsx"):
        raise ValueError(f"--out 须是 .pdf 或 .xlsx，而不是“{out.suffix or '（无扩展名）'}”")
    issued = activation.issue_codes(
        store,
        actor,
        cohort=args.cohort,
        college=args.college[0] if args.college else None,
        class_name=args.class_name,
        oidc=args.oidc,
    )
    if not issued:
        print("范围内的毕业生都已激活账号，未生成激活码")
        return 0
    data, _rows = activation.codes_file(store, actor, issued, fmt, out.name)
    out.write_bytes(data)
    print(f"{activation.summary(issued)}；已写入 {out}（已记入审计日志）。文件含激活码，分发后请删除")
    return 0


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(
            (c + " " * (w - _width(c))) if i == 0 else (" " * (w - _width(c)) + c)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


# Secure defaults, the same as .streamlit/config.toml: no tracebacks in front of users, XSRF
# protection on, uploads capped at the import files' 200 MB (each uploader sets its own lower cap:
# proof images 10 MB, password files 20 MB), no usage statistics sent.
SERVER_SETTINGS = {
    "client.showErrorDetails": "none",
    "client.toolbarMode": "minimal",
    "server.enableXsrfProtection": "true",
    "server.enableCORS": "true",
    "server.maxUploadSize": "200",
    "server.fileWatcherType": "none",
    "runner.postScriptGC": "false",
    "browser.gatherUsageStats": "false",
}


def _env_name(key: str) -> str:
    """streamlit's environment variable for a config option: client.showErrorDetails →
    STREAMLIT_CLIENT_SHOW_ERROR_DETAILS."""
    section, name = key.split(".")
    snake = "".join(f"_{c}" if c.isupper() else c.upper() for c in name)
    return f"STREAMLIT_{section.upper()}_{snake}"


# It also imports, before it listens, every library a page uses (dashboard/preload.py): a library
# first imported by one session's run is half-initialised for another's.
_SERVER_MAIN = (
    "import faulthandler, signal, sys; faulthandler.register(signal.SIGUSR1, all_threads=True); "
    "from dashboard.preload import preload; preload(); "
    "sys.argv[0] = 'streamlit'; from streamlit.web.cli import main; main()"
)


def cmd_serve(args: argparse.Namespace) -> int:
    app = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    env = dict(os.environ, DANGAN_DB=str(config.db_path(args.db).resolve()))
    if args.today:
        env["DANGAN_TODAY"] = args.today
    # `kill -USR1 <pid>` writes every thread's stack to the server's output: what a stuck
    # server is waiting for (the browser tests do it when one fails).
    command = [
        sys.executable,
        "-c",
        _SERVER_MAIN,
        "run",
        str(app),
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
    ]
    for key, value in SERVER_SETTINGS.items():
        if _env_name(key) not in os.environ:  # an explicit STREAMLIT_* variable wins (the tests show details)
            command += [f"--{key}", value]
    print(f"看板地址：http://localhost:{args.port}", flush=True)
    # Become the server rather than start a child, so that stopping `dangan serve` stops it.
    os.execve(sys.executable, command, env)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", default=argparse.SUPPRESS, help=f"数据库文件（环境变量 {config.ENV_DB}，默认 {config.DEFAULT_DB}）"
    )
    common.add_argument(
        "--today", default=argparse.SUPPRESS, help=f"把哪一天当作今天，YYYY-MM-DD（环境变量 {config.ENV_TODAY}）"
    )
    common.add_argument(
        "--as",
        dest="as_user",
        default=argparse.SUPPRESS,
        metavar="USER",
        help=f"以该账号的角色和学院范围操作（密码取自环境变量 {config.ENV_PASSWORD} 或提示输入；不给则以系统身份）",
    )

    parser = argparse.ArgumentParser(
        prog="dangan", description="毕业生档案信息登记：导入、统计与看板", parents=[common]
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    p = sub.add_parser("campaign", parents=[common], help="设置一届的登记工作（届别、截止日期、通知文号）")
    p.add_argument("action", choices=["set"])
    p.add_argument("--cohort", type=int, required=True, help="届别，如 2024")
    p.add_argument("--school", help="学校名称（新建时必填）")
    p.add_argument("--deadline", help="登记截止日期（默认 6 月 17 日）")
    p.add_argument("--graduation-date", help="默认毕业时间（默认 6 月 30 日）")
    p.add_argument("--notice", help="通知文号，如 江服就发〔2024〕27号")
    p.add_argument("--title", help="通知标题")
    p.add_argument("--opens", help="开始日期")
    p.add_argument("--change-deadline", help="确认后信息变更截止日期（默认 8 月 31 日）")
    p.add_argument("--school-code", help="院校代码（5 位，教育部院校代码）：核验编号的第 3-7 位")
    p.add_argument(
        "--dispatch-rule",
        choices=["ems_in_province", "jiyao", "ems"],
        help="寄送方式：省内 EMS 省外机要、全部机要、全部 EMS",
    )
    p.add_argument("--school-province", help="学校所在省份（省内 EMS 规则用），如 江西省")
    p.add_argument("--report-in-bag", choices=["yes", "no"], help="档案袋是否须装入核验报告（默认 yes）")
    p.add_argument("--bag-items", help="档案袋其他材料，用顿号分隔，如 毕业生登记表、学籍表、成绩单")
    p.set_defaults(func=cmd_campaign)

    p = sub.add_parser("demo", parents=[common], help="生成演示库（江西服装学院 2024 届）")
    p.add_argument("--graduates", type=int, default=5000, help="毕业生人数（默认 5000）")
    p.add_argument("--seed", type=int, default=2024, help="随机种子，相同种子生成相同数据")
    p.add_argument(
        "--phase",
        choices=["registration", "dispatch"],
        default="registration",
        help="registration：登记阶段（默认，截止前一周）；dispatch：转递阶段（截止后四周：装袋、批次、寄出、签收、退档、暂缓）",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", parents=[common], help="导入名单、去向或档案登记（xlsx/csv）")
    p.add_argument("kind", choices=["roster", "destinations", "registrations"])
    p.add_argument("file")
    p.add_argument("--skip-invalid", action="store_true", help="只导入有效行，被拒绝的行写入文件")
    p.add_argument("--refused-out", help="被拒绝的行写到哪里（默认 <文件名>.refused.csv）")
    p.add_argument("--cohort", type=int, help="届别（默认最新一届）")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="只预览：列的对应、将新增/更新/未变/拒绝的行数和前几处拒绝原因，不写入任何数据",
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("stats", parents=[common], help="各环节人数")
    p.add_argument("--by", choices=list(BY_LABELS), default="college")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--cohort", type=int, help="届别（默认最新一届）")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("review", parents=[common], help="审核登记（学院/学校两级），或导出审核结果")
    p.add_argument("action", choices=["approve", "return", "export"])
    p.add_argument("--student", help="学号：审核该生当前版本的登记")
    p.add_argument("--level", choices=["college", "school"], help="审核级别：college 学院，school 学校")
    p.add_argument("--reason", help="退回原因（退回时必填，毕业生会看到）")
    p.add_argument("--reviewer", help="记入审核记录的审核人姓名（默认 system）")
    p.add_argument("--out", help="export：输出文件 .csv 或 .xlsx")
    p.add_argument("--college", help="export：只导出该学院")
    p.add_argument("--class", dest="class_name", help="export：只导出该班级")
    p.add_argument("--status", choices=list(workflow.STAGES), help="export：只导出该环节")
    p.add_argument("--unmasked", action="store_true", help="export：联系电话和详细地址不脱敏（记入审计日志）")
    p.add_argument("--cohort", type=int, help="届别（默认最新一届）")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("report", parents=[common], help="生成核验报告 PDF（单人或按学院/班级批量）")
    p.add_argument("action", choices=["issue", "batch"])
    p.add_argument("--student", help="issue：学号")
    p.add_argument("--college", help="batch：学院")
    p.add_argument("--class", dest="class_name", help="batch：班级")
    p.add_argument(
        "--kind",
        choices=list(reports.KINDS),
        default="archive",
        help="archive 档案信息核验（默认），hukou 户口信息核验",
    )
    p.add_argument("--valid-until", help="有效期至 YYYY-MM-DD（不晚于毕业时间加六个月）；不给则报告为“未确认”")
    p.add_argument(
        "--out", required=True, help="issue：FILE.pdf；batch：FILE.pdf（合并，按班级、班主任排序）或 FILE.zip"
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "dispatch", parents=[common], help="档案转递：装袋、编批次、打印、运单号、签收、退档、暂缓、进度"
    )
    p.add_argument(
        "action",
        choices=[
            "bag",
            "batch",
            "slips",
            "labels",
            "list",
            "waybills",
            "receipts",
            "return",
            "hold",
            "keep",
            "release",
            "status",
        ],
    )
    p.add_argument("--student", help="学号（bag 可用逗号分隔多个）；waybills/receipts：学号或转递编号")
    p.add_argument("--file", help="bag：每行一个学号；waybills/receipts：邮局或接收单位的 csv/xlsx 文件")
    p.add_argument("--incomplete", action="store_true", help="bag：标记为未齐")
    p.add_argument("--college", help="batch：只编该学院")
    p.add_argument("--class", dest="class_name", help="batch：只编该班级")
    p.add_argument("--channel", choices=["jiyao", "ems"], help="batch：只编该寄送方式（jiyao 机要，ems EMS）")
    p.add_argument("--batch", help="slips/labels/list：批次号")
    p.add_argument("--out", help="slips/labels/list：输出 PDF 文件")
    p.add_argument("--waybill", help="waybills：运单号")
    p.add_argument("--date", help="waybills：寄出日期（默认今天）")
    p.add_argument("--unit", help="receipts：接收单位名称")
    p.add_argument("--reason", help="return：退档原因代码")
    p.add_argument("--note", help="return/hold/keep：说明")
    p.add_argument("--until", help="hold/keep：截止日期（最长两年）")
    p.add_argument("--cohort", type=int, help="届别（默认最新一届）")
    p.set_defaults(func=cmd_dispatch)

    p = sub.add_parser(
        "snapshot", parents=[common], help="保存今天的各环节人数快照（每天运行一次；同一天再次运行不做改动）"
    )
    p.set_defaults(func=cmd_snapshot)

    p = sub.add_parser("export", parents=[common], help="导出统计、登记名单、催办名单、周报工作簿或进度简报 PDF")
    p.add_argument("what", choices=list(EXPORT_FORMATS))
    p.add_argument("--format", choices=["csv", "xlsx", "parquet", "pdf"], help="格式（默认按 --out 的扩展名）")
    p.add_argument("--out", required=True, help="输出文件")
    p.add_argument("--college", help="只导出该学院")
    p.add_argument("--class", dest="class_name", help="只导出该班级")
    p.add_argument("--stage", choices=list(workflow.STAGES), help="只导出该环节的毕业生")
    p.add_argument("--cohort", type=int, help="届别（默认最新一届）")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "graduate", parents=[common], help="毕业生的模块：查看状态与下一步，代为填报毕业去向、登记户口、确认登记去向"
    )
    p.add_argument("action", choices=["status", "destination", "hukou", "confirm"])
    p.add_argument("--student", help="学号（以毕业生账号 --as 学号 操作时可省略）")
    p.add_argument("--code", help="destination：毕业去向代码，如 10、80、701")
    p.add_argument("--unit", help="destination：单位或院校名称")
    p.add_argument("--location", help="destination：所在地（省市；出国出境填国家或地区）")
    p.add_argument("--type", choices=list(transfer_types.BY_KEY), help="hukou：户口迁移类型")
    p.add_argument("--province", help="hukou：省")
    p.add_argument("--city", help="hukou：市（直辖市填其本身，如 北京市）")
    p.add_argument("--district", help="hukou：区/县（该市不设区县时省略）")
    p.add_argument("--address", help="hukou：详细地址")
    p.add_argument(
        "--void-confirmation",
        action="store_true",
        help="destination/hukou：改动会使已做的去向登记确认（及其核验报告）失效时，仍然保存",
    )
    p.add_argument(
        "--answer",
        choices=list(reports.ANSWERS),
        default="confirmed",
        help="confirm：confirmed 信息无误，确认登记去向（默认）；needs_update 信息有误，需要更新后确认",
    )
    p.set_defaults(func=cmd_graduate)

    p = sub.add_parser("verify", parents=[common], help="核验查询：姓名 + 核验编号或转递编号，有效时退出码为 0")
    p.add_argument("--name", required=True, help="毕业生姓名")
    p.add_argument("--number", required=True, help="核验编号（15 位）或转递编号（如 18 位的 2510876CYLAXKAZFVR）")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("user", parents=[common], help="账号：添加、列出、修改、重置密码（首次使用先添加管理员）")
    p.add_argument("action", choices=["add", "add-graduates", "list", "update", "reset-password"])
    p.add_argument("--cohort", type=int, help="add-graduates：届别（默认全部）")
    p.add_argument("--username", help="用户名（工号，或毕业生学号）")
    p.add_argument("--role", choices=list(roles.ROLES), help="角色")
    p.add_argument("--college", action="append", help="学院审核员/院长的学院，可重复")
    p.add_argument("--display-name", help="姓名")
    p.add_argument("--student", help="毕业生账号对应的学号")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（脚本用），否则提示输入")
    p.add_argument("--passwords", metavar="FILE", help=argparse.SUPPRESS)  # removed (#15): refused with the reason
    p.add_argument("--class", dest="class_name", help="add-graduates：只为该班级生成激活码")
    p.add_argument("--out", help="add-graduates：激活码单 FILE.pdf（每班一页）或 FILE.xlsx")
    p.add_argument("--no-change-required", action="store_true", help="首次登录不要求修改密码")
    p.add_argument(
        "--oidc",
        action="store_true",
        help="add-graduates：新账号对应到以学号为标识的统一身份认证账号（学校统一身份认证以学号登录时）",
    )
    p.add_argument("--oidc-subject", help="update：对应的统一身份认证账号（空字符串解除对应）")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--disable", action="store_true", help="update：停用账号")
    state.add_argument("--enable", action="store_true", help="update：启用账号")
    p.set_defaults(func=cmd_user)

    p = sub.add_parser("serve", parents=[common], help="启动看板")
    p.add_argument("--port", type=int, default=int(os.environ.get("DANGAN_PORT", "8501")))
    p.set_defaults(func=cmd_serve)
    return parser


# Files this command writes (exports, unmasked ones included; refused rows; the PDFs) are
# readable by their owner and group only, and so is what the dashboard it starts writes.
UMASK = 0o027


def _typed(prompt: str, stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    return getpass.getpass(prompt)


# How a command asks for a secret: at this terminal, or (a command run inside the dashboard
# server) at the terminal of the `dangan` that handed it over.
_ASK: contextvars.ContextVar[Callable[[str, bool], str]] = contextvars.ContextVar("dangan_ask", default=_typed)


def _ask(prompt: str, *, stdin: bool = False) -> str:
    return _ASK.get()(prompt, stdin)


# The arguments that name files: made absolute before a command is handed to the server,
# whose working directory is not the caller's.
PATH_ARGUMENTS = ("file", "out", "refused_out")


def _dispatch(args: argparse.Namespace, *, yield_to_owner: bool = False) -> int:
    try:
        if args.today:
            config.parse_day(args.today, "--today")
        return int(args.func(args))
    except StoreError as exc:
        if yield_to_owner and isinstance(exc, store_module.OwnerAppeared):
            raise  # still waiting for the store, nothing written: main hands the command over
        _err(str(exc))
        return 1
    except ValueError as exc:
        _err(f"输入有误：{exc}")
        return 1
    except KeyboardInterrupt:
        _err("已中断；未完成的写入不会留下任何数据。")
        return 130
    except Exception as exc:  # never a traceback in front of a user
        if config.env("DANGAN_DEBUG"):
            traceback.print_exc()
        _err(f"内部错误：{type(exc).__name__}: {exc}（设置 DANGAN_DEBUG=1 可查看详细信息）")
        return 1


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    args.db = getattr(args, "db", None)
    args.today = getattr(args, "today", None)
    args.as_user = getattr(args, "as_user", None)
    return args


def run_here(argv: Sequence[str], ask: Callable[[str, bool], str]) -> int:
    """A command handed over by another `dangan` (pipelines/serving.py): run in this process,
    which owns the store; its paths are absolute already."""
    try:
        args = _parse(argv)
    except SystemExit as exc:  # a usage error: argparse has printed why
        return int(exc.code or 2)
    token = _ASK.set(ask)
    try:
        return _dispatch(args)
    finally:
        _ASK.reset(token)


def _hand_over(owner: channel.Owner, args: argparse.Namespace, argv: list[str]) -> int | None:
    """Run the command inside the dashboard server that owns the store, showing its output
    here; None if the server could not take it (then the command runs here)."""
    absolute = list(argv)
    for name in PATH_ARGUMENTS:
        value = getattr(args, name, None)
        if value and value in absolute:
            absolute[len(absolute) - 1 - absolute[::-1].index(value)] = str(Path(value).resolve())
    absolute = ["--db", str(config.db_path(args.db).resolve()), *absolute]
    try:
        with channel.connect(owner, {"op": "cli", "argv": absolute, "env": config.own_environment()}) as line:
            while (message := line.receive()) is not None:
                if "out" in message:
                    sys.stdout.write(message["out"])
                    sys.stdout.flush()
                elif "err" in message:
                    sys.stderr.write(message["err"])
                    sys.stderr.flush()
                elif "ask" in message:
                    line.send({"answer": _typed(str(message["ask"]), bool(message.get("stdin")))})
                elif "exit" in message:
                    return int(message["exit"])
                elif "error" in message:
                    _err(f"看板 {channel.owner_label(owner)} 拒绝了这条命令：{message['error']}")
                    return 1
    except channel.ChannelError:
        return None
    _err(
        f"看板 {channel.owner_label(owner)} 在执行这条命令时停止了。每次写入都是完整的事务："
        "数据库停在这条命令的某次写入之前或之后，不会有写了一半的数据。请查看看板后重新运行这条命令。"
    )
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(UMASK)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(argv)
    if args.func is cmd_serve:
        return _dispatch(args)
    db = config.db_path(args.db).resolve()
    for _attempt in range(3):
        owner = channel.read_owner(db)
        if owner is not None:
            handed = _hand_over(owner, args, argv)
            if handed is not None:
                return handed
        # No server runs: this command owns the store while it runs, and gives way (starting
        # again inside the server) if a dashboard takes the store over while it waits.
        try:
            with store_module.owning(db, f"命令 dangan {args.command}") as root:
                root.yield_to_owner = True
                return _dispatch(args, yield_to_owner=True)
        except store_module.OwnerAppeared as exc:
            _err(f"{exc}；这条命令改由看板执行……")
    return _dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
