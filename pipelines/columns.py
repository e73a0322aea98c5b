"""The one alias table: which header names each import field accepts, for every kind of file.

Real exports name the same field differently: the national 毕业去向登记系统's school end
(就业方案导出: 学号、姓名、生源地名称、生源地代码 … 毕业去向类别代码、毕业去向、单位名称、单位所在地代码),
schools' 毕业派遣管理 exports (序号、姓名、档案转寄类型名称、档案转寄单位、档案转递单位地址、
档案转寄联系人、档案转寄联系电话、班级、转递编号) and platforms such as 云就业 and 91job (院系名称、
学院名称、档案接收单位 …). Every header a file has is either one of these aliases or is listed as
not imported; the README prints this table (tests/test_docs.py checks it stays in step).

Headers are compared after `header_key`: full-width forms folded (NFKC), spaces, line breaks,
`*` and `:` removed, and hints such as `（必填）` dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    key: str
    aliases: tuple[str, ...]  # the first is the name shown to users
    required: bool = False
    # Said in the summary when the file has no column for this field: what is assumed instead.
    when_absent: str | None = None

    @property
    def label(self) -> str:
        return self.aliases[0]


@dataclass(frozen=True)
class Layout:
    """One kind of import file: its fields, and the rules about which columns it must have."""

    key: str
    label: str
    fields: tuple[Field, ...]
    # At least one field of each tuple must have a column (a code or a name; one address or 省).
    one_of: tuple[tuple[str, ...], ...] = ()
    # Two-level headers: a parent header (merged over several columns) and the names of the
    # columns under it, read as `parent + child` first, then as the child alone.
    groups: tuple[str, ...] = ()
    # Headers that are known and deliberately not imported (listed as such, never an error).
    skipped: tuple[str, ...] = ("序号", "编号", "行号")
    by_key: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {f.key: f for f in self.fields})

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields if f.required)

    def alias_index(self) -> dict[str, str]:
        """header_key(alias) -> field key, for every alias of every field."""
        return {header_key(a): f.key for f in self.fields for a in f.aliases}

    def accepted(self, key: str) -> str:
        """The header names accepted for a field, for a refusal message."""
        return "、".join(self.by_key[key].aliases)


_HINT = re.compile(r"[(（](必填|选填|可选|必选|非必填)[)）]")
_TRAILING_HINT = re.compile(r"[(（][^()（）]*[)）]$")
_NOISE = re.compile(r"[\s*＊:：]")


def header_key(cell: object) -> str:
    """How a header cell is compared with the aliases."""
    text = unicodedata.normalize("NFKC", str(cell or ""))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc") or ch in "\t\n\r")
    return _NOISE.sub("", _HINT.sub("", text)).lower()


def without_hint(key: str) -> str:
    """A header key without a trailing parenthesised hint: `毕业时间(yyyy-mm-dd)` → `毕业时间`."""
    return _TRAILING_HINT.sub("", key)


# --- the three kinds of file ----------------------------------------------------------------

STUDENT_ID = Field("student_id", ("学号", "学生学号", "学籍学号", "student_id"), required=True)
NAME = Field("name", ("姓名", "学生姓名", "人员姓名", "name"), required=True)

ROSTER = Layout(
    "roster",
    "毕业生名单",
    (
        STUDENT_ID,
        NAME,
        Field("gender", ("性别", "性别名称")),
        Field("gender_code", ("性别代码",)),
        Field("id_number", ("身份证号", "身份证号码", "证件号码", "身份证", "公民身份号码")),
        Field(
            "college_name",
            ("学院", "院系", "院系名称", "学院名称", "所在院系", "所在学院", "二级学院", "培养单位"),
            required=True,
        ),
        Field("major", ("专业", "专业名称")),
        Field("class_name", ("班级", "班级名称", "行政班", "所在班级")),
        Field("education_level", ("学历层次", "学历", "培养层次", "学历层次名称")),
        Field("education_code", ("学历层次代码", "学历代码")),
        Field(
            "graduation_date",
            ("毕业时间", "毕业日期", "预计毕业时间", "预计毕业日期"),
            when_absent="文件没有毕业时间列：毕业时间取届别设置的默认毕业时间",
        ),
        Field("origin_code", ("生源地代码", "生源所在地代码")),
        Field("origin_name", ("生源地", "生源地名称", "生源所在地", "生源所在地名称")),
        Field(
            "is_hukou_at_school",
            (
                "户口是否迁入学校",
                "户口迁入学校",
                "是否迁户口",
                "户口是否迁入",
                "是否迁入户口",
                "入学时户口是否迁入学校",
            ),
            when_absent="文件没有户口是否迁入学校列：新毕业生的户口记为“未知”（不是“不在学校”），户口信息登记对他们照常开放；"
            "库中已有的户口信息不变",
        ),
        Field("phone", ("手机号码", "手机号", "手机", "联系电话", "联系手机", "本人手机号码")),
        Field("advisor", ("班主任", "辅导员", "班主任姓名", "辅导员姓名")),
    ),
    groups=("生源地", "学历层次", "性别"),
)

DESTINATIONS = Layout(
    "destinations",
    "毕业去向",
    (
        STUDENT_ID,
        NAME,
        Field("destination_code", ("毕业去向代码", "毕业去向类别代码", "去向代码", "毕业去向类别码")),
        Field("destination_name", ("毕业去向", "毕业去向名称", "毕业去向类别名称", "毕业去向类别", "去向")),
        Field(
            "employer_name",
            (
                "单位名称",
                "就业单位",
                "就业单位名称",
                "用人单位名称",
                "用人单位",
                "升学院校",
                "升学院校名称",
                "单位/学校名称",
            ),
        ),
        Field("employer_location_code", ("单位所在地代码", "单位所在地区代码")),
        Field("employer_location", ("单位所在地", "单位所在地区", "单位所在地名称")),
    ),
    one_of=(("destination_code", "destination_name"),),
    groups=("毕业去向", "单位所在地", "就业单位", "单位"),
)

REGISTRATIONS = Layout(
    "registrations",
    "档案信息登记",
    (
        STUDENT_ID,
        NAME,
        Field(
            "transfer_type",
            ("档案转递类型", "转递类型", "档案转寄类型名称", "档案转递类型名称", "档案转寄类型"),
            required=True,
        ),
        Field(
            "unit_name",
            (
                "档案转递单位名称",
                "转递单位名称",
                "档案转寄单位",
                "档案转寄单位名称",
                "档案接收单位",
                "档案接收单位名称",
                "收档单位名称",
                "接收单位名称",
            ),
            required=True,
        ),
        Field(
            "address",
            (
                "档案转递单位地址",
                "转递单位地址",
                "档案转寄地址",
                "档案转寄单位地址",
                "档案转递单位所在地",
                "档案接收地址",
                "单位地址(省市区)",
            ),
        ),
        Field("province", ("省", "省份", "所在省")),
        Field("city", ("市", "城市", "所在市")),
        Field("district", ("区", "区县", "县区", "所在区县")),
        Field("address_detail", ("详细地址", "档案转递单位详细地址", "档案转寄详细地址", "街道门牌")),
        Field(
            "postcode",
            ("档案转递单位邮编", "档案转寄邮编", "档案转寄单位邮编", "档案接收单位邮编", "邮编", "邮政编码"),
            required=True,
        ),
        Field(
            "contact",
            (
                "档案转递联系人/联系部门",
                "档案转递联系人",
                "档案转寄联系人",
                "档案接收联系人",
                "联系人/联系部门",
                "联系人",
                "联系部门",
            ),
            required=True,
        ),
        Field("phone", ("档案转递联系电话", "档案转寄联系电话", "档案接收联系电话", "联系电话", "电话"), required=True),
        Field(
            "note",
            ("情况说明", "说明", "备注"),
            when_absent="文件没有情况说明列：新登记的情况说明为空（标记为必填项为空），已有登记沿用上一版的情况说明",
        ),
        Field(
            "proof_count",
            ("证明材料数", "图像材料数", "证明材料", "材料数"),
            when_absent="文件没有证明材料数列：新登记记为 0 张（非转回生源地的标记为缺少证明材料），已有登记沿用上一版",
        ),
        Field(
            "transfer_number",
            ("转递编号", "档案转递编号", "档案转寄编号"),
            when_absent="文件没有转递编号列：已有登记沿用上一版的转递编号",
        ),
        Field(
            "submitted_at",
            ("提交时间", "登记时间", "填报时间", "申请时间"),
            when_absent="文件没有提交时间列：内容有变化的登记按导入时间记为提交时间，内容相同的不变",
        ),
        Field("review_status", ("审核状态", "审核结果")),
        Field("return_reason", ("退回原因", "审核意见", "不通过原因")),
        Field("is_confirmed", ("确认状态", "去向确认状态", "是否确认")),
        Field("confirmed_at", ("确认时间",)),
    ),
    one_of=(("address", "province"),),
    groups=(
        "档案转递单位",
        "档案转寄单位",
        "档案接收单位",
        "档案转递信息",
        "档案转寄信息",
        "档案转递单位地址",
        "档案转寄地址",
    ),
)

LAYOUTS: dict[str, Layout] = {layout.key: layout for layout in (ROSTER, DESTINATIONS, REGISTRATIONS)}
