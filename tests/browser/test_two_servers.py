"""Two app servers on one PostgreSQL database (issue 14, item 4), in Chromium.

Two `streamlit run app.py` processes, A and B, on two ports share a throw-away PostGIS
database. B's map is open on a day (its process has cached that day's events and the map's
payload); an editor imports a CSV through A's Upload page; B's page reruns (the period changes
and comes back, in the same session) and must show the new events on the map and in its
caption. That holds only because the dashboard's caches are keyed on `store.version()`, which
both processes read from the database: keyed on anything kept in one process (a counter bumped
by this process's imports, the pid, nothing at all), B would serve the day's cached events
without the new ones and this test fails. Checked by hand with a `sitecustomize.py` on
PYTHONPATH that sets `geo.store.postgres.PostgresStore.version = lambda self: os.getpid()`:
B's caption stays at the day's 3 curated events instead of 5.

Nothing that matters lives in one process only: the editor account A's import used signs in on
B (accounts are rows in the database), and a new session on B lists A's batch in the Upload
page's import history.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from store_backends import pg_database  # noqa: F401 (the throw-away database, a fixture)

from .conftest import EDITOR, REPO_ROOT, save_screenshot, sign_in, start_streamlit, wait_for_map

pytestmark = pytest.mark.browser

WAR, SINGLE = "2020 war", "Single day (the To date)"  # Preset choices: 27 Sep - 10 Nov 2020
CAPTION = re.compile(r"^([\d,]+) events, 10 Nov 2020 to 10 Nov 2020:")
PLACE = "Two-servers test village"
FILE = "two-servers.csv"
CSV = (
    "event_id,event_date,event_type,location,latitude,longitude,source,notes\n"
    f"two-servers-1,2020-11-10,shelling,{PLACE} 1,40.10,46.50,Two-servers test wire,via A\n"
    f"two-servers-2,2020-11-10,clash,{PLACE} 2,40.15,46.55,Two-servers test wire,via A\n"
)
NEW = 2
SLOW = 120_000  # a dry run may load the offline gazetteer first
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"  # no rerun in progress

# How many events the map's events canvas shows, and how many of them are the imported ones.
SHOWN_JS = """
(place) => {
  const layer = window.nkEvents;
  if (!layer || !layer.loaded) { return null; }
  const field = layer.data.fields.find(f => f.name === "location");
  const shown = layer.visible();
  const ours = shown.filter(i => field.values[field.codes[i]].includes(place)).length;
  return [shown.length, ours];
}
"""


@pytest.fixture(scope="module")
def shared_db(pg_database: str) -> str:  # noqa: F811 (the imported fixture)
    """The throw-away database, seeded with the curated events, with an editor account."""
    from geo import auth
    from geo.cli import main
    from geo.store import open_store

    assert main(["seed", "--db", pg_database]) == 0
    auth.add_user(open_store(pg_database), EDITOR[0], "editor", EDITOR[1], created_by="tests")
    return pg_database


def _caption_count(page: Page) -> int:
    caption = page.get_by_text(CAPTION).first
    expect(caption).to_be_visible(timeout=60_000)
    return int(CAPTION.match(caption.inner_text()).group(1).replace(",", ""))


def _expect_caption(page: Page, count: int) -> None:
    caption = page.get_by_text(CAPTION).first
    expect(caption).to_contain_text(f"{count:,} events, 10 Nov 2020", timeout=60_000)


def _shown_on_map(page: Page, want: tuple[int, int] | None = None) -> tuple[int, int]:
    """(events the map shows, imported ones among them), once the map has drawn them; with
    `want`, waits until the map shows that (a rerun swaps the map's payload)."""
    deadline = page.evaluate("Date.now()") + 60_000
    got = None
    while page.evaluate("Date.now()") < deadline:
        try:
            got = wait_for_map(page).evaluate(SHOWN_JS, PLACE)
        except Exception:  # the map's iframe is replaced while Streamlit reruns
            got = None
        if got is not None and (want is None or tuple(got) == want):
            return tuple(got)
        page.wait_for_timeout(300)
    raise AssertionError(f"the map shows {got} (events, imported), not {want}")


def _preset(page: Page, choice: str, url: str) -> None:
    """Pick a period in the sidebar's Preset box (one rerun of the session) and wait for the
    permalink to show it. A pick made while the previous rerun still redraws the sidebar can
    be lost on a busy machine: then it is made again (three tries)."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Preset")
    for attempt in range(3):
        page.locator(IDLE).wait_for(timeout=60_000)  # the last rerun has finished
        box.click()
        page.get_by_role("option", name=choice, exact=True).click()
        try:
            expect(page).to_have_url(re.compile(url), timeout=20_000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def _import_through(url: str, browser: Browser, csv: Path) -> None:
    """An editor signs in on the server at `url` and imports `csv` on its Upload page."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{url}/Upload")
        expect(page.get_by_role("heading", name="Upload events")).to_be_visible(timeout=60_000)
        sign_in(page)
        expect(page.get_by_text(f"Signed in: {EDITOR[0]} (editor)")).to_be_visible(timeout=30_000)
        page.locator("input[type=file]").set_input_files(csv)
        new = page.get_by_test_id("stMetric").filter(has_text="New")
        expect(new.get_by_test_id("stMetricValue")).to_have_text(str(NEW), timeout=SLOW)
        page.get_by_role("button", name=f"Import {NEW} events").click()
        expect(page.get_by_text(re.compile(f"Imported {NEW} new"))).to_be_visible(timeout=SLOW)
        save_screenshot(page, "two-servers-a-imported")
    finally:
        context.close()


def test_an_import_through_one_server_is_on_the_others_map(
    shared_db: str, browser: Browser, tmp_path: Path
):
    csv = tmp_path / FILE
    csv.write_text(CSV, encoding="utf-8")
    env = {"NKMAP_DB": shared_db}
    with (
        start_streamlit(REPO_ROOT / "app.py", env=env) as url_a,
        start_streamlit(REPO_ROOT / "app.py", env=env) as url_b,
    ):
        assert url_a != url_b
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        try:
            # B's map on the day: B's process now holds the day's events in its caches.
            page.goto(f"{url_b}/?from=2020-11-10&to=2020-11-10")
            before = _caption_count(page)
            shown, ours = _shown_on_map(page)
            assert before > 0 and ours == 0
            assert shown <= before  # events without a map point are in the table only

            _import_through(url_a, browser, csv)

            # B's session reruns: the whole war, then the same day again (its cache key).
            _preset(page, WAR, "from=2020-09-27&to=2020-11-10")
            _preset(page, SINGLE, "from=2020-11-10&to=2020-11-10")
            _expect_caption(page, before + NEW)
            assert _shown_on_map(page, (shown + NEW, NEW)) == (shown + NEW, NEW)
            save_screenshot(page, "two-servers-b-map")
        finally:
            context.close()

        # A new session on B: the editor account signs in there too, and A's batch is in
        # B's import history (accounts and batches are rows in the one database).
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        try:
            page.goto(f"{url_b}/Upload")
            expect(page.get_by_role("heading", name="Upload events")).to_be_visible(timeout=60_000)
            sign_in(page)
            expect(page.get_by_text(f"Signed in: {EDITOR[0]} (editor)")).to_be_visible(
                timeout=30_000
            )
            page.get_by_role("tab", name="Import history and undo").click()
            history = page.get_by_role("tabpanel", name="Import history and undo")
            cells = history.get_by_test_id("stDataFrame").first.locator("td[role=gridcell]")
            expect(cells.filter(has_text=FILE)).to_have_count(1, timeout=30_000)
            expect(cells.filter(has_text=re.compile(f"^{EDITOR[0]}$"))).not_to_have_count(0)
            save_screenshot(page, "two-servers-b-history")
        finally:
            context.close()

    # The database agrees: one batch of A's file, by the editor, with the two new events.
    from geo.store import open_store

    batch = next(b for b in open_store(shared_db).imports() if b.file == FILE)
    assert (batch.user, batch.inserted) == (EDITOR[0], NEW)
