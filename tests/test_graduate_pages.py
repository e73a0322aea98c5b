"""The graduate's five module pages and their status page, driven through dashboard/app.py
(AppTest) on a demo store: what they show, what they refuse, that every save goes through the
domain functions into the one store the office reads, and the round trip from a first
registration to a verification report. (Images and the PDF download: tests/test_browser.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from pipelines import accounts, activation, reviews
from pipelines.rules import workflow
from pipelines.store import SYSTEM, Store
from tests import apptest
from tests.apptest import open_page, sql

pytestmark = pytest.mark.slow

PASSWORD = "grad12345"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from apptest.demo_store(tmp_path_factory, "graduate_pages", graduates=400, seed=11)


def _account(store: Store, condition: str) -> str:
    """A graduate account for the first graduate meeting `condition` (on graduate_stages)."""
    ((student,),) = sql(store, f"select min(student_id) from graduate_stages where {condition}")
    if not sql(store, "select 1 from users where username = ?", [student]):
        accounts.add_user(store, SYSTEM, student, "graduate", PASSWORD, student_id=student, must_change_password=False)
    return str(student)


@pytest.fixture(scope="module")
def newcomer(demo_store: Store) -> str:
    """A graduate with hukou at the school who has registered nothing yet."""
    return _account(demo_store, "stage = 'not_registered' and is_hukou_at_school")


def _button(app: AppTest, label: str) -> AppTest:
    return next(b for b in app.button if b.label == label).click().run()


def _texts(app: AppTest) -> str:
    parts = [*app.markdown, *app.caption, *app.info, *app.warning, *app.error, *app.success]
    return "\n".join(str(p.value) for p in parts)


def _stage(store: Store, student: str) -> str:
    return str(sql(store, "select stage from graduate_stages where student_id = ?", [student])[0][0])


def test_a_graduate_has_the_five_modules_and_their_status(demo_store: Store, newcomer: str) -> None:
    app = open_page(None, newcomer)
    assert app.title[0].value == "我的登记"
    texts = _texts(app)
    assert "下一步：" in texts and ("先填报毕业去向" in texts or "填写档案信息登记" in texts)
    assert [m.label for m in app.metric] == ["当前状态", "距登记截止", "档案登记版本"]
    assert app.metric[0].value == "未登记" and app.metric[1].value == "7 天"
    # a graduate whose hukou is not at the school has no 户口信息登记 in the navigation
    elsewhere = _account(demo_store, "stage = 'not_registered' and not is_hukou_at_school")
    other = open_page(None, elsewhere)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        other.switch_page("screens/graduate/hukou_form.py")
    alone = apptest.page_alone("screens/graduate/hukou_form.py", elsewhere)
    assert any("无需登记户口信息" in i.value for i in alone.info)


def test_the_registration_form_checks_as_the_graduate_types(demo_store: Store, newcomer: str) -> None:
    app = open_page("screens/graduate/registration_form.py", newcomer)
    assert app.button[0].disabled  # nothing chosen yet
    app.selectbox(key="rf_type").set_value("employer").run()
    assert any("所需证明材料：" in i.value and "调档函" in i.value for i in app.info)  # before submitting
    app.text_input(key="rf_unit").input("张三").run()
    app.selectbox(key="rf_address_province").set_value("江西省").run()
    assert "南昌市" in app.selectbox(key="rf_address_city").options
    app.selectbox(key="rf_address_city").set_value("南昌市").run()
    assert "青山湖区" in app.selectbox(key="rf_address_district").options
    app.selectbox(key="rf_address_district").set_value("青山湖区").run()
    app.text_input(key="rf_detail").input("南京东路").run()
    app.text_input(key="rf_postcode").input("100000").run()
    app.text_input(key="rf_contact").input("母亲").run()
    app.text_input(key="rf_phone").input("0791-8812345").run()
    app.text_area(key="rf_note").input("签约").run()
    assert "已输入 2 / 200 字" in _texts(app)
    errors = " ".join(e.value for e in app.error)
    assert "缺少证明材料" in errors  # employer without proof: blocks
    warnings = " ".join(w.value for w in app.warning)
    for hint in ("单位名称像人名", "地址不详细", "邮编与省份不符", "联系人为本人或亲属"):
        assert hint in warnings, hint  # hints while typing
    assert next(b for b in app.button if b.label == "提交").disabled
    # switching the province clears the city and district below it
    app.selectbox(key="rf_address_province").set_value("北京市").run()
    assert app.selectbox(key="rf_address_city").value is None and app.selectbox(key="rf_address_district").value is None
    assert app.selectbox(key="rf_address_city").options == ["北京市"]
    assert sql(demo_store, "select count(*) from registrations where student_id = ?", [newcomer]) == [(0,)]


def test_from_first_registration_to_a_verification_report(demo_store: Store, newcomer: str) -> None:
    # 毕业去向填报
    app = open_page("screens/graduate/destination_form.py", newcomer)
    app.selectbox(key="df_code").set_value("10").run()
    assert next(b for b in app.button if b.label == "保存").disabled  # unit and place missing
    app.text_input(key="df_unit").input("江西省纺织工业集团").run()
    app.text_input(key="df_location").input("江西省南昌市").run()
    _button(app, "保存")
    assert any("毕业去向已保存" in s.value for s in app.success)
    assert sql(
        demo_store,
        "select destination_code, employer_name from destinations where student_id = ? "
        "order by destination_id desc limit 1",
        [newcomer],
    ) == [("10", "江西省纺织工业集团")]
    _button(app, "保存")
    assert any("与当前登记相同" in s.value for s in app.success)

    # 档案信息登记: origin needs no proof
    app = open_page("screens/graduate/registration_form.py", newcomer)
    form = {
        "rf_unit": "南昌市人才服务中心",
        "rf_detail": "八一大道 100 号",
        "rf_postcode": "330000",
        "rf_contact": "档案室",
        "rf_phone": "0791-86123456",
    }
    app.selectbox(key="rf_type").set_value("custodian").run()
    app.selectbox(key="rf_type").set_value("origin").run()
    for key, value in form.items():
        app.text_input(key=key).input(value).run()
    for key, value in (("province", "江西省"), ("city", "南昌市"), ("district", "东湖区")):
        app.selectbox(key=f"rf_address_{key}").set_value(value).run()
    app.text_area(key="rf_note").input("回生源地").run()
    assert any("未发现问题" in s.value for s in app.success)
    _button(app, "提交")
    assert any("已提交，等待学院审核" in s.value for s in app.success)
    assert any("审核结束前不能修改" in i.value for i in app.info)  # the form is closed while pending
    ((registration, source, flags),) = sql(
        demo_store, "select registration_id, source, flags from registrations where student_id = ?", [newcomer]
    )
    assert source == "graduate" and flags == []
    # the office sees it at once: the college's queue and the detail page
    ((college,),) = sql(demo_store, "select college_name from graduates where student_id = ?", [newcomer])
    assert _stage(demo_store, newcomer) == "pending_college"
    detail = open_page("screens/drill/detail.py", "admin", student=newcomer)
    assert any("待院审核" in m.value for m in detail.markdown)

    # the college returns it; the graduate sees why and resubmits the form it fills back in
    reviews.decide(demo_store, SYSTEM, registration, workflow.Decision("college", "return", "详细地址请写到门牌号和室"))
    status = open_page(None, newcomer)
    assert any("详细地址请写到门牌号和室" in e.value for e in status.error)
    assert any("按退回原因修改" in m.value for m in status.markdown)
    app = open_page("screens/graduate/registration_form.py", newcomer)
    assert any("已被退回" in w.value for w in app.warning)
    assert app.text_input(key="rf_unit").value == "南昌市人才服务中心"
    assert app.selectbox(key="rf_address_district").value == "东湖区"
    app.text_input(key="rf_detail").input("八一大道 100 号 3 栋 201 室").run()
    _button(app, "提交")
    ((revisions,),) = sql(demo_store, "select count(*) from registrations where student_id = ?", [newcomer])
    assert revisions == 2 and _stage(demo_store, newcomer) == "pending_college"

    # both levels approve; the graduate must register hukou before confirming
    ((current,),) = sql(demo_store, "select registration_id from graduate_stages where student_id = ?", [newcomer])
    reviews.decide(demo_store, SYSTEM, current, workflow.Decision("college", "approve", ""))
    reviews.decide(demo_store, SYSTEM, current, workflow.Decision("school", "approve", ""))
    confirm = open_page("screens/graduate/confirm.py", newcomer)
    table = confirm.table[0].value
    assert "档案转递单位名称" in table.index and "户口迁移" in table.index
    confirm.radio(key="cf_answer").set_value("confirmed").run()
    assert next(b for b in confirm.button if b.label == "提交").disabled
    assert any(
        "先填写户口信息登记" in str(p.value) for p in confirm.get("page_link")
    ) or "先填写户口信息登记" in _texts(confirm)

    hukou = open_page("screens/graduate/hukou_form.py", newcomer)
    assert hukou.selectbox(key="hf_type").value == "origin"  # the archive's type, as a start
    for key, value in (("province", "江西省"), ("city", "南昌市"), ("district", "东湖区")):
        hukou.selectbox(key=f"hf_address_{key}").set_value(value).run()
    hukou.text_input(key="hf_detail").input("八一大道 1 号").run()
    _button(hukou, "保存")
    assert any("户口信息已保存" in s.value for s in hukou.success)

    # 信息有误 first: recorded, nothing in force; then 信息无误
    confirm = open_page("screens/graduate/confirm.py", newcomer)
    assert "户口迁移所在地" in confirm.table[0].value.index
    confirm.radio(key="cf_answer").set_value("needs_update").run()
    _button(confirm, "提交")
    assert any("信息有误" in w.value for w in confirm.warning) and _stage(demo_store, newcomer) == "approved"
    confirm.radio(key="cf_answer").set_value("confirmed").run()
    _button(confirm, "提交")
    assert _stage(demo_store, newcomer) == "confirmed"

    # 核验授权: both reports, validity within the cap, then close one
    auth = open_page("screens/graduate/authorize.py", newcomer)
    assert [m.value for m in auth.markdown if m.value.startswith("####")] == ["#### 档案信息核验", "#### 户口信息核验"]
    until = auth.date_input(key="au_until_archive")
    assert until.value == date(2024, 12, 30) and until.max == date(2024, 12, 30)  # graduation + 6 months
    until.set_value(date(2024, 11, 30)).run()
    _button(auth, "设置有效期")
    assert any("档案信息核验已生效，有效期至 2024-11-30" in s.value for s in auth.success)
    ((number, valid_until),) = sql(
        demo_store,
        "select report_number, valid_until from verification_reports where student_id = ? and kind = 'archive'",
        [newcomer],
    )
    assert valid_until == date(2024, 11, 30) and any(number in m.value for m in auth.markdown)
    assert _stage(demo_store, newcomer) == "verified"
    assert any(b.label == "查看下载报告" for b in auth.get("download_button"))
    _button(auth, "关闭")  # asks first (#16): nothing closed yet
    assert any("确定关闭吗" in w.value for w in auth.warning)
    assert _stage(demo_store, newcomer) == "verified"
    _button(auth, "确认关闭")
    assert any(f"已关闭核验编号 {number}" in s.value for s in auth.success)
    assert _stage(demo_store, newcomer) == "confirmed"
    assert any("以往的核验报告" in e.label for e in auth.expander)
    # everything went through the domain functions: one audit record per act, by the graduate
    actions = [
        a for (a,) in sql(demo_store, "select action from audit_log where actor = ? order by audit_id", [newcomer])
    ]
    for action in (
        "destination:record",
        "registration:submit",
        "hukou:record",
        "confirmation:record",
        "report:issue:archive",
        "report:close",
    ):
        assert action in actions, action


def test_staff_cannot_open_a_graduates_forms(demo_store: Store) -> None:
    for script in (
        "screens/graduate/registration_form.py",
        "screens/graduate/confirm.py",
        "screens/graduate/authorize.py",
    ):
        assert apptest.refused_page(apptest.page_alone(script, "admin")), script


def test_a_graduate_logs_in_with_the_schools_identity_without_an_activation_code(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard import auth

    activation.issue_codes(demo_store, SYSTEM, oidc=True)
    ((student,),) = sql(
        demo_store,
        "select min(username) from users where role = 'graduate' and password_hash is null and oidc_subject = username",
    )
    monkeypatch.setattr(auth, "oidc_configured", lambda: True)
    monkeypatch.setattr(auth, "_oidc_subject", lambda: student)
    app = open_page(None, user=None)
    assert app.title[0].value == "我的登记" and app.header[0].value.endswith(f"（{student}）")
    with pytest.raises(accounts.LoginRefused):  # no password opens it until the graduate activates it
        accounts.login(demo_store, student, "", client="t")


def test_the_registration_form_warns_when_the_type_disagrees_with_the_destination(demo_store: Store) -> None:
    """Defect 8 of #16: 签约单位接收 with destination 72 其他暂不就业 gave no warning on 档案信息登记
    (only 毕业去向填报 checked the pair)."""
    student = _account(demo_store, "stage = 'not_registered' and not coalesce(is_hukou_at_school, false)")
    from pipelines import selfservice
    from pipelines.store import Actor

    selfservice.record_destination(demo_store, Actor(student, "graduate", None, student), student, "72")
    app = open_page("screens/graduate/registration_form.py", student)
    app.selectbox(key="rf_type").set_value("employer").run()
    assert any("与你的毕业去向不一致" in w.value and "其他暂不就业" in w.value for w in app.warning), _texts(app)
    app.selectbox(key="rf_type").set_value("origin").run()
    assert not any("与你的毕业去向不一致" in w.value for w in app.warning)
