"""No English of Streamlit's on the pages with file uploaders, multiselects and open selectboxes
(#16, defect 11), seen in headless Chromium: the uploader's texts come from the frontend, so
only a browser shows whether dashboard.display's style replaced them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipelines import demo
from pipelines.store import SYSTEM, Store
from tests.browser import TODAY, build_demo, open_page, serve_dashboard, settle_after

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Streamlit 1.67's own words on these widgets (its frontend bundle), and older ones.
ENGLISH = (
    "Upload",
    "Drag and drop",
    "Browse files",
    "per file",
    "Limit",
    "Choose",
    "No options",
    "Add an option",
    "Add options",
    "files are not allowed",
    "or smaller",
)
# The text a user sees: visible text nodes (not icon ligatures, not screen-reader-only labels),
# and the placeholder of every visible empty input.
VISIBLE_TEXT = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const shown = [];
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const text = walker.currentNode.textContent.trim();
        const parent = walker.currentNode.parentElement;
        if (!text || parent.closest('[data-testid="stIconMaterial"]')) continue;
        const box = parent.getBoundingClientRect();
        if (parent.checkVisibility({visibilityProperty: true, opacityProperty: true}) && box.width > 1 && box.height > 1)
            shown.push(text);
    }
    for (const input of main.querySelectorAll('input[placeholder]'))
        if (!input.value && input.checkVisibility()) shown.push(input.placeholder);
    return shown;
}"""
AFTER = "element => getComputedStyle(element, '::after').content"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("browser-display"), graduates=500)


@pytest.fixture(scope="module")
def demo_url(demo_db: Path) -> Iterator[str]:
    with serve_dashboard(demo_db, today=TODAY) as base_url:
        yield base_url


def _graduate(demo_db: Path) -> str:
    """The demo graduate account that has not registered yet (its hukou is at the school)."""
    store = Store(demo_db, today=TODAY)
    with store.reading(SYSTEM) as reader:
        ((college,),) = reader._conn.execute("select colleges[1] from users where username = 'dean'").fetchall()
    return dict(demo.demo_graduates(store, str(college)))["not_registered"]


def assert_no_exception(page: Page) -> None:
    """No traceback and no failed page (the registration form's checks are error boxes by design)."""
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text("页面出错了")).to_have_count(0)


def english_shown(page: Page) -> list[str]:
    return [text for text in page.evaluate(VISIBLE_TEXT) if any(word in text for word in ENGLISH)]


@pytest.mark.parametrize(
    ("path", "account"),
    [
        ("import", "admin"),
        ("users", "admin"),
        ("register", "graduate"),
        ("destination", "graduate"),
        ("hukou", "graduate"),
    ],
)
def test_no_english_widget_text_is_visible(page: Page, demo_url: str, demo_db: Path, path: str, account: str) -> None:
    open_page(page, demo_url, path, user=_graduate(demo_db) if account == "graduate" else account)
    assert_no_exception(page)
    assert not english_shown(page), english_shown(page)
    uploaders = page.get_by_test_id("stFileUploaderDropzone")
    for i in range(uploaders.count()):
        zone = uploaders.nth(i)
        assert zone.locator("button [data-testid='stMarkdownContainer']").evaluate(AFTER) == '"选择文件"'
        assert "每个文件不超过" in zone.get_by_test_id("stFileUploaderDropzoneInstructions").locator("> div").evaluate(
            AFTER
        )
        # while a file is dragged over it, the dropzone says so (in Chinese)
        dragged = page.evaluate_handle(
            "() => { const d = new DataTransfer(); d.items.add(new File(['x'], 'a.csv')); return d; }"
        )
        zone.dispatch_event("dragenter", {"dataTransfer": dragged})
        overlay = zone.locator("> div:not([data-testid])").first
        overlay.wait_for(state="attached")
        assert overlay.evaluate(AFTER) == '"松开鼠标即可上传"'
        assert not english_shown(page), english_shown(page)
        zone.dispatch_event("dragleave", {"dataTransfer": dragged})
    assert (uploaders.count() > 0) == (path in ("import", "register"))


def test_an_uploaded_proof_image_is_listed_without_english(
    page: Page, demo_url: str, demo_db: Path, tmp_path: Path
) -> None:
    import base64

    image = tmp_path / "调档函.png"
    image.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
        )
    )
    open_page(page, demo_url, "register", user=_graduate(demo_db))
    uploader = page.get_by_test_id("stFileUploader")
    settle_after(page, lambda: uploader.locator("input[type=file]").set_input_files(str(image)))
    assert_no_exception(page)
    assert uploader.get_by_test_id("stFileChipName").inner_text() == "调档函.png"
    assert not english_shown(page), english_shown(page)
