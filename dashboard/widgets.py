"""Shared widgets: the URL-backed filter bar, campaign header, KPI cards and a pager."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import polars as pl
import streamlit as st

from dashboard import auth, data, display
from dashboard.text import plain
from pipelines import access, selfservice, submissions
from pipelines.accounts import User
from pipelines.rules import divisions, progress, roles, transfer_types, workflow
from pipelines.rules.filters import URL_KEYS, Filters
from pipelines.rules.text import mapped
from pipelines.store import Actor, StoreError

ALL = "全部"


def text_table(table: dict[str, Any] | pl.DataFrame) -> None:
    """st.table (which renders Markdown in its cells) with every cell shown as text."""
    if isinstance(table, pl.DataFrame):
        shown: Any = table.with_columns(mapped(table[c], plain) for c, t in table.schema.items() if t == pl.String)
    else:
        shown = {plain(k): plain(v) if isinstance(v, str) else v for k, v in table.items()}
    st.table(shown)  # text: ours (every cell went through plain)


def selected_rows(
    rows: pl.DataFrame, shown: pl.DataFrame, *, id_column: str, key: str, multi: bool = False, **dataframe: Any
) -> pl.DataFrame:
    """Draw `shown` (one line per row of `rows`) as a selectable table and return the rows
    chosen. The selection belongs to these rows by their ids: the table's key names the ids it
    lists, so when the listing changes (rows approved, another page, a filter) no selection
    slides onto other rows; positions outside the listing are ignored. `clear_selection(key)`
    forgets it after an action."""
    ids = "\x1f".join(str(v) for v in rows[id_column].to_list())
    generation = st.session_state.get(_generation_key(key), 0)
    table_key = f"{key}_{generation}_{hashlib.sha1(ids.encode()).hexdigest()[:16]}"
    event = display.dataframe(
        shown, key=table_key, on_select="rerun", selection_mode="multi-row" if multi else "single-row", **dataframe
    )
    picked = [r for r in (event.selection.rows if event and event.selection else []) if 0 <= r < rows.height]
    return rows[picked] if picked else rows.head(0)


def clear_selection(key: str) -> None:
    """Forget the selection of `selected_rows(..., key=key)` (after acting on it)."""
    st.session_state[_generation_key(key)] = st.session_state.get(_generation_key(key), 0) + 1


def _generation_key(key: str) -> str:
    return f"_{key}_generation"


def current_filters() -> Filters:
    return Filters.from_query(st.query_params.to_dict())


def _pick(
    label: str,
    options: list[str],
    current: str | None,
    labels: dict[str, str] | None = None,
    key: str | None = None,
    everything: bool = True,
) -> str | None:
    choices = [ALL, *options] if everything else options
    if current is not None and current not in choices:
        st.warning(f"{label}“{plain(current)}”不存在（或不在你可查看的范围内），已忽略该筛选条件。")  # text: ours
    index = choices.index(current) if current in choices else 0
    chosen = st.selectbox(
        label,
        choices,
        index=index,
        key=key,  # text: ours (the filter bar's labels)
        format_func=lambda v: labels.get(v, v) if labels and v != ALL else v,
    )
    return None if chosen == ALL else chosen


def filter_bar(cohort: int, *, fixed_college: bool = False) -> Filters:
    """The filters, kept in the URL so that a link opens the same view. A college reviewer with
    one college has it chosen (and offered alone): there is nothing else for them to pick."""
    current = current_filters()
    options = data.query("filter_options", cohort=cohort)
    colleges = options["college_name"].unique().sort().to_list()
    own = access.own_college(data.viewer())
    own = own if own in colleges else None
    preset = Filters(college=own)  # what a page opens with when the URL chooses nothing
    filter_title = "筛选" if own is None else f"筛选 · 学院：{plain(own)}"
    with st.expander(filter_title, expanded=current not in (Filters(), preset) and not fixed_college, icon="🔎"):
        top = st.columns(4)
        with top[0]:
            college = (
                (current.college or own)
                if fixed_college
                else _pick("学院", colleges, current.college or own, everything=own is None)
            )
        majors = options.filter(pl.col("college_name") == college) if college else options
        with top[1]:
            major = _pick("专业", majors["major"].drop_nulls().unique().sort().to_list(), current.major)
        classes = majors.filter(pl.col("major") == major) if major else majors
        with top[2]:
            class_name = _pick("班级", classes["class_name"].drop_nulls().unique().sort().to_list(), current.class_name)
        with top[3]:
            types = transfer_types.LABELS
            transfer_type = _pick("转递类型", list(types), current.transfer_type, types)
        bottom = st.columns(4)
        with bottom[0]:
            stage = _pick("所处环节", list(workflow.STAGES), current.stage, workflow.STAGES)
        with bottom[1]:
            date_from = st.date_input("首次提交不早于", value=current.date_from, format="YYYY-MM-DD")
        with bottom[2]:
            date_to = st.date_input("首次提交不晚于", value=current.date_to, format="YYYY-MM-DD")
        with bottom[3]:
            st.write("")
            if st.button("清除筛选", disabled=current in (Filters(), preset)):
                _write_url(Filters(college=current.college if fixed_college else own))
                st.rerun()
    chosen = Filters(
        college,
        major,
        class_name,
        transfer_type,
        stage,
        date_from if isinstance(date_from, date) else None,
        date_to if isinstance(date_to, date) else None,
    )
    if chosen != current:
        _write_url(chosen)
    return chosen


def _write_url(filters: Filters) -> None:
    """Put the filters in the address, key by key: the other keys (bound widgets such as a
    search box, a student, a tab) stay as they are."""
    values: dict[str, str | None] = {name: None for name in URL_KEYS}
    values.update(filters.to_query())
    write_url(values)


def write_url(values: dict[str, str | None]) -> None:
    """Set (or, for None, remove) these keys of the page's address, leaving the others. Keys
    bound to widgets (bind="query-params") are theirs to write and are not set here."""
    for name, value in values.items():
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != value:
            st.query_params[name] = value


def campaign_header(campaign: dict[str, Any], today: date, subtitle: str = "") -> None:
    deadline = campaign["registration_deadline"]
    st.caption(
        f"{plain(campaign['school_name'])} · {campaign['cohort']:d} 届 · {plain(campaign['notice_number'] or '（无通知文号）')} · "
        f"登记截止 {deadline:%Y-%m-%d} · **{progress.deadline_phrase(deadline, today)}** · 数据截至 {today:%Y-%m-%d}"
        + (f" · {plain(subtitle)}" if subtitle else "")
    )


KPI_KEYS = ["graduates", "registered", "approved", "confirmed", "verified"]


def kpi_cards(now: dict[str, Any], before: dict[str, Any] | None) -> None:
    """Count, rate and change since the previous day for each stage."""
    for column, key in zip(st.columns(len(KPI_KEYS)), KPI_KEYS, strict=True):
        rate = "" if key == "graduates" or not now["graduates"] else f"{now[key] / now['graduates']:.1%}"
        delta = None if before is None else int(now[key] - before.get(key, 0))
        column.metric(
            workflow.COUNT_LABELS[key],
            f"{now[key]:,}",
            delta=None if delta is None else f"{delta:+,} 较前一日",
            delta_color="off" if key == "graduates" else "normal",
            border=True,
        )
        column.caption(f"占毕业生 {rate}" if rate else "名单人数")  # text: ours (a percentage)


def pager(total: int, page_size: int, key: str) -> int:
    """The offset of the page the user chose; nothing drawn when one page is enough."""
    pages = max(1, -(-total // page_size))
    if pages == 1:
        return 0
    page = st.number_input(
        f"页码（共 {pages:,} 页，{total:,} 人）", min_value=1, max_value=pages, value=1, key=key, bind="query-params"
    )  # the page number is in the address
    return (int(page) - 1) * page_size


def yesterday(today: date) -> date:
    return today - timedelta(days=1)


def deferred_file(build: Callable[..., tuple[bytes, int]], actor: Actor, *args: Any) -> Callable[[], bytes]:
    """A download button's data: the export function `build(store, actor, *args)` (which
    checks access and records the export) runs only when the button is clicked. A refusal
    shows as an error and an empty file, never a traceback."""

    def make() -> bytes:
        try:
            return build(data.store(), actor, *args)[0]
        except StoreError as exc:
            st.error(plain(str(exc)))
            return b""

    return make


def require(page: str) -> User:
    """The logged-in user, if their role may open `page`; otherwise a message and stop. Every
    page calls this itself: a page file can be run without the navigation that hides it."""
    user = auth.current_user()
    if user is None:
        st.warning("请先登录。")
        st.stop()
    if not roles.may_open(user.role, page):
        st.error(f"你的角色（{roles.ROLES.get(user.role, user.role)}）不能打开此页。")  # text: ours
        st.stop()
    return user


def page_start(title: str, page: str) -> tuple[dict[str, Any], date, User]:
    """A staff page's top, after its access check: its title, the campaign header (or the
    designed empty state), and (campaign, today, user)."""
    user = require(page)
    campaign, today = page_head(title)
    return campaign, today, user


def page_head(title: str) -> tuple[dict[str, Any], date]:
    """The title and campaign header (or the designed empty state) of a page whose access is
    already checked; (campaign, today)."""
    st.title(title)  # text: ours (each page's own title)
    campaign = data.guarded_campaign()
    today = data.today()
    campaign_header(campaign, today)
    return campaign, today


# --- the graduate's pages ---------------------------------------------------------------------

_FLASH = "_graduate_flash"


def graduate_start(title: str, page: str) -> tuple[dict[str, Any], date, User, dict[str, Any]]:
    """A graduate module page's top: access check, title, campaign header, the message left by
    the last save, and (campaign, today, user, their graduate_detail row)."""
    user = require(page)
    campaign, today = page_head(title)
    if flash := st.session_state.pop(_FLASH, None):
        st.success(flash, icon="✅")  # text: ours (the page's own message)
    record = data.my_record(user.student_id)
    if record is None:
        st.warning("名单中没有你的学号（或你的账号没有对应学号），请联系学院核对名单。")
        st.stop()
    return campaign, today, user, record


def save(action: Callable[[], Any], done: str, unchanged: str | None = None) -> None:
    """Run a graduate's save (a domain function); on success rerun with `done` shown (or
    `unchanged` when the function wrote nothing and returned None), on refusal show why."""
    try:
        result = action()
    except StoreError as exc:
        st.error(plain(str(exc)), icon="⛔")
        return
    st.session_state[_FLASH] = unchanged if result is None and unchanged else done
    st.rerun()


def change_consent(g: dict[str, Any], key: str) -> bool:
    """Before a confirmed graduate saves a change: say what it voids (their confirmation, the
    reports on it) and ask. True when they agreed; the save is refused without it
    (submissions.ChangeVoids), and an unchanged save writes nothing either way."""
    _, usable = selfservice.reports_in_force(g, data.query("reports_of", student_id=g["student_id"]).to_dicts())
    warning = submissions.void_warning(g, [str(r["report_number"]) for r in usable.values()])
    if warning is None:
        return False
    st.warning(plain(warning), icon="⚠️")
    return st.checkbox("我已了解，仍要保存修改（内容未改动时不会保存，确认不受影响）", key=key)


def fill_once(form: str, version: object, values: dict[str, Any]) -> None:
    """Put a record's values into its form's widgets (session_state keys) the first time the
    page shows this version of the record; a newer version fills them again. In between, what
    the graduate types is kept across reruns."""
    marker = f"_{form}_filled"
    if marker in st.session_state and st.session_state[marker] == version:
        return
    st.session_state.update(values)
    st.session_state[marker] = version


def address_values(key: str, province: str | None, city: str | None, district: str | None) -> dict[str, Any]:
    """The session_state values that put (province, city, district) into `address_picker(key)`."""
    return {f"{key}_province": province or None, f"{key}_city": city or None, f"{key}_district": district or None}


def address_picker(key: str, label: str) -> tuple[str, str, str]:
    """省 / 市 / 区 chosen from the GB/T 2260 divisions; ('', '', '') parts not chosen yet."""
    keys = [f"{key}_province", f"{key}_city", f"{key}_district"]

    def forget(*below: str) -> None:
        for k in below:
            st.session_state[k] = None

    columns = st.columns(3)
    province = columns[0].selectbox(
        f"{label}：省",
        [p.name for p in divisions.PROVINCES],
        index=None,
        placeholder="选择省份",
        key=keys[0],
        on_change=forget,
        args=keys[1:],
    )
    found = divisions.province_named(province) if province else None
    cities = [c.name for c in divisions.cities_of(found.code)] if found else []
    if st.session_state.get(keys[1]) not in cities:
        st.session_state[keys[1]] = None
    city = columns[1].selectbox(
        "市",
        cities,
        index=None,
        placeholder="选择城市",
        key=keys[1],
        on_change=forget,
        args=keys[2:],
        disabled=not cities,
    )
    town = divisions.city_named(found.code, city) if found and city else None
    districts = [d.name for d in divisions.districts_of(town.code)] if town else []
    if st.session_state.get(keys[2]) not in districts:
        st.session_state[keys[2]] = None
    district = columns[2].selectbox(
        "区 / 县",
        districts,
        index=None,
        key=keys[2],
        disabled=not districts,
        placeholder="选择区县" if districts or town is None else "（该市不设区县）",
    )
    return province or "", city or "", district or ""


def page_of(key: str) -> tuple[str, str]:
    """(script, title) of the page with this access key, from app.py's one table of pages."""
    from dashboard.app import ENTRIES  # app.py imports this module: read its table when asked

    return next((script, title) for _, script, title, _, _, entry_key in ENTRIES if entry_key == key)


def my_status(g: dict[str, Any], campaign: dict[str, Any], today: date) -> None:
    """The graduate's status box: where the registration stands, the return reason, what to do
    next (with a link to that module) and the days left."""
    step = selfservice.status(
        g,
        campaign,
        today,
        data.query("confirmations_of", student_id=g["student_id"]).to_dicts(),
        data.query("reports_of", student_id=g["student_id"]).to_dicts(),
    )
    with st.container(border=True):
        cards = st.columns(3)
        cards[0].metric("当前状态", step.headline)
        cards[1].metric("距登记截止", f"{step.days_left} 天" if step.days_left >= 0 else "已截止")
        cards[2].metric("档案登记版本", f"第 {g['revision_no']} 版" if g["revision_no"] else "未提交")
        if step.return_reason:
            st.error(f"退回原因：{plain(step.return_reason)}", icon="↩️")
        st.markdown(f"**下一步：** {step.next_step}")
        if step.page:
            script, label = page_of(step.page)
            st.page_link(script, label=f"前往{label}", icon="👉")  # text: ours (app.ENTRIES titles)
        st.caption(step.deadline_note)
