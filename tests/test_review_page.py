"""The 待审核 page with AppTest on a built demo store: workload and queue equal SQL, the scope of
a college reviewer holds, and a decision made in the review pane lands in the store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.rules import checks
from pipelines.store import SYSTEM, Store
from tests import apptest
from tests.apptest import open_page, sql
from tests.conftest import SUBMISSION_FORM

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from apptest.demo_store(tmp_path_factory, "review", graduates=2000, seed=11)


def review_page(user: str = "admin", **query: str) -> AppTest:
    return open_page("screens/review/review.py", user, **query)


def test_workload_and_queue_equal_sql_oldest_first(demo_store: Store) -> None:
    app = review_page()
    shown = {m.label: m.value for m in app.metric}
    ((pending_college, pending_school, long_college, long_school),) = sql(
        demo_store,
        """
        select count(*) filter (where status = 'pending_college'), count(*) filter (where status = 'pending_school'),
               count(*) filter (where status = 'pending_college' and submitted_at < timestamp '2024-06-08'),
               count(*) filter (where status = 'pending_school' and college_approved_at < timestamp '2024-06-08')
        from graduate_stages""",
    )
    assert shown["待学院审核"] == f"{pending_college:,}" and shown["待学校审核"] == f"{pending_school:,}"
    assert shown["等待超过 3 天"] == f"{long_college + long_school:,}"
    queue = app.dataframe[1].value
    expected = sql(
        demo_store,
        """select student_id from graduate_stages where status = 'pending_college'
                                  order by submitted_at, registration_id limit 50""",
    )
    assert queue["学号"].tolist() == [r[0] for r in expected]
    assert f"共 {pending_college:,} 条" in " ".join(c.value for c in app.caption)


def test_a_college_reviewer_sees_only_their_college_and_cannot_open_another(demo_store: Store) -> None:
    college = apptest.dean_college(demo_store)
    app = review_page("dean")
    queue = app.dataframe[1].value
    assert set(queue["学院"]) == {college}
    ((mine,),) = sql(
        demo_store,
        "select count(*) from graduate_stages where status = 'pending_college' and college_name = ?",
        [college],
    )
    assert {m.label: m.value for m in app.metric}["待学院审核"] == f"{mine:,}"
    ((other,),) = sql(
        demo_store,
        """select min(registration_id) from graduate_stages
                                   where status = 'pending_college' and college_name <> ?""",
        [college],
    )
    app.query_params["item"] = str(other)
    app.run()
    assert any("不在你的审核范围内" in e.value for e in app.error)
    assert not any(b.label == "提交审核意见" for b in app.button)


def test_the_review_pane_shows_flags_and_a_return_with_a_template_lands(demo_store: Store) -> None:
    ((registration_id, student_id, flags),) = sql(
        demo_store,
        """
        select registration_id, student_id, flags from graduate_stages
        where status = 'pending_college' and len(flags) > 0 order by registration_id limit 1""",
    )
    app = review_page(item=str(registration_id))
    warnings = " ".join(w.value for w in app.warning)
    for code in flags:
        assert checks.BY_CODE[code].title in warnings
    assert any(student_id in h.value for h in app.subheader)
    app.radio[0].set_value("return")
    template = next(s for s in app.selectbox if s.label == "常用退回原因")
    template.set_value(template.options[1])
    app.text_area[0].input("请补充门牌号")
    next(b for b in app.button if b.label == "提交审核意见").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("已学院退回" in s.value for s in app.success)
    ((status, reason),) = sql(
        demo_store, "select status, return_reason from registration_status where registration_id = ?", [registration_id]
    )
    assert status == "returned" and reason.endswith("；请补充门牌号") and reason.startswith(template.options[1])
    assert sql(demo_store, "select reviewer from reviews where registration_id = ?", [registration_id]) == [("admin",)]


def test_a_resubmission_shows_what_changed_since_the_returned_revision(demo_store: Store) -> None:
    found = sql(
        demo_store,
        """
        select current.registration_id from registrations current
        join registration_status previous on previous.student_id = current.student_id
            and previous.revision_no = current.revision_no - 1 and previous.status = 'returned'
        join graduate_stages on graduate_stages.registration_id = current.registration_id
        where graduate_stages.status = 'pending_college'
        order by 1 limit 1""",
    )
    assert found, "the demo (seed 11) has resubmissions waiting for college review"
    app = review_page(item=str(found[0][0]))
    pane = next(df.value for df in app.dataframe if "字段" in df.value.columns)
    assert "上一版（已退回）" in pane.columns and (pane["已修改"] == "✎").any()
    assert any("上一版被退回，原因" in c.value for c in app.caption)


def test_a_resubmission_with_images_shows_them_in_the_pane(demo_store: Store) -> None:
    from io import BytesIO

    from PIL import Image

    from pipelines import submissions

    ((student_id,),) = sql(demo_store, "select min(student_id) from graduate_stages where status = 'returned'")
    picture = BytesIO()
    Image.new("RGB", (60, 40), "navy").save(picture, format="PNG")
    new_id = submissions.submit(demo_store, SYSTEM, student_id, SUBMISSION_FORM, [("户口本.png", picture.getvalue())])
    app = review_page(item=str(new_id))
    images = app.get("image")
    assert len(images) == 1 and "户口本.png" in str(images[0].proto)
    assert any("证明材料" in m.value and "1 张" in m.value for m in app.markdown)


def test_the_detail_page_links_a_pending_registration_to_its_review(demo_store: Store) -> None:
    ((student_id, registration_id),) = sql(
        demo_store,
        """select student_id, registration_id from graduate_stages
                                                         where status = 'pending_school' order by 1 limit 1""",
    )
    app = open_page("screens/drill/detail.py", student=student_id)
    links = [p for p in app.get("page_link") if p.label.startswith("去审核这一版")]
    assert len(links) == 1 and "待校审核" in links[0].label
    assert f"item={registration_id}" in str(links[0].proto)
