"""National code tables: 毕业去向代码 and 学历层次. Synced into the store's ref_ tables."""

from __future__ import annotations

# The 毕业去向 code table of the national 全国高校毕业生毕业去向登记系统 (in use since the 2023
# cohort, when 毕业去向 replaced the 就业报到证), as schools' exports of it carry it: two-digit
# classes, and the three-digit sub-codes seen in those exports (271, 502, 503, 512, 519, 801,
# 802). `category` feeds 毕业去向落实率 = 单位就业 + 自主创业 + 自由职业 + 升学 (over all graduates).
# A three-digit code that is not listed here still belongs to its class (its first two digits):
# a file is never refused over a code the national system issues (`destination_class`).
DESTINATIONS: dict[str, tuple[str, str]] = {
    "10": ("签就业协议形式就业", "employed"),
    "11": ("签劳动合同形式就业", "employed"),
    "12": ("其他录用形式就业", "employed"),
    "27": ("科研助理、管理助理", "employed"),
    "271": ("科研助理、管理助理", "employed"),
    "46": ("应征义务兵", "employed"),
    "50": ("国家基层项目", "employed"),
    "502": ("三支一扶", "employed"),
    "503": ("西部计划", "employed"),
    "51": ("地方基层项目", "employed"),
    "512": ("地方选调生", "employed"),
    "519": ("其他地方基层项目", "employed"),
    "70": ("待就业", "not_placed"),
    "701": ("求职中", "not_placed"),
    "71": ("不就业拟升学", "not_placed"),
    "72": ("其他暂不就业", "not_placed"),
    "75": ("自主创业", "entrepreneur"),
    "76": ("自由职业", "freelance"),
    "80": ("升学", "further_study"),
    "801": ("境内升学—研究生", "further_study"),
    "802": ("第二学士学位", "further_study"),
    "85": ("出国、出境", "further_study"),
}
# Names in use in exports and platforms (云就业, school systems) that are not the table's own
# wording, each with the code it stands for. Several have no sub-code of their own in the
# exports seen (签约中, 拟参加公招考试 are kinds of 待就业): they map to their class.
DESTINATION_ALIASES: dict[str, str] = {
    "研究生": "801",
    "境内升学研究生": "801",
    "考取研究生": "801",
    "第二学位": "802",
    "境外留学": "85",
    "出国出境": "85",
    "出国/出境": "85",
    "留学": "85",
    "地方选调生": "512",
    "选调生": "512",
    "其他地方基层": "519",
    "其它(地方基层项目)": "519",
    "其他地方基层项目": "519",
    "特岗教师(地方)": "51",
    "三支一扶": "502",
    "西部计划": "503",
    "科研助理": "271",
    "管理助理": "271",
    "科研助理/管理助理": "271",
    "签约中": "70",
    "拟参加公招考试": "70",
    "拟创业": "70",
    "拟应征入伍": "70",
    "求职中": "701",
    "暂不就业": "72",
    "拟出国/出境": "72",
    "拟出国出境": "72",
    "不毕业拟升学": "71",
    "灵活就业": "12",
    "出国、出境": "85",
}
DESTINATION_CATEGORY_LABELS = {
    "employed": "单位就业",
    "entrepreneur": "自主创业",
    "freelance": "自由职业",
    "further_study": "升学",
    "not_placed": "未落实",
}


def _name_key(name: str) -> str:
    """Names compared without spaces, with full-width brackets and 、/ treated alike."""
    import unicodedata

    return unicodedata.normalize("NFKC", name).replace(" ", "").replace("（", "(").replace("）", ")")


DESTINATION_BY_NAME = {_name_key(name): code for code, (name, _) in reversed(list(DESTINATIONS.items()))} | {
    _name_key(name): code for name, code in DESTINATION_ALIASES.items()
}


def destination_class(code: str) -> str | None:
    """The two-digit class of a code (`512` -> `51`), or None when it is none of the table's."""
    head = code[:2]
    return head if head in DESTINATIONS and len(head) == 2 and code.isdigit() and len(code) in (2, 3) else None


EDUCATION_LEVELS: dict[str, str] = {
    "01": "博士生毕业",
    "11": "硕士生毕业",
    "25": "二学位毕业",
    "31": "本科生毕业",
    "33": "本科生结业",
    "39": "本科生肄业",
    "41": "专科生毕业",
    "43": "专科生结业",
    "49": "专科生肄业",
}
EDUCATION_BY_NAME = {name: code for code, name in EDUCATION_LEVELS.items()} | {
    "博士": "01",
    "硕士": "11",
    "研究生": "11",
    "二学位": "25",
    "本科": "31",
    "专科": "41",
    "高职": "41",
}


def destination_code_of(text: str) -> str | None:
    """A 去向代码 from a code (`10`, `512`, or any three-digit code of a known class), a name
    (`签就业协议形式就业`, `地方选调生`, `签约中`), `10 签就业协议形式就业`, `[512]地方选调生` or
    `地方基层项目—地方选调生` (class—sub-class, as some exports write it)."""
    text = text.strip().replace("[", " ").replace("]", " ").replace("【", " ").replace("】", " ").strip()
    head = text.split(" ")[0].split("-")[0]
    if head.isdigit() and destination_class(head):
        return head
    for candidate in (text, text.split(" ")[-1], *reversed(text.replace("-", "—").split("—"))):
        found = DESTINATION_BY_NAME.get(_name_key(candidate))
        if found:
            return found
    return None


def destination_name(code: str) -> str:
    """The table's name of a code, or its class's name for an unlisted sub-code."""
    if code in DESTINATIONS:
        return DESTINATIONS[code][0]
    klass = destination_class(code)
    return f"{DESTINATIONS[klass][0]}（{code}）" if klass else code


def destination_category(code: str) -> str:
    klass = code if code in DESTINATIONS else destination_class(code)
    return DESTINATIONS[klass][1] if klass else "not_placed"


def same_destination(code: str, other: str) -> bool:
    """Whether two codes name the same destination: equal, or one is the class of the other."""
    return code == other or destination_class(code) == other or destination_class(other) == code


def education_code_of(text: str) -> str | None:
    text = text.strip()
    if text in EDUCATION_LEVELS:
        return text
    if text.isdigit() and len(text) == 1:
        return None
    return EDUCATION_BY_NAME.get(text)
