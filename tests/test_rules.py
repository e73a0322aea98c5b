"""Domain rules: identity formats, normalisation, transfer types, workflow, validity cap."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.rules import checks, codes, divisions, identity, text, transfer_types, verification, workflow

DIGITS = "0123456789"
birth_dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2010, 12, 31))


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.text(DIGITS, min_size=6, max_size=6))
    born = draw(birth_dates)
    serial = draw(st.text(DIGITS, min_size=3, max_size=3))
    first17 = f"{region}{born:%Y%m%d}{serial}"
    return first17 + identity.id_check_char(first17)


@given(id_numbers())
def test_id_with_its_check_character_is_valid(id_number: str) -> None:
    assert identity.id_number_problem(id_number) is None


@given(id_numbers(), st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_any_single_digit_error_is_caught(id_number: str, position: int, shift: int) -> None:
    digit = str((int(id_number[position]) + shift) % 10)
    broken = id_number[:position] + digit + id_number[position + 1 :]
    assert identity.id_number_problem(broken) is not None


def test_seed_style_id_check_characters() -> None:
    # GB 11643's published example: 11010519491231002X.
    assert identity.id_check_char("11010519491231002") == "X"
    assert identity.id_number_problem("11010519491231002X") is None
    assert (
        identity.id_number_problem("110105194912310021")
        == "身份证号校验位不正确（可能抄错了一位，或被 Excel 截断了末尾几位）"
    )


@pytest.mark.parametrize("value", ["3.60102E+17", "3.60102200001011e17", "360102200001011000.0"])
def test_id_turned_into_a_number_by_excel_is_refused_with_that_reason(value: str) -> None:
    problem = identity.id_number_problem(value)
    assert problem is not None and "Excel" in problem and "无法恢复" in problem


def test_id_with_impossible_birth_date_is_refused() -> None:
    first17 = "36010220010231001"  # 2001-02-31
    assert (
        identity.id_number_problem(first17 + identity.id_check_char(first17)) == "身份证号第 7-14 位不是有效的出生日期"
    )


@given(st.text(DIGITS, min_size=1, max_size=20))
def test_full_width_digits_normalise_to_ascii(digits: str) -> None:
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in digits)
    assert text.compact(f" {full_width}\u3000") == digits


@given(st.text())
def test_clean_is_idempotent(value: str) -> None:
    once = text.clean(value)
    assert text.clean(once) == once
    assert once == once.strip()


@given(st.sampled_from("3456789"), st.text(DIGITS, min_size=9, max_size=9))
def test_mobile_numbers_are_accepted(second: str, rest: str) -> None:
    assert identity.phone_problem(f"1{second}{rest}") is None


@given(
    st.text(DIGITS, min_size=1, max_size=15).filter(lambda s: not (len(s) == 11 and s[0] == "1" and s[1] in "3456789"))
)
def test_other_digit_strings_are_not_mobiles_unless_landlines(value: str) -> None:
    looks_like_landline = value.startswith("0") and 10 <= len(value) <= 12
    assert (identity.phone_problem(value) is None) == looks_like_landline


@pytest.mark.parametrize("value", ["0791-86123456", "010-12345678", "07918612345", "0791-86123456-801"])
def test_landlines_with_area_code_are_accepted(value: str) -> None:
    assert identity.phone_problem(value) is None


@pytest.mark.parametrize("value", ["86123456", "12800001111", "1380000111", "138-0000-11112"])
def test_malformed_phones_are_refused(value: str) -> None:
    assert identity.phone_problem(value) is not None


def test_phone_prefixes_and_separators_are_dropped() -> None:
    assert identity.normalize_phone("+86 138-0000-1111") == "13800001111"
    assert identity.normalize_phone("0086-13800001111") == "13800001111"


@settings(max_examples=40, deadline=None)
@given(st.text(DIGITS, min_size=1, max_size=9))
def test_only_six_digit_postcodes_pass(value: str) -> None:
    """The one postcode rule is the check the forms and imports run (checks.postcode_malformed)."""
    assert ("postcode_malformed" not in checks.flags_of({"postcode": value})) == (len(value) == 6)


@given(id_numbers())
def test_masked_id_keeps_only_the_ends(id_number: str) -> None:
    masked = identity.mask_id_number(id_number)
    assert len(masked) == 18 and masked[:4] == id_number[:4] and masked[-4:] == id_number[-4:]
    assert masked[4:14] == "*" * 10


def test_masks_match_the_domain_examples() -> None:
    assert identity.mask_phone("13856785678") == "138****5678"
    assert identity.mask_id_number("36010219900101123X") == "3601**********123X"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-01", datetime(2024, 6, 1)),
        ("2024/6/1 9:05", datetime(2024, 6, 1, 9, 5)),
        ("2024.6.1", datetime(2024, 6, 1)),
        ("2024年6月1日", datetime(2024, 6, 1)),
        ("20240601", datetime(2024, 6, 1)),
        ("45444", datetime(2024, 6, 1)),
        ("45444.5", datetime(2024, 6, 1, 12, 0)),
        ("２０２４－０６－０１", datetime(2024, 6, 1)),
    ],
)
def test_dates_in_the_forms_real_exports_carry(value: str, expected: datetime) -> None:
    assert text.parse_datetime(value) == expected


@pytest.mark.parametrize("value", ["2024-02-30", "昨天", "123", "99999"])
def test_non_dates_are_not_parsed(value: str) -> None:
    assert text.parse_datetime(value) is None


def test_every_transfer_type_but_origin_needs_proof() -> None:
    assert len(transfer_types.TRANSFER_TYPES) == 6
    assert [t.key for t in transfer_types.TRANSFER_TYPES if not t.needs_proof] == ["origin"]
    for t in transfer_types.TRANSFER_TYPES:
        assert transfer_types.transfer_type_of(t.label) is t
        assert transfer_types.transfer_type_of(t.key) is t
    assert transfer_types.transfer_type_of("寄回家") is None


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("江西省南昌市青山湖区北京东路88号", ("江西省", "南昌市", "青山湖区", "北京东路88号")),
        ("北京市海淀区中关村大街1号", ("北京市", "北京市", "海淀区", "中关村大街1号")),
        ("广西壮族自治区南宁市青秀区", ("广西壮族自治区", "南宁市", "青秀区", "")),
        ("江西南昌市东湖区", ("江西省", "南昌市", "东湖区", "")),
        ("火星基地", ("", "", "", "火星基地")),
    ],
)
def test_split_address(address: str, expected: tuple[str, str, str, str]) -> None:
    assert divisions.split_address(address) == expected


def test_postcode_prefixes_are_unique_to_provinces_on_the_mainland() -> None:
    owners: dict[str, str] = {}
    for p in divisions.PROVINCES:
        for prefix in p.postcode_prefixes:
            if p.code in ("81", "82"):
                continue
            assert prefix not in owners, (prefix, owners.get(prefix), p.name)
            owners[prefix] = p.name


def test_review_state_machine_allows_only_the_documented_moves() -> None:
    d = workflow.Decision
    assert workflow.next_status("pending_college", d("college", "approve")) == "pending_school"
    assert workflow.next_status("pending_college", d("college", "return", "地址不详细")) == "returned"
    assert workflow.next_status("pending_school", d("school", "approve")) == "approved"
    assert workflow.next_status("pending_school", d("school", "return", "缺少调档函")) == "returned"
    for status in workflow.STATUS_LABELS:
        for level in ("college", "school"):
            for decision in ("approve", "return"):
                allowed = (status, level) in {("pending_college", "college"), ("pending_school", "school")}
                if allowed:
                    continue
                with pytest.raises(workflow.WorkflowError):
                    workflow.next_status(status, d(level, decision, "原因"))


def test_a_return_needs_a_reason() -> None:
    with pytest.raises(workflow.WorkflowError, match="退回必须填写原因"):
        workflow.next_status("pending_college", workflow.Decision("college", "return", "  "))


def test_decisions_to_reach_each_status() -> None:
    assert [(s.level, s.decision) for s in workflow.decisions_to_reach("pending_college", "approved")] == [
        ("college", "approve"),
        ("school", "approve"),
    ]
    assert [(s.level, s.decision) for s in workflow.decisions_to_reach("pending_school", "returned", "缺材料")] == [
        ("school", "return")
    ]
    with pytest.raises(workflow.WorkflowError):
        workflow.decisions_to_reach("approved", "pending_college")


@pytest.mark.parametrize(
    ("graduation", "cap"),
    [
        (date(2024, 6, 30), date(2024, 12, 30)),
        (date(2024, 8, 31), date(2025, 2, 28)),
        (date(2023, 8, 31), date(2024, 2, 29)),
        (date(2024, 1, 15), date(2024, 7, 15)),
    ],
)
def test_validity_cap_is_graduation_plus_six_months(graduation: date, cap: date) -> None:
    assert verification.latest_valid_until(graduation) == cap


def test_a_validity_date_past_the_cap_is_refused_with_the_latest_allowed_date() -> None:
    problem = verification.valid_until_problem(date(2024, 12, 31), date(2024, 6, 30), date(2024, 6, 10))
    assert problem == "有效期不能晚于毕业时间加六个月，最晚为 2024-12-30"
    assert verification.valid_until_problem(date(2024, 12, 30), date(2024, 6, 30), date(2024, 6, 10)) is None


def test_destination_codes_by_code_name_or_both() -> None:
    assert codes.destination_code_of("10") == "10"
    assert codes.destination_code_of("签劳动合同形式就业") == "11"
    assert codes.destination_code_of("80 升学") == "80"
    assert codes.destination_code_of("求职中") == "701"
    assert codes.destination_code_of("环游世界") is None
