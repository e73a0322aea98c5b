"""Personal data: masked by default, revealed one record at a time by roles that may, always
audited (refusals too); the audit log page for admins only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pipelines import auditlog, privacy
from pipelines.store import Actor, Store
from tests import apptest
from tests.apptest import open_page, page_alone, refused_page, sql

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from apptest.demo_store(tmp_path_factory, "privacy", graduates=800, seed=3)


def _reveals(store: Store) -> list[dict[str, Any]]:
    return [
        {"actor": a, "target": t, **json.loads(d)}
        for a, t, d in sql(
            store, "select actor, target, detail from audit_log where action = 'reveal' order by audit_id"
        )
    ]


def test_the_detail_page_masks_and_an_admin_reveals_one_record_with_an_audit_record(demo_store: Store) -> None:
    ((student_id, id_number, phone),) = sql(
        demo_store, "select student_id, id_number, phone from graduates order by 1 limit 1"
    )
    app = open_page("screens/drill/detail.py", student=student_id)
    page_text = " ".join(str(t.value) for t in app.table) + " ".join(i.value for i in app.info)
    assert id_number not in page_text and phone not in page_text and f"{id_number[:4]}" in page_text
    before = len(_reveals(demo_store))
    next(b for b in app.button if b.label.startswith("查看完整身份证号")).click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(id_number in i.value and phone in i.value for i in app.info)
    reveals = _reveals(demo_store)
    assert len(reveals) == before + 1 and reveals[-1]["target"] == student_id and reveals[-1]["outcome"] == "shown"
    assert reveals[-1]["actor"] == "admin"


def test_an_analyst_cannot_reveal_and_a_dean_is_refused_outside_their_college_with_a_record(demo_store: Store) -> None:
    ((student_id, college),) = sql(demo_store, "select student_id, college_name from graduates order by 1 limit 1")
    app = page_alone("screens/drill/detail.py", "analyst", student=student_id)
    assert refused_page(app) and not any(b.label.startswith("查看完整身份证号") for b in app.button)
    with pytest.raises(privacy.PrivacyRefused, match="不能查看完整个人信息"):
        privacy.reveal(demo_store, Actor("分析员", "analyst"), student_id)
    ((other,),) = sql(demo_store, "select min(college_name) from graduates where college_name <> ?", [college])
    with pytest.raises(privacy.PrivacyRefused, match="不在你的范围内"):
        privacy.reveal(demo_store, Actor("院长", "college_reviewer", (other,)), student_id)
    assert _reveals(demo_store)[-1] == {
        "actor": "院长",
        "target": student_id,
        "fields": privacy.REVEALED_FIELDS,
        "outcome": "refused",
    }


def test_the_audit_page_is_for_admins_and_equals_the_log(demo_store: Store) -> None:
    app = open_page("screens/admin/audit.py")
    ((total,),) = sql(demo_store, "select count(*) from audit_log")
    assert f"共 {total:,} 条" in " ".join(c.value for c in app.caption)
    newest = app.dataframe[0].value
    ((last_action,),) = sql(demo_store, "select action from audit_log order by audit_id desc limit 1")
    assert newest["操作"].iloc[0] == auditlog.action_label(last_action)
    ((action, count),) = sql(demo_store, "select action, count(*) from audit_log group by 1 order by 2, 1 limit 1")
    app.selectbox(key="au_action").set_value(action).run()
    assert f"共 {count:,} 条" in " ".join(c.value for c in app.caption)
    assert set(app.dataframe[0].value["操作"]) == {auditlog.action_label(action)}
    ((kind, count),) = sql(
        demo_store,
        """select split_part(action, ':', 1) as kind, count(*) from audit_log
                                         group by 1 having count(distinct action) > 1 order by 2, 1 limit 1""",
    )
    app.selectbox(key="au_action").set_value(f"{kind}:").run()  # a kind of action: all of them
    assert f"共 {count:,} 条" in " ".join(c.value for c in app.caption)
    assert refused_page(page_alone("screens/admin/audit.py", "school"))
    with pytest.raises(privacy.PrivacyRefused):
        privacy.search_audit(
            demo_store,
            Actor("x", "analyst"),
            who=None,
            action=None,
            target=None,
            date_from=None,
            date_to=None,
            limit=10,
            offset=0,
        )


def test_the_accounts_page_adds_a_dean_and_resets_a_password_for_admins_only(demo_store: Store) -> None:
    from pipelines import accounts

    ((college,),) = sql(demo_store, "select min(college_name) from graduates")
    app = open_page("screens/admin/users.py")

    def field(kind: str, label: str) -> Any:
        return next(e for e in getattr(app, kind) if e.label.startswith(label))

    field("text_input", "用户名").input("dean_fz")
    field("text_input", "姓名").input("服装院院长")
    field("selectbox", "角色").set_value("college_reviewer")
    field("multiselect", "学院").set_value([college])
    field("text_input", "初始密码").input("short")  # too short: refused with the rule
    next(b for b in app.button if b.label == "添加").click().run()
    assert any("密码至少 8 位" in e.value for e in app.error)
    field("text_input", "用户名").input("dean_fz")
    field("selectbox", "角色").set_value("college_reviewer")
    field("multiselect", "学院").set_value([college])
    field("text_input", "初始密码").input("dean12345")
    next(b for b in app.button if b.label == "添加").click().run()
    assert any("已添加 学院审核员/院长 dean_fz" in s.value.replace("\\", "") for s in app.success)
    assert sql(demo_store, "select role, colleges, must_change_password from users where username = 'dean_fz'") == [
        ("college_reviewer", [college], True)
    ]
    assert accounts.login(demo_store, "dean_fz", "dean12345").actor.colleges == (college,)
    field("selectbox", "用户名").set_value("dean_fz")
    field("text_input", "新密码").input("reset12345")
    next(b for b in app.button if b.label == "重置").click().run()
    assert any("已重置 dean_fz 的密码" in s.value.replace("\\", "") for s in app.success)
    assert accounts.login(demo_store, "dean_fz", "reset12345").must_change_password
    actions = [a for (a,) in sql(demo_store, "select action from audit_log where target = 'dean_fz' order by audit_id")]
    assert actions[:2] == ["user:add", "login"] and "user:reset_password" in actions
    assert refused_page(page_alone("screens/admin/users.py", "dean"))
