from datetime import date

import pytest

from dprk_archive.dates import ParsedDate, contains_date, parse_date, strip_dateline, today_in_pyongyang

TODAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    "raw, iso",
    [
        ("2026.11.18", "2026-11-18"),  # VOK article date
        ("2026.10.4", "2026-10-04"),  # month and day not zero-padded
        ("(2026.11.4)", "2026-11-04"),  # VOK listing anchor
        (" November 19, 2025", "2025-11-19"),  # KCNA Watch p.articled-date, with its leading space
        ("[2024.8.4.]", "2024-08-04"),  # KCNA listing anchor
        ("[Juche113.1.2.]", "2024-01-02"),  # Juche year + 1911
        ("Juche 114.11.19", "2025-11-19"),
        ("2026-11-18", "2026-11-18"),
        ("2026-11-18T10:00:00", "2026-11-18"),  # naive: the date as written
        ("2026-11-18T10:00:00+09:00", "2026-11-18"),
        ("2026-11-18T23:30:00Z", "2026-11-19"),  # an instant: the date in Pyongyang then
        ("2026-11-18 14:30:00+00:00", "2026-11-18"),
        ("19 November 2025", "2025-11-19"),
        ("Nov. 19, 2025", "2025-11-19"),
        ("Sept. 5, 2025", "2025-09-05"),
        ("SEPTEMBER 30, 2026", "2026-09-30"),
        ("Published: 2026.10.7", "2026-10-07"),
        ("1945.8.15", "1945-08-15"),
        ("2026.11.20", "2026-11-20"),  # today is not the future
    ],
)
def test_formats(raw, iso):
    assert parse_date(raw, today=TODAY) == ParsedDate(iso, raw, None)


@pytest.mark.parametrize(
    "raw, warning",
    [
        ("2026.11.21", "date 2026-11-21 is in the future (today is 2026-11-20): '2026.11.21'"),
        ("[Juche20.1.2.]", "date 1931-01-02 is before 1945: '[Juche20.1.2.]'"),
        ("1944.12.31", "date 1944-12-31 is before 1945: '1944.12.31'"),
        ("2026.2.30", "not a calendar date: '2026.2.30'"),
        ("Part 96", "unrecognised date format: 'Part 96'"),
        ("", "empty date"),
        ("   ", "empty date"),
    ],
)
def test_unbelievable_dates_keep_the_raw_string_and_say_why(raw, warning):
    assert parse_date(raw, today=TODAY) == ParsedDate(None, raw, warning)


def test_today_defaults_to_pyongyang():
    assert parse_date(today_in_pyongyang().strftime("%Y.%m.%d")).iso == today_in_pyongyang().isoformat()
    assert parse_date("2999.1.1").iso is None


@pytest.mark.parametrize(
    "line, expected",
    [
        ("September 30, 2026", ("", "September 30, 2026")),
        ("2026.10.7", ("", "2026.10.7")),
        (
            "Comrade Kim Jong Un's speech at celebration of 80th founding anniversary of Kim Il Sung UniversitySeptember 30, 2026",
            (
                "Comrade Kim Jong Un's speech at celebration of 80th founding anniversary of Kim Il Sung University",
                "September 30, 2026",
            ),
        ),
        (
            'History of Kim Il Sung University"September 30, 2026',
            ('History of Kim Il Sung University"', "September 30, 2026"),
        ),
        # a date after a space is part of the words, not a dateline
        ("Joint Statement of June 12, 2018", ("Joint Statement of June 12, 2018", None)),
        ("Title (2026.10.1)", ("Title (2026.10.1)", None)),
        ("Wonsan Kalma Coastal Tourist Area (4)", ("Wonsan Kalma Coastal Tourist Area (4)", None)),
    ],
)
def test_strip_dateline(line, expected):
    assert strip_dateline(line) == expected


def test_contains_date():
    assert contains_date("Date: 2026.10.7")
    assert contains_date("2999.1.1")  # implausible but a date
    assert not contains_date("Korean Cartoon Part 96")
    assert not contains_date("")
