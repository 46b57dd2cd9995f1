"""KCNA Watch (kcnawatch.org): the aggregator layout the project grew from (shared/seed/).

An aggregator page re-publishes an outlet's article: the archive keeps the outlet as ``source``
("Voice of Korea", read from the page) and records ``via = "KCNA Watch"``.

Ids: KCNA Watch shows no outlet id, so an article's id is built from its own URL,
``/newstream/{unixTimestamp}-{n}/{slug}/`` -> ``kcnawatch-{unixTimestamp}-{n}``. The slug is left out:
it is derived from the title and changes when the title is edited, while timestamp and counter do not;
the ``kcnawatch-`` prefix keeps these ids apart from outlet ids like ``ien261003020``.

Selectors tagged [scraper] are what public scrapers of the site rely on; [guess] ones are this
project's reading of the seed page and stay replaceable (the parser falls back to content density).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.etree import XPath

from .vok import UrlInfo

AGGREGATOR = "KCNA Watch"
HOSTS = ("kcnawatch.org", "www.kcnawatch.org")
DEFAULT_BASE_URL = "https://kcnawatch.org"
FAMILY = "newstream"

_NEWSTREAM = re.compile(r"^/newstream/(?P<ts>\d{9,11})-(?P<n>\d+)/(?P<slug>[^/?#]+)/?$")


class NewstreamUrlInfo(UrlInfo):
    """A KCNA Watch article URL: always a text article (the outlet behind it is read from the page)."""

    @property
    def is_article(self) -> bool:
        return True


def classify_url(url: str) -> UrlInfo | None:
    """Classify a KCNA Watch URL by its path: ``/newstream/{ts}-{n}/{slug}/`` is an article."""
    match = _NEWSTREAM.match(urlsplit(url).path)
    if match is None:
        return None
    return NewstreamUrlInfo(AGGREGATOR, FAMILY, f"kcnawatch-{match['ts']}-{match['n']}")


def canonical_url(url: str, base_url: str = DEFAULT_BASE_URL) -> str:
    """The one spelling of a KCNA Watch article URL: https host, trailing slash, no query or fragment."""
    match = _NEWSTREAM.match(urlsplit(url).path)
    if match is None:
        raise ValueError(f"not a KCNA Watch article URL: {url}")
    return f"{base_url.rstrip('/')}/newstream/{match['ts']}-{match['n']}/{match['slug']}/"


def _has_class(name: str) -> str:
    # @class first: the token test is only worked out for elements that have a class at all.
    return f"@class and contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# the article's heading [guess]: the first <h1> of the article header, else of the page
ARTICLE_TITLE = XPath(
    f"(//h1[ancestor::*[{_has_class('article-header')}]] | //h1[{_has_class('article-title')}] | //h1)[1]"
)
# the article body [scraper: div.article-content]
ARTICLE_BODY = XPath(f"//div[{_has_class('article-content')}]")
# the article's own date: an element with "date" in its class *before* the body; the "More From"
# teasers after the body carry their own p.articled-date (" November 19, 2025") [scraper]
ARTICLE_DATE = XPath("preceding::*[contains(@class, 'date')][1]")
# the outlet badge of the article header [guess]: "Voice of Korea (EN)"
ARTICLE_SOURCE = XPath(
    f"//*[{_has_class('article-source')} or {_has_class('source-name')} or {_has_class('article-meta-source')}]"
)
# "More From Voice of Korea (EN)": heads the teaser block after the body, and names the outlet [seen]
MORE_FROM_HEADING = XPath("(//h2 | //h3 | //h4 | //h5)[starts-with(normalize-space(.), 'More From ')]")
# inside the body container, never article text: share buttons, tags, "More From"/"More Articles"
# and "Other News" blocks should a template nest them there [guess]
BODY_NOISE = XPath(
    ".//*[contains(@class, 'share') or contains(@class, 'tags') or contains(@class, 'more-from')"
    " or contains(@class, 'more-articles') or contains(@class, 'other-news') or contains(@class, 'related')]"
)
# "Voice of Korea (EN)" -> "Voice of Korea": the language tag is KCNA Watch's, not the outlet's name
OUTLET_LANGUAGE = re.compile(r"\s*\((?:EN|English)\)\s*$", re.IGNORECASE)
MORE_FROM = re.compile(r"^More From\s+(.+?)\s*$", re.IGNORECASE)
# KCNA Watch's names for outlets -> the names the archive uses for the same outlet when read directly
OUTLET_NAMES = {"voice of korea": "Voice of Korea", "kcna": "KCNA", "rodong sinmun": "Rodong Sinmun"}


def outlet_name(label: str) -> str:
    """The archive's name for an outlet as KCNA Watch labels it ("Voice of Korea (EN)" -> "Voice of Korea")."""
    name = OUTLET_LANGUAGE.sub("", label).strip()
    return OUTLET_NAMES.get(name.lower(), name)
