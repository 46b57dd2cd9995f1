"""Voice of Korea (English): URL families, selectors and quirks of vok.rep.kp."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

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
