"""Voice of Korea (English): URL families, selectors and quirks of vok.rep.kp."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.etree import XPath

SOURCE = "Voice of Korea"
HOSTS = ("vok.rep.kp", "www.vok.rep.kp")
DEFAULT_BASE_URL = "http://vok.rep.kp"
HOME_PATH = "/index.php/home/main/en"

# Ids are "i" + 2 letters + YYMMDD + 3 digits, e.g. ien261003020; the date inside is NOT the publication date.
ARTICLE_ID = r"i[a-z]{2}\d{9}"

# URL families seen on the real site (shared/SITES.md). Each maps a path to (family, id, category).
_FAMILIES = [
    ("revo_de", re.compile(rf"^/index\.php/revo_de/getDetail/(?P<id>{ARTICLE_ID})/en/?$")),
    ("comde", re.compile(rf"^/index\.php/detail_com/comde/(?P<id>{ARTICLE_ID})/(?P<cat>\d+)/en/?$")),
    ("gude", re.compile(rf"^/index\.php/detail_com/gude/(?P<id>{ARTICLE_ID})/(?P<cat>\d+)/en/?$")),
    ("vi_video", re.compile(rf"^/index\.php/detail_com/vi_video/(?P<id>{ARTICLE_ID})/?$")),
    ("vi_audio", re.compile(rf"^/index\.php/detail_com/vi_audio/(?P<id>{ARTICLE_ID})/?$")),
]
_LISTING = re.compile(r"^/index\.php/Colist/[A-Za-z0-9]+/\d+(?:/[^?#]*)?/en(?:/\d+)?/?$")
_HOME = re.compile(r"^/index\.php/home/main/en/?$")

MEDIA_FAMILIES = {"vi_video": "video", "vi_audio": "audio"}
TEXT_FAMILIES = {"revo_de", "comde", "gude"}


@dataclass(frozen=True)
class UrlInfo:
    """What a URL is: outlet, family ("home", "listing", "comde", "vi_video", ...), article id, category."""

    source: str
    family: str
    id: str | None = None
    category: str | None = None

    @property
    def is_article(self) -> bool:
        return self.family in TEXT_FAMILIES

    @property
    def is_media(self) -> bool:
        return self.family in MEDIA_FAMILIES

    @property
    def is_listing(self) -> bool:
        return self.family in ("home", "listing")


def classify_url(url: str) -> UrlInfo | None:
    """Classify a Voice of Korea URL by its path alone, whatever host (www or not, or a mirror) it was reached on."""
    path = urlsplit(url).path
    for family, pattern in _FAMILIES:
        match = pattern.match(path)
        if match:
            groups = match.groupdict()
            return UrlInfo(SOURCE, family, groups["id"], groups.get("cat"))
    if _HOME.match(path):
        return UrlInfo(SOURCE, "home")
    if _LISTING.match(path):
        return UrlInfo(SOURCE, "listing")
    return None


def canonical_url(info: UrlInfo, base_url: str = DEFAULT_BASE_URL) -> str:
    """The one spelling of an item's URL that the archive cites, on the outlet's own host."""
    base = base_url.rstrip("/")
    if info.family == "revo_de":
        return f"{base}/index.php/revo_de/getDetail/{info.id}/en"
    if info.family in ("comde", "gude"):
        return f"{base}/index.php/detail_com/{info.family}/{info.id}/{info.category}/en"
    if info.family in MEDIA_FAMILIES:
        return f"{base}/index.php/detail_com/{info.family}/{info.id}"
    raise ValueError(f"no canonical URL for a {info.family} page")


# Page N >= 2 of a listing: /index.php/Colist/newslist/18/en/3 [guess, SITES.md: "a numeric path segment"]
_LISTING_PAGE = re.compile(r"/en/(\d+)/?$")


def listing_page_number(url: str) -> int:
    """The page number of a Colist listing URL: 1 for ``.../en``, N for ``.../en/N``."""
    match = _LISTING_PAGE.search(urlsplit(url).path)
    return int(match.group(1)) if match else 1


def _has_class(name: str) -> str:
    # Whole-token class test: "article-body" must not match "article-body-wrapper". @class first: the
    # token test is only worked out for elements that have a class at all.
    return f"@class and contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# --- article and media pages (the mirror's markup, docs/design.md; the real classes are unknown) ---

# Headline<br>Subtitle<br>September 30, 2026 -- subtitle and dateline optional
ARTICLE_TITLE = XPath(f"//h2[{_has_class('article-title')}]")
# the publication date, "2026.10.7"; the heading's dateline may differ from it
ARTICLE_DATE = XPath(f"//p[{_has_class('article-date')}]")
# the article text: <p> paragraphs, or one block of text with <br><br> between paragraphs
ARTICLE_BODY = XPath(f"//div[{_has_class('article-body')}]")
# blocks that must not count as body text even if a template moves them inside the body container:
# "Other articles" lists and paging
BODY_NOISE = XPath(f".//div[{_has_class('related')} or {_has_class('paging')}]")
# the video/audio player of vi_video / vi_audio pages: <iframe src="/hls/player/{id}">
MEDIA_PLAYER = XPath("//iframe[contains(@src, '/hls/player/')] | //video | //audio")
# the listing and home-page markup: an article URL that serves this is a soft 404 (the home page)
LISTING_MARKUP = XPath(
    f"//div[{_has_class('list-box')} or {_has_class('block')} or {_has_class('paging')}] | //ul[{_has_class('list')}]"
)

# --- listing and home pages ---

# every link; entries are the links whose URL is an item of ours, in page order
LISTING_ANCHORS = XPath("//a[@href]")
# the title of an image-only link (a thumbnail before the text link of the same item)
ANCHOR_IMAGE_ALT = XPath("string(.//img/@alt)")
# the "next/older page" link of a listing's paging: <a class="next" href=".../en/3">다음</a>
NEXT_PAGE_BY_CLASS = XPath("//a[@href][contains(@class, 'next')]")
# ... or, without a class, by its text ("Next" in any case)
_LOWER_TEXT = "translate(normalize-space(.), 'NEXT', 'next')"
NEXT_PAGE_BY_TEXT = XPath(
    f"//a[@href][string-length(normalize-space(.)) < 8][{_LOWER_TEXT} = 'next' or {_LOWER_TEXT} = 'next »'"
    f" or {_LOWER_TEXT} = 'next ›' or normalize-space(.) = '다음' or normalize-space(.) = '»' or normalize-space(.) = '›']"
)

# Chrome anchors on every page (top bar): language names and the Korean "home", "language
# selection", "today's broadcast" links, and the site's "vok" logo link [seen, vok_dispatches.json].
CHROME_TEXTS = frozenset(
    {
        "조선어", "Deutsch", "Русский", "汉 语", "汉语", "Français", "العربية", "English", "日 本 語", "日本語",
        "Español", "vok", "VOK", "첫페지로", "어종선택", "오늘의 방송",
    }
)  # fmt: skip
# A listing anchor reads "·Title (2026.10.4)" or "-Title (2026.10.4)" [seen]
LISTING_MARKER = re.compile(r"^[\s·•・‧∙\-–—]+")
LISTING_DATE = re.compile(r"\s*\(\s*(\d{4}\.\d{1,2}\.\d{1,2})\.?\s*\)\s*$")
