"""The returned-archive checks: each flag fires on the mistake it names, and only then."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from pipelines.rules import checks

CLEAN: dict[str, Any] = {
    "transfer_type": "origin",
    "unit_name": "南昌市人才服务中心",
    "province": "江西省",
    "city": "南昌市",
    "district": "东湖区",
    "address_detail": "八一大道88号",
    "postcode": "330000",
    "contact": "档案室",
    "phone": "0791-86123456",
    "note": "回生源地",
    "proof_count": 0,
    "graduate_name": "李娟",
    "graduate_phone": "13800001111",
    "origin_code": "360102",
}


def flags(**changes: Any) -> list[str]:
    return checks.flags_of({**CLEAN, **changes})


def test_a_clean_registration_has_no_flags() -> None:
    assert flags() == []


@pytest.mark.parametrize(
    ("changes", "flag"),
    [
        ({"note": ""}, "required_missing"),
        ({"contact": ""}, "required_missing"),
        ({"note": "说" * 201}, "note_too_long"),
        ({"transfer_type": "employer", "unit_name": "江西省人力资源服务中心"}, "proof_missing"),
        ({"address_detail": "八一大道"}, "address_incomplete"),
        ({"postcode": "33000"}, "postcode_malformed"),
        ({"postcode": "100000"}, "postcode_province_mismatch"),
        ({"phone": "8612345"}, "phone_malformed"),
        ({"contact": "本人"}, "contact_is_self_or_family"),
        ({"contact": "母亲"}, "contact_is_self_or_family"),
        ({"contact": "李娟"}, "contact_is_self_or_family"),
        ({"phone": "13800001111"}, "contact_is_self_or_family"),
        ({"unit_name": "张三"}, "unit_looks_like_person"),
        (
            {"transfer_type": "employer", "unit_name": "南昌美衣服饰有限公司", "proof_count": 1},
            "unit_cannot_keep_archives",
        ),
        (
            {"transfer_type": "study_elsewhere", "unit_name": "南昌市人才服务中心", "proof_count": 1},
            "type_unit_mismatch",
        ),
        ({"unit_name": "南昌美衣服饰有限公司"}, "type_unit_mismatch"),
        ({"province": "广东省", "postcode": "510000"}, "origin_province_mismatch"),
        (
            {"origin_code": "110108", "province": "北京市", "city": "北京市", "district": "", "postcode": "100000"},
            "beijing_district_missing",
        ),
        (
            {
                "origin_code": "110000",
                "province": "北京市",
                "city": "北京市",
                "district": "海淀区",
                "postcode": "100000",
            },
            "beijing_district_missing",
        ),
    ],
)
def test_each_mistake_raises_its_flag(changes: dict[str, Any], flag: str) -> None:
    assert flag in flags(**changes)


def test_study_with_a_university_unit_is_not_a_mismatch() -> None:
    assert flags(transfer_type="study_elsewhere", unit_name="江西财经大学研究生院", proof_count=2) == []


def test_a_state_employer_is_not_flagged_as_unable_to_keep_archives() -> None:
    assert "unit_cannot_keep_archives" not in flags(
        transfer_type="employer", unit_name="中国建设银行股份有限公司江西省分行", proof_count=1
    )


def test_every_check_has_a_chinese_title_and_explanation() -> None:
    assert set(checks.check_expressions()) == {c.code for c in checks.CHECKS}
    for c in checks.CHECKS:
        assert c.title and c.explanation and not c.title.isascii()


def test_batch_and_single_row_give_the_same_flags() -> None:
    variants = [CLEAN, {**CLEAN, "contact": "本人"}, {**CLEAN, "postcode": "1"}, {**CLEAN, "note": ""}]
    frame = pl.DataFrame(variants)
    batch = checks.with_flags(frame)["flags"].to_list()
    assert batch == [checks.flags_of(v) for v in variants]
