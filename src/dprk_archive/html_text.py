"""Element -> text as a reader sees it, and the content-density fallback for markup we have not seen.

Rules (shared/SITES.md, docs/design.md):
- Inline elements add no whitespace of their own: a leader's name in
  ``<nobr><strong><font>Kim Jong Un</font></strong></nobr>`` joins the words around it through the
  whitespace that is really there ("pledge to Kim Jong Un were adopted", never "toKim Jong Unwere"),
  and CJK text around it stays unspaced (KCNA's "】<nobr>…金日成…</nobr>主席").
- Block boundaries separate paragraphs; ``<br><br>`` separates paragraphs; a single ``<br>`` joins
  the broken sentence with a space, except after a sentence end ("。<br>", ". <br>"), where KCNA's
  bodies start a new paragraph with one ``<br>``.
- Whitespace (``&nbsp;``, newlines, leading indentation) collapses to one space; paragraphs are
  stripped and NFC; zero-width spaces go.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav ol p pre "
    "section summary table tbody td tfoot th thead tr ul".split()
)
HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# Never text a reader sees: code, players, form widgets, the document head.
SKIP_TAGS = frozenset(
    "script style noscript template iframe object embed svg math canvas select option button input "
    "textarea head title audio video source map area".split()
)

# Marks that no page text can contain: NUL is stripped when decoding (and lxml turns &#0; into U+FFFD);
# a lone surrogate cannot be stored in lxml's UTF-8 at all.
_PARA = "\x00"  # block boundary
_BR = "\ud800"  # <br>
# Block boundaries with only whitespace between them are one boundary.
_PARA_RUN = re.compile(r"\x00[\s\x00]*")
# A <br> right after a sentence end (closing quotes/brackets allowed) starts a new paragraph.
_SENTENCE_END = re.compile(r"[.!?\u3002\uff01\uff1f][\"'\u201d\u2019\u00bb)\]\u300d\u300f]*\s*$")
_ZERO_WIDTH = ("\u200b", "\ufeff", "\u200c", "\u200d")


def _collect(element, out: list, exclude) -> None:
    text = element.text
    if text:
        out.append(text)
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and tag not in SKIP_TAGS and not (exclude and child in exclude):
            if tag == "br":
                out.append(_BR)
            elif tag in BLOCK_TAGS:
                out.append(_PARA)
                _collect(child, out, exclude)
                out.append(_PARA)
            else:
                _collect(child, out, exclude)
        tail = child.tail
        if tail:
            out.append(tail)


def _split(joined: str) -> list[str]:
    """Whitespace collapsed, zero-width characters dropped, NFC, split at block boundaries, empties out."""
    for char in _ZERO_WIDTH:
        if char in joined:
            joined = joined.replace(char, "")
    if not unicodedata.is_normalized("NFC", joined):
        joined = unicodedata.normalize("NFC", joined)
    # str.split() splits on exactly the characters re's \s matches (NBSP included), much faster.
    return [chunk for chunk in (" ".join(part.split()) for part in _PARA_RUN.split(joined)) if chunk]


def _resolve_breaks(joined: str) -> str:
    """Turn <br> marks into paragraph boundaries (two or more in a row, or after a sentence end) or spaces."""
    parts = joined.split(_BR)
    pieces = [parts[0]]
    index, count = 1, len(parts)
    while index < count:
        run = 1
        # whitespace between two <br>: the same run ("<br>\n<br>", "<br>&nbsp;<br>")
        while index < count - 1 and (not parts[index] or parts[index].isspace()):
            run += 1
            index += 1
        before = pieces[-1][-200:]
        pieces.append(_PARA if run > 1 or _SENTENCE_END.search(before) else " ")
        pieces.append(parts[index])
        index += 1
    return "".join(pieces)


def paragraphs(element, exclude=None) -> list[str]:
    """The paragraphs of an element's text, in order, each on one line; ``exclude`` holds elements to skip."""
    out: list[str] = []
    _collect(element, out, exclude)
    joined = "".join(out)
    if _BR in joined:
        joined = _resolve_breaks(joined)
    return _split(joined)


def lines(element, exclude=None) -> list[str]:
    """The lines of an element's text: every <br> and block boundary ends one (headings, link texts)."""
    out: list[str] = []
    _collect(element, out, exclude)
    return _split("".join(out).replace(_BR, _PARA))


def inline_text(element) -> str:
    """An element's whole text on one line, <br> and blocks read as spaces."""
    return " ".join(lines(element))


# --- content-density fallback -------------------------------------------------------------------

# A block whose text is more than this share link text is navigation, a menu or a "related" list.
LINK_DENSITY_MAX = 0.5


class _Block:
    __slots__ = ("element", "parent", "text", "link", "breaks", "total_text", "total_link", "score")

    def __init__(self, element, parent):
        self.element = element
        self.parent = parent
        self.text = 0  # running text directly in this block (not in a child block, not in a link)
        self.link = 0  # link text directly in this block
        self.breaks = 0  # <br> directly in this block
        self.total_text = 0
        self.total_link = 0
        self.score = 0.0

    @property
    def link_density(self) -> float:
        total = self.total_text + self.total_link
        return self.total_link / total if total else 0.0


def _measure(element, block: _Block, blocks: list) -> None:
    # Sizes are stripped lengths: indentation between tags is not text, inner spaces barely matter here.
    if element.text:
        block.text += len(element.text.strip())
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and tag not in SKIP_TAGS:
            if tag == "br":
                block.breaks += 1
            elif tag == "a":
                # a link's whole text is link text: no need to walk into it (menus are hundreds of these)
                block.link += len("".join(child.itertext()).strip())
            elif tag in BLOCK_TAGS:
                inner = _Block(child, block)
                blocks.append(inner)
                _measure(child, inner, blocks)
            else:
                _measure(child, block, blocks)
        if child.tail:
            block.text += len(child.tail.strip())


def _measure_tree(root) -> list[_Block]:
    top = _Block(root, None)
    blocks = [top]
    _measure(root, top, blocks)
    for block in reversed(blocks):  # children come after their parents: sum bottom-up
        block.total_text += block.text
        block.total_link += block.link
        if block.parent is not None:
            block.parent.total_text += block.total_text
            block.parent.total_link += block.total_link
    return blocks


class Density(NamedTuple):
    """The densest block (None if the page has no running text), the link-heavy blocks inside it, the page's text size."""

    element: object
    noise: set
    page_text: int  # characters of non-link text on the whole page


def densest_block(root) -> Density:
    """The element holding most running text and least link text, and the link-heavy blocks inside it.

    Readability's idea, adapted to these sites: each paragraph-like block gives its running text to its
    parent (and half to the grandparent); a block that holds several ``<br><br>`` paragraphs itself
    (the ``<td>`` or ``<div>`` bodies of old templates) scores for itself. Each candidate's score is then
    scaled by its share of non-link text, so the page body, which also holds the menus, loses to the
    article's own container.
    """
    blocks = _measure_tree(root)
    for block in blocks:
        if block.text == 0 or block.link > block.text:
            continue
        tag = block.element.tag
        if block.breaks >= 2 and tag not in HEADING_TAGS:
            block.score += block.text
            if block.parent is not None:
                block.parent.score += block.text / 2
        elif block.parent is not None:
            block.parent.score += block.text
            if block.parent.parent is not None:
                block.parent.parent.score += block.text / 2
    best = max(blocks, key=lambda b: b.score * (1.0 - b.link_density))
    if best.score == 0:
        return Density(None, set(), blocks[0].total_text)
    noise = set()
    inside = False
    for block in blocks:
        # Blocks are in document order; a block's descendants follow it until the next non-descendant.
        if block is best:
            inside = True
            continue
        if inside:
            if not _is_descendant(block, best):
                break
            if block.total_link and block.link_density > LINK_DENSITY_MAX:
                noise.add(block.element)
    return Density(best.element, noise, blocks[0].total_text)


def _is_descendant(block: _Block, ancestor: _Block) -> bool:
    parent = block.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False
