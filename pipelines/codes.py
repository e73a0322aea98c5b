"""National code tables: 毕业去向代码 and 学历层次. Synced into the store's ref_ tables."""

from __future__ import annotations

# category feeds 毕业去向落实率 = 单位就业 + 自主创业 + 自由职业 + 升学 (over all graduates).
DESTINATIONS: dict[str, tuple[str, str]] = {
    "10": ("签就业协议形式就业", "employed"),
    "11": ("签劳动合同形式就业", "employed"),
    "12": ("其他录用形式就业", "employed"),
    "27": ("科研助理、管理助理", "employed"),
    "46": ("应征义务兵", "employed"),
    "50": ("国家基层项目", "employed"),
    "502": ("三支一扶", "employed"),
    "503": ("西部计划", "employed"),
    "51": ("地方基层项目", "employed"),
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
DESTINATION_CATEGORY_LABELS = {
    "employed": "单位就业",
    "entrepreneur": "自主创业",
    "freelance": "自由职业",
    "further_study": "升学",
    "not_placed": "未落实",
}
DESTINATION_BY_NAME = {name: code for code, (name, _) in DESTINATIONS.items()}

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
    "博士": "01", "硕士": "11", "研究生": "11", "二学位": "25", "本科": "31", "专科": "41", "高职": "41",
}


def destination_code_of(text: str) -> str | None:
    """A 去向代码 from a code (`10`), a name (`签就业协议形式就业`) or `10 签就业协议形式就业`."""
    text = text.strip()
    head = text.split(" ")[0].split("-")[0]
    if head in DESTINATIONS:
        return head
    return DESTINATION_BY_NAME.get(text) or DESTINATION_BY_NAME.get(text.split(" ")[-1])


def education_code_of(text: str) -> str | None:
    text = text.strip()
    if text in EDUCATION_LEVELS:
        return text
    if text.isdigit() and len(text) == 1:
        return None
    return EDUCATION_BY_NAME.get(text)
