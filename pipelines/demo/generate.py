"""Demo data: a realistic 2024届 campaign of 江西服装学院, reproducible from a seed.

`build_demo` fills an empty store with the seed's campaign (江服就发〔2024〕27号) as it might
look on `as_of`: a roster of graduates in eight colleges, their destinations (毕业去向), archive
registrations with the usual share of mistakes, college and school reviews, returns and
resubmissions, hukou registrations, confirmations and verification reports (核验报告).

How it is built:

* Everything is written through `Store.transaction` and `Writer.insert` / `next_ids` /
  `set_setting`, like any import. The first transaction writes the campaign and colleges,
  reserves the batch id, and refuses a store that already has data; then one transaction per
  chunk of `CHUNK_SIZE` graduates; the last one records the batch and the `as_of` setting.
* Each chunk is generated column-wise with numpy and polars, from its own generator
  `np.random.default_rng([seed, 1, chunk_no])`: no per-graduate Python, and memory stays flat
  however many graduates are asked for (the benchmark goes to millions). Only the small
  reference tables (colleges, classes, units) are built row by row.
* The same `graduates`, `seed` and `as_of` give the same data. Things that must be unique
  across chunks (学号, 身份证号, 核验编号) are numbered by counters carried from chunk to chunk.
* Events follow the clock: submissions, reviews, resubmissions, confirmations and reports are
  generated in order, and anything that would fall after `as_of` has simply not happened yet.
  So the views show a live campaign: some graduates not registered, some pending at college or
  school level, some returned, most approved, many confirmed and verified.
* About 8% of first submissions carry a deliberate mistake of the kind that gets archives sent
  back (no door number, 本人/母亲 as contact, a private company as employer, a postcode of another
  province, no proof). Flags come only from `pipelines.rules.checks.with_flags`; reviewers return
  most flagged forms, and most returned graduates resubmit a corrected revision.

Unit names and addresses are illustrative. ID numbers are valid (GB 11643) but made up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from pipelines import submissions
from pipelines.demo import catalog
from pipelines.rules import checks, identity, verification

# --- the campaign --------------------------------------------------------------------------

DEFAULT_AS_OF = date(2024, 6, 10)  # a week before the seed's deadline

CAMPAIGN: dict[str, Any] = {
    "cohort": 2024,
    "school_name": "江西服装学院",
    "notice_number": "江服就发〔2024〕27号",
    "notice_title": "关于开展2024届毕业生档案信息登记工作的通知",
    "opens_on": date(2024, 4, 15),
    "registration_deadline": date(2024, 6, 17),
    "change_deadline": date(2024, 8, 31),
    "default_graduation_date": date(2024, 6, 30),
    "school_code": "10001",  # the 院校代码 the seed's 核验编号 carry (241000186KCVW56)
    "school_province": "江西省",  # EMS inside the province, 机要 outside (rules/dispatch.py)
}

REGISTERED_SHARE = 0.88  # of graduates, registered by a week before the deadline …
FULL_SHARE_DAYS_BEFORE_DEADLINE = 7  # … and proportionally fewer earlier in the campaign
LATE_SHARE = 0.03  # of registrations, after the deadline (only when as_of is past it)
HUKOU_AT_SCHOOL_SHARE = 0.30
HUKOU_REGISTERED_SHARE = 0.75  # of registered graduates whose hukou is at the school
MISTAKE_SHARE = 0.08  # of first submissions
RESUBMIT_SHARE = 0.80  # of returned revisions
SLOW_REVIEW_SHARE = 0.08  # of submissions, reviewed by the college only after 3-8 days
CONFIRM_SHARE = 0.70  # of approved graduates (some fall after as_of)
NEEDS_UPDATE_SHARE = 0.05  # of confirmations
REPORT_SHARE = 0.60  # of confirmed graduates (some fall after as_of)
SOURCE = "demo"

DAY = 86_400
HOUR = 3_600
_EPOCH = datetime(1970, 1, 1)

# --- identity numbers ------------------------------------------------------------------------

_BIRTH_FIRST = date(2000, 1, 1)
_BIRTH_DAYS = (date(2004, 1, 1) - _BIRTH_FIRST).days  # born 2000-2003
_ID_SLOTS = _BIRTH_DAYS * 500  # birth days x sequence numbers of one sex

FORM_COLUMNS = [c for c in submissions.REGISTRATION_CONTENT if c != "transfer_number"]  # a form's fields


# =============================================================================================
# small helpers
# =============================================================================================


def _seconds(moment: date | datetime) -> int:
    """Seconds since 1970 of a naive local time (a date means its midnight)."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, datetime.min.time())
    return int((moment - _EPOCH).total_seconds())


def _day_number(day: date) -> int:
    return (day - _EPOCH.date()).days


def _timestamps(name: str, seconds: np.ndarray, present: np.ndarray | None = None) -> pl.Series:
    """Seconds since 1970 as a timestamp column; rows where `present` is False are null."""
    series = pl.from_epoch(pl.Series(name, seconds, dtype=pl.Int64), time_unit="s").alias(name)
    if present is not None:
        series = series.scatter(np.flatnonzero(~present), None)
    return series


def _dates(name: str, days: np.ndarray, present: np.ndarray | None = None) -> pl.Series:
    """Days since 1970 as a date column; rows where `present` is False are null."""
    series = pl.Series(name, days.astype(np.int32)).cast(pl.Date)
    if present is not None:
        series = series.scatter(np.flatnonzero(~present), None)
    return series


def _keys(name: str, keys: np.ndarray) -> pl.Series:
    """Local row keys as a column; -1 (none) becomes null."""
    return pl.Series(name, keys, dtype=pl.Int64).scatter(np.flatnonzero(keys < 0), None)


def _take(values: Sequence[str] | pl.Series, index: np.ndarray) -> pl.Series:
    """values[index] as a string column."""
    series = values if isinstance(values, pl.Series) else pl.Series(list(values), dtype=pl.String)
    return series.gather(index)


def _probabilities(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return p / p.sum()


def _choose(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """n indices drawn with the given relative weights."""
    p = _probabilities(weights)
    return rng.choice(p.size, size=n, p=p)


def _choose_by_group(rng: np.random.Generator, table: np.ndarray, group: np.ndarray) -> np.ndarray:
    """For each row, an index drawn from its own distribution: the weights `table[group]`."""
    cumulative = np.cumsum(table, axis=1)
    cumulative = cumulative / cumulative[:, -1:]
    u = rng.random(group.size)
    return (u[:, None] >= cumulative[group]).sum(axis=1)


def _uniform_in_groups(rng: np.random.Generator, first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """For each row, a uniform index in [first, first + count) (per-row arrays)."""
    return first + np.minimum((rng.random(first.size) * count).astype(np.int64), count - 1)


def _pick_in(rng: np.random.Generator, options: dict[str, tuple[str, ...]], keys: np.ndarray) -> pl.Series:
    """For each row, one of `options[key]`, uniformly."""
    names = tuple(options)
    flat = [option for name in names for option in options[name]]
    start = np.cumsum([0] + [len(options[name]) for name in names])
    group = _index_of(keys, names)
    return _take(flat, _uniform_in_groups(rng, start[group], start[group + 1] - start[group]))


def _index_of(values: np.ndarray, options: Sequence[str]) -> np.ndarray:
    """Positions of `values` in `options` (every value must be one of them)."""
    options_array = np.asarray(options)
    order = np.argsort(options_array)
    return order[np.searchsorted(options_array, values, sorter=order)]


def _running_rank(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Each row's 0-based number among rows with its key, counting on from earlier chunks.

    `counters` has one slot per key and is advanced in place.
    """
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    first = np.searchsorted(sorted_keys, sorted_keys, side="left")
    rank = np.empty(keys.size, dtype=np.int64)
    rank[order] = np.arange(keys.size) - first
    result = counters[keys] + rank
    counters += np.bincount(keys, minlength=counters.size)
    return result


def _digits(values: np.ndarray, width: int) -> pl.Series:
    """Non-negative integers as zero-padded text."""
    return pl.Series(values.astype(np.int64)).cast(pl.String).str.zfill(width)


def _joined(*parts: pl.Series | str) -> pl.Series:
    """Row-wise concatenation of string columns and literals."""
    columns = {f"c{i}": p for i, p in enumerate(parts) if isinstance(p, pl.Series)}
    exprs = [pl.col(f"c{i}") if isinstance(p, pl.Series) else pl.lit(p) for i, p in enumerate(parts)]
    return pl.DataFrame(columns).select(pl.concat_str(exprs)).to_series()


def _mobiles(rng: np.random.Generator, n: int) -> pl.Series:
    """Mobile numbers: 1, a second digit 3-9 weighted like the carriers' ranges, nine digits."""
    second = np.array([3, 4, 5, 6, 7, 8, 9])[_choose(rng, (30, 2, 25, 3, 8, 25, 7), n)]
    return _joined("1", _digits(second, 1), _digits(rng.integers(0, 10**9, n), 9))


def _street_addresses(rng: np.random.Generator, n: int) -> pl.Series:
    """Invented addresses with door numbers: 人民路128号, 振兴大道66号3栋502室."""
    street = _take(catalog.STREETS, rng.integers(len(catalog.STREETS), size=n))
    number = _digits(rng.integers(1, 900, n), 1)
    building = _digits(rng.integers(1, 9, n), 1)
    room = _digits(rng.integers(1, 9, n) * 100 + rng.integers(1, 9, n), 3)
    long_form = _joined(street, number, "号", building, "栋", room, "室")
    short_form = _joined(street, number, "号")
    return short_form.zip_with(pl.Series(rng.random(n) < 0.5), long_form)


def _landline(rng: np.random.Generator, area_code: str) -> str:
    return f"{area_code}-{int(rng.integers(2, 9))}{int(rng.integers(0, 10**7)):07d}"


def _person_name(rng: np.random.Generator) -> str:
    """One name, for the few people in the reference tables (班主任)."""
    surnames, weights = zip(*catalog.SURNAMES, strict=True)
    surname = surnames[int(_choose(rng, weights, 1)[0])]
    pool = catalog.FEMALE_CHARS if rng.random() < 0.6 else catalog.MALE_CHARS
    size = 1 if rng.random() < catalog.SINGLE_CHAR_SHARE else 2
    return surname + "".join(pool[int(i)] for i in rng.integers(len(pool), size=size))


# when people act, by hour of the day: graduates late into the evening, reviewers at the office
GRADUATE_HOURS = (1, 0.5, 0.2, 0.1, 0.1, 0.2, 0.5, 1, 3, 5, 6, 5, 3, 3, 5, 6, 6, 4, 3, 4, 6, 7, 6, 3)
OFFICE_HOURS = (0, 0, 0, 0, 0, 0, 0, 0.2, 3, 6, 6, 5, 1, 1, 5, 6, 6, 3, 1, 0.5, 0.5, 0.3, 0.1, 0)


def _at_hour(rng: np.random.Generator, day: np.ndarray, hours: Sequence[float]) -> np.ndarray:
    """A moment on each day (days since 1970), at an hour drawn from `hours`."""
    return day * DAY + _choose(rng, hours, day.size) * HOUR + rng.integers(0, HOUR, day.size)


def _later(
    rng: np.random.Generator, after: np.ndarray, low_days: int, high_days: int, hours: Sequence[float] = GRADUATE_HOURS
) -> np.ndarray:
    """A moment low to high calendar days after `after` (same day included), always after it."""
    day = after // DAY + rng.integers(low_days, high_days + 1, after.size)
    moment = _at_hour(rng, day, hours)
    return np.where(moment <= after, moment + DAY, moment)


def _earlier(
    rng: np.random.Generator, before: np.ndarray, low_days: int, high_days: int, hours: Sequence[float] = GRADUATE_HOURS
) -> np.ndarray:
    """A moment low to high calendar days before `before` (same day included), always before."""
    day = before // DAY - rng.integers(low_days, high_days + 1, before.size)
    moment = _at_hour(rng, day, hours)
    return np.where(moment >= before, moment - DAY, moment)


def _location(province: pl.Series, city: pl.Series) -> pl.Series:
    """江西省南昌市, or 北京市 for a municipality."""
    return (
        pl.DataFrame({"p": province, "c": city})
        .select(pl.concat_str("p", pl.when(pl.col("p") == pl.col("c")).then(pl.lit("")).otherwise("c")))
        .to_series()
    )


# =============================================================================================
# reference tables, built once per demo (row by row: they are small)
# =============================================================================================


@dataclass(frozen=True)
class _Catalog:
    """Colleges, majors, classes, origins and receiving units, as arrays the chunks index."""

    colleges: pl.DataFrame  # the colleges table
    college_names: pl.Series
    college_codes: pl.Series
    college_female: np.ndarray
    major_p: np.ndarray
    major_college: np.ndarray
    major_level: np.ndarray  # index into catalog.LEVELS
    major_names: pl.Series
    class_first: np.ndarray  # per major: its first class
    class_count: np.ndarray
    class_names: pl.Series
    advisors: pl.Series
    student_seq_width: int
    # origins (index: position in ORIGINS)
    origin_p: np.ndarray
    origin_codes: pl.Series
    origin_names: pl.Series
    origin_city: np.ndarray  # city id
    origin_place: np.ndarray  # position in catalog.PLACES
    origin_unit: np.ndarray  # the origin's talent service: row of `units`
    region_residue: np.ndarray  # GB 11643 partial residue of the six-digit code
    # places and receiving units
    place_provinces: pl.Series
    place_cities: pl.Series
    place_districts: pl.Series  # where an office in the place is
    place_postcodes: pl.Series
    place_jiangxi: np.ndarray
    units: pl.DataFrame
    unit_city: np.ndarray
    unit_place: np.ndarray
    kind_first: dict[str, int]  # kind -> its first row in `units`
    kind_p: dict[str, np.ndarray]  # kind -> weights of its units
    # identity numbers
    id_multiplier: int
    id_offsets: np.ndarray  # per (origin, sex)
    birth_residue: np.ndarray
    birth_text: pl.Series
    seq_residue: np.ndarray
    # report numbers
    report_multiplier: int
    report_offset: int


ORIGINS: tuple[catalog.Place, ...] = tuple(p for p in catalog.PLACES if p.weight > 0)


def _talent_service_name(rng: np.random.Generator, place: catalog.Place) -> str:
    """The public talent service of an origin: city, district or county level."""
    centre, exchange = "人才服务中心", "人力资源和社会保障局人才交流中心"
    if place.city == place.province:  # municipality
        suffix = "人力资源公共服务中心" if place.code.startswith("11") else centre
        return f"{place.city}{place.district}{suffix}"
    if place.district.endswith(("县", "市")):  # county or county-level city
        return place.district + (centre, exchange)[int(rng.integers(2))]
    if not place.district or rng.random() < 0.5:
        return place.city + (centre, exchange)[int(rng.integers(2))]
    return place.city + place.district + (centre, "就业创业服务中心")[int(rng.integers(2))]


def _classes(
    rng: np.random.Generator,
    graduates: int,
    majors: list[catalog.Major],
    major_p: np.ndarray,
) -> tuple[list[int], list[int], list[str], list[str]]:
    """Classes of each major (服设2001班 …), about 40 graduates each, and their advisors."""
    first: list[int] = []
    count: list[int] = []
    names: list[str] = []
    advisors: list[str] = []
    for major, share in zip(majors, major_p, strict=True):
        classes = int(min(catalog.MAX_CLASSES_PER_MAJOR, max(1, round(graduates * share / catalog.STUDENTS_PER_CLASS))))
        entry = CAMPAIGN["cohort"] - (4 if major.level == "31" else 3)
        first.append(len(names))
        count.append(classes)
        for k in range(1, classes + 1):
            names.append(f"{major.abbrev}{entry % 100:02d}{k:02d}班")
            advisors.append(_person_name(rng))
    return first, count, names, advisors


def _units(rng: np.random.Generator) -> tuple[pl.DataFrame, list[int], dict[str, int], dict[str, np.ndarray]]:
    """Every receiving unit, one row each; and each origin's own talent service."""
    place_index = {p.code: i for i, p in enumerate(catalog.PLACES)}
    city_id = {c: i for i, c in enumerate(sorted({(p.province, p.city) for p in catalog.PLACES}))}
    rows: list[dict[str, Any]] = []

    def add(
        kind: str,
        name: str,
        code: str,
        address: str = "",
        dest_name: str = "",
        dest_group: str = "",
        district: str = "",
    ) -> int:
        place = catalog.PLACES[place_index[code]]
        location = place.province if place.city == place.province else place.province + place.city
        rows.append(
            {
                "kind": kind,
                "unit_name": name,
                "province": place.province,
                "city": place.city,
                "district": district or place.office_district,
                "address_detail": address,
                "postcode": place.postcode,
                "landline": _landline(rng, place.area_code),
                "dest_name": dest_name or name,
                "dest_location": location,
                "dest_group": dest_group,
                "contact_group": catalog.CONTACT_GROUP_OF_TYPE[kind.removesuffix("_31").removesuffix("_41")],
                "city_id": city_id[(place.province, place.city)],
                "place": place_index[code],
            }
        )
        return len(rows) - 1

    kind_first: dict[str, int] = {}
    kind_p: dict[str, np.ndarray] = {}
    kinds: dict[str, list[tuple[str, str, str, str, str, float]]] = {
        "custodian": [(n, c, "", "", "", w) for n, c, w in catalog.CUSTODIANS],
        "employer": [(n, c, "", "", "", w) for n, c, w in catalog.EMPLOYERS],
        "supervisor": [(n, c, "", e, g, w) for n, c, e, g, w in catalog.SUPERVISORS],
        "study_here": [(*catalog.OWN_SCHOOL, "", 1.0)],
        "study_elsewhere_31": [(n, c, a, s, "", w) for n, c, a, s, w in catalog.GRADUATE_SCHOOLS],
        "study_elsewhere_41": [(n, c, a, s, "", w) for n, c, a, s, w in catalog.TOP_UP_SCHOOLS],
    }
    for kind, entries in kinds.items():
        kind_first[kind] = len(rows)
        kind_p[kind] = _probabilities([e[-1] for e in entries])
        for name, code, address, dest_name, dest_group, _weight in entries:
            add(kind, name, code, address, dest_name, dest_group)

    # each origin's public talent service; a city-level one serves all the city's districts
    # (and may be a custodian already listed: one unit, one address)
    origin_units: list[int] = []
    services = {row["unit_name"]: i for i, row in enumerate(rows) if row["kind"] == "custodian"}
    for place in ORIGINS:
        name = _talent_service_name(rng, place)
        if place.district and not name.startswith((place.district, place.city + place.district)):
            if name not in services:
                seat = next((p for p in ORIGINS if p.city == place.city and not p.district), None)
                services[name] = add("origin", name, place.code, district=seat.seat if seat else place.district)
            origin_units.append(services[name])
        else:
            origin_units.append(add("origin", name, place.code))
    units = pl.DataFrame(rows)
    invented = pl.Series(units["address_detail"] == "")
    units = units.with_columns(
        _street_addresses(rng, units.height).zip_with(invented, units["address_detail"]).alias("address_detail")
    )
    return units, origin_units, kind_first, kind_p


def _build_catalog(rng: np.random.Generator, graduates: int) -> _Catalog:
    majors = [m for c in catalog.COLLEGES for m in c.majors]
    major_p = _probabilities([m.weight for m in majors])
    class_first, class_count, class_names, advisors = _classes(rng, graduates, majors, major_p)
    # 学号 number within (college, level): wide enough for the largest college's share
    college_share = max(sum(m.weight for m in c.majors) for c in catalog.COLLEGES) / sum(m.weight for m in majors)
    seq_width = min(7, max(5, len(str(int(graduates * college_share * 1.2) + 1))))

    units, origin_units, kind_first, kind_p = _units(rng)
    city_id = {c: i for i, c in enumerate(sorted({(p.province, p.city) for p in catalog.PLACES}))}
    place_index = {p.code: i for i, p in enumerate(catalog.PLACES)}
    weights = np.array([p.weight for p in ORIGINS])
    jiangxi = np.array([p.province == "江西省" for p in ORIGINS])
    origin_p = np.where(
        jiangxi,
        weights / weights[jiangxi].sum() * catalog.JIANGXI_ORIGIN_SHARE,
        weights / weights[~jiangxi].sum() * (1 - catalog.JIANGXI_ORIGIN_SHARE),
    )

    birth_days = [_BIRTH_FIRST + timedelta(days=d) for d in range(_BIRTH_DAYS)]
    id_multiplier = int(rng.integers(_ID_SLOTS // 3, _ID_SLOTS))
    while math.gcd(id_multiplier, _ID_SLOTS) != 1:
        id_multiplier += 1
    report_multiplier = int(rng.integers(catalog.SERIAL_SPACE // 3, catalog.SERIAL_SPACE))
    while report_multiplier % len(catalog.REPORT_ALPHABET) == 0:
        report_multiplier += 1
    return _Catalog(
        colleges=pl.DataFrame(
            {"college_name": [c.name for c in catalog.COLLEGES], "college_code": [c.code for c in catalog.COLLEGES]}
        ),
        college_names=pl.Series([c.name for c in catalog.COLLEGES]),
        college_codes=pl.Series([c.code for c in catalog.COLLEGES]),
        college_female=np.array([c.female_share for c in catalog.COLLEGES]),
        major_p=major_p,
        major_college=np.array([i for i, c in enumerate(catalog.COLLEGES) for _ in c.majors]),
        major_level=np.array([catalog.LEVELS.index(m.level) for m in majors]),
        major_names=pl.Series([m.name for m in majors]),
        class_first=np.array(class_first),
        class_count=np.array(class_count),
        class_names=pl.Series(class_names),
        advisors=pl.Series(advisors),
        student_seq_width=seq_width,
        origin_p=origin_p,
        origin_codes=pl.Series([p.code for p in ORIGINS]),
        origin_names=pl.Series([p.origin_name for p in ORIGINS]),
        origin_city=np.array([city_id[(p.province, p.city)] for p in ORIGINS]),
        origin_place=np.array([place_index[p.code] for p in ORIGINS]),
        origin_unit=np.array(origin_units),
        region_residue=np.array([identity.id_weighted_residue(p.code + "0" * 11) for p in ORIGINS]),
        place_provinces=pl.Series([p.province for p in catalog.PLACES]),
        place_cities=pl.Series([p.city for p in catalog.PLACES]),
        place_districts=pl.Series([p.office_district for p in catalog.PLACES]),
        place_postcodes=pl.Series([p.postcode for p in catalog.PLACES]),
        place_jiangxi=np.array([p.province == "江西省" for p in catalog.PLACES]),
        units=units,
        unit_city=units["city_id"].to_numpy(),
        unit_place=units["place"].to_numpy(),
        kind_first=kind_first,
        kind_p=kind_p,
        id_multiplier=id_multiplier,
        id_offsets=rng.integers(0, _ID_SLOTS, size=len(ORIGINS) * 2),
        birth_residue=np.array([identity.id_weighted_residue("0" * 6 + f"{d:%Y%m%d}000") for d in birth_days]),
        birth_text=pl.Series([f"{d:%Y%m%d}" for d in birth_days]),
        seq_residue=np.array([identity.id_weighted_residue("0" * 14 + f"{s:03d}") for s in range(1000)]),
        report_multiplier=report_multiplier,
        report_offset=int(rng.integers(0, catalog.SERIAL_SPACE)),
    )


@dataclass
class _Counters:
    """What carries from one chunk to the next, so that numbers stay unique."""

    students: np.ndarray  # per (college, level): 学号
    people: np.ndarray  # per (origin, sex): 身份证号
    reports: int = 0  # 核验编号


@dataclass(frozen=True)
class _Clock:
    """The campaign's moments in seconds since 1970 (local time), and as_of."""

    opens: int
    window_end: int  # end of the last day of ordinary submissions (deadline or as_of)
    late_end: int  # end of as_of when it is past the deadline; else == window_end
    as_of_end: int  # the first second after as_of: nothing happens from here on
    as_of_day: int  # days since 1970
    cap_day: int  # the last validity date a verification report may have
    roster_from: int
    roster_to: int
    registered_share: float  # of graduates, registered by as_of

    @classmethod
    def of(cls, as_of: date) -> _Clock:
        opens: date = CAMPAIGN["opens_on"]
        deadline: date = CAMPAIGN["registration_deadline"]
        window_last = min(as_of, deadline)
        elapsed = (as_of - opens).days + 1
        full_after = (deadline - opens).days + 1 - FULL_SHARE_DAYS_BEFORE_DEADLINE
        cap = verification.latest_valid_until(CAMPAIGN["default_graduation_date"])
        return cls(
            opens=_seconds(opens),
            window_end=_seconds(window_last + timedelta(days=1)),
            late_end=_seconds(max(as_of, window_last) + timedelta(days=1)),
            as_of_end=_seconds(as_of + timedelta(days=1)),
            as_of_day=_day_number(as_of),
            cap_day=_day_number(cap),
            roster_from=_seconds(opens - timedelta(days=45)),
            roster_to=_seconds(opens - timedelta(days=5)),
            registered_share=REGISTERED_SHARE * min(1.0, elapsed / max(1, full_after)),
        )


# =============================================================================================
# one chunk of graduates and everything they did
# =============================================================================================


def _graduates(
    rng: np.random.Generator, cat: _Catalog, counters: _Counters, n: int, clock: _Clock, batch_id: int
) -> pl.DataFrame:
    """Roster rows, plus helper columns (prefixed _) that the other tables need."""
    major = rng.choice(cat.major_p.size, size=n, p=cat.major_p)
    college = cat.major_college[major]
    level = cat.major_level[major]
    klass = _uniform_in_groups(rng, cat.class_first[major], cat.class_count[major])
    female = rng.random(n) < cat.college_female[college]
    origin = rng.choice(cat.origin_p.size, size=n, p=cat.origin_p)

    # 学号: 0 + entry year + college code + the graduate's number within (college, level)
    seq = _running_rank(college * 2 + level, counters.students) + 1
    if seq.max(initial=0) >= 10**cat.student_seq_width:
        raise ValueError("演示数据的毕业生人数过多，学号位数不够")
    entry = np.where(level == 0, CAMPAIGN["cohort"] - 4, CAMPAIGN["cohort"] - 3) % 100

    # 身份证号: origin code, birth date, sequence (odd for men), check character. The graduates
    # of one origin and sex are numbered; a seeded bijection turns the number into a birth date
    # and sequence, so no two graduates share an ID number (below 730,500 per origin and sex).
    sex_key = origin * 2 + female
    person = _running_rank(sex_key, counters.people) % _ID_SLOTS
    slot = (cat.id_multiplier * person + cat.id_offsets[sex_key]) % _ID_SLOTS
    birth = slot // 500
    sequence = (slot % 500) * 2 + np.where(female, 0, 1)
    residue = (cat.region_residue[origin] + cat.birth_residue[birth] + cat.seq_residue[sequence]) % 11

    surnames, surname_weights = zip(*catalog.SURNAMES, strict=True)
    given_pool = catalog.FEMALE_CHARS + catalog.MALE_CHARS

    def given_char() -> np.ndarray:
        female_pick = (rng.random(n) * len(catalog.FEMALE_CHARS)).astype(np.int64)
        male_pick = len(catalog.FEMALE_CHARS) + (rng.random(n) * len(catalog.MALE_CHARS)).astype(np.int64)
        return np.where(female, female_pick, male_pick)

    first_char, second_char = given_char(), given_char()
    single = rng.random(n) < catalog.SINGLE_CHAR_SHARE
    origin_code = cat.origin_codes.gather(origin)
    return pl.DataFrame(
        {
            "student_id": _joined(
                "0", _digits(entry, 2), cat.college_codes.gather(college), _digits(seq, cat.student_seq_width)
            ),
            "cohort": pl.Series([CAMPAIGN["cohort"]] * n, dtype=pl.Int32),
            "name": _joined(
                _take(surnames, _choose(rng, surname_weights, n)),
                _take(given_pool, first_char),
                _take(given_pool, second_char).scatter(np.flatnonzero(single), ""),
            ),
            "gender": pl.Series(np.where(female, "女", "男")),
            "id_number": _joined(
                origin_code,
                cat.birth_text.gather(birth),
                _digits(sequence, 3),
                _take(tuple(identity.ID_CHECK_CHARS), residue),
            ),
            "phone": _mobiles(rng, n),
            "college_name": cat.college_names.gather(college),
            "major": cat.major_names.gather(major),
            "class_name": cat.class_names.gather(klass),
            "advisor": cat.advisors.gather(klass),
            "education_level": _take(catalog.LEVELS, level),
            "graduation_date": pl.Series([CAMPAIGN["default_graduation_date"]] * n, dtype=pl.Date),
            "origin_code": origin_code,
            "origin_name": cat.origin_names.gather(origin),
            "is_hukou_at_school": pl.Series(rng.random(n) < HUKOU_AT_SCHOOL_SHARE),
            "batch_id": pl.Series([batch_id] * n, dtype=pl.Int64),
            "updated_at": _timestamps(
                "updated_at",
                _at_hour(rng, rng.integers(clock.roster_from // DAY, clock.roster_to // DAY, n), OFFICE_HOURS),
            ),
            "_origin": origin,
            "_level": level,
        }
    )


def _submission_times(rng: np.random.Generator, n: int, clock: _Clock) -> np.ndarray:
    """First submissions: a wave when the notice comes out, then a surge toward the deadline."""
    days = max(1, (clock.window_end - clock.opens) // DAY)
    mix = rng.random(n)
    fraction = np.where(
        mix < 0.15,
        np.minimum(rng.exponential(0.05, n), 0.999),
        np.where(mix < 0.40, rng.random(n), rng.power(3.0, n)),
    )
    day = np.minimum((fraction * days).astype(np.int64), days - 1)
    times = _at_hour(rng, clock.opens // DAY + day, GRADUATE_HOURS)
    if clock.late_end > clock.window_end:  # as_of is past the deadline: a few latecomers
        late = rng.random(n) < LATE_SHARE
        times = np.where(late, rng.integers(clock.window_end, clock.late_end, n), times)
    return times


_DEST_GROUPS = tuple(catalog.DEST_MIX)
_DEST_TABLE = np.array([[catalog.DEST_MIX[g].get(c, 0.0) for c in catalog.DEST_CODES] for g in _DEST_GROUPS])
_CHANGE_FROM = tuple(catalog.DEST_CHANGES)
_CHANGE_TABLE = np.array(
    [[1.0 if c in catalog.DEST_CHANGES[f] else 0.0 for c in catalog.DEST_CODES] for f in _CHANGE_FROM]
)
_GRASSROOTS = ("46", "50", "502", "503", "51")


def _origin_note_group(code: str) -> str:
    """Which notes fit a graduate going back to the origin with this destination."""
    if code in _GRASSROOTS:
        return "origin:service"
    if code in catalog.EMPLOYED:
        return "origin:employed"
    if code in catalog.STUDY or code == "85":
        return "origin:further_study"
    return {"75": "origin:entrepreneur", "76": "origin:freelance"}.get(code, "origin:not_placed")


def _company_names(rng: np.random.Generator, city: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A private company named after its city, and a design studio (for 自主创业)."""
    n = city.len()
    short = city.str.strip_suffix("市")
    company = _joined(
        short,
        _take(catalog.BRANDS, rng.integers(len(catalog.BRANDS), size=n)),
        _take(catalog.INDUSTRIES, rng.integers(len(catalog.INDUSTRIES), size=n)),
        _take(("有限公司", "有限公司", "有限责任公司"), rng.integers(3, size=n)),
    )
    studio = _joined(short, _take(catalog.BRANDS, rng.integers(len(catalog.BRANDS), size=n)), "服装设计工作室")
    return company, studio


def _forms(rng: np.random.Generator, cat: _Catalog, people: pl.DataFrame) -> pl.DataFrame:
    """Each registered graduate's correct form, plus the destination and employer it goes with."""
    n = people.height
    level = people["_level"].to_numpy()
    origin = people["_origin"].to_numpy()
    types = np.array(catalog.TYPES)[
        _choose_by_group(rng, np.array([catalog.TYPE_MIX[lv] for lv in catalog.LEVELS]), level)
    ]

    def pick(kind: str) -> np.ndarray:
        return cat.kind_first[kind] + _choose(rng, cat.kind_p[kind], n)

    # custodians (托管) are never in the origin's own city: take the next one in the list
    custodian = pick("custodian")
    first, size = cat.kind_first["custodian"], cat.kind_p["custodian"].size
    for _ in range(3):
        same_city = cat.unit_city[custodian] == cat.origin_city[origin]
        custodian = np.where(same_city, first + (custodian - first + 1) % size, custodian)
    unit = np.select(
        [
            types == "origin",
            types == "employer",
            types == "custodian",
            types == "supervisor",
            types == "study_here",
            level == 0,
        ],
        [
            cat.origin_unit[origin],
            pick("employer"),
            custodian,
            pick("supervisor"),
            np.full(n, cat.kind_first["study_here"]),
            pick("study_elsewhere_31"),
        ],
        pick("study_elsewhere_41"),
    )
    units = cat.units[unit]

    # the destination that goes with the type (study: by level; supervisor: by unit)
    study = np.char.startswith(types, "study")
    group = np.where(study, np.char.add(np.char.add(types, "_"), np.array(catalog.LEVELS)[level]), types)
    group = np.where(types == "supervisor", units["dest_group"].to_numpy().astype(str), group)
    code = np.array(catalog.DEST_CODES)[_choose_by_group(rng, _DEST_TABLE, _index_of(group, _DEST_GROUPS))]

    # contact, phone, proof images and note
    contact = _pick_in(rng, catalog.CONTACTS, units["contact_group"].to_numpy().astype(str))
    mobile = pl.Series(rng.random(n) < 0.25)
    proof = np.where(types == "origin", 0, _choose(rng, (50, 35, 15), n) + 1)
    note_group = np.array([_origin_note_group(c) for c in catalog.DEST_CODES])[_index_of(code, catalog.DEST_CODES)]
    note = _pick_in(rng, catalog.NOTES, np.where(types == "origin", note_group, types))

    # a private employer: in the custodian's city, or (for origin types, half of them) at home
    home = (types == "origin") & (rng.random(n) < 0.5)
    company_place = np.where(home, cat.origin_place[origin], cat.unit_place[custodian])
    company_city = cat.place_cities.gather(company_place)
    company, studio = _company_names(rng, company_city)
    own_unit = np.isin(types, ["employer", "supervisor", "study_here", "study_elsewhere"])
    return pl.DataFrame(
        {
            "transfer_type": pl.Series(types),
            "unit_name": units["unit_name"],
            "province": units["province"],
            "city": units["city"],
            "district": units["district"],
            "address_detail": units["address_detail"],
            "postcode": units["postcode"],
            "contact": contact,
            "phone": _mobiles(rng, n).zip_with(mobile, units["landline"]),
            "note": note,
            "proof_count": pl.Series(proof, dtype=pl.Int32),
            "_code": pl.Series(code),
            "_own_name": units["dest_name"].scatter(np.flatnonzero(~own_unit), None),
            "_own_location": units["dest_location"].scatter(np.flatnonzero(~own_unit), None),
            "_company": company,
            "_studio": studio,
            "_company_location": _location(cat.place_provinces.gather(company_place), company_city),
            "_company_province": cat.place_provinces.gather(company_place),
            "_company_city": company_city,
            "_company_district": cat.place_districts.gather(company_place),
            "_company_postcode": cat.place_postcodes.gather(company_place),
        }
    )


def _with_mistakes(rng: np.random.Generator, cat: _Catalog, forms: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """First submissions: the correct forms, about 8% with a mistake that gets archives returned."""
    n = forms.height
    types = forms["transfer_type"].to_numpy().astype(str)
    kind = np.array(catalog.MISTAKES)[_choose(rng, catalog.MISTAKE_WEIGHTS, n)]
    code = forms["_code"].to_numpy().astype(str)
    at_private_firm = (types == "origin") & np.isin(code, ["10", "11", "12"])
    works_privately = (types == "custodian") | at_private_firm
    kind = np.where((kind == "private_employer") & ~works_privately, "address", kind)
    kind = np.where((kind == "proof") & (types == "origin"), "address", kind)
    kind = np.where(rng.random(n) < MISTAKE_SHARE, kind, "")

    vague = _joined(
        _take(catalog.STREETS, rng.integers(len(catalog.STREETS), size=n)),
        _take(catalog.VAGUE_ADDRESS_ENDINGS, rng.integers(len(catalog.VAGUE_ADDRESS_ENDINGS), size=n)),
    )
    family = _take(catalog.FAMILY_CONTACTS, rng.integers(len(catalog.FAMILY_CONTACTS), size=n))
    # a postcode of another province
    jiangxi, elsewhere = np.flatnonzero(cat.place_jiangxi), np.flatnonzero(~cat.place_jiangxi)
    wrong_place = np.where(
        (forms["province"] == "江西省").to_numpy(),
        elsewhere[rng.integers(elsewhere.size, size=n)],
        jiangxi[rng.integers(jiangxi.size, size=n)],
    )
    is_kind = {k: pl.Series(kind == k) for k in catalog.MISTAKES}
    own_name = people["name"]
    family = family.zip_with(family != "", own_name)
    return forms.with_columns(
        pl.when(is_kind["private_employer"]).then(pl.lit("employer")).otherwise("transfer_type").alias("transfer_type"),
        pl.when(is_kind["private_employer"]).then("_company").otherwise("unit_name").alias("unit_name"),
        pl.when(is_kind["address"])
        .then(vague)
        .when(is_kind["private_employer"])
        .then(_street_addresses(rng, n))
        .otherwise("address_detail")
        .alias("address_detail"),
        pl.when(is_kind["postcode"])
        .then(cat.place_postcodes.gather(wrong_place))
        .when(is_kind["private_employer"])
        .then("_company_postcode")
        .otherwise("postcode")
        .alias("postcode"),
        *[
            pl.when(is_kind["private_employer"]).then(f"_company_{part}").otherwise(part).alias(part)
            for part in ("province", "city", "district")
        ],
        pl.when(is_kind["contact"])
        .then(family)
        .when(is_kind["private_employer"])
        .then(pl.lit("人力资源部"))
        .otherwise("contact")
        .alias("contact"),
        pl.when(is_kind["contact"] & ((family == "本人") | (family == own_name)))
        .then(people["phone"])
        .when(is_kind["private_employer"])
        .then(_mobiles(rng, n))
        .otherwise("phone")
        .alias("phone"),
        pl.when(is_kind["proof"])
        .then(pl.lit(0, dtype=pl.Int32))
        .when(is_kind["private_employer"])
        .then(pl.max_horizontal("proof_count", 1))
        .otherwise("proof_count")
        .alias("proof_count"),
    )


def _destinations(
    rng: np.random.Generator,
    rows: pl.DataFrame,
    clock: _Clock,
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """First destinations (one per row of `rows`) and, for some, a changed one later.

    `rows`: _gkey, _code, _at, _own_name, _own_location (the receiving unit where it is also the
    employer or school), _company, _studio, _company_location. Returns the destination rows
    (their local key is the row number) and, per input row, the key and time of the second
    revision (-1: none).
    """
    n = rows.height
    foreign = rng.integers(len(catalog.FOREIGN_SCHOOLS), size=n)
    code = pl.col("_code")
    own = pl.col("_own_name").is_not_null() & (code.is_in(list(catalog.EMPLOYED)) | code.is_in(list(catalog.STUDY)))
    employer = rows.with_columns(
        _take([f for f, _ in catalog.FOREIGN_SCHOOLS], foreign).alias("_foreign"),
        _take([loc for _, loc in catalog.FOREIGN_SCHOOLS], foreign).alias("_foreign_location"),
    ).select(
        pl.when(own)
        .then("_own_name")
        .when(code.is_in(_GRASSROOTS))
        .then(None)
        .when(code.is_in(list(catalog.EMPLOYED)))
        .then("_company")
        .when(code == "75")
        .then("_studio")
        .when(code == "85")
        .then("_foreign")
        .alias("employer_name"),
        pl.when(own)
        .then("_own_location")
        .when(code.is_in(_GRASSROOTS))
        .then(None)
        .when(code.is_in(list(catalog.EMPLOYED)) | (code == "75"))
        .then("_company_location")
        .when(code == "85")
        .then("_foreign_location")
        .alias("employer_location"),
    )
    first = pl.DataFrame(
        {
            "_gkey": rows["_gkey"],
            "destination_code": rows["_code"],
            "employer_name": employer["employer_name"],
            "employer_location": employer["employer_location"],
            "_at": rows["_at"],
        }
    )

    # some move on: 待就业 finds a job, 其他录用 signs an agreement, …
    codes = rows["_code"].to_numpy().astype(str)
    changeable = np.isin(codes, _CHANGE_FROM)
    from_index = np.where(changeable, _index_of(np.where(changeable, codes, _CHANGE_FROM[0]), _CHANGE_FROM), 0)
    new_code = np.array(catalog.DEST_CODES)[_choose_by_group(rng, _CHANGE_TABLE, from_index)]
    second_at = _later(rng, rows["_at"].to_numpy(), 2, 40)
    changed = np.flatnonzero(changeable & (rng.random(n) < catalog.DEST_CHANGE_SHARE) & (second_at < clock.as_of_end))
    new_employed = pl.Series(np.isin(new_code[changed], list(catalog.EMPLOYED)))
    before = pl.concat([first, rows.select("_company", "_company_location")], how="horizontal")[changed]
    second = pl.DataFrame(
        {
            "_gkey": before["_gkey"],
            "destination_code": pl.Series(new_code[changed], dtype=pl.String),
            "employer_name": before["employer_name"]
            .fill_null(before["_company"])
            .zip_with(new_employed, pl.Series([None] * changed.size, dtype=pl.String)),
            "employer_location": before["employer_location"]
            .fill_null(before["_company_location"])
            .zip_with(new_employed, pl.Series([None] * changed.size, dtype=pl.String)),
            "_at": second_at[changed],
        }
    )
    second_key = np.full(n, -1, dtype=np.int64)
    second_key[changed] = n + np.arange(changed.size)
    second_time = np.full(n, -1, dtype=np.int64)
    second_time[changed] = second_at[changed]
    return pl.concat([first, second]), second_key, second_time


@dataclass
class _Reviewed:
    """The revisions of one chunk and their reviews, and where each graduate ended up."""

    registrations: pl.DataFrame  # local key = row number
    reviews: pl.DataFrame  # _rkey
    current: np.ndarray  # per registered graduate: key of the latest revision
    approved_at: np.ndarray  # per registered graduate: school approval of it, or -1


def _review_decisions(
    rng: np.random.Generator, submitted: np.ndarray, flagged: np.ndarray, clock: _Clock
) -> dict[str, np.ndarray]:
    """When the college and the school decide, and what; nothing happens after as_of."""
    n = submitted.size
    # within five days of submission: the college in 0-2 days, the school 0-2 days after it
    college_at = _later(rng, submitted, 0, 2, OFFICE_HOURS)
    # some reviewers fall behind: their forms wait 3-8 days (the risk page's 待审核超过 3 天)
    slow = rng.random(n) < SLOW_REVIEW_SHARE
    college_at = np.where(slow, _later(rng, submitted, 3, 8, OFFICE_HOURS), college_at)
    school_at = _later(rng, college_at, 0, 2, OFFICE_HOURS)
    college_chance = np.where(flagged, catalog.RETURN_CHANCE[True][0], catalog.RETURN_CHANCE[False][0])
    school_chance = np.where(flagged, catalog.RETURN_CHANCE[True][1], catalog.RETURN_CHANCE[False][1])
    college_done = college_at < clock.as_of_end
    college_return = college_done & (rng.random(n) < college_chance)
    school_done = college_done & ~college_return & (school_at < clock.as_of_end)
    school_return = school_done & (rng.random(n) < school_chance)
    return {
        "college_at": college_at,
        "college_done": college_done,
        "college_return": college_return,
        "school_at": school_at,
        "school_done": school_done,
        "school_return": school_return,
        "returned_at": np.where(college_return, college_at, np.where(school_return, school_at, -1)),
        "approved_at": np.where(school_done & ~school_return, school_at, -1),
    }


def _registrations(
    rng: np.random.Generator,
    people: pl.DataFrame,
    clean: pl.DataFrame,
    first: pl.DataFrame,
    submitted: np.ndarray,
    clock: _Clock,
    batch_id: int,
) -> _Reviewed:
    """Revisions and reviews, round by round: submit, review, return, resubmit corrected."""
    n = people.height
    current = np.full(n, -1, dtype=np.int64)
    approved_at = np.full(n, -1, dtype=np.int64)
    revisions: list[pl.DataFrame] = []
    reviews: list[pl.DataFrame] = []
    who = np.arange(n)  # registered graduates submitting in this round
    forms = first
    key = 0
    for revision_no in range(1, catalog.MAX_REVISIONS + 1):
        graduate = people[who]
        flagged = checks.with_flags(
            forms.select(FORM_COLUMNS).with_columns(
                graduate["name"].alias("graduate_name"),
                graduate["phone"].alias("graduate_phone"),
                graduate["origin_code"],
            )
        )
        keys = key + np.arange(who.size)
        key += who.size
        current[who] = keys
        revisions.append(
            flagged.drop("graduate_name", "graduate_phone", "origin_code").with_columns(
                graduate["student_id"],
                pl.lit(revision_no, dtype=pl.Int32).alias("revision_no"),
                _timestamps("submitted_at", submitted),
                pl.lit(SOURCE).alias("source"),
                pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
            )
        )
        has_flags = (flagged["flags"].list.len() > 0).to_numpy()
        d = _review_decisions(rng, submitted, has_flags, clock)
        approved_at[who] = d["approved_at"]

        types = forms["transfer_type"].to_numpy().astype(str)
        study = np.char.startswith(types, "study")
        generic = _pick_in(
            rng, catalog.OTHER_RETURN_REASONS, np.where(types == "origin", "origin", np.where(study, "study", "proof"))
        )
        reason = (
            flagged["flags"]
            .list.first()
            .replace_strict(catalog.RETURN_REASONS, default=None, return_dtype=pl.String)
            .fill_null(generic)
        )
        college_reviewer = _joined(graduate["college_name"], "审核员")
        for level, done, returned, at, reviewer in (
            ("college", d["college_done"], d["college_return"], d["college_at"], college_reviewer),
            (
                "school",
                d["school_done"],
                d["school_return"],
                d["school_at"],
                pl.Series([catalog.SCHOOL_REVIEWER] * who.size),
            ),
        ):
            rows = np.flatnonzero(done)
            reviews.append(
                pl.DataFrame(
                    {
                        "_rkey": keys[rows],
                        "level": pl.Series([level] * rows.size, dtype=pl.String),
                        "decision": pl.Series(np.where(returned[rows], "return", "approve"), dtype=pl.String),
                        "reason": reason[rows].zip_with(
                            pl.Series(returned[rows]), pl.Series([None] * rows.size, dtype=pl.String)
                        ),
                        "reviewer": reviewer[rows],
                        "decided_at": _timestamps("decided_at", at[rows]),
                        "batch_id": pl.Series([batch_id] * rows.size, dtype=pl.Int64),
                    }
                )
            )

        # most returned graduates correct the form and submit again
        resubmitted = _later(rng, d["returned_at"], 0, 3)
        again = (d["returned_at"] >= 0) & (rng.random(who.size) < RESUBMIT_SHARE) & (resubmitted < clock.as_of_end)
        who, submitted = who[again], resubmitted[again]
        if who.size == 0:
            break
        forms = clean[who].with_columns(pl.col("note") + catalog.RESUBMIT_NOTE)
    return _Reviewed(pl.concat(revisions), pl.concat(reviews), current, approved_at)


def _hukou(
    rng: np.random.Generator,
    people: pl.DataFrame,
    clean: pl.DataFrame,
    submitted: np.ndarray,
    clock: _Clock,
    batch_id: int,
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Hukou registrations of graduates whose hukou is at the school: it follows the archive.

    Returns the rows (local key = row number) and, per registered graduate, key and time (-1).
    """
    n = people.height
    at = _later(rng, submitted, 0, 3)
    chosen = np.flatnonzero(
        people["is_hukou_at_school"].to_numpy() & (rng.random(n) < HUKOU_REGISTERED_SHARE) & (at < clock.as_of_end)
    )
    form = clean[chosen]
    rows = pl.DataFrame(
        {
            "student_id": people["student_id"][chosen],
            "migration_type": form["transfer_type"],
            "province": form["province"],
            "city": form["city"],
            "district": form["district"],
            "address_detail": form["address_detail"],
            "recorded_at": _timestamps("recorded_at", at[chosen]),
            "batch_id": pl.Series([batch_id] * chosen.size, dtype=pl.Int64),
        }
    )
    key = np.full(n, -1, dtype=np.int64)
    key[chosen] = np.arange(chosen.size)
    return rows, key, np.where(key >= 0, at, -1)


def _confirmations(
    rng: np.random.Generator,
    people: pl.DataFrame,
    reviewed: _Reviewed,
    destination: dict[str, np.ndarray],
    hukou_key: np.ndarray,
    hukou_at: np.ndarray,
    clock: _Clock,
    batch_id: int,
) -> pl.DataFrame:
    """Approved graduates confirm (去向登记确认) what is current at that moment."""
    n = people.height
    at = _later(rng, reviewed.approved_at, 0, 6)
    chosen = (reviewed.approved_at >= 0) & (rng.random(n) < CONFIRM_SHARE) & (at < clock.as_of_end)
    # the snapshot: the destination and hukou revisions current at confirmation
    second_current = (destination["second_key"] >= 0) & (destination["second_at"] <= at)
    first_current = (destination["first_key"] >= 0) & (destination["first_at"] <= at)
    dest_key = np.where(
        second_current, destination["second_key"], np.where(first_current, destination["first_key"], -1)
    )
    hukou = np.where((hukou_key >= 0) & (hukou_at <= at), hukou_key, -1)
    rows = np.flatnonzero(chosen)
    answer = np.where(rng.random(rows.size) < NEEDS_UPDATE_SHARE, "needs_update", "confirmed")
    return pl.DataFrame(
        {
            "student_id": people["student_id"][rows],
            "answer": pl.Series(answer, dtype=pl.String),
            "confirmed_at": _timestamps("confirmed_at", at[rows]),
            "_rkey": _keys("_rkey", reviewed.current[rows]),
            "_dkey": _keys("_dkey", dest_key[rows]),
            "_hkey": _keys("_hkey", hukou[rows]),
            "batch_id": pl.Series([batch_id] * rows.size, dtype=pl.Int64),
        }
    )


def _report_numbers(rng: np.random.Generator, cat: _Catalog, serial: np.ndarray) -> pl.Series:
    """核验编号: cohort's last two digits + the 院校代码 + 8 characters without 0/O/1/I/L.

    Six characters encode a seeded bijection of the report's serial number, so numbers never
    repeat; two are random. (The real issuing code draws them from `secrets`.)
    """
    if serial.size and int(serial.max()) >= 2**28:
        raise ValueError("演示数据的核验报告过多")
    base = len(catalog.REPORT_ALPHABET)
    value = (cat.report_multiplier * serial + cat.report_offset) % catalog.SERIAL_SPACE
    digits = np.empty((serial.size, catalog.REPORT_CHARS), dtype=np.int64)
    for position in reversed(catalog.SERIAL_POSITIONS):
        digits[:, position] = value % base
        value //= base
    random_positions = list(catalog.RANDOM_POSITIONS)
    digits[:, random_positions] = rng.integers(0, base, (serial.size, len(random_positions)))
    letters = np.frombuffer(catalog.REPORT_ALPHABET.encode("ascii"), dtype=np.uint8)[digits]
    width = catalog.REPORT_CHARS
    text = np.ascontiguousarray(letters).view(f"S{width}").ravel().astype(f"U{width}")
    return _joined(f"{CAMPAIGN['cohort'] % 100:02d}{CAMPAIGN['school_code']}", pl.Series(text, dtype=pl.String))


def _transfer_numbers(student_ids: pl.Series) -> pl.Series:
    """转递编号, one per graduate (every revision keeps it): cohort + 院校代码 + 11 characters
    from a hash of the 学号 (31^11 ≈ 2.5e16 values: no clash among a demo's graduates)."""
    base = len(catalog.REPORT_ALPHABET)
    value = student_ids.hash(seed=2024).to_numpy().astype(np.uint64) % np.uint64(base**catalog.TRANSFER_CHARS)
    digits = np.empty((value.size, catalog.TRANSFER_CHARS), dtype=np.int64)
    for position in reversed(range(catalog.TRANSFER_CHARS)):
        digits[:, position] = (value % np.uint64(base)).astype(np.int64)
        value //= np.uint64(base)
    letters = np.frombuffer(catalog.REPORT_ALPHABET.encode("ascii"), dtype=np.uint8)[digits]
    width = catalog.TRANSFER_CHARS
    text = np.ascontiguousarray(letters).view(f"S{width}").ravel().astype(f"U{width}")
    return _joined(f"{CAMPAIGN['cohort'] % 100:02d}{CAMPAIGN['school_code']}", pl.Series(text, dtype=pl.String))


def _reports(
    rng: np.random.Generator, cat: _Catalog, counters: _Counters, confirmations: pl.DataFrame, clock: _Clock
) -> pl.DataFrame:
    """Verification reports (archive, and hukou where registered) for some confirmed graduates."""
    confirmed_at = confirmations["confirmed_at"].dt.epoch("s").to_numpy()
    issued = _later(rng, confirmed_at, 0, 3)
    chosen = np.flatnonzero(
        (confirmations["answer"] == "confirmed").to_numpy()
        & (rng.random(confirmations.height) < REPORT_SHARE)
        & (issued < clock.as_of_end)
    )
    with_hukou = chosen[confirmations["_hkey"].is_not_null().to_numpy()[chosen]]
    which = np.concatenate([chosen, with_hukou])
    kind = np.array(["archive"] * chosen.size + ["hukou"] * with_hukou.size)
    m = which.size
    issued_at = issued[which]
    issued_day = issued_at // DAY

    # 有效期: mostly from as_of + 10 days to the cap; some not set, expired or closed
    state = rng.random(m)
    unset = state < catalog.UNSET_SHARE
    low = np.maximum(min(clock.as_of_day + 10, clock.cap_day), issued_day)
    valid = np.minimum(low + (rng.random(m) * (clock.cap_day - low + 1)).astype(np.int64), clock.cap_day)
    can_expire = issued_day < clock.as_of_day
    expired = ~unset & (state < catalog.UNSET_SHARE + catalog.EXPIRED_SHARE) & can_expire
    expired_day = issued_day + (rng.random(m) * (clock.as_of_day - issued_day)).astype(np.int64)
    valid = np.where(expired, expired_day, valid)
    closed = ~unset & (rng.random(m) < catalog.CLOSED_SHARE)
    closed_at = issued_at + (rng.random(m) * (clock.as_of_end - issued_at)).astype(np.int64)

    serial = counters.reports + np.arange(m, dtype=np.int64)
    counters.reports += m
    return pl.DataFrame(
        {
            "student_id": confirmations["student_id"][which],
            "kind": pl.Series(kind, dtype=pl.String),
            "report_number": _report_numbers(rng, cat, serial),
            "_ckey": pl.Series(which, dtype=pl.Int64),
            "issued_at": _timestamps("issued_at", issued_at),
            "valid_until": _dates("valid_until", valid, ~unset),
            "closed_at": _timestamps("closed_at", closed_at, closed),
            "issued_by": pl.Series([SOURCE] * m, dtype=pl.String),
        }
    )


@dataclass
class _Chunk:
    """One chunk's rows, keyed locally; ids are attached when it is written."""

    graduates: pl.DataFrame
    destinations: pl.DataFrame  # key: row number
    registrations: pl.DataFrame  # key: row number
    reviews: pl.DataFrame  # _rkey
    hukou: pl.DataFrame  # key: row number
    confirmations: pl.DataFrame  # key: row number; _rkey, _dkey, _hkey
    reports: pl.DataFrame  # _ckey


def _plan_chunk(
    rng: np.random.Generator, cat: _Catalog, counters: _Counters, n: int, clock: _Clock, batch_id: int
) -> _Chunk:
    graduates = _graduates(rng, cat, counters, n, clock, batch_id)
    registered = np.flatnonzero(rng.random(n) < clock.registered_share)
    people = graduates[registered]
    clean = _forms(rng, cat, people)
    submitted = _submission_times(rng, people.height, clock)

    # destinations: registered graduates recorded one before submitting; most others have one
    others = np.setdiff1d(np.arange(n), registered)
    others = others[rng.random(others.size) >= catalog.UNREGISTERED_WITHOUT_DESTINATION]
    other_origin = graduates["_origin"].to_numpy()[others]
    other_city = cat.place_cities.gather(cat.origin_place[other_origin])
    other_company, other_studio = _company_names(rng, other_city)
    unregistered = _index_of(np.array(["unregistered"] * others.size), _DEST_GROUPS)
    before_submitting = _earlier(rng, submitted, 0, 20)
    rows = pl.concat(
        [
            clean.select(
                pl.Series("_gkey", registered),
                "_code",
                pl.Series("_at", before_submitting),
                "_own_name",
                "_own_location",
                "_company",
                "_studio",
                "_company_location",
            ),
            pl.DataFrame(
                {
                    "_gkey": others,
                    "_code": pl.Series(np.array(catalog.DEST_CODES)[_choose_by_group(rng, _DEST_TABLE, unregistered)]),
                    "_at": _at_hour(
                        rng, rng.integers(clock.opens // DAY - 30, clock.as_of_end // DAY, others.size), GRADUATE_HOURS
                    ),
                    "_own_name": pl.Series([None] * others.size, dtype=pl.String),
                    "_own_location": pl.Series([None] * others.size, dtype=pl.String),
                    "_company": other_company,
                    "_studio": other_studio,
                    "_company_location": _location(
                        cat.place_provinces.gather(cat.origin_place[other_origin]), other_city
                    ),
                }
            ),
        ]
    )
    destinations, second_key, second_at = _destinations(rng, rows, clock)
    first_at = rows["_at"].to_numpy()
    destination = {  # per registered graduate (the first rows are theirs, in order)
        "first_key": np.arange(people.height),
        "first_at": first_at[: people.height],
        "second_key": second_key[: people.height],
        "second_at": second_at[: people.height],
    }

    first = _with_mistakes(rng, cat, clean, people)
    reviewed = _registrations(rng, people, clean, first, submitted, clock, batch_id)
    hukou, hukou_key, hukou_at = _hukou(rng, people, clean, submitted, clock, batch_id)
    confirmations = _confirmations(rng, people, reviewed, destination, hukou_key, hukou_at, clock, batch_id)
    reports = _reports(rng, cat, counters, confirmations, clock)
    return _Chunk(
        graduates=graduates,
        destinations=destinations.with_columns(
            graduates["student_id"].gather(destinations["_gkey"]),
            _timestamps("recorded_at", destinations["_at"].to_numpy()),
            pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
        ),
        registrations=reviewed.registrations,
        reviews=reviewed.reviews,
        hukou=hukou,
        confirmations=confirmations,
        reports=reports,
    )


# =============================================================================================
# writing
# =============================================================================================
