"""Row models for the three import files (pydantic), with Chinese messages.

Each field is an annotated type whose validator calls the domain rules (`identity`, `codes`,
`transfer_types`, …); the models declare which fields a file has, and they are the one source
of every rule and every message. `validate_frame` applies a model to a whole polars frame
column by column:

- a validator with a *fast path* (`FastPath`, beside the validator) first accepts, in polars,
  the cells it is sure of (`13812345678`, `2024-05-20 14:30:00`, an 18-character ID whose
  check character is right), with the value the validator would give them, using the same
  patterns and tables (`identity`, `text`). A fast path never refuses;
- every other cell (empty, full of spaces, a dashed phone, an Excel serial date, anything
  wrong) goes through the pydantic validator itself, once per distinct value.

So a 100k-row file of unique times and phones costs a few polars passes, and whatever is
refused is refused by the model, with its message. tests/test_row_paths.py checks that the
two paths, and the model applied row by row, agree on a file full of real-world mess.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import polars as pl
from pydantic import BaseModel, BeforeValidator, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from pipelines.rules import codes, divisions, identity, text, transfer_types, workflow

_STUDENT_ID = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


@dataclass(frozen=True)
class FastPath:
    """The cells (cleaned text) a validator certainly accepts, and the value it gives them, as
    polars expressions over the column. Everything else goes through the validator."""

    accepts: Callable[[pl.Expr], pl.Expr]
    value: Callable[[pl.Expr], pl.Expr] = lambda cell: cell


_FAST: dict[Callable[[Any], Any], FastPath] = {}


def _fast(path: FastPath) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Give a validator its fast path (the validator stays what it was)."""

    def register(validator: Callable[[Any], Any]) -> Callable[[Any], Any]:
        _FAST[validator] = path
        return validator

    return register


# ASCII letters and digits only: `text.clean` and `text.compact` leave such a cell as it is, and
# it holds no mask star (`identity.is_masked`).
_PLAIN = r"^[0-9A-Za-z]+$"


def _whole(pattern: str) -> str:
    """A pattern that must match the whole cell (`re.fullmatch` in polars)."""
    return f"^(?:{pattern})$"


_NOT_EMPTY = FastPath(lambda cell: cell.str.len_bytes() > 0)


@functools.cache
def _required(what: str) -> Callable[[Any], str]:
    @_fast(_NOT_EMPTY)
    def check(value: Any) -> str:
        if value is None or value == "":
            raise ValueError(f"{what}不能为空")
        return str(value)

    return check


@_fast(FastPath(lambda cell: cell.str.contains(_STUDENT_ID.pattern)))  # no space, no ".0": kept as it is
def _student_id(value: Any) -> str:
    value = _required("学号")(value).replace(" ", "")  # frames arrive cleaned (text.clean)
    if value.endswith(".0") and value[:-2].isdigit():
        raise ValueError("学号被 Excel 当成了数字（末尾多了 .0，前导 0 可能已丢失）；请把该列设为文本后重新导出")
    if not _STUDENT_ID.match(value):
        raise ValueError("学号只能由数字、字母、下划线或短横线组成")
    return value


def _gender(value: Any) -> str | None:
    if not value:
        return None
    mapped = {
        "男": "男",
        "女": "女",
        "1": "男",
        "2": "女",
        "m": "男",
        "f": "女",
        "男性": "男",
        "女性": "女",
        "1男": "男",
        "2女": "女",
    }
    key = str(value).lower().replace(" ", "")
    if key not in mapped:
        raise ValueError("性别应为 男 或 女（性别代码 1 男、2 女）")
    return mapped[key]


def _id_number_accepted(cell: pl.Expr) -> pl.Expr:
    """18 plain characters, digits 7-14 a real date, the GB 11643 check character right: what
    `identity.id_number_problem` finds nothing wrong with, computed with its own table."""
    first17 = [cell.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(17)]
    residue = pl.sum_horizontal([d * w for d, w in zip(first17, identity.ID_WEIGHTS, strict=True)]) % 11
    check = residue.replace_strict(dict(enumerate(identity.ID_CHECK_CHARS)), return_dtype=pl.String)
    birth = cell.str.slice(6, 8)
    return (
        cell.str.contains(r"^[0-9]{17}[0-9Xx]$")
        & ~birth.str.starts_with("0000")
        & birth.str.to_date("%Y%m%d", strict=False).is_not_null()
        & (check == cell.str.slice(17, 1).str.to_uppercase())
    )


@_fast(FastPath(_id_number_accepted, lambda cell: cell.str.to_uppercase()))
def _id_number(value: Any) -> str | None:
    if not value:
        return None
    value = text.compact(value).upper()
    problem = identity.id_number_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _education(value: Any) -> str | None:
    if not value:
        return None
    value = str(value)
    code = codes.education_code_of(value.zfill(2) if value.isdigit() else value)
    if code is None:
        raise ValueError("不是已知的学历层次（如 31 本科生毕业、41 专科生毕业）")
    return code


def _iso_accepted(cell: pl.Expr) -> pl.Expr:
    return cell.str.contains(text.ISO_DATETIME_PATTERN) & _iso_value(cell).is_not_null()


def _iso_value(cell: pl.Expr) -> pl.Expr:
    """The cells of `text.ISO_DATETIME_PATTERN` as datetimes (null for a day that does not exist)."""
    head = cell.str.slice(0, 19)  # the fraction of a second is dropped, as `parse_datetime` does
    return pl.coalesce(
        [
            pl.when(head.str.len_bytes() == length).then(head.str.to_datetime(fmt, time_unit="us", strict=False))
            for length, fmt in text.ISO_FORMATS.items()
        ]
    )


_ISO = FastPath(_iso_accepted, _iso_value)


@_fast(FastPath(_iso_accepted, lambda cell: _iso_value(cell).dt.date()))
def _date(value: Any) -> date | None:
    if not value:
        return None
    parsed = text.parse_datetime(str(value))
    if parsed is None:
        raise ValueError("不是可识别的日期（例如 2024-06-30）")
    return parsed.date()


@_fast(_ISO)
def _datetime(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = text.parse_datetime(str(value))
    if parsed is None:
        raise ValueError("不是可识别的日期时间（例如 2024-05-20 14:30）")
    return parsed


@functools.cache
def _required_datetime(what: str) -> Callable[[Any], datetime]:
    @_fast(_ISO)
    def check(value: Any) -> datetime:
        parsed = _datetime(_required(what)(value))
        assert parsed is not None
        return parsed

    return check


def _division_code(what: str) -> Callable[[Any], str | None]:
    """A six-digit GB/T 2260 code (生源地代码, 单位所在地代码), or None for an empty cell."""

    def check(value: Any) -> str | None:
        if not value:
            return None
        value = text.compact(value)
        if not re.fullmatch(r"\d{6}", value) or divisions.province_of_code(value) is None:
            raise ValueError(f"{what}应为 6 位行政区划代码（GB/T 2260），前两位是省份")
        return value

    return check


def _hukou(value: Any) -> bool | None:
    if not value:
        return None  # an empty cell says nothing: unknown, not "not at the school"
    parsed = text.parse_bool(str(value))
    if parsed is None:
        raise ValueError("应为 是 或 否")
    return parsed


# Digits only, and a mobile number: `identity.normalize_phone` leaves it as it is and
# `identity.phone_problem` finds nothing wrong.
@_fast(FastPath(lambda cell: cell.str.contains(r"^[0-9]+$") & cell.str.contains(identity.MOBILE_PATTERN)))
def _mobile(value: Any) -> str | None:
    if not value:
        return None
    value = identity.normalize_phone(text.compact(value))
    problem = identity.phone_problem(value)
    if problem:
        raise ValueError(problem.replace("联系电话", "手机号码"))
    return value


def _destination_code(value: Any) -> str | None:
    if not value:
        return None
    code = codes.destination_code_of(str(value))
    if code is None:
        raise ValueError(f"“{value}”不是毕业去向代码（两位大类如 10、80，或其下的三位细类如 271、512、801）")
    return code


def _transfer_type(value: Any) -> str:
    found = transfer_types.transfer_type_of(_required("档案转递类型")(value))
    if found is None:
        labels = "、".join(t.label for t in transfer_types.TRANSFER_TYPES)
        raise ValueError(f"不是六种档案转递类型之一（{labels}）")
    return found.key


def _province(value: Any) -> str:
    if not value:
        return ""
    found = divisions.province_named(str(value))
    return found.name if found else str(value)


def _not_masked(value: Any) -> Any:
    """A masked export (`138****5678`, `南昌市红谷滩区********`) carried back into an import
    would overwrite real values with stars: refuse it."""
    if isinstance(value, str) and identity.is_masked(value):
        raise ValueError("是脱敏后的值（含 *）：脱敏导出的文件不能再导入，请导出完整信息（须有权限并记入审计）后再导入")
    return value


def _phone_as_normalised(cell: pl.Expr) -> pl.Expr:
    """Digits and dashes that `identity.normalize_phone` leaves as they are: no country prefix,
    not a mobile number written with dashes."""
    return (
        cell.str.contains(r"^[0-9-]+$")
        & ~pl.any_horizontal([cell.str.starts_with(prefix) for prefix in identity.PHONE_PREFIXES])
        & ~(cell.str.contains("-", literal=True) & cell.str.contains(_whole(identity.DASHED_MOBILE_PATTERN)))
    )


@_fast(FastPath(_phone_as_normalised))
def _contact_number(value: Any) -> str:
    # Format problems of the unit's phone and postcode are flags for the reviewer, not refusals.
    _not_masked(value)
    return identity.normalize_phone(text.compact(value)) if value else ""


@_fast(FastPath(lambda cell: cell.str.contains(_PLAIN)))
def _compact(value: Any) -> str:
    return text.compact(value) if value else ""


_TRANSFER_NUMBER = r"[0-9A-Z]{6,32}"


@_fast(
    FastPath(
        lambda cell: cell.str.contains(_PLAIN) & cell.str.to_uppercase().str.contains(_whole(_TRANSFER_NUMBER)),
        lambda cell: cell.str.to_uppercase(),
    )
)
def _transfer_number(value: Any) -> str:
    value = _not_masked(_compact(value)).upper()
    if value and not re.fullmatch(_TRANSFER_NUMBER, value):
        raise ValueError("转递编号应为 6 到 32 位字母和数字（如 2510876CYLAXKAZFVR）")
    return value


def _text(value: Any) -> str:
    return str(value) if value else ""


@_fast(FastPath(lambda cell: ~cell.str.contains("*", literal=True)))  # a non-empty cell without a star
def _address_detail(value: Any) -> str:
    return _not_masked(_text(value))


def _proof_count(value: Any) -> int:
    if not value:
        return 0
    try:
        count = float(value)
    except ValueError:
        raise ValueError("证明材料数应为 0 到 3 的整数") from None
    if count != int(count) or not 0 <= count <= 3:
        raise ValueError("证明材料数应为 0 到 3 的整数（最多上传三张图片）")
    return int(count)


def _review_status(value: Any) -> str | None:
    if not value:
        return None
    found = workflow.IMPORTED_STATUSES.get(str(value).replace(" ", ""))
    if found is None:
        raise ValueError(
            "审核状态应为 待院审核（待审核）、待校审核（院审核通过）、已通过（校审核通过）"
            "或 已退回（院审核不通过、校审核不通过）"
        )
    return found


def _confirmed(value: Any) -> bool | None:
    if not value:
        return None
    mapped = {"已确认": True, "确认": True, "是": True, "确认无误": True, "未确认": False, "否": False, "待确认": False}
    if value not in mapped:
        raise ValueError("确认状态应为 已确认 或 未确认")
    return mapped[value]


StudentId = Annotated[str, BeforeValidator(_student_id)]
PersonName = Annotated[str, BeforeValidator(_required("姓名"))]
Text = Annotated[str, BeforeValidator(_text)]
OptionalText = str | None


Gender = Annotated[str | None, BeforeValidator(_gender)]
Education = Annotated[str | None, BeforeValidator(_education)]


class RosterRow(BaseModel):
    student_id: StudentId
    name: PersonName
    gender: Gender = None
    gender_code: Gender = None
    id_number: Annotated[str | None, BeforeValidator(_id_number)] = None
    college_name: Annotated[str, BeforeValidator(_required("学院"))]
    major: OptionalText = None
    class_name: OptionalText = None
    education_level: Education = None
    education_code: Education = None
    graduation_date: Annotated[date | None, BeforeValidator(_date)] = None
    origin_code: Annotated[str | None, BeforeValidator(_division_code("生源地代码"))] = None
    origin_name: OptionalText = None
    is_hukou_at_school: Annotated[bool | None, BeforeValidator(_hukou)] = None
    phone: Annotated[str | None, BeforeValidator(_mobile)] = None
    advisor: OptionalText = None


class DestinationRow(BaseModel):
    student_id: StudentId
    name: PersonName
    destination_code: Annotated[str | None, BeforeValidator(_destination_code)] = None
    destination_name: OptionalText = None  # checked against the code (or read as one) in imports
    employer_name: OptionalText = None
    employer_location_code: Annotated[str | None, BeforeValidator(_division_code("单位所在地代码"))] = None
    employer_location: OptionalText = None


class RegistrationRow(BaseModel):
    student_id: StudentId
    name: PersonName
    transfer_type: Annotated[str, BeforeValidator(_transfer_type)]
    unit_name: Text = ""  # an empty unit is a flag (required_missing), not a refusal
    address: Text = ""  # one 省市区 field; split into the four below
    province: Annotated[str, BeforeValidator(_province)] = ""
    city: Text = ""
    district: Text = ""
    address_detail: Annotated[str, BeforeValidator(_address_detail)] = ""
    postcode: Annotated[str, BeforeValidator(_compact)] = ""
    contact: Text = ""
    phone: Annotated[str, BeforeValidator(_contact_number)] = ""
    note: Text = ""
    proof_count: Annotated[int, BeforeValidator(_proof_count)] = 0
    transfer_number: Annotated[str, BeforeValidator(_transfer_number)] = ""
    submitted_at: Annotated[datetime, BeforeValidator(_required_datetime("提交时间"))]
    review_status: Annotated[str | None, BeforeValidator(_review_status)] = None
    return_reason: OptionalText = None
    is_confirmed: Annotated[bool | None, BeforeValidator(_confirmed)] = None
    confirmed_at: Annotated[datetime | None, BeforeValidator(_datetime)] = None


# --- bulk validation ---------------------------------------------------------------------

FieldError = tuple[int, str, str, str]  # (row number, field, value, message)


@functools.cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info: FieldInfo = model.model_fields[name]
    item = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation  # type: ignore[valid-type]
    return TypeAdapter(list[item])  # type: ignore[valid-type]


_DTYPES: dict[Any, Any] = {str: pl.String, int: pl.Int32, bool: pl.Boolean, date: pl.Date, datetime: pl.Datetime("us")}


def _dtype(model: type[BaseModel], name: str) -> Any:
    """The polars type of a field, from its annotation (`int | None` -> Int32)."""
    annotation = model.model_fields[name].annotation
    for python_type, dtype in _DTYPES.items():
        if annotation is python_type or python_type in getattr(annotation, "__args__", ()):
            return dtype
    raise TypeError(f"no polars type for {model.__name__}.{name}: {annotation}")


def _validate_values(model: type[BaseModel], name: str, values: list[Any]) -> tuple[dict[Any, Any], dict[Any, str]]:
    """Validate distinct values of one field: (value -> parsed, value -> message)."""
    adapter = _adapter(model, name)
    try:
        return dict(zip(values, adapter.validate_python(values), strict=True)), {}
    except ValidationError as exc:
        failed = {int(e["loc"][0]): str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()}
    messages = {values[i]: m for i, m in failed.items()}
    good = [v for i, v in enumerate(values) if i not in failed]
    return dict(zip(good, adapter.validate_python(good), strict=True)), messages


def _validator(model: type[BaseModel], name: str) -> Any:
    """A field's one before-validator (`_text` for a plain text field), or None."""
    info = model.model_fields[name]
    befores = [m.func for m in info.metadata if isinstance(m, BeforeValidator)]
    if len(befores) == 1:
        return befores[0]
    return _text if not befores and info.annotation in (str, str | None) else None


def validate_frame(
    frame: pl.DataFrame, model: type[BaseModel], row_column: str, *, fast: bool = True
) -> tuple[pl.DataFrame, list[FieldError]]:
    """Validate every row of `frame` (text columns named like the model's fields).

    Returns the parsed frame (one column per model field the frame has, plus `row_column`)
    for all rows, and the errors; a caller drops the rows that have errors. A field whose
    column the file does not have is left out: the caller decides what its absence means.
    `fast=False` sends every cell through the model's validators (the fast paths' yardstick).
    """
    columns: list[pl.Series] = [frame[row_column]]
    errors: list[FieldError] = []
    for name in model.model_fields:
        if name not in frame.columns:
            continue
        source = frame[name]
        validator = _validator(model, name)
        if validator is _text:  # plain text: nothing to check
            optional = model.model_fields[name].annotation == str | None
            columns.append((source if optional else source.fill_null("")).alias(name))
            continue
        path = _FAST.get(validator) if fast else None
        values, bad = _field(frame.select(row_column, name), model, name, path)
        columns.append(values.alias(name))
        errors += [(row, name, value or "", why) for row, value, why in bad]
    return pl.DataFrame(columns), errors


def _field(
    frame: pl.DataFrame, model: type[BaseModel], name: str, path: FastPath | None
) -> tuple[pl.Series, list[tuple[int, str | None, str]]]:
    """One field's parsed column and its (row, value, message) errors: the cells the fast path
    accepts take its value, every other distinct value goes through the model's validator."""
    dtype = _dtype(model, name)
    cell = pl.col(name)
    accepted = path.accepts(cell).fill_null(False) if path else pl.lit(False)
    rest = frame.filter(~accepted)[name] if path else frame[name]
    parsed, messages = _validate_values(model, name, rest.unique().to_list())
    by_value = {k: v for k, v in parsed.items() if k is not None}
    refused = cell.is_in([k for k in messages if k is not None]) | (
        cell.is_null() if None in messages else pl.lit(False)
    )
    if dtype == pl.String and all(k == v for k, v in by_value.items()):  # validated as is: keep the cells
        slow: pl.Expr = pl.when(refused).then(None).otherwise(cell) if messages else cell
    elif by_value:
        slow = cell.replace_strict(by_value, default=None, return_dtype=dtype)
    else:
        slow = pl.repeat(None, pl.len(), dtype=dtype)
    if parsed.get(None) is not None:  # what an empty cell means (0, "")
        slow = pl.when(cell.is_null()).then(pl.lit(parsed[None], dtype=dtype)).otherwise(slow)
    value = pl.when(accepted).then(path.value(cell).cast(dtype)).otherwise(slow) if path else slow
    values = frame.select(value.cast(dtype).alias(name)).to_series()
    bad: list[tuple[int, str | None, str]] = []
    if messages:
        hits = frame.filter(refused)
        bad = [(row, value, messages[value]) for row, value in hits.iter_rows()]
    return values, bad
