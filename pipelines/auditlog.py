"""The audit log as people read it: a Chinese name for every action the program records
(ACTIONS: tests/test_display.py checks that every action written anywhere in pipelines/ has
one), for the roles, for every key of the details and for the coded values in them; and
`readable`, which turns audit_search rows into what the 审计日志 page shows.

The log itself keeps the program's keys and JSON (the CSV export and `dangan` read them); only
what people read is translated."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from pipelines import reports
from pipelines.columns import DESTINATIONS, REGISTRATIONS, ROSTER
from pipelines.rules import checks, codes, roles, transfer_types, verification, workflow

# What each export file is (the keys of roles.EXPORTS, and the names the exports record).
EXPORT_LABELS = {
    "chase_list": "催办名单",
    "review_results": "审核结果",
    "audit_log": "审计日志",
    "audit": "审计日志",
    "stats": "分组统计",
    "weekly": "进度周报工作簿",
    "brief": "进度简报",
    "registrations": "登记名单",
    "import_refusals": "导入拒绝原因",
    "activation_codes": "激活码",
    "report": "核验报告",
    "dispatch_papers": "档案转递单据",
    "dispatch_slips": "档案转递单",
    "dispatch_labels": "地址标签",
    "dispatch_list": "交寄清单",
}
IMPORT_LABELS = {"roster": ROSTER.label, "destinations": DESTINATIONS.label, "registrations": REGISTRATIONS.label}

ACTIONS: dict[str, str] = {
    "login": "登录",
    "user:add": "添加账号",
    "user:update": "修改账号",
    "user:list": "查看账号列表",
    "user:password": "修改密码",
    "user:reset_password": "重置密码",
    "user:issue_codes": "生成激活码",
    "user:activate": "激活账号",
    "reveal": "查看完整个人信息",
    "view:registration": "审核时查看登记",
    "audit:read": "查看审计日志",
    "snapshot": "保存每日快照",
    "stages:refresh": "刷新环节缓存",
    "campaign:set": "保存届别设置",
    "demo": "生成演示数据",
    "demo:stages": "演示数据：计算所处环节",
    "demo:snapshots": "演示数据：生成每日快照",
    "destination:record": "填报毕业去向",
    "registration:submit": "提交档案信息登记",
    "hukou:record": "登记户口信息",
    "confirmation:record": "去向登记确认",
    "report:close": "关闭核验报告",
    "verify:lookup": "核验查询",
    "dispatch:bag": "标记档案袋",
    "dispatch:batch": "编排转递批次",
    "dispatch:waybills": "登记运单号",
    "dispatch:receipts": "登记签收",
    "dispatch:return": "登记退档",
    "dispatch:held": "暂缓转递",
    "dispatch:kept": "留校保管",
    "dispatch:released": "取消暂缓",
    "dispatch:wait": "暂缓转递",
    "dispatch:learning": "查看检查与退档",
    **{
        f"review:{level}:{decision}": f"{level_label}审核{decision_label}"
        for level, level_label in workflow.LEVELS.items()
        for decision, decision_label in workflow.DECISIONS.items()
    },
    **{f"report:issue:{kind}": f"生成{label}报告" for kind, label in verification.KIND_LABELS.items()},
    **{f"import:{kind}": f"导入{label}" for kind, label in IMPORT_LABELS.items()},
    **{f"export:{key}": f"导出{label}" for key, label in EXPORT_LABELS.items()},
}
# The part of an action before its first ':', for the filter's "all of a kind".
GROUPS = {
    "login": "登录",
    "user": "账号",
    "reveal": "查看完整个人信息",
    "view": "审核时查看",
    "audit": "审计日志",
    "snapshot": "每日快照",
    "stages": "环节缓存",
    "campaign": "届别设置",
    "demo": "演示数据",
    "destination": "毕业去向",
    "registration": "档案信息登记",
    "hukou": "户口信息",
    "confirmation": "去向登记确认",
    "report": "核验报告",
    "verify": "核验查询",
    "review": "审核",
    "import": "导入",
    "export": "导出",
    "dispatch": "档案转递",
}
# Who acted: the account roles, and the actors that are no account.
ROLE_NAMES = {**roles.ROLES, "system": "系统", "login": "登录尝试", "public": "公众（核验查询）", "anonymous": "未登录"}

DETAIL_KEYS = {
    # accounts and logins
    "role": "角色",
    "colleges": "学院",
    "student_id": "学号",
    "display_name": "姓名",
    "oidc_subject": "统一身份认证账号",
    "subject": "统一身份认证账号",
    "disabled": "停用",
    "outcome": "结果",
    "client": "来源地址",
    "via": "登录方式",
    "failures": "连续失败次数",
    "reset": "已重置",
    "unlocked": "已解除暂停",
    "accounts_opened": "新开账号",
    "codes": "激活码",
    "classes": "班级数",
    "valid_days": "有效天数",
    "oidc": "对应统一身份认证",
    "password_cleared": "原密码已失效",
    # personal data and reviews
    "fields": "字段",
    "level": "审核级别",
    "decision": "审核决定",
    "reason": "原因",
    "applied": "已处理的登记",
    "refused": "未处理",
    "registration_id": "登记编号",
    "why": "原因",
    "revision_no": "版本",
    "flags": "退档风险标记",
    "proofs": "证明材料（张）",
    # the graduate's modules and reports
    "destination_id": "去向记录编号",
    "code": "毕业去向",
    "hukou_id": "户口登记编号",
    "migration_type": "户口迁移类型",
    "confirmation_id": "确认编号",
    "answer": "确认结果",
    "kind": "类型",
    "valid_until": "有效期至",
    "new": "新生成的核验编号",
    "new_count": "新生成",
    "dated": "更新有效期",
    "already_in_force": "已有且有效",
    "report_number": "核验编号",
    "valid": "有效",
    "name": "姓名（摘要）",
    "limits": "触发的限制",
    # exports and imports
    "cohort": "届别",
    "filters": "筛选条件",
    "unmasked": "未脱敏",
    "format": "格式",
    "rows": "行数",
    "sha256": "文件摘要（SHA-256）",
    "source": "来源文件",
    "batch_id": "导入批次",
    "inserted": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "sheet": "工作表",
    "ignored": "未导入的列",
    "errors": "问题数",
    "reasons": "问题",
    # the filters an export records (Filters.to_query, and the audit page's own)
    "college": "学院",
    "major": "专业",
    "class": "班级",
    "class_name": "班级",
    "type": "转递类型",
    "stage": "所处环节",
    "from": "首次提交不早于",
    "to": "首次提交不晚于",
    "who": "操作人",
    "action": "操作",
    "target": "对象",
    "date_from": "从",
    "date_to": "到",
    # 届别设置 (pipelines.campaigns.Campaign) and the settings it replaced
    "school_name": "学校名称",
    "school_code": "院校代码",
    "registration_deadline": "登记截止",
    "default_graduation_date": "默认毕业时间",
    "notice_number": "通知文号",
    "notice_title": "通知标题",
    "opens_on": "登记开始",
    "change_deadline": "确认后可修改至",
    "before": "修改前",
    "bag_items": "档案袋材料",
    "bag_requires_report": "须装入核验报告",
    "dispatch_rule": "寄送方式规则",
    "school_province": "学校所在省份",
    # the archive's dispatch
    "complete": "档案袋已齐",
    "marked": "已标记",
    "scope": "范围",
    "added": "编入",
    "taken_out": "移出批次（登记已变更）",
    "batch_no": "转递批次",
    "by_channel": "寄送方式",
    "recorded": "已登记",
    "reason_code": "退档原因",
    "note": "说明",
    "reopened": "已重新打开登记",
    "until": "截止日期",
    "receipt": "签收确认",
    "unit": "接收单位",
    "unit_missing": "未填接收单位",
    # the demo
    "graduates": "毕业生",
    "seed": "随机种子",
    "as_of": "数据日期",
    "destinations": "毕业去向",
    "registrations": "档案登记",
    "reviews": "审核",
    "hukou_registrations": "户口登记",
    "confirmations": "确认",
    "verification_reports": "核验报告",
}
OUTCOMES = {
    "ok": "成功",
    "changed_meanwhile": "账号刚被修改，已重新核对",
    "refused": "被拒绝",
    "shown": "已显示",
    "exists": "当天已保存过",
    "unchanged": "与当前相同，未改动",
    "throttled": "该来源尝试过多，已暂停",
    "unknown_user": "账号不存在",
    "locked": "该账号在此来源已暂停登录",
    "locked_now": "密码错误，该账号在此来源暂停登录",
    "wrong_password": "密码错误",
    "disabled": "账号已停用",
    "oidc_unknown": "统一身份认证账号未开通",
    "already_active": "账号已激活过",
    "wrong_code": "激活码错误",
    "wrong_id": "身份证号后 6 位不符",
    "no_id_on_roster": "名单中没有身份证号",
    "limited": "超过查询次数限制",
    "found": "查到",
    "not_found": "未查到",
}
FIELD_LABELS = {
    "address_detail": "详细地址",
    "hukou_address": "户口迁往详细地址",
    "id_number": "身份证号",
    "phone": "联系电话",
    "unit_phone": "档案转递联系电话",
    "proofs": "证明材料",
}
LIMIT_LABELS = {"client": "同一来源", "number": "同一编号", "name": "同一姓名", "everyone": "全部查询"}
NOTHING = "无"


def action_label(action: str | None) -> str:
    """The Chinese name of an action (an action the table does not know: as recorded)."""
    return ACTIONS.get(action or "", action or "")


def role_label(role: str | None) -> str:
    return ROLE_NAMES.get(role or "", role or "")


def filter_options(actions: Iterable[str]) -> list[str]:
    """The audit page's choices for the actions in the log: each kind of action that has more
    than one ("review:", every review) followed by its actions. A value ending in ':' is a kind
    (audit_search.sql matches its prefix), any other one action."""
    by_group: dict[str, list[str]] = {}
    for action in sorted(set(actions)):
        by_group.setdefault(action.split(":")[0], []).append(action)
    options = []
    for group, members in by_group.items():
        if len(members) > 1:
            options.append(f"{group}:")
        options += members
    return options


def option_label(option: str) -> str:
    if option.endswith(":"):
        group = option[:-1]
        return f"{GROUPS.get(group, group)}（全部）"
    return action_label(option)


def _labels(table: dict[str, str]) -> Callable[[Any], str]:
    return lambda value: table.get(str(value), str(value))


def _destination(code: Any) -> str:
    found = codes.DESTINATIONS.get(str(code))
    return f"{code} {found[0]}" if found else str(code)


def _transfer_type(key: Any) -> str:
    found = transfer_types.BY_KEY.get(str(key))
    return found.label if found else str(key)


def _flag(code: Any) -> str:
    found = checks.BY_CODE.get(str(code))
    return found.title if found else str(code)


# How the coded value of a key reads (values of other keys are shown as they are).
VALUES: dict[str, Callable[[Any], str]] = {
    "role": role_label,
    "outcome": _labels(OUTCOMES),
    "level": _labels(workflow.LEVELS),
    "decision": _labels(workflow.DECISIONS),
    "kind": _labels({**verification.KIND_LABELS, **IMPORT_LABELS}),
    "answer": _labels(reports.ANSWERS),
    "via": _labels({"oidc": "统一身份认证"}),
    "migration_type": _transfer_type,
    "type": _transfer_type,
    "stage": _labels(workflow.STAGES),
    "fields": _labels(FIELD_LABELS),
    "flags": _flag,
    "limits": _labels(LIMIT_LABELS),
    "code": _destination,
    "action": option_label,
}


def value_text(key: str | None, value: Any) -> str:
    """One detail value as text: lists joined with 、, records in parentheses, yes/no in Chinese."""
    if value is None or value == "None":  # "None": how 届别设置 recorded an empty setting before #16
        return NOTHING
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return f"（{detail_text(value)}）" if value else NOTHING
    if isinstance(value, list):
        return "、".join(value_text(key, v) for v in value) if value else NOTHING
    if key in VALUES:
        return VALUES[key](value)
    return str(value)


def detail_text(detail: dict[str, Any] | str | None) -> str:
    """An audit record's detail (its JSON, or the parsed object) as 键：值；键：值 in Chinese."""
    parsed: Any = detail
    if isinstance(detail, str):
        try:
            parsed = json.loads(detail)
        except ValueError:
            return detail
    if not isinstance(parsed, dict) or not parsed:
        return ""
    return "；".join(f"{DETAIL_KEYS.get(key, key)}：{value_text(key, value)}" for key, value in parsed.items())


def actor_text(actor: str | None, role: str | None) -> str:
    """Who acted, as the log names them ("system" is the system, in Chinese)."""
    return ROLE_NAMES["system"] if actor == "system" and role == "system" else (actor or "")


def readable(page: pl.DataFrame) -> pl.DataFrame:
    """audit_search rows as the 审计日志 page shows them: 时间, 操作人, 角色, 操作, 对象, 详情."""
    rows = page.select("actor", "role", "action", "detail").iter_rows()
    actors, roles, actions, details = (
        zip(*[(actor_text(a, r), role_label(r), action_label(x), detail_text(d)) for a, r, x, d in rows], strict=True)
        if page.height
        else ([], [], [], [])
    )
    return pl.DataFrame(
        {
            "时间": page["logged_at"],
            "操作人": pl.Series(actors, dtype=pl.String),
            "角色": pl.Series(roles, dtype=pl.String),
            "操作": pl.Series(actions, dtype=pl.String),
            "对象": page["target"].cast(pl.String),
            "详情": pl.Series(details, dtype=pl.String),
        }
    )
