"""A researcher's visit in headless Chromium against a real `dprk-archive serve` process."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from dprk_archive.bench import free_port
from dprk_archive.bench import server as running_server
from faultserver import record
from site_fixtures import EDITED, XSS, build_site, region

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "build" / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

playwright = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is not installed (scripts/test installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`dprk-archive serve` on a free loopback port, on a freshly built file."""
    folder = tmp_path_factory.mktemp("browser")
    db = build_site(folder, extra=30)
    port = free_port()
    # The venv's own console script: the command a person types.
    executable = Path(sys.executable).parent / "dprk-archive"
    command = [str(executable) if executable.exists() else shutil.which("dprk-archive"), "serve", "--db", str(db),
               "--port", str(port)]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_server(command, port, log=ARTIFACTS / "serve.log") as (_, base):
        yield base, db


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    base, _ = server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    outside = []
    # Nothing may be fetched from anywhere but the site itself.
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                  else (outside.append(route.request.url), route.abort()))
    page = context.new_page()
    yield page
    context.close()
    assert outside == []


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_home_page_then_a_region_facet(page, server):
    base, _ = server
    page.goto(base + "/")
    assert page.locator("h1").inner_text() == "DPRK state media archive"
    assert page.locator("svg.chart-months rect.bar").count() > 0
    assert page.locator("svg.chart-regions rect.bar").count() == 13
    shot(page, "home")
    page.click("text=All articles")
    page.wait_for_selector(".facet-results")
    shot(page, "articles")
    kangwon = region("Kangwon")
    page.locator("#facet-region").get_by_role("link", name=kangwon, exact=True).click()
    page.wait_for_url(lambda url: "_region=" in url)
    assert "2 rows" in page.locator("h3").first.inner_text()
    ids = page.locator("table.rows-and-columns td.col-id").all_inner_texts()
    assert set(ids) == {EDITED, "ien261004004"}
    shot(page, "articles-region")


def test_sql_editor(page, server):
    base, _ = server
    page.goto(base + "/dprk-archive")
    # Datasette's CodeMirror (a local script) replaces the textarea: type into its editor.
    page.wait_for_selector(".CodeMirror")
    page.click(".CodeMirror")
    page.keyboard.press("Control+A")
    page.keyboard.type("select outlet, count(*) as n from articles group by outlet order by outlet")
    page.click("input[type=submit][value='Run SQL']")
    page.wait_for_selector("table.rows-and-columns")
    cells = page.locator("table.rows-and-columns td").all_inner_texts()
    assert cells[:2] == ["KCNA", "1"]
    shot(page, "sql")


def test_search_all(page, server):
    base, _ = server
    page.goto(base + "/-/search")
    page.fill("#search-all-q", "overfulfilled")
    page.click("input[type=submit][value=Search]")
    page.wait_for_selector("#search-all-results table.rows-and-columns")
    assert EDITED in page.locator("#search-all-results").inner_text()
    shot(page, "search-all")


def test_article_page_and_its_version_diff(page, server):
    base, _ = server
    page.goto(base + f"/dprk-archive/articles/{EDITED}")
    assert page.locator("h1").inner_text() == "Steel plan greatly overfulfilled"
    assert page.locator(".version-list > li").count() == 3
    assert page.locator("#v3 .diff del").first.inner_text() == "Pyongyang."
    assert page.locator("#v3 .diff ins").last.inner_text() == "Kangwon."
    assert "Text SHA-256" in page.locator(".citation").inner_text()
    shot(page, "article")
    page.click("text=full history")
    page.wait_for_selector("table.rows-and-columns")
    assert page.locator("table.rows-and-columns tbody tr").count() == 3


def test_download_the_database_and_open_it(page, server, tmp_path):
    base, db = server
    page.goto(base + "/")
    with page.expect_download() as download_info:
        page.click("a.download-link")
    target = tmp_path / "downloaded.db"
    download_info.value.save_as(target)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(db.read_bytes()).hexdigest()
    conn = sqlite3.connect(target)
    assert conn.execute("select count(*) from articles").fetchone()[0] == 36
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


# Pages where the scraped payloads (<script>, onerror=, javascript: links) are shown, including the
# search-all results, which the page's own script renders in the browser.
PAGES_WITH_PAYLOADS = [
    f"/dprk-archive/articles/{XSS}",
    "/dprk-archive/articles?_search=harvest",
    "/dprk-archive/search?q=alert",
    f"/dprk-archive/article_history?id={XSS}",
    "/dprk-archive?sql=select+title%2C+url+from+articles",
    "/-/search?q=harvest",
]


def test_scraped_script_never_runs_in_a_browser(page, server):
    base, _ = server
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in PAGES_WITH_PAYLOADS:
        page.goto(base + path)
        if path.startswith("/-/search"):
            page.wait_for_selector("#search-all-results table.rows-and-columns")
        # Give an onerror handler (the payload's <img src=x>) time to fire, had it been created.
        page.wait_for_timeout(300)
        assert "alert(1)" in page.locator("body").inner_text(), path
        live = page.evaluate("""() => [
            ...document.querySelectorAll('img[src="x"], [onerror], a[href^="javascript:" i]')
        ].map(e => e.outerHTML)""")
        assert live == [], (path, live)
    assert dialogs == []
    record({"scraped script in Chromium (alert dialogs watched)": len(PAGES_WITH_PAYLOADS)}, outcome="never ran")
