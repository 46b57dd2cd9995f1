"""Pure parsing: page bytes + the URL they came from -> Article, MediaItem or ListingPage. No I/O.

The outlet is decided by the URL (``sources.classify_url``); its module holds the selectors. When an
article page lacks the known body container, the body is found by content density instead and
``Article.extraction`` says so ("density"), so that template drift shows in the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.etree import XPath

from . import html_text
from .dates import contains_date, parse_date, strip_dateline
from .encoding import DecodedPage, decode_page
from .models import Article, ListingEntry, ListingPage, MediaItem
from .sources import classify_url, kcnawatch, vok

# A page is complete only if its closing </body> or </html> arrived: a connection reset mid-body
# (the VOK server does that under load) must never be stored as a new version of an article.
_CLOSING_TAG = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_CLOSING_WINDOW = 16384
# "Not found" pages served with status 200 (soft 404s), in English and Korean.
_NOT_FOUND = re.compile(
    r"\bnot\s+found\b|\b(?:page|article)\s+(?:does\s+not|doesn't)\s+exist|\bno\s+such\s+(?:page|article)"
    r"|\b404\b(?!\s*\w)|찾을\s*수\s*없|존재하지\s*않",
    re.IGNORECASE,
)
# A page whose readable text is shorter than this is checked whole for a "not found" message.
_SHORT_PAGE = 600
# The site-wide <title>; never an article's title.
_SITE_NAMES = frozenset({"voice of korea", "kcna watch"})

# --- fallbacks for markup we have not seen (any outlet) ---

_HEADING = (
    "self::h1 or self::h2 or self::h3 or (@class and (contains(@class, 'title') or contains(@class, 'headline')"
    " or contains(@class, 'subject') or @class = 'tit'))"
)
_NOT_SUBTITLE = (
    "not(self::title or contains(@class, 'subtitle') or contains(@class, 'sub-title') or contains(@class, 'subhead'))"
)
# a heading inside the densest block, first one wins (tables and old templates keep it there)
HEADING_INSIDE = XPath(f".//*[{_HEADING}][{_NOT_SUBTITLE}]")
# else the nearest heading before the densest block
HEADING_BEFORE = XPath(f"preceding::*[{_HEADING}][{_NOT_SUBTITLE}]")
# headings anywhere, to recognise a "not found" page
PAGE_HEADINGS = XPath("//title | //h1 | //h2 | //h3")
# a date by its class, inside or before the densest block
DATE_INSIDE = XPath(".//*[contains(@class, 'date') or contains(@class, 'time')]")
DATE_BEFORE = XPath("preceding::*[contains(@class, 'date') or contains(@class, 'time')]")
# small elements right after the title: a date standing alone in a table cell or a <p>
AFTER_TITLE = XPath("following::*[position() <= 6]")
# <base href> changes what relative links resolve against
BASE_HREF = XPath("/html/head/base/@href")
HAS_LINK = XPath("boolean(ancestor-or-self::a or .//a)")


class ParseError(ValueError):
    """A page that must not become a record: empty, truncated, not found, or without title or text."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


def _load(body: bytes, url: str, content_type: str | None) -> tuple[etree._Element, DecodedPage]:
    if not body or not body.strip():
        raise ParseError(url, "empty body")
    decoded = decode_page(body, content_type)
    text = decoded.text
    if not _CLOSING_TAG.search(text, max(0, len(text) - _CLOSING_WINDOW)):
        raise ParseError(url, "truncated page: no closing </body> or </html>")
    if decoded.encoding == "utf-8" and decoded.decided_by != "bom" and not decoded.replaced and b"\x00" not in body:
        data = body  # already the UTF-8 the parser is told to read: skip re-encoding
    else:
        data = text.encode("utf-8")
    # The encoding is ours to decide (encoding.py): the parser must not re-read it from <meta>.
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, collect_ids=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.LxmlError as error:
        raise ParseError(url, f"not parseable as HTML: {error}") from error
    if root is None:
        raise ParseError(url, "not parseable as HTML")
    return root, decoded


def _first(found: list):
    return found[0] if found else None


def _heading(element) -> tuple[str | None, str | None, str | None]:
    """Headline, subtitle and dateline of a heading whose lines are separated by <br>."""
    words, dateline = [], None
    for line in html_text.lines(element):
        rest, date = strip_dateline(line)
        if date and dateline is None:
            dateline = date
        if rest:
            words.append(rest)
    if not words:
        return None, None, dateline
    return words[0], " ".join(words[1:]) or None, dateline


def _usable_heading(element) -> bool:
    if HAS_LINK(element):
        return False  # a teaser or menu heading: <h4><a>Other title</a></h4>
    text = html_text.inline_text(element)
    return bool(text) and text.lower() not in _SITE_NAMES and strip_dateline(text)[0] != ""


def _fallback_title(container):
    for element in HEADING_INSIDE(container):
        if _usable_heading(element):
            return element
    for element in reversed(HEADING_BEFORE(container)):
        if _usable_heading(element):
            return element
    return None


def _is_date(element) -> bool:
    text = html_text.inline_text(element)
    return len(text) < 60 and contains_date(text)


def _is_dateline(text: str) -> bool:
    return bool(text) and strip_dateline(text)[0] == ""


def _fallback_date(container, title_element):
    for element in DATE_INSIDE(container):
        if _is_date(element):
            return element
    for element in reversed(DATE_BEFORE(container)):
        if _is_date(element):
            return element
    if title_element is not None:
        for element in AFTER_TITLE(title_element):
            if len(element) == 0 and _is_dateline(html_text.inline_text(element)):
                return element
    return None


def _not_found(root, headings: bool) -> str | None:
    """Why the page is a soft 404, or None: its <title> (and, with ``headings``, any h1-h3) says "not found"."""
    for element in PAGE_HEADINGS(root) if headings else root.findall("head/title"):
        text = html_text.inline_text(element)
        if _NOT_FOUND.search(text):
            return f"soft 404: the page says {text[:80]!r}"
    return None


def _short_page_not_found(root) -> str | None:
    """Why a page with little text is a soft 404, or None: its text says "not found"."""
    body = root.find("body")
    text = " ".join(html_text.paragraphs(body)) if body is not None else ""
    if len(text) < _SHORT_PAGE and _NOT_FOUND.search(text):
        return "soft 404: the page says it was not found"
    return None


def _date_fields(date_element, dateline: str | None, warnings: list[str]) -> tuple[str | None, str | None]:
    """(published, published_raw) from the page's date element, else from the heading's dateline."""
    raw = html_text.inline_text(date_element) if date_element is not None else None
    if not raw:
        raw = dateline
    if not raw:
        warnings.append("no date on the page")
        return None, None
    parsed = parse_date(raw)
    if parsed.warning:
        warnings.append(parsed.warning)
    return parsed.iso, raw


@dataclass(frozen=True)
class _Layout:
    """One outlet's selectors for an article page."""

    title: XPath
    body: XPath
    noise: XPath  # blocks inside the body container that are not article text
    date: XPath
    date_relative_to_body: bool  # the date selector is evaluated from the body container, not the root
    body_name: str  # for the warning when the body container is missing
    listing_markup: XPath | None = None  # markup that makes an article URL a soft 404


_VOK = _Layout(
    vok.ARTICLE_TITLE, vok.ARTICLE_BODY, vok.BODY_NOISE, vok.ARTICLE_DATE, False, "div.article-body", vok.LISTING_MARKUP
)
_KCNAWATCH = _Layout(
    kcnawatch.ARTICLE_TITLE,
    kcnawatch.ARTICLE_BODY,
    kcnawatch.BODY_NOISE,
    kcnawatch.ARTICLE_DATE,
    True,
    "div.article-content",
)


def _article_fields(root, url: str, layout: _Layout) -> dict:
    """Title, subtitle, dates, body, extraction mode and warnings of an article page, as Article fields."""
    warnings: list[str] = []
    reason = _not_found(root, headings=False)
    if reason:
        raise ParseError(url, reason)
    container = _first(layout.body(root))
    extraction = "selector"
    noise: set = set()
    if container is not None:
        noise.update(layout.noise(container))
    else:
        reason = _not_found(root, headings=True)
        if reason is None and layout.listing_markup is not None and layout.listing_markup(root):
            reason = "soft 404: an article URL served a listing or the home page"
        density = html_text.densest_block(root)
        if reason is None and density.page_text < _SHORT_PAGE:
            reason = _short_page_not_found(root)
        if reason:
            raise ParseError(url, reason)
        container, noise = density.element, density.noise
        if container is None:
            raise ParseError(url, "no text on the page")
        if container.tag in ("body", "html"):
            # No block of its own holds the text: what is left is chrome (notices, footer, menus). A page
            # served with its body missing was stored with "Copyright (c) Voice of Korea ..." as its text,
            # a spurious new version of the article.
            raise ParseError(url, "no article text: only the page's chrome has text")
        extraction = "density"
        warnings.append(f"{layout.body_name} not found: body taken from the densest block <{container.tag}>")

    title_element = _first(layout.title(root))
    title, subtitle, dateline = _heading(title_element) if title_element is not None else (None, None, None)
    if not title or title.lower() in _SITE_NAMES:
        title_element = _fallback_title(container)
        if title_element is None:
            raise ParseError(url, "no title on the page")
        warnings.append(f"title container not found: title taken from <{title_element.tag}>")
        title, subtitle, dateline = _heading(title_element)
    date_element = _first(layout.date(container if layout.date_relative_to_body else root))
    if date_element is None and extraction == "density":
        date_element = _fallback_date(container, title_element)
        if date_element is not None:
            warnings.append(f"date container not found: date taken from <{date_element.tag}>")

    exclude = noise | {element for element in (title_element, date_element) if element is not None}
    paragraphs = html_text.paragraphs(container, exclude)
    if extraction == "density":
        # The densest block may hold the heading's words as separate lines (old table templates).
        shown = {title, subtitle, dateline}
        paragraphs = [paragraph for paragraph in paragraphs if paragraph not in shown]
    if not paragraphs:
        raise ParseError(url, "no text on the page" if _NOT_FOUND.search(title) is None else f"soft 404: {title!r}")
    published, published_raw = _date_fields(date_element, dateline, warnings)
    return {
        "title": title,
        "subtitle": subtitle,
        "published": published,
        "published_raw": published_raw,
        "body": "\n\n".join(paragraphs),
        "extraction": extraction,
        "warnings": warnings,
    }


def parse_page(body: bytes, url: str, content_type: str | None = None) -> Article | MediaItem:
    """Parse one article or media page into an Article or MediaItem; raise ParseError when it is not one."""
    info = classify_url(url)
    if info is None:
        raise ParseError(url, "not a page of an outlet the archive reads")
    if info.is_listing:
        raise ParseError(url, "a listing page: read it with parse_listing")
    root, decoded = _load(body, url, content_type)
    if info.source == vok.SOURCE and info.is_media:
        return _parse_vok_media(root, url, info, decoded)
    fields = _article_fields(root, url, _VOK if info.source == vok.SOURCE else _KCNAWATCH)
    warnings = fields["warnings"]
    if decoded.replaced:
        warnings.append(f"{decoded.replaced} undecodable bytes replaced by U+FFFD ({decoded.encoding})")
    if info.source == vok.SOURCE:
        source, canonical, via = vok.SOURCE, vok.canonical_url(info), None
    else:
        source, canonical, via = _kcnawatch_outlet(root, warnings), kcnawatch.canonical_url(url), kcnawatch.AGGREGATOR
    return Article(
        source=source,
        id=info.id,
        url=canonical,
        category=info.category,
        family=info.family,
        via=via,
        encoding=decoded.encoding,
        encoding_decided_by=decoded.decided_by,
        **fields,
    )


def _parse_vok_media(root, url: str, info, decoded: DecodedPage) -> MediaItem:
    title_element = _first(vok.ARTICLE_TITLE(root))
    reason = _not_found(root, headings=True) if title_element is None else _not_found(root, headings=False)
    if reason is None and title_element is None:
        reason = _short_page_not_found(root)
    if reason:
        raise ParseError(url, reason)
    title, _subtitle, dateline = _heading(title_element) if title_element is not None else (None, None, None)
    if not title and not vok.MEDIA_PLAYER(root):
        raise ParseError(url, "media page without a title or a player")
    published, published_raw = _date_fields(_first(vok.ARTICLE_DATE(root)), dateline, [])
    return MediaItem(
        source=vok.SOURCE,
        id=info.id,
        url=vok.canonical_url(info),
        kind=vok.MEDIA_FAMILIES[info.family],
        title=title,
        published=published,
        published_raw=published_raw,
        encoding=decoded.encoding,
        encoding_decided_by=decoded.decided_by,
    )


def _kcnawatch_outlet(root, warnings: list[str]) -> str:
    """The outlet a KCNA Watch page re-publishes: its source badge, else its "More From …" heading."""
    badge = _first(kcnawatch.ARTICLE_SOURCE(root))
    if badge is not None and html_text.inline_text(badge):
        return kcnawatch.outlet_name(html_text.inline_text(badge))
    for heading in kcnawatch.MORE_FROM_HEADING(root):
        match = kcnawatch.MORE_FROM.match(html_text.inline_text(heading))
        if match:
            return kcnawatch.outlet_name(match.group(1))
    warnings.append("original outlet not shown on the page")
    return kcnawatch.AGGREGATOR


# --- listings ---


def _entry_title(anchor) -> tuple[str | None, str | None]:
    """(title, date_raw) of a listing anchor "·Title (2026.10.4)"."""
    lines = html_text.lines(anchor)
    if not lines:
        alt = vok.ANCHOR_IMAGE_ALT(anchor) or anchor.get("title") or ""
        lines = [" ".join(alt.split())] if alt.strip() else []
    if not lines:
        return None, None
    lines[0] = vok.LISTING_MARKER.sub("", lines[0])
    date_raw = None
    match = vok.LISTING_DATE.search(lines[-1])
    if match:
        date_raw = match.group(1)
        lines[-1] = lines[-1][: match.start()]
    else:
        # "<a>Title</a> (2026.10.4)": the date after the link
        after = vok.LISTING_DATE.search((anchor.tail or "").rstrip()[:40])
        if after:
            date_raw = after.group(1)
    words = [strip_dateline(line)[0] for line in lines]
    return " ".join(word for word in words if word) or None, date_raw


def parse_listing(body: bytes, url: str, content_type: str | None = None) -> ListingPage:
    """Parse a listing or home page: its item links in page order without duplicates, next page, menu listings."""
    root, _decoded = _load(body, url, content_type)
    reason = _not_found(root, headings=False)
    if reason:
        raise ParseError(url, reason)
    base = _first(BASE_HREF(root))
    base = urljoin(url, base.strip()) if base else url
    own_path = urlsplit(url).path.rstrip("/")

    entries: list[ListingEntry] = []
    by_id: dict[str, ListingEntry] = {}
    listing_urls: list[str] = []
    listing_paths: set[str] = set()
    for anchor in vok.LISTING_ANCHORS(root):
        href = anchor.get("href", "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        absolute = urljoin(base, href)
        info = vok.classify_url(absolute)
        if info is None or info.family == "home":
            continue
        if info.family == "listing":
            path = urlsplit(absolute).path.rstrip("/")
            # Pages N >= 2 are reached through next_url; the menus link page 1 of every listing.
            if path != own_path and path not in listing_paths and vok.listing_page_number(absolute) == 1:
                listing_paths.add(path)
                listing_urls.append(absolute)
            continue
        title, date_raw = _entry_title(anchor)
        if title in vok.CHROME_TEXTS:
            continue
        seen = by_id.get(info.id)
        if seen is not None:
            # The same item in several home-page blocks, or as an image link then a text link.
            if seen.title is None and title:
                seen.title, seen.date_raw = title, date_raw
            continue
        entry = ListingEntry(url=absolute, id=info.id, family=info.family, title=title, date_raw=date_raw)
        by_id[info.id] = entry
        entries.append(entry)
    if not entries:
        # A "not found" page in the site's chrome (its <title> is the site's name) read as a listing with
        # no entries: the walk ended there, silently, and the listing's older pages were never reached.
        reason = _not_found(root, headings=True) or _short_page_not_found(root)
        if reason:
            raise ParseError(url, reason)
    return ListingPage(url=url, entries=entries, next_url=_next_page(root, base), listing_urls=listing_urls)


def _next_page(root, base: str) -> str | None:
    """The absolute URL of the next (older) page: a link classed "next", else one reading 다음/Next/»/›."""
    for path in (vok.NEXT_PAGE_BY_CLASS, vok.NEXT_PAGE_BY_TEXT):
        for anchor in path(root):
            href = anchor.get("href", "").strip()
            if href and not href.startswith(("#", "javascript:")):
                return urljoin(base, href)
    return None
