"""The records that flow between pipeline stages: plain dataclasses, no behaviour, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Article:
    """One text article as parsed from one page (then enriched with regions and places)."""

    source: str  # the original outlet, e.g. "Voice of Korea", even when seen on an aggregator
    id: str  # the outlet's own article id exactly as in its URL, e.g. "ien261003020"
    url: str  # canonical URL of the article on the outlet's site
    title: str
    subtitle: str | None
    published: str | None  # ISO date taken from the page (never from the id), or None if unparsed
    published_raw: str | None  # the date string exactly as the page showed it
    body: str  # paragraphs separated by one blank line, NFC
    category: str | None = None  # outlet category id, e.g. "18"
    family: str | None = None  # URL family, e.g. "comde", "revo_de", "gude", "newstream"
    via: str | None = None  # aggregator the page came from (e.g. "KCNA Watch"), None when direct
    extraction: str = "selector"  # "selector" when the known container was found, "density" for the fallback
    warnings: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)  # canonical first-level division names
    places: list[str] = field(default_factory=list)  # finer gazetteer names, e.g. "Samjiyon"
    encoding: str | None = None  # the encoding the page was decoded with, e.g. "utf-8"
    encoding_decided_by: str | None = None  # what decided it: "bom", "header", "meta", "utf-8" or "fallback"


@dataclass
class MediaItem:
    """A video or audio page: it carries a title and a player, never article text."""

    source: str
    id: str
    url: str
    kind: str  # "video" or "audio"
    title: str | None = None
    published: str | None = None
    published_raw: str | None = None
    encoding: str | None = None  # as on Article
    encoding_decided_by: str | None = None


@dataclass
class ListingEntry:
    """One link to an item as shown on a listing or home page."""

    url: str  # absolute URL as linked
    id: str  # outlet article id parsed from the URL
    family: str  # URL family: "comde", "revo_de", "gude", "vi_video", "vi_audio"
    title: str | None = None
    date_raw: str | None = None  # e.g. "2026.10.4" from "Title (2026.10.4)"


@dataclass
class ListingPage:
    """Everything a crawler needs from a listing or home page."""

    url: str
    entries: list[ListingEntry]  # in page order (newest first on real listings), duplicates removed
    next_url: str | None = None  # the next (older) page of this listing, if any
    listing_urls: list[str] = field(default_factory=list)  # other listings linked from the page (menus)
