"""Regions and places: which parts of the DPRK a text speaks of, found with one compiled pattern."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

from .models import Article


@dataclass(frozen=True)
class Place:
    """A finer place from the gazetteer (city, county, district or site) and the division it lies in."""

    name: str  # canonical gazetteer name, e.g. "Samjiyon"
    region: str  # canonical first-level division, e.g. "Ryanggang"


@dataclass(frozen=True)
class _Target:
    """What one surface form means: a region, a place, or a name that only looks like a place."""

    region: str | None  # None for not-places ("Pyongyang Times")
    place: str | None  # None when the form names the region itself
    south_homonym: bool  # a south Korean place has the same name


@dataclass(frozen=True)
class _Matcher:
    pattern: re.Pattern
    targets: dict[str, _Target]  # normalised form -> meaning
    pairs: dict[tuple[str, str], str]  # ("north", normalised stem) -> region, for "North and South X"
    order: dict[str, int]  # region -> canonical position


# Characters that vary between copies of the same name: hyphens typed as dashes, curly apostrophes,
# "Mt." with or without its full stop. Folding them gives one lookup key per name.
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014"  # for use inside [...]
_APOSTROPHES = "'\u2018\u2019\u02bc"
_FOLD = re.compile(rf"[\s{_DASHES}{_APOSTROPHES}.]+")

# Words that put a look-alike name in south Korea: DPRK media write "Kangwon Province of south Korea",
# "south Korea's Kangwon Province", "the puppet military ... in Kosong", "Ongjin County of Inchon".
# "Republic of Korea" is left out on purpose: it is also the tail of "Democratic People's Republic of Korea".
_SOUTH = (
    r"(?<!\w)(?:[Ss]outh\s+Korea|SOUTH\s+KOREA|S\.\s*Korea|ROK|[Pp]uppets?|Seoul|Inchon|Incheon|Kyonggi|Gyeonggi"
    r"|Gangwon|Pusan|Busan)(?!\w)"
)
_SOUTH_BEFORE = re.compile(_SOUTH)
_SOUTH_AFTER = re.compile(
    r"(?:\s+(?:Provinces?|province|County|county|City|city|District|district|Island|island))?"
    r"(?:\s*,\s*|\s+of\s+(?:the\s+)?|\s+in\s+(?:the\s+)?)" + _SOUTH
)
# A south Korean cue counts only in the few words before the name, within its sentence: "south Korea's
# Kangwon Province" is the south's, but "Unlike south Korea. Kangwon Province ..." is not.
_WORDS_BEFORE = 8
_LAST_WORDS = re.compile(rf"(?:\S+\s+){{0,{_WORDS_BEFORE}}}\Z")
# Co-operative farms are named after their village, and village names repeat county names elsewhere:
# "the Sinhung Farm in Hoechang County of South Phyongan Province" is not in Sinhung County (South
# Hamgyong). When the text goes on to say where the farm is, that location decides, not the farm's name.
_FARM_NAME = re.compile(r"\s+(?:Co-?operative\s+|Cooperative\s+)?Farm\s+(?:in|of)\s")
# A full stop after a capital letter is an abbreviation ("S. Korea"), not the end of a sentence.
_SENTENCE_END = re.compile(r"(?<![A-Z])[.!?][\"')\]]*\s")


def _fold(text: str) -> str:
    return _FOLD.sub(" ", text).strip().casefold()


def _atoms(form: str) -> list[str]:
    """Regex pieces of a surface form, one per character, tolerant of the variations folded by _fold."""
    atoms = []
    i = 0
    while i < len(form):
        char = form[i]
        if char == " ":
            # Names break across lines in flattened pages ("Nampho, Rason and\nKaesong Cities").
            atoms.append(r"\s+")
        elif char == ".":
            # "Mt. Paektu" in the data also finds "Mt Paektu" and "Mt.Paektu".
            atoms.append(r"\.?\s*")
            if form[i + 1 : i + 2] == " ":
                i += 1
        elif char == "-":
            # "Wonsan-Kalma", "Wonsan–Kalma" and "Wonsan Kalma" are one name.
            atoms.append(rf"(?:\s*[{_DASHES}]\s*|\s+)")
        elif char in _APOSTROPHES:
            atoms.append(f"[{_APOSTROPHES}]")
        else:
            atoms.append(re.escape(char))
        i += 1
    return atoms


def _trie_pattern(forms: set[str]) -> str:
    """One regex for many names, shaped as a prefix trie so the engine never retries a shared prefix."""
    end = ""  # atoms are never empty strings, so "" can mark the end of a form
    root: dict = {}
    for form in forms:
        node = root
        for atom in _atoms(form):
            node = node.setdefault(atom, {})
        node[end] = {}

    def emit(node: dict) -> str:
        branches = [atom + emit(child) for atom, child in sorted(node.items()) if atom != end]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # Greedy "?" tries the longer name first, so "Pyongyang Times" wins over "Pyongyang".
        return f"(?:{body})?" if end in node else body

    return emit(root)


def _read_data(name: str) -> dict:
    return json.loads(resources.files("dprk_archive").joinpath("data", name).read_text(encoding="utf-8"))


@cache
def _regions_data() -> list[dict]:
    return _read_data("regions.json")["regions"]


@cache
def _matcher() -> _Matcher:
    regions = _regions_data()
    order = {region["name"]: position for position, region in enumerate(regions)}
    gazetteer = _read_data("gazetteer.json")

    targets: dict[str, _Target] = {}
    forms: set[str] = set()

    def add(form: str, target: _Target) -> None:
        key = _fold(form)
        if targets.get(key, target) != target:
            raise ValueError(f"gazetteer form {form!r} has two meanings: {targets[key]} and {target}")
        targets[key] = target
        # Datelines shout the place ("PYONGYANG, November 19 (KCNA) --"); elsewhere names are in title case.
        # Matching only these two spellings keeps lower-case English words out.
        forms.update((form, form.upper()))

    for region in regions:
        for form in region["forms"]:
            add(form, _Target(region["name"], None, region["south_homonym"]))
    for place in gazetteer["places"]:
        if place["region"] not in order:
            raise ValueError(f"gazetteer place {place['name']!r} has unknown region {place['region']!r}")
        for form in place["forms"]:
            add(form, _Target(place["region"], place["name"], place.get("south_homonym", False)))
    for entry in gazetteer["not_places"]:
        add(entry["form"], _Target(None, None, False))

    # "North and South Phyongan", "South and North Hwanghae": one stem shared by two provinces.
    pairs: dict[tuple[str, str], str] = {}
    stems: set[str] = set()
    for region in regions:
        pair = region.get("pair")
        if pair:
            for stem in pair["stems"]:
                pairs[(pair["direction"].casefold(), _fold(stem))] = region["name"]
                stems.update((stem, stem.upper()))
    direction = r"(?:North|South|NORTH|SOUTH)"
    conjunction = rf"(?P<first>{direction})\s+(?:and|AND)\s+(?P<second>{direction})\s+(?P<stem>{_trie_pattern(stems)})"

    pattern = re.compile(rf"(?<!\w)(?:(?P<conj>{conjunction})|(?P<lit>{_trie_pattern(forms)}))(?!\w)")
    return _Matcher(pattern, targets, pairs, order)


def _in_south_korea(text: str, start: int, end: int) -> bool:
    """True when the words around a look-alike name place it in south Korea."""
    if _SOUTH_AFTER.match(text, end):
        return True
    before = text[max(0, start - 200) : start]
    window = before[_LAST_WORDS.search(before).start() :]
    ends = list(_SENTENCE_END.finditer(window))
    if ends:
        window = window[ends[-1].end() :]
    return _SOUTH_BEFORE.search(window) is not None


def _scan(text: str) -> tuple[set[str], list[Place]]:
    """Regions and places named in a text: one pass of the compiled pattern."""
    matcher = _matcher()
    regions: set[str] = set()
    places: dict[str, Place] = {}  # insertion order is first appearance
    for match in matcher.pattern.finditer(text):
        if match.group("conj") is not None:
            stem = _fold(match.group("stem"))
            for direction in (match.group("first"), match.group("second")):
                regions.add(matcher.pairs[(direction.casefold(), stem)])
            continue
        target = matcher.targets[_fold(match.group("lit"))]
        if target.region is None:
            continue
        if target.south_homonym and _in_south_korea(text, match.start(), match.end()):
            continue
        if target.place is not None and _FARM_NAME.match(text, match.end()):
            continue
        regions.add(target.region)
        if target.place is not None and target.place not in places:
            places[target.place] = Place(target.place, target.region)
    return regions, list(places.values())


def find_regions(text: str) -> list[str]:
    """Canonical names of the first-level divisions a text speaks of, in canonical order, no duplicates."""
    regions, _ = _scan(text)
    order = _matcher().order
    return sorted(regions, key=order.__getitem__)


def find_places(text: str) -> list[Place]:
    """Gazetteer places (cities, counties, sites) a text names, in order of first appearance, no duplicates."""
    _, places = _scan(text)
    return places


def enrich_article(article: Article) -> Article:
    """A copy of the article with .regions and .places set from its title, subtitle and body."""
    # Blank lines between the parts keep a title's last word from running into the body's first.
    text = "\n\n".join(part for part in (article.title, article.subtitle, article.body) if part)
    regions, places = _scan(text)
    order = _matcher().order
    return replace(
        article,
        regions=sorted(regions, key=order.__getitem__),
        places=[place.name for place in places],
        warnings=list(article.warnings),
    )


def load_regions() -> list[dict]:
    """The 13 first-level divisions from regions.json, as rows for the regions table."""
    columns = ("name", "iso_code", "iso_category", "kind", "capital", "latitude", "longitude")
    return [{column: region[column] for column in columns} for region in _regions_data()]


@cache
def _place_regions() -> dict[str, str]:
    return {place["name"]: place["region"] for place in _read_data("gazetteer.json")["places"]}


def place_region(name: str) -> str:
    """The first-level division of a gazetteer place, by its canonical name (as in Article.places)."""
    return _place_regions()[name]
