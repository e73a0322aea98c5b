"""Campaigns (登记工作): the cohort, deadline and notice number are settings, not constants."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

import polars as pl

from pipelines import access
from pipelines.rules import dispatch, divisions, roles
from pipelines.store import Actor, Store, StoreError, Writer


@dataclass(frozen=True)
class Campaign:
    cohort: int
    school_name: str
    registration_deadline: date
    default_graduation_date: date
    notice_number: str | None = None
    notice_title: str | None = None
    opens_on: date | None = None
    change_deadline: date | None = None
    school_code: str | None = None  # 院校代码, five digits: every 核验编号 carries it
    # The archive's dispatch (rules/dispatch.py): what goes into each bag besides the report,
    # whether a bag needs the report in force, the channel rule and the school's own province.
    bag_items: tuple[str, ...] = dispatch.DEFAULT_BAG_ITEMS
    bag_requires_report: bool = True
    dispatch_rule: str = dispatch.DEFAULT_RULE
    school_province: str | None = None

    def problems(self) -> list[str]:
        found = []
        if not 2000 <= self.cohort <= 2100:
            found.append("届别应为四位年份，例如 2024")
        if not self.school_name.strip():
            found.append("请填写学校名称")
        if self.school_code is not None and not re.fullmatch(r"\d{5}", self.school_code):
            found.append(f"院校代码应为 5 位数字（教育部院校代码，如 10001），而不是“{self.school_code}”")
        if self.opens_on and self.opens_on > self.registration_deadline:
            found.append("开始日期不能晚于登记截止日期")
        if self.change_deadline and self.change_deadline < self.registration_deadline:
            found.append("信息变更截止日期不能早于登记截止日期")
        if self.dispatch_rule not in dispatch.CHANNEL_RULES:
            found.append(
                f"未知的寄送方式规则：{self.dispatch_rule}（可用："
                + "、".join(f"{k} {r.label}" for k, r in dispatch.CHANNEL_RULES.items())
                + "）"
            )
        if self.school_province is not None and divisions.province_named(self.school_province) is None:
            found.append(f"学校所在省份应为省级行政区的全称（如 江西省），而不是“{self.school_province}”")
        if any(not item.strip() for item in self.bag_items):
            found.append("档案袋材料清单中有空项")
        return found


def from_row(row: dict[str, Any]) -> Campaign:
    """A campaign from its row (sql/queries/campaign/campaign.sql); a store from before the
    dispatch settings existed has them null: the defaults then."""
    values = {k: row[k] for k in Campaign.__dataclass_fields__ if row.get(k) is not None}
    if "bag_items" in values:
        values["bag_items"] = tuple(values["bag_items"])
    return Campaign(**values)


def campaign_of(store: Store, actor: Actor, cohort: int) -> Campaign | None:
    """The saved campaign of a cohort, or None."""
    with store.reading(actor) as reader:
        found = reader.one("campaign", cohort=cohort)
    return from_row(found) if found else None


def default_campaign(cohort: int, school_name: str) -> Campaign:
    """A campaign with the usual dates: deadline mid-June, graduation 6-30, changes until 8-31."""
    return Campaign(
        cohort=cohort,
        school_name=school_name,
        registration_deadline=date(cohort, 6, 17),
        default_graduation_date=date(cohort, 6, 30),
        opens_on=date(cohort, 4, 15),
        change_deadline=date(cohort, 8, 31),
    )


def _province(text: str) -> str | None:
    """A province as the registrations write it (the full name), from a full or short name."""
    found = divisions.province_named(text) if text else None
    return found.name if found else (text or None)


def _text(value: object) -> str | None:
    """A setting as the audit record keeps it: text, or null when it is not set."""
    return None if value is None else str(value)


def save_campaign(store: Store, actor: Actor, campaign: Campaign) -> None:
    """Create or update the campaign of a cohort (the office only)."""
    access.require(
        store, actor, roles.IMPORTERS, "campaign:set", str(campaign.cohort), "只有就业处管理员可以设置登记工作"
    )
    campaign = replace(
        campaign,
        school_name=campaign.school_name.strip(),
        school_code=(campaign.school_code or "").strip() or None,
        notice_number=(campaign.notice_number or "").strip() or None,
        notice_title=(campaign.notice_title or "").strip() or None,
        school_province=_province((campaign.school_province or "").strip()),
        # a row from a store older than the dispatch settings has them null: the defaults
        bag_items=tuple(item.strip() for item in campaign.bag_items or dispatch.DEFAULT_BAG_ITEMS),
        bag_requires_report=campaign.bag_requires_report is not False,
        dispatch_rule=campaign.dispatch_rule or dispatch.DEFAULT_RULE,
    )
    problems = campaign.problems()
    if problems:
        raise StoreError("；".join(problems))

    def work(writer: Writer) -> None:
        before = writer.one("campaign", cohort=campaign.cohort)
        writer.execute("delete_campaign", cohort=campaign.cohort)
        writer.insert(
            "campaigns",
            pl.DataFrame(
                [asdict(campaign)],
                schema_overrides={
                    "cohort": pl.Int32,
                    "school_code": pl.String,
                    "notice_number": pl.String,
                    "notice_title": pl.String,
                    "bag_items": pl.List(pl.String),
                    "school_province": pl.String,
                },
            ),
        )
        writer.audit_detail = {k: _text(v) for k, v in asdict(campaign).items()} | (
            {"before": {k: _text(v) for k, v in before.items() if k != "created_at"}} if before else {}
        )

    store.transaction(actor, "campaign:set", work, target=str(campaign.cohort))
