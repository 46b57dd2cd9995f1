"""Decide which encoding a fetched page is in, and say what decided it.

Order: byte-order mark (``bom``), the Content-Type charset (``header``), a ``<meta>`` charset in the
first 2 KB (``meta``), UTF-8 validity (``utf-8``), then windows-1252 (``fallback``).

One exception to that order, on purpose: a declared *single-byte* charset (iso-8859-1, windows-1252,
us-ascii, koi8-r, ...) loses to the bytes when they are valid UTF-8 and contain multibyte sequences.
Servers send ``Content-Type: text/html; charset=iso-8859-1`` as a default while the page itself is
UTF-8; legacy single-byte text that happens to form valid multibyte UTF-8 is vanishingly rare, while
reading UTF-8 as latin-1 turns every non-ASCII character into mojibake (``KimÂ Jong`` for
``Kim\\u00a0Jong``). The page is then decoded as UTF-8 and ``decided_by`` names the declaration that
agrees with the bytes (``meta`` if the page's own meta says UTF-8, else ``utf-8``). A declared
multibyte charset (euc-kr, shift_jis, gb2312, ...) is always honoured.

"Valid UTF-8" above tolerates a few stray bytes: bytes that are *mostly* UTF-8 (at least four
well-formed multibyte characters per invalid sequence) are UTF-8 with the stray bytes replaced, both
against a single-byte label and when nothing is declared. Otherwise one stray byte in a footer sent
the whole page, article included, to windows-1252 (``“`` became ``â€œ``) and stored mojibake as a
new version of the article.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_BOMS = (
    # UTF-32 before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"';,\s]+)""", re.IGNORECASE)
# <meta charset="utf-8"> and <meta http-equiv="Content-Type" content="text/html; charset=utf-8">
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([-A-Za-z0-9_:.]+)""", re.IGNORECASE)
META_WINDOW = 2048
# Codec names (as codecs.lookup spells them) whose every byte is one character: these are the
# labels a UTF-8 page is wrongly served with, and the ones valid multibyte UTF-8 overrides.
_SINGLE_BYTE = re.compile(r"^(ascii|latin-1|iso8859-\d+|cp125\d|cp437|cp850|cp866|koi8-[ru]|mac-[-\w]+|tis-620)$")
# Browsers read "iso-8859-1" and "us-ascii" as windows-1252 (WHATWG Encoding): curly quotes and
# dashes in 0x80-0x9F come out right instead of as C1 control characters.
_WINDOWS_1252_ALIASES = {"ascii", "latin-1", "iso8859-1"}


@dataclass(frozen=True)
class DecodedPage:
    """A page's text with the encoding used and what decided it (bom, header, meta, utf-8, fallback)."""

    text: str
    encoding: str
    decided_by: str
    replaced: int = 0  # characters that could not be decoded and became U+FFFD


def _windows_1252_or_latin1(error: UnicodeDecodeError):
    # The five bytes windows-1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) map to the same-numbered
    # code points, as browsers do, instead of failing the whole page.
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("dprk-archive-latin1", _windows_1252_or_latin1)


def _codec_name(label: str | None) -> str | None:
    """Python's name for a charset label, or None when the label names no codec we know."""
    if not label:
        return None
    try:
        info = codecs.lookup(label.strip().strip("\"'"))
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        # "base64", "rot13", "zlib" are codec names too, but not of text.
        return None
    name = info.name.replace("_", "-")
    if name in _WINDOWS_1252_ALIASES:
        return "cp1252"
    if name == "utf-8-sig":
        return "utf-8"
    return name


def header_charset(content_type: str | None) -> str | None:
    """The charset label of a Content-Type header value, as written, or None."""
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return match.group(1) if match else None


def meta_charset(body: bytes) -> str | None:
    """The charset label declared by a <meta> tag in the first 2 KB of the page, or None."""
    match = _META_CHARSET.search(body, 0, META_WINDOW)
    return match.group(1).decode("ascii", "replace") if match else None


def _decode(body: bytes, codec: str, decided_by: str) -> DecodedPage:
    if codec == "cp1252":
        text = body.decode("cp1252", "dprk-archive-latin1")
        return DecodedPage(text.replace("\x00", ""), codec, decided_by)
    try:
        text = body.decode(codec)
        replaced = 0
    except UnicodeDecodeError:
        text = body.decode(codec, "replace")
        replaced = text.count("\ufffd") - body.decode(codec, "ignore").count("\ufffd")
    # NUL is never text: servers pad truncated or half-written pages with it, and lxml would stop at it.
    return DecodedPage(text.replace("\x00", ""), codec, decided_by, replaced)


# Well-formed multibyte characters needed per invalid sequence for bytes to count as UTF-8 with stray bytes.
# Legacy single-byte text almost never forms a valid multibyte sequence (it takes e.g. "Ã©"), while the
# mirror's and VOK's pages carry dozens (the language menu alone: 조선어, Русский, ...).
_UTF8_PER_STRAY_BYTE = 4


def _is_multibyte_utf8(body: bytes) -> bool:
    """The bytes are UTF-8 with multibyte characters, allowing a few invalid sequences (see the docstring)."""
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
        stray = text.count("\ufffd") - body.decode("utf-8", "ignore").count("\ufffd")
        multibyte = len(text) - len(text.encode("ascii", "ignore")) - text.count("\ufffd")
        return multibyte >= _UTF8_PER_STRAY_BYTE * stray
    return True


def decode_page(body: bytes, content_type: str | None) -> DecodedPage:
    """Decode a page's bytes, deciding by BOM, header charset, meta charset, UTF-8 validity, then windows-1252."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _decode(body[len(bom) :], codec, "bom")

    declared_meta = _codec_name(meta_charset(body))
    for codec, decided_by in ((_codec_name(header_charset(content_type)), "header"), (declared_meta, "meta")):
        if codec is None or codec in ("utf-16", "utf-32"):
            # A page without a BOM cannot be UTF-16/32 "with endianness from the BOM": the label is wrong.
            continue
        if _SINGLE_BYTE.match(codec) and _is_multibyte_utf8(body):
            return _decode(body, "utf-8", "meta" if declared_meta == "utf-8" else "utf-8")
        return _decode(body, codec, decided_by)

    try:
        return DecodedPage(body.decode("utf-8").replace("\x00", ""), "utf-8", "utf-8")
    except UnicodeDecodeError:
        if _is_multibyte_utf8(body):
            # UTF-8 with a few stray bytes: replace those, not every character of the page.
            return _decode(body, "utf-8", "utf-8")
        return _decode(body, "cp1252", "fallback")
