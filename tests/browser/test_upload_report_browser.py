"""The Upload page's "From a report" tab in Chromium: paste a report into the real app, find
its events, see the highlighted text, the table and the map preview, import, and find the
events (one batch, with the editor) in the store."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import REPO_ROOT, PageLog, save_screenshot, sign_in

pytestmark = pytest.mark.browser

SEED = (REPO_ROOT / "tests" / "extract" / "seed_report.txt").read_text(encoding="utf-8")
SOURCE = "Browser report wire"
SLOW = 120_000  # the first dry run loads the offline gazetteer
SCREENSHOT = Path("/tmp/upload-report.png")


def test_paste_a_report_find_events_and_import(
    app_url: str, app_db: Path, page: Page, page_log: PageLog
):
    page.goto(f"{app_url}/Upload")
    expect(page.get_by_role("heading", name="Upload events")).to_be_visible(timeout=60_000)
    sign_in(page)
    expect(page.get_by_text("Signed in: edith (editor)")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="From a report").click()
    tab = page.get_by_role("tabpanel", name="From a report")

    text = tab.get_by_role("textbox", name="Report text")
    text.fill(SEED)
    text.press("Control+Enter")
    date = tab.get_by_test_id("stDateInput").filter(has_text="Publication date").locator("input")
    date.fill("2020-10-05")
    date.press("Enter")
    source = tab.get_by_role("textbox", name="Source (publisher)")
    source.fill(SOURCE)
    source.press("Enter")
    tab.get_by_role("button", name="Find events").click()

    # The report's text with each candidate's sentence marked and numbered.
    marks = tab.locator(".nk-report mark")
    expect(marks.first).to_be_visible(timeout=SLOW)
    assert marks.count() >= 3
    expect(marks.first.locator(".nk-n")).to_have_text("1")
    expect(marks.filter(has_text="erupted on September 27")).to_have_count(1)
    expect(tab.locator(".nk-report")).to_contain_text("pipelines carry Azerbaijani oil")
    # The candidates' table (a canvas grid, mirrored in an accessible one) and the map preview.
    grid = tab.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    expect(grid.locator("td[role=gridcell]").filter(has_text="2020-09-27").first).to_be_attached()
    expect(tab.locator("iframe").first).to_be_visible(timeout=60_000)
    map_frame = tab.locator("iframe").first.content_frame
    expect(map_frame.locator(".leaflet-container")).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1500)  # the map's canvas draws after Leaflet starts
    assert page_log.page_errors == [], "before the screenshot"
    # Streamlit scrolls its main block, not the page: a tall window shows the whole review.
    page.set_viewport_size({"width": 1440, "height": 2000})
    page.wait_for_timeout(1000)
    assert page_log.page_errors == [], "after the resize"
    shot = save_screenshot(page, "upload-report")
    page.set_viewport_size({"width": 1440, "height": 900})
    shutil.copyfile(shot, SCREENSHOT)

    tab.get_by_role("button", name="Check").click()
    new = tab.get_by_test_id("stMetric").filter(has_text="New").get_by_test_id("stMetricValue")
    expect(new).to_have_text(re.compile(r"^[1-9]\d*$"), timeout=SLOW)
    n = int(new.inner_text())
    tab.get_by_role("button", name=f"Import {n} events").click()
    expect(tab.get_by_text(re.compile("Imported .* new"))).to_be_visible(timeout=SLOW)
    # After the import's rerun the review is still there, map preview included.
    after = tab.locator("iframe").first.content_frame
    expect(after.locator(".leaflet-container")).to_be_visible(timeout=60_000)
    expect(after.locator(".leaflet-container")).to_have_attribute(
        "data-nk-events-draws", re.compile(r"^[1-9]"), timeout=60_000
    )
    save_screenshot(page, "upload-report-imported")

    from geo.store import open_store

    store = open_store(app_db)
    batch = next(b for b in store.imports() if b.file == f"report: {SOURCE}, 2020-10-05")
    assert batch.user == "edith" and batch.inserted == n
    events = store.events()
    mine = events[events["source"] == f"{SOURCE}, 2020-10-05"]
    assert len(mine) == n
    assert {"statement", "armed_clash"} <= set(mine["event_type"])
    assert page_log.offsite_requests == []
    assert page_log.page_errors == []
    # The batch shows in the history tab, where it can be undone.
    page.get_by_role("tab", name="Import history and undo").click()
    history = page.get_by_role("tabpanel", name="Import history and undo")
    expect(history.get_by_test_id("stDataFrame").first).to_contain_text(f"report: {SOURCE}")
    expect(history.get_by_role("button", name="Undo this import")).to_be_visible()
    assert page_log.offsite_requests == []
    assert page_log.page_errors == []
