"""One module per outlet: URL templates, selectors and quirks. No I/O here."""

from __future__ import annotations

from . import kcnawatch, vok
from .vok import UrlInfo

__all__ = ["UrlInfo", "classify_url", "kcnawatch", "vok"]


def classify_url(url: str) -> UrlInfo | None:
    """Say which outlet, URL family and article id a URL belongs to, or None if it is none of ours."""
    return vok.classify_url(url) or kcnawatch.classify_url(url)
