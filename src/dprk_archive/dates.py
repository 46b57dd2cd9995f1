"""Parse every date format the outlets show, keeping the raw string beside the ISO date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    PYONGYANG = ZoneInfo("Asia/Pyongyang")
except (ImportError, ZoneInfoNotFoundError):  # pragma: no cover - a system without tz data
    # UTC+09:00 except 2015-08-15..2018-05-04 (UTC+08:30); a "today" off by 30 minutes is harmless here.
    PYONGYANG = timezone(timedelta(hours=9))

# The DPRK's Juche calendar counts from 1912 (the year Kim Il Sung was born): Juche 113 = 2024.
JUCHE_OFFSET = 1911
# The state and its media date from 1945-48; an earlier date is a misparse (or a Juche year read as Gregorian).
EARLIEST = date(1945, 1, 1)

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# Each pattern finds a date anywhere in the string; brackets, parentheses and trailing dots around it
# ("(2026.11.4)", "[2024.8.4.]", " November 19, 2025") are simply not part of the match.
_PATTERNS = (
    # [Juche113.1.2.] in KCNA listing anchors
    re.compile(r"juche\s*(?P<juche>\d{1,3})\s*\.\s*(?P<month>\d{1,2})\s*\.\s*(?P<day>\d{1,2})", re.IGNORECASE),
    # ISO 2026-11-18, also the date part of 2026-11-18T10:00:00+09:00
    re.compile(
        r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
        r"(?P<time>[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?P<tz>Z|[+-]\d{2}:?\d{2})?)?",
        re.IGNORECASE,
    ),
    # VOK 2026.10.7, KCNA [2024.8.4.]: month and day not zero-padded
    re.compile(r"(?<!\d)(?P<year>\d{4})\s*\.\s*(?P<month>\d{1,2})\s*\.\s*(?P<day>\d{1,2})(?!\d)"),
    # November 19, 2025 / Nov. 19, 2025 / Sept 5 2025
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.IGNORECASE),
    # 19 November 2025
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\s*,?\s+(?P<year>\d{{4}})\b", re.IGNORECASE),
)
# A heading line that is nothing but a date, or ends in one glued to the words before it with no
# space ("...Kim Il Sung UniversitySeptember 30, 2026", a flattened <br>): the dateline VOK headings
# carry. A date after a space ("Joint Statement of June 12, 2018") is part of the words.
_DATELINE_AT_END = re.compile(
    rf"(?:^\s*|(?<=[^\s(]))(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\(?\d{{4}}\.\d{{1,2}}\.\d{{1,2}}\.?\)?)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedDate:
    """A date as shown (raw), its ISO form when it is believable, and why not when it is not."""

    iso: str | None
    raw: str
    warning: str | None = None


def today_in_pyongyang() -> date:
    """Today's date in Pyongyang, the outlets' own calendar day."""
    return datetime.now(PYONGYANG).date()


def _match(raw: str):
    for pattern in _PATTERNS:
        match = pattern.search(raw)
        if match:
            return match
    return None


def _to_date(match) -> date:
    groups = match.groupdict()
    month = groups["month"]
    month_number = int(month) if month.isdigit() else _MONTHS[month[:3].lower()]
    year = int(groups["juche"]) + JUCHE_OFFSET if groups.get("juche") else int(groups["year"])
    day = date(year, month_number, int(groups["day"]))
    if groups.get("tz"):
        # A timestamp with an offset names an instant: the outlet's date is the one in Pyongyang then.
        stamp = datetime.fromisoformat(match.group(0).replace("Z", "+00:00").replace(" ", "T", 1))
        day = stamp.astimezone(PYONGYANG).date()
    return day


def parse_date(raw: str, today: date | None = None) -> ParsedDate:
    """Parse a date as an outlet shows it; an impossible, future or pre-1945 date gives iso None and a warning."""
    if raw is None or not raw.strip():
        return ParsedDate(None, raw or "", "empty date")
    match = _match(raw)
    if match is None:
        return ParsedDate(None, raw, f"unrecognised date format: {raw.strip()!r}")
    try:
        day = _to_date(match)
    except ValueError:
        return ParsedDate(None, raw, f"not a calendar date: {raw.strip()!r}")
    limit = today or today_in_pyongyang()
    if day > limit:
        return ParsedDate(
            None, raw, f"date {day.isoformat()} is in the future (today is {limit.isoformat()}): {raw.strip()!r}"
        )
    if day < EARLIEST:
        return ParsedDate(None, raw, f"date {day.isoformat()} is before 1945: {raw.strip()!r}")
    return ParsedDate(day.isoformat(), raw)


def contains_date(text: str) -> bool:
    """Whether a string holds a date in one of the known formats (plausible or not)."""
    return bool(text) and _match(text) is not None


def strip_dateline(line: str) -> tuple[str, str | None]:
    """Split a heading line into its words and a dateline at its end ("…UniversitySeptember 30, 2026")."""
    match = _DATELINE_AT_END.search(line)
    if match is None:
        return line, None
    return line[: match.start()].rstrip(), match.group(0).strip()
