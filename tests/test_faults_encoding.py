"""6. Every charset fault stores the same, correct text, and the decision is recorded in pages.

The proxy rewrites good mirror pages: a header charset that contradicts the bytes (in the header or in
<meta>), no charset anywhere, stray invalid UTF-8 bytes, the whole page in windows-1252, NUL bytes,
a UTF-16 page with its BOM under a contradicting header; and, for the parser, the body container missing.
"""

import pytest

from dprk_archive import load
from dprk_archive.encoding import decode_page
from dprk_archive.mirror.server import start_mirror
from faultproxy import FaultProxy, archive_problems, article_path, crawl, fetch_truth, truth_problems
from faultserver import ENCODING_FAULTS, HARMLESS_FAULTS, record

# (encoding, decided_by) that pages must record for each fault.
DECISIONS = {
    "charset-contradicts": ("utf-8", "utf-8"),
    "meta-contradicts": ("utf-8", "utf-8"),
    "no-charset": ("utf-8", "utf-8"),
    "invalid-utf8": ("utf-8", "utf-8"),
    "legacy-cp1252": ("cp1252", "fallback"),
    "nul-bytes": ("utf-8", "header"),
    "bom-utf16": ("utf-16-le", "bom"),
}


@pytest.fixture(scope="module")
def mirror():
    running = start_mirror(port=0, articles=120, seed=31)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def truth(mirror):
    return fetch_truth(mirror.base_url)


@pytest.fixture(scope="module")
def clean_bodies(mirror, truth, tmp_path_factory):
    """Every article's stored body and title from a crawl without faults."""
    db = load.open_working_db(str(tmp_path_factory.mktemp("clean") / "work.db"))
    crawl(db, mirror.base_url)
    assert truth_problems(db, truth) == []
    return {row[0]: row[1:] for row in db.execute("SELECT id, title, subtitle, body, text_hash FROM articles")}


def latest_page(db, item_id):
    return db.execute("SELECT encoding, encoding_decided_by, status FROM pages WHERE item_id = ? ORDER BY id DESC"
                      " LIMIT 1", [item_id]).fetchone()


def assert_same_text(db, articles, clean_bodies):
    for fault, article in articles.items():
        row = db.execute("SELECT title, subtitle, body, text_hash FROM articles WHERE id = ?",
                         [article["id"]]).fetchone()
        assert row is not None, f"{fault}: not stored"
        assert row == clean_bodies[article["id"]], f"{fault}: text differs from the clean crawl's"
        assert row[3] == article["text_hash"], f"{fault}: text differs from the truth"


def test_new_articles_under_every_charset_fault_store_the_right_text(mirror, truth, clean_bodies, tmp_path):
    articles = dict(zip(HARMLESS_FAULTS, truth["articles"][::4]))
    with FaultProxy(mirror.base_url, fixed={article_path(a): fault for fault, a in articles.items()}) as proxy:
        db = load.open_working_db(str(tmp_path / "work.db"))
        summary = crawl(db, proxy.base_url)
        injected = proxy.counts()
    assert summary.counts["errors"] == 0
    assert set(injected) == set(HARMLESS_FAULTS)
    assert_same_text(db, articles, clean_bodies)
    for fault, decision in DECISIONS.items():
        assert latest_page(db, articles[fault]["id"]) == (*decision, 200), fault
    # the body container missing: same text, found by content density, and said so
    assert db["articles"].get(articles["no-container"]["id"])["extraction"] == "density"
    assert truth_problems(db, truth, single_version=True) == []
    record(injected)


def test_known_articles_under_every_charset_fault_get_no_new_version(mirror, truth, clean_bodies, tmp_path):
    articles = dict(zip(HARMLESS_FAULTS, truth["articles"][1::4]))
    with FaultProxy(mirror.base_url) as proxy:
        db = load.open_working_db(str(tmp_path / "work.db"))
        crawl(db, proxy.base_url)
        proxy.set_faults(fixed={article_path(a): fault for fault, a in articles.items()})
        summary = crawl(db, proxy.base_url, recheck=10_000)
        injected = proxy.counts()
    assert set(injected) == set(HARMLESS_FAULTS)
    assert summary.counts["edited"] == 0 and summary.counts["errors"] == 0
    assert_same_text(db, articles, clean_bodies)
    for fault, decision in DECISIONS.items():
        assert latest_page(db, articles[fault]["id"]) == (*decision, 200), fault
    assert truth_problems(db, truth, single_version=True) == [] and archive_problems(db) == []
    record(injected)


# --- the decision itself, on the rule this suite added to encoding.py ----------------------------------

UTF8_PAGE = ("<html><head><title>t</title></head><body><div>조선어 Русский</div>"
             "<p>Kim\u00a0Jong Un said \u201cyes\u201d \u2014 twice.</p></body></html>")


@pytest.mark.parametrize("content_type", [None, "text/html", "text/html; charset=iso-8859-1"])
def test_utf8_with_a_stray_byte_stays_utf8(content_type):
    # One stray byte used to send the whole page to windows-1252: “ became â€œ in the article.
    body = UTF8_PAGE.encode().replace(b"</body>", b"\xff</body>")
    decoded = decode_page(body, content_type)
    assert (decoded.encoding, decoded.decided_by, decoded.replaced) == ("utf-8", "utf-8", 1)
    assert "Kim\u00a0Jong Un said \u201cyes\u201d \u2014 twice." in decoded.text


def test_legacy_single_byte_text_is_still_windows_1252():
    # Every accented letter is an invalid UTF-8 sequence here: nothing like UTF-8 with a few stray bytes.
    body = "<html><body><p>Café “Kalma” — déjà vu, résumé, naïve</p></body></html>".encode("cp1252")
    decoded = decode_page(body, None)
    assert (decoded.encoding, decoded.decided_by) == ("cp1252", "fallback")
    assert "Café “Kalma” — déjà vu" in decoded.text
