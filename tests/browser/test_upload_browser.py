"""The upload page in Chromium: a real file through the real uploader, a dry run, an import,
and the new event drawn on the map at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import PageLog, save_screenshot, sign_in, wait_for_map

pytestmark = pytest.mark.browser

EVENT_ID = "up-browser-goris-20201003"
# One event at a place the curated data does not have, on a day inside the map's default
# period (27 Sep - 5 Oct 2020); one row with an impossible date.
CSV = (
    "event_id,event_date,event_type,location,source,notes\n"
    f"{EVENT_ID},2020-10-03,shelling,Goris,Browser test wire 2020-10-03,uploaded in a test\n"
    "up-browser-bad,2020-02-30,shelling,Goris,Browser test wire,impossible date\n"
)
SLOW = 120_000  # the first dry run loads the offline gazetteer


# True once the map shows an event placed at Goris (the uploaded one: the curated data has none).
SHOWS_GORIS_JS = """
() => {
  const layer = window.nkEvents;
  if (!layer || !layer.loaded) { return false; }
  const place = layer.data.fields.find(f => f.name === "location");
  return layer.visible().some(i => place.values[place.codes[i]].includes("Goris"));
}
"""


def _metric(page: Page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def test_upload_dry_run_import_and_map(
    app_url: str, app_db: Path, page: Page, page_log: PageLog, tmp_path: Path
):
    path = tmp_path / "goris.csv"
    path.write_text(CSV, encoding="utf-8")

    page.goto(f"{app_url}/Upload")
    expect(page.get_by_role("heading", name="Upload events")).to_be_visible(timeout=60_000)
    # Not signed in: no uploader, a sign-in form.
    expect(page.get_by_text("Sign in with an editor account")).to_be_visible()
    expect(page.get_by_label("Account name")).to_be_visible()
    assert page.locator("input[type=file]").count() == 0
    save_screenshot(page, "upload-sign-in")
    sign_in(page)
    expect(page.get_by_text("Signed in: edith (editor)")).to_be_visible(timeout=30_000)
    page.locator("input[type=file]").set_input_files(path)

    expect(_metric(page, "New")).to_have_text("1", timeout=SLOW)
    expect(_metric(page, "Rejected")).to_have_text("1")
    expect(_metric(page, "Geocoded")).to_have_text("1")
    expect(page.get_by_role("heading", name="Rejected rows (1)")).to_be_visible()
    # The table is drawn on a canvas; its cells are mirrored in an accessible (hidden) grid.
    import_tab = page.get_by_role("tabpanel", name="Import a file")
    rejects = import_tab.get_by_test_id("stDataFrame").last.locator("td[role=gridcell]")
    expect(rejects).to_have_text(["3", "event_date", "2020-02-30", "impossible date"])
    expect(page.get_by_test_id("stDownloadButton")).to_contain_text("rejected rows")
    page.get_by_test_id("stDownloadButton").scroll_into_view_if_needed()  # the report in view
    save_screenshot(page, "upload-dry-run")

    page.get_by_role("button", name="Import 1 event").click()
    expect(page.get_by_text(re.compile("Imported 1 new"))).to_be_visible(timeout=SLOW)
    expect(_metric(page, "Duplicates")).to_have_text("1")
    link = page.get_by_role("link", name=re.compile("Open the map"))
    expect(link).to_be_visible()
    page.get_by_role("heading", name="Upload events").scroll_into_view_if_needed()
    save_screenshot(page, "upload-done")

    link.click()  # same tab: the session (signed in) goes on, the map opens on the import
    # The new event is among those the map's events canvas shows for the period.
    wait_for_map(page).wait_for_function(SHOWS_GORIS_JS, timeout=60_000)
    expect(page).to_have_url(re.compile(r"from=2020-10-03&to=2020-10-03"))
    save_screenshot(page, "upload-on-map")

    # The import is a batch that names the editor.
    from geo.store import open_store

    batch = next(b for b in open_store(app_db).imports() if b.file == "goris.csv")
    assert batch.user == "edith" and batch.inserted == 1 and batch.rejected == 1
    assert page_log.offsite_requests == []
    assert page_log.page_errors == []
