"""Which items the mirror has on a given day, what they are, and what happened to them since day 0.

Item ``i`` (0-based) is a pure function of (seed, i): its listing, whether it is a video or audio item,
its id and its text. Items ``0 .. articles-1`` exist on day 0, spread over 2019-01-01 .. 2026-10-07 in
index order, so that index order is publication order; each later day appends a batch published on
that day. Per-item events (removal, edits, cosmetic changes) are drawn as geometric waiting times from
the item's own hash, so the state on day N is computed directly, never by simulating days 1..N-1.
Only small per-item arrays are kept; texts are generated on request.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import math
import random
import threading
from array import array
from dataclasses import dataclass
from datetime import date, timedelta

from ..sources.vok import DEFAULT_BASE_URL, SOURCE, UrlInfo, canonical_url
from ..text import text_hash
from .content import Body, Head, Writer, truth_body

START = date(2019, 1, 1)
# The newest publication date on day 0; day N publishes on DAY0_NEWEST + N. 2026-10-07 is the newest
# date in the real links (vok_dispatches.json) and leaves 51 days before any date passes 2026-11-27.
DAY0_NEWEST = date(2026, 10, 7)
PAGE_SIZE = 20

# Chance per item and day that it is removed, edited, or re-rendered with cosmetic changes only.
P_REMOVE, P_EDIT, P_COSMETIC = 0.005, 0.01, 0.02
# Chance that an edit restores an earlier version instead of writing a new one (A -> B -> A).
P_REVERT = 0.25
_NEVER = 0xFFFF  # removal day of an item that outlives any day we can serve


@dataclass(frozen=True)
class Listing:
    """One Colist listing: its URL parts, menu label, and the kind of items it holds."""

    name: str  # "newslist", as in /index.php/Colist/newslist/18/en
    cat_id: str  # the real category id: 18 news, 48 main news, 57 features, ...
    label: str
    family: str  # URL family of its text articles: "comde", "revo_de" or "gude"
    kind: str  # what content.Writer writes for it
    prefix: str  # the two letters after "i" in ids: "en" news and leader, "ee" features etc.
    weight: int  # share of all items, in percent
    media_percent: int  # share of its items that are video or audio pages

    def path(self, page: int = 1) -> str:
        """Path of page ``page`` of this listing (page 1 has no number)."""
        base = f"/index.php/Colist/{self.name}/{self.cat_id}/en"
        return base if page == 1 else f"{base}/{page}"


# The real listing names and category ids (SITES.md). Nine streams share eight ids: the leader's
# activities (revo_de pages, whose URLs carry no category) are listed under the news id 18, and the
# listeners' letters (96) and questions (95) share the "holist" listing name.
LISTINGS = (
    Listing("revolist", "18", "Activities of Leader", "revo_de", "leader", "en", 8, 10),
    Listing("newslist", "18", "News", "comde", "news", "en", 22, 10),
    Listing("newslist1", "48", "Main News", "comde", "mainnews", "en", 12, 5),
    Listing("plist", "57", "Features", "comde", "feature", "ee", 14, 15),
    Listing("pclist", "69", "Society and Culture", "comde", "culture", "ee", 12, 25),
    Listing("cscdlist", "43", "Gifts and History", "comde", "history", "ee", 8, 15),
    Listing("vsqlist", "87", "Music", "comde", "music", "ee", 8, 40),
    Listing("holist", "96", "Listeners' Letters", "comde", "letters", "ee", 8, 20),
    Listing("holist", "95", "Questions and Answers", "gude", "qa", "ee", 8, 0),
)
LISTING_BY_PATH = {(listing.name, listing.cat_id): listing for listing in LISTINGS}
_CUMULATIVE = [sum(listing.weight for listing in LISTINGS[: n + 1]) * 65536 // 100 for n in range(len(LISTINGS))]
_PREFIXES = ("en", "ee")


def new_per_day(articles: int) -> int:
    """How many items each day adds: 1% of the day-0 size, at least 5 and at most 50."""
    return max(5, min(50, articles // 100))


def date_of_day(day: int) -> date:
    """The calendar date on which day ``day`` of the mirror publishes (and changes pages)."""
    return DAY0_NEWEST + timedelta(days=day)


def _meta_hash(seed: int, index: int) -> int:
    # 256 stable bits per item, split into the _B_ fields below. Never hash(): it is salted per run.
    return int.from_bytes(hashlib.blake2b(f"{seed}:{index}:meta".encode(), digest_size=32).digest(), "little")


def _bits(value: int, start: int, width: int) -> int:
    return (value >> start) & ((1 << width) - 1)


def _wait(u32: int, p: float) -> int:
    """Days until the next event of daily probability ``p``, from 32 uniform bits (geometric, >= 1)."""
    return 1 + int(math.log((u32 + 1) / 4294967296.0) / math.log1p(-p))


# Bit fields of an item's hash. The bits from _B_STYLE on are Item.style, the renderer's (render._S_*).
_B_LISTING, _B_MEDIA, _B_AUDIO, _B_OFFSET, _B_SEQ, _B_REMOVE, _B_EDIT, _B_COSMETIC, _B_STYLE = (
    0, 16, 32, 40, 64, 72, 104, 136, 168,
)  # fmt: skip
_MEDIA_FLAG, _AUDIO_FLAG = 0x10, 0x20


@functools.lru_cache(maxsize=None)
def _yymmdd(ordinal: int) -> int:
    day = date.fromordinal(ordinal)
    return (day.year % 100) * 10000 + day.month * 100 + day.day


@dataclass(frozen=True)
class Item:
    """One item of the site, text article or media page, as it is on every day it exists."""

    index: int
    id: str
    listing: Listing
    family: str  # "comde", "revo_de", "gude", "vi_video" or "vi_audio"
    published: date
    born_day: int  # the day it first appears (0 for the initial items)
    removed_day: int  # the day it disappears (may lie beyond any day served)
    style: int  # stable random bits for the renderer's per-page choices

    @property
    def is_media(self) -> bool:
        return self.family in ("vi_video", "vi_audio")

    @property
    def path(self) -> str:
        """The item's URL path, as the site links it."""
        return canonical_url(self.url_info, "")

    @property
    def url_info(self) -> UrlInfo:
        category = self.listing.cat_id if self.family in ("comde", "gude") else None
        return UrlInfo(SOURCE, self.family, self.id, category)

    @property
    def canonical_url(self) -> str:
        """The URL ground truth names the item by, on http://vok.rep.kp."""
        return canonical_url(self.url_info, DEFAULT_BASE_URL)


@dataclass(frozen=True)
class History:
    """What happened to one text article's text from its birth up to the day served."""

    version: int  # the text version shown on the day (0 = as first published)
    distinct_versions: int  # how many different texts it has shown so far (A -> B -> A is 2)
    edit_days: tuple[int, ...]
    cosmetic_day: int  # the day of the last cosmetic-only change, 0 if none: the renderer's variant
    last_changed: int  # the last day its text or markup changed (its birth day if never)


@dataclass(frozen=True)
class ArticleText:
    """The text of one article on one day, as ground truth and the renderer see it."""

    head: Head
    body: Body
    history: History

    @property
    def title(self) -> str:
        return self.head.title

    @property
    def subtitle(self) -> str | None:
        return self.head.subtitle

    @property
    def body_text(self) -> str:
        """The body as ground truth hashes it: paragraphs joined by a blank line, leader names inline."""
        return truth_body(self.body)

    @property
    def text_hash(self) -> str:
        """The change hash of this version, from the pristine text (text.text_hash)."""
        return text_hash(self.head.title, self.head.subtitle, self.body_text)


class _Catalogue:
    """Per-item arrays shared by every day of one (articles, seed) site; grows when a later day is served."""

    def __init__(self, articles: int, seed: int):
        self.articles = articles
        self.seed = seed
        self.per_day = new_per_day(articles)
        self.writer = Writer(seed)
        self.keys = array("Q")  # id as a number: prefix code * 10**9 + YYMMDDsss
        self.flags = array("B")  # listing number | media flag | audio flag
        self.removal = array("H")  # removal day, capped at _NEVER
        self.by_listing = [array("I") for _ in LISTINGS]  # all indices of each listing, ascending
        self._seq: dict[int, int] = {}  # last sequence number used per (prefix, id date)
        self._sorted_keys = array("Q")
        self._sorted_index = array("I")
        self._late_keys: dict[int, int] = {}  # ids of items added after the sorted lookup was built
        self._lock = threading.Lock()
        self.head = functools.lru_cache(maxsize=16384)(self._head)
        # Ground truth hashes every article, and text.text_hash costs ~60 us on a 400-word body: keep
        # the hash of each first version once computed (32 bytes an item), and of later versions by key.
        self._first_hashes = bytearray()
        self._first_hash_known = bytearray()
        self._later_hashes: dict[tuple[int, int], str] = {}
        self._span = (DAY0_NEWEST - START).days + 1

    def total(self, day: int) -> int:
        """How many items have been published by day ``day``, removed ones included."""
        return self.articles + day * self.per_day

    def born_day(self, index: int) -> int:
        return 0 if index < self.articles else 1 + (index - self.articles) // self.per_day

    def published_ordinal(self, index: int) -> int:
        if index < self.articles:
            # spread over START .. DAY0_NEWEST, the last initial item on DAY0_NEWEST itself
            return START.toordinal() + ((index + 1) * self._span - 1) // self.articles
        return DAY0_NEWEST.toordinal() + self.born_day(index)

    def extend_to(self, total: int) -> None:
        """Compute the arrays of items up to ``total`` (in index order: sequence numbers depend on it)."""
        with self._lock:
            first = len(self.keys)
            if total <= first:
                return
            seed, seq = self.seed, self._seq
            keys, flags, removal = self.keys, self.flags, self.removal
            for index in range(first, total):
                h = _meta_hash(seed, index)
                number = bisect.bisect_right(_CUMULATIVE, _bits(h, _B_LISTING, 16))
                listing = LISTINGS[number]
                flag = number
                if _bits(h, _B_MEDIA, 16) < listing.media_percent * 65536 // 100:
                    flag |= _MEDIA_FLAG | (_AUDIO_FLAG if _bits(h, _B_AUDIO, 8) < 77 else 0)
                prefix = 0 if listing.prefix == "en" else 1
                u = _bits(h, _B_OFFSET, 24) / 16777216.0
                # The date inside an id is not the publication date [seen]: news is shown 0-4 days
                # after it, features weeks to years after (iee230316062 listed 2026.10.6).
                offset = int(u * 5) if prefix == 0 else 7 + int(1300 * u**4)
                id_ordinal = self.published_ordinal(index) - offset
                step = 1 + _bits(h, _B_SEQ, 8) % 3 // 2
                while True:
                    group = prefix * 1_000_000 + _yymmdd(id_ordinal)
                    number_in_day = seq.get(group, 0) + step
                    if number_in_day <= 999:
                        break
                    id_ordinal -= 1  # three digits are full for that date: use the day before
                seq[group] = number_in_day
                keys.append(group * 1000 + number_in_day)
                flags.append(flag)
                removal.append(min(_NEVER, self.born_day(index) + _wait(_bits(h, _B_REMOVE, 32), P_REMOVE)))
                self.by_listing[number].append(index)
            self._first_hashes.extend(bytes(32 * (total - first)))
            self._first_hash_known.extend(bytes(total - first))
            if first == 0:
                order = sorted(range(total), key=keys.__getitem__)
                self._sorted_keys = array("Q", (keys[i] for i in order))
                self._sorted_index = array("I", order)
            else:
                self._late_keys.update((keys[i], i) for i in range(first, total))

    def find(self, item_id: str) -> int | None:
        """The index of the item with this id, or None."""
        if len(item_id) != 12 or item_id[0] != "i" or item_id[1:3] not in _PREFIXES or not item_id[3:].isdigit():
            return None
        key = _PREFIXES.index(item_id[1:3]) * 1_000_000_000 + int(item_id[3:])
        at = bisect.bisect_left(self._sorted_keys, key)
        if at < len(self._sorted_keys) and self._sorted_keys[at] == key:
            return self._sorted_index[at]
        return self._late_keys.get(key)

    def item(self, index: int) -> Item:
        key, flag = self.keys[index], self.flags[index]
        listing = LISTINGS[flag & 0x0F]
        if flag & _MEDIA_FLAG:
            family = "vi_audio" if flag & _AUDIO_FLAG else "vi_video"
        else:
            family = listing.family
        item_id = f"i{_PREFIXES[key // 1_000_000_000]}{key % 1_000_000_000:09d}"
        style = _meta_hash(self.seed, index) >> _B_STYLE
        published = date.fromordinal(self.published_ordinal(index))
        return Item(index, item_id, listing, family, published, self.born_day(index), self.removal[index], style)

    def _head(self, index: int) -> Head:
        item = self.item(index)
        return self.writer.head(index, item.listing.kind, item.published, item.is_media)

    def title(self, index: int) -> str:
        """The headline shown for an item in listings and on its page."""
        if self.flags[index] & _MEDIA_FLAG:
            item = self.item(index)
            return self.writer.media_title(index, item.listing.kind, item.published)
        return self.head(index).title

    def body(self, index: int, version: int) -> Body:
        """The body of a text article in one version."""
        kind = LISTINGS[self.flags[index] & 0x0F].kind
        return self.writer.body(index, kind, self.head(index), version)

    def text_hash(self, index: int, version: int) -> str:
        """text.text_hash of one version of a text article, computed once."""
        if version == 0 and self._first_hash_known[index]:
            return self._first_hashes[32 * index : 32 * index + 32].hex()
        if (index, version) in self._later_hashes:
            return self._later_hashes[index, version]
        head = self.head(index)
        value = text_hash(head.title, head.subtitle, truth_body(self.body(index, version)))
        if version == 0:
            self._first_hashes[32 * index : 32 * index + 32] = bytes.fromhex(value)
            self._first_hash_known[index] = 1
        else:
            self._later_hashes[index, version] = value
        return value

    def history(self, index: int, day: int) -> History:
        """Replay one article's edit and cosmetic events up to ``day`` (or its removal)."""
        born, end = self.born_day(index), min(day, self.removal[index] - 1)
        h = _meta_hash(self.seed, index)
        version = newest = 0
        edit_days: list[int] = []
        when = born + _wait(_bits(h, _B_EDIT, 32), P_EDIT)
        if when <= end:
            rng = random.Random(f"{self.seed}:{index}:edits")
            while when <= end:
                if newest and rng.random() < P_REVERT:
                    # a version chain's texts are pairwise distinct (content.Writer), so this is a real change
                    version = rng.choice([v for v in range(newest + 1) if v != version])
                else:
                    newest += 1
                    version = newest
                edit_days.append(when)
                when += _wait(rng.getrandbits(32), P_EDIT)
        cosmetic_day = 0
        when = born + _wait(_bits(h, _B_COSMETIC, 32), P_COSMETIC)
        if when <= end:
            rng = random.Random(f"{self.seed}:{index}:cosmetic")
            while when <= end:
                cosmetic_day = when
                when += _wait(rng.getrandbits(32), P_COSMETIC)
        last = max(born, edit_days[-1] if edit_days else 0, cosmetic_day)
        return History(version, newest + 1, tuple(edit_days), cosmetic_day, last)


class MirrorSite:
    """The synthetic Voice of Korea site as it stands on one day."""

    def __init__(self, articles: int, seed: int, day: int = 0, *, _catalogue: _Catalogue | None = None):
        if articles < 1 or day < 0:
            raise ValueError("a mirror needs at least one article and a day >= 0")
        self.articles, self.seed, self.day = articles, seed, day
        self.catalogue = _catalogue or _Catalogue(articles, seed)
        self.total = self.catalogue.total(day)
        self.catalogue.extend_to(self.total)
        removal = self.catalogue.removal
        self._live: list[array] = []
        self._changed: list[int] = []
        for indices in self.catalogue.by_listing:
            upto = bisect.bisect_left(indices, self.total)
            present = indices[:upto]
            live = array("I", [i for i in present if removal[i] > day])
            # A listing's pages all shift when an item is added or removed, so the newest such day
            # is when its pages last changed (conservative for deep pages, never too early).
            removed = [removal[i] for i in present if removal[i] <= day]
            added = self.catalogue.born_day(present[-1]) if present else 0
            self._live.append(live)
            self._changed.append(max([added, *removed]))

    def at_day(self, day: int) -> MirrorSite:
        """The same site on another day, sharing the per-item arrays."""
        return MirrorSite(self.articles, self.seed, day, _catalogue=self.catalogue)

    # --- items ---

    def item(self, index: int) -> Item:
        """Item ``index`` (it may be removed on this day; see is_live)."""
        return self.catalogue.item(index)

    def find(self, item_id: str) -> Item | None:
        """The item with this id if it has been published by this day (removed or not), else None."""
        index = self.catalogue.find(item_id)
        if index is None or index >= self.total:
            return None
        return self.item(index)

    def is_live(self, index: int) -> bool:
        """Whether the item is published and not removed on this day."""
        return index < self.total and self.catalogue.removal[index] > self.day

    def title(self, index: int) -> str:
        """The headline of an item (text or media)."""
        return self.catalogue.title(index)

    def history(self, index: int) -> History:
        """The edit and cosmetic history of a text article up to this day."""
        return self.catalogue.history(index, self.day)

    def article(self, index: int) -> ArticleText:
        """Title, subtitle, body and history of a text article on this day."""
        history = self.history(index)
        return ArticleText(self.catalogue.head(index), self.catalogue.body(index, history.version), history)

    def related(self, index: int, count: int = 3) -> tuple[list[int], int]:
        """Up to ``count`` live older items of the same listing, and the last day that choice changed."""
        indices = self.catalogue.by_listing[self.catalogue.flags[index] & 0x0F]
        position = bisect.bisect_left(indices, index)
        removal, found, changed = self.catalogue.removal, [], 0
        for back in range(position - 1, max(-1, position - 200), -1):
            other = indices[back]
            if removal[other] > self.day:
                found.append(other)
                if len(found) == count:
                    break
            else:
                changed = max(changed, removal[other])  # it was shown here until it was removed
        return found, changed

    # --- listings ---

    def listing_items(self, listing: Listing) -> array:
        """Indices of the live items of a listing, oldest first."""
        return self._live[LISTINGS.index(listing)]

    def page_count(self, listing: Listing) -> int:
        """How many pages the listing has (at least one, possibly empty)."""
        return max(1, -(-len(self.listing_items(listing)) // PAGE_SIZE))

    def listing_page(self, listing: Listing, page: int) -> list[int]:
        """Indices shown on page ``page`` of a listing, newest first."""
        live = self.listing_items(listing)
        stop = len(live) - (page - 1) * PAGE_SIZE
        return [live[i] for i in range(stop - 1, max(-1, stop - 1 - PAGE_SIZE), -1)]

    def newest(self, listing: Listing, count: int, media_only: bool = False) -> list[int]:
        """The ``count`` newest live items of a listing (optionally only video and audio)."""
        live, flags, out = self._live[LISTINGS.index(listing)], self.catalogue.flags, []
        # look back a bounded way: a listing may have no media at all (the questions and answers)
        for index in reversed(live[-200:]):
            if not media_only or flags[index] & _MEDIA_FLAG:
                out.append(index)
                if len(out) == count:
                    break
        return out

    def listing_changed(self, listing: Listing) -> int:
        """The last day the listing's pages changed."""
        return self._changed[LISTINGS.index(listing)]

    def home_changed(self) -> int:
        """The last day the home page changed."""
        return max(self._changed)

    # --- ground truth ---

    def truth(self):
        """Ground truth as ("article", dict), ("edited", (id, versions)), ("removed", id) and ("media", id) pairs."""
        catalogue, flags, removal, day = self.catalogue, self.catalogue.flags, self.catalogue.removal, self.day
        for index in range(self.total):
            if flags[index] & _MEDIA_FLAG or removal[index] <= day:
                continue
            item, head, history = catalogue.item(index), catalogue.head(index), self.history(index)
            yield "article", {
                "id": item.id,
                "url": item.canonical_url,
                "title": head.title,
                "subtitle": head.subtitle,
                "published": item.published.isoformat(),
                "regions": list(head.regions),
                "text_hash": catalogue.text_hash(index, history.version),
            }
            if history.distinct_versions > 1:
                yield "edited", (item.id, history.distinct_versions)
        for index in range(self.total):
            if removal[index] <= day:
                yield "removed", catalogue.item(index).id
        for index in range(self.total):
            if flags[index] & _MEDIA_FLAG and removal[index] > day:
                yield "media", catalogue.item(index).id
