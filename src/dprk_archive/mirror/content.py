"""Deterministic synthetic text in the register of Voice of Korea: headlines, subtitles, bodies, edits.

Every text is a pure function of (seed, item index, version). Places are drawn from this module's own
gazetteer; the regions of an article are exactly the provinces of the DPRK places its text mentions,
and each mention is written so that a careful reader can tell the province (or the place is famous
enough to stand alone). Places in south Korea are mentioned too: they are never DPRK regions.
"""

from __future__ import annotations

import functools
import random
import re
import string
from dataclasses import dataclass
from datetime import date

# The canonical first-level divisions, in the order ground truth lists them.
REGIONS = (
    "Pyongyang",
    "North Phyongan",
    "South Phyongan",
    "Jagang",
    "North Hwanghae",
    "South Hwanghae",
    "Kangwon",
    "North Hamgyong",
    "South Hamgyong",
    "Ryanggang",
    "Rason",
    "Nampho",
    "Kaesong",
)
_REGION_ORDER = {name: position for position, name in enumerate(REGIONS)}
# Directly governed and special cities are "Nampho City", not "Nampho Province".
_CITY_REGIONS = {"Rason", "Nampho", "Kaesong"}

# Leader names sit in their own inline element on the page (the seed shows them on a line of their own);
# the body text carries them between these two marks so that the renderer can wrap them.
LEADER_OPEN, LEADER_CLOSE = "\x01", "\x02"
_STRIP_MARKS = str.maketrans("", "", LEADER_OPEN + LEADER_CLOSE)
KIM_JONG_UN = f"{LEADER_OPEN}Kim Jong Un{LEADER_CLOSE}"
KIM_IL_SUNG = f"{LEADER_OPEN}Kim Il Sung{LEADER_CLOSE}"
KIM_JONG_IL = f"{LEADER_OPEN}Kim Jong Il{LEADER_CLOSE}"

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def plain_text(text: str) -> str:
    """The text as a reader sees it: leader names inline, the renderer's marks removed."""
    return text.translate(_STRIP_MARKS)


def long_date(day: date) -> str:
    """A dateline as the site writes it: "September 30, 2026"."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def sort_regions(regions) -> list[str]:
    """Region names in canonical order, without duplicates."""
    return sorted(set(regions), key=_REGION_ORDER.__getitem__)


@dataclass(frozen=True)
class Place:
    """A place an article can mention, and how to mention it."""

    name: str  # the bare name, e.g. "Pukchang Thermal Power Complex"
    region: str | None  # canonical DPRK region, None for south Korea
    full: str  # a mention that names the province: "the Pukchang Thermal Power Complex in South Phyongan Province"
    bare: str | None  # a mention without the province, only for places famous enough to stand alone
    prep: str  # "in" or "at"
    kind: str  # "province", "city", "county", "facility", "scenic" or "south"

    def mention(self, rng: random.Random) -> str:
        """The full mention, or now and then the bare one for a famous place."""
        if self.bare and rng.random() < 0.35:
            return self.bare
        return self.full


def _province_name(region: str) -> str:
    if region == "Pyongyang":
        return "Pyongyang"
    return f"{region} City" if region in _CITY_REGIONS else f"{region} Province"


def _place(name: str, region: str, kind: str, famous: bool = False) -> Place:
    """Build a DPRK place: kind is "province", "city", "county" (also districts), "facility" or "scenic"."""
    where = _province_name(region)
    if kind == "province":
        return Place(name, region, name, None, "in", kind)
    if kind in ("city", "county"):
        return Place(name, region, f"{name} of {where}", name if famous else None, "in", kind)
    # "Mount Paektu" and "Kim Il Sung University" take no article; "the Pukchang Thermal Power Complex" does
    article = "" if name.startswith("Mount ") or name.endswith("University") else "the "
    if region == "Pyongyang" and "Pyongyang" in name:
        # "the Pyongyang General Hospital" already says where it is
        return Place(name, region, f"{article}{name}", None, "at", kind)
    full = f"{article}{name} in {where}"
    prep = "in" if kind == "scenic" and not name.startswith("Mount ") else "at"
    return Place(name, region, full, f"{article}{name}" if famous else None, prep, kind)


# (name, region, kind, famous): real places of the DPRK with the province they lie in.
_DPRK_PLACES = [
    ("Pyongyang", "Pyongyang", "province", True),
    ("Pyongyang General Hospital", "Pyongyang", "facility", True),
    ("Pyongyang Maternity Hospital", "Pyongyang", "facility", True),
    ("Kim Il Sung University", "Pyongyang", "facility", True),
    ("Hwasong area", "Pyongyang", "scenic", False),
    ("Mirae Scientists Street", "Pyongyang", "scenic", False),
    ("Sunan District", "Pyongyang", "county", False),
    ("Kangdong County", "Pyongyang", "county", False),
    ("North Phyongan Province", "North Phyongan", "province", True),
    ("Sinuiju City", "North Phyongan", "city", True),
    ("Wihwado area", "North Phyongan", "scenic", False),
    ("Nyongbyon County", "North Phyongan", "county", False),
    ("Kusong City", "North Phyongan", "city", False),
    ("Unjon County", "North Phyongan", "county", False),
    ("Mount Myohyang", "North Phyongan", "scenic", True),
    ("South Phyongan Province", "South Phyongan", "province", True),
    ("Pukchang Thermal Power Complex", "South Phyongan", "facility", True),
    ("Hoechang County", "South Phyongan", "county", False),
    ("Sunchon City", "South Phyongan", "city", False),
    ("Anju City", "South Phyongan", "city", False),
    ("Namhung Youth Chemical Complex", "South Phyongan", "facility", False),
    ("Tokchon City", "South Phyongan", "city", False),
    ("Jagang Province", "Jagang", "province", True),
    ("Kanggye City", "Jagang", "city", True),
    ("Huichon Power Station", "Jagang", "facility", False),
    ("Manpho City", "Jagang", "city", False),
    ("Jonchon County", "Jagang", "county", False),
    ("North Hwanghae Province", "North Hwanghae", "province", True),
    ("Sariwon City", "North Hwanghae", "city", True),
    ("Hwanghae Iron and Steel Complex", "North Hwanghae", "facility", True),
    ("Songnim City", "North Hwanghae", "city", False),
    ("Unpha County", "North Hwanghae", "county", False),
    ("Pyongsan County", "North Hwanghae", "county", False),
    ("South Hwanghae Province", "South Hwanghae", "province", True),
    ("Haeju City", "South Hwanghae", "city", True),
    ("Chongdan County", "South Hwanghae", "county", False),
    ("Sinchon County", "South Hwanghae", "county", False),
    ("Jaeryong County", "South Hwanghae", "county", False),
    ("Ongjin County", "South Hwanghae", "county", False),
    ("Kangwon Province", "Kangwon", "province", True),
    ("Wonsan City", "Kangwon", "city", True),
    ("Wonsan-Kalma coastal tourist area", "Kangwon", "scenic", True),
    ("Kalma Foodstuff Factory", "Kangwon", "facility", False),
    ("Mount Kumgang", "Kangwon", "scenic", True),
    ("Munchon City", "Kangwon", "city", False),
    ("North Hamgyong Province", "North Hamgyong", "province", True),
    ("Chongjin City", "North Hamgyong", "city", True),
    ("Kim Chaek Iron and Steel Complex", "North Hamgyong", "facility", True),
    ("Kyongsong County", "North Hamgyong", "county", False),
    ("Mount Chilbo", "North Hamgyong", "scenic", True),
    ("Hoeryong City", "North Hamgyong", "city", False),
    ("South Hamgyong Province", "South Hamgyong", "province", True),
    ("Hamhung City", "South Hamgyong", "city", True),
    ("Hungnam Fertilizer Complex", "South Hamgyong", "facility", True),
    ("February 8 Vinalon Complex", "South Hamgyong", "facility", False),
    ("Tanchon City", "South Hamgyong", "city", False),
    ("Sinpho City", "South Hamgyong", "city", False),
    ("Ryanggang Province", "Ryanggang", "province", True),
    ("Samjiyon City", "Ryanggang", "city", True),
    ("Mount Paektu", "Ryanggang", "scenic", True),
    ("Hyesan City", "Ryanggang", "city", True),
    ("Unhung County", "Ryanggang", "county", False),
    ("Kimjongsuk County", "Ryanggang", "county", False),
    ("Rason City", "Rason", "province", True),
    ("Rajin Port", "Rason", "facility", False),
    ("Nampho City", "Nampho", "province", True),
    ("West Sea Barrage", "Nampho", "facility", True),
    ("Chollima Steel Complex", "Nampho", "facility", False),
    # "Ryonggang", not "Ryanggang": a county of Nampho, a trap for careless matching.
    ("Ryonggang County", "Nampho", "county", False),
    ("Kaesong City", "Kaesong", "province", True),
    ("Manwoldae site", "Kaesong", "scenic", False),
    ("Kaepung District", "Kaesong", "county", False),
]
_SOUTH_PLACES = [
    ("Seoul", "Seoul"),
    ("Kangwon Province of south Korea", "Kangwon Province of south Korea"),
    ("Pusan", "Pusan of south Korea"),
    ("Jeju Island", "Jeju Island of south Korea"),
    ("Kyonggi Province", "Kyonggi Province of south Korea"),
]

DPRK_PLACES = tuple(_place(*row) for row in _DPRK_PLACES)
SOUTH_PLACES = tuple(Place(name, None, full, None, "in", "south") for name, full in _SOUTH_PLACES)
_WORK_PLACES = tuple(p for p in DPRK_PLACES if p.kind != "scenic")
_NAMED_PLACES = tuple(p for p in DPRK_PLACES if p.kind not in ("province",))

# ---------------------------------------------------------------------------------------------------
# Vocabulary for the slots of the templates below.


def _number(low: int, high: int):
    return lambda rng: str(rng.randint(low, high))


def _thousands(rng: random.Random) -> str:
    return f"{rng.randint(1, 95) * 1000 + rng.choice((0, 0, 100, 250, 500, 700)):,}"


def _ordinal(rng: random.Random) -> str:
    n = rng.randint(1, 28)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _year(rng: random.Random) -> str:
    return str(rng.choice((1948, 1950, 1953, 1961, 1972, 1985, 1991, 2003, 2012, 2019)))


VOCAB = {
    "pct": _number(101, 168),
    "small_pct": _number(5, 45),
    "count": _number(2, 60),
    "few": _number(2, 9),
    "years": _number(10, 45),
    "size": _number(20, 180),
    "width": _number(15, 120),
    "times": lambda rng: rng.choice(("1.2", "1.3", "1.5", "1.8", "two", "three")),
    "thousands": _thousands,
    "ord": _ordinal,
    "year": _year,
    "anniv": lambda rng: rng.choice(("10th", "20th", "30th", "40th", "50th", "60th", "70th", "75th", "80th")),
    "unit": (
        "factories and enterprises", "coal mines", "thermal power stations", "hydropower stations",
        "machine-building complexes", "cooperative farms", "fishery stations", "local industry factories",
        "ore mines", "chemical complexes", "construction units", "textile mills", "foodstuff factories",
    ),
    "sector": (
        "metal industry", "electric power", "coal industry", "chemical industry", "machine-building",
        "light industry", "agricultural", "fishing", "forestry", "railway transport", "building-materials",
        "public health", "education", "science and technology", "mining", "local industry",
    ),
    "product": (
        "steel", "coal", "cement", "chemical fertilizer", "pig iron", "rolled steel", "fabrics", "foodstuffs",
        "daily necessities", "magnesia clinker", "nonferrous metals", "timber", "farm machines", "paper",
    ),
    "period": ("first half of the year", "first quarter", "second quarter", "third quarter", "month", "ten-day period"),
    "project": (
        "a modern greenhouse farm", "new dwelling houses for farmers", "a regional hospital", "a local industry factory",
        "flood-prevention facilities", "a new street", "a working people's holiday camp", "a medium-sized power station",
        "an irrigation waterway", "a modern vegetable warehouse", "a comprehensive service centre",
    ),
    "people": (
        "workers", "farmers", "scientists", "technicians", "builders", "teachers", "medical workers",
        "youth shock brigade members", "students", "women", "service personnel", "fishermen",
    ),
    "ministry": (
        "Ministry of Metal Industry", "Ministry of Electric Power Industry", "Ministry of Coal Industry",
        "Ministry of Chemical Industry", "Ministry of Light Industry", "Ministry of Agriculture",
        "Ministry of Public Health", "Ministry of Education", "State Planning Commission",
        "State Academy of Sciences", "Ministry of Fisheries", "Ministry of Railways",
    ),
    "org": (
        "Socialist Women's Union of Korea", "Socialist Patriotic Youth League",
        "General Federation of Trade Unions of Korea", "Union of Agricultural Workers of Korea",
        "Korean Children's Union",
    ),
    "topic": (
        "the production processes", "the introduction of automation", "the supply of raw materials",
        "the living conditions of the workers", "the management of the equipment", "the quality of the products",
    ),
    "goal": (
        "increasing production", "improving the people's standard of living", "developing the regional economy",
        "raising the quality of products", "bringing about a fresh turn in the agricultural sector",
    ),
    "official": ("Ri Myong Chol", "Kim Kwang Hyok", "Jong Sun Hui", "Han Yong Su", "Pak Chol Jin", "Ri Hyon Ok"),
    "food": ("kimchi", "bean paste", "rice cake", "cold noodles", "soy sauce", "sweet rice"),
    "heritage": ("custom of making kimchi", "folk game of Korean chess", "art of weaving ramie cloth", "custom of eating rice cake"),
    "kingdom": ("Koguryo", "Koryo", "Palhae", "the Three Kingdoms"),
    "material": ("crystal", "porcelain", "ivory", "silver", "gilt bronze", "ebony", "glass"),
    "motif": ("a globe", "an eagle", "a pair of doves", "a torch", "a blooming flower", "a galloping horse"),
    "country": (
        "Russia", "China", "Viet Nam", "Laos", "Cuba", "Nigeria", "Brazil", "Ireland", "Italy", "India",
        "Nepal", "Pakistan", "Mongolia", "Tanzania", "Peru", "Syria",
    ),
    "listener": (
        "Steven Smithers", "Harris Dickie", "Raffaello Bisso", "Mohammad Shafi", "Jorge Assis Meltan",
        "Anil Kumar", "Olga Ivanova", "Tran Van Minh", "Carlos Mendes", "Amadou Diallo", "Luca Ferri",
    ),
    "song": (
        "The Blue Sky over My Country", "Green Willow Tree", "Traces of Soldier", "My Country Full of Happiness",
        "Wherever We Go, We'll Never Forget Our Comradeship", "Song of Bumper Harvest", "We Are the Happiest",
        "Let's Defend Socialism", "Mother's Birthday", "Spring of My Home Village", "Gallop, Chollima",
    ),
    "theme": (
        "love for the country", "the happy life of the people", "the beauty of the native land",
        "the comradeship of soldiers", "the dreams of the younger generation",
    ),
    "thing": ("library", "university", "museum", "park", "theatre", "hospital", "stadium", "zoo"),
    "gift": ("crystal vase", "porcelain plate", "silver sword", "bear fur", "wall clock", "woodcarving", "table lamp"),
    "giver": (
        "the General Manager of a company of Russia", "a delegation of a friendly party", "the President of a friendly country",
        "a group of overseas Koreans", "the chairman of a solidarity committee", "an ambassador of a friendly country",
    ),
    "foreign": (
        "President of Russian Federation", "General Secretary of the CPC Central Committee", "President of Laos",
        "President of Cuba", "President of Viet Nam", "President of Belarus", "President of Nicaragua",
    ),
    "farm": ("Simpho", "Tokryon", "Naeyang", "Yangchun", "Sambong", "Chonghwa", "Migok", "Sinhung"),
}  # fmt: skip

_FORMATTER = string.Formatter()


@functools.lru_cache(maxsize=None)
def _slots(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in _FORMATTER.parse(template) if name)


def _fill(template: str, rng: random.Random, **given: str) -> str:
    values = dict(given)
    for name in _slots(template):
        if name in values or name == "L":
            continue
        source = VOCAB[name]
        values[name] = source(rng) if callable(source) else rng.choice(source)
    return template.format(L=KIM_JONG_UN, **values)


# ---------------------------------------------------------------------------------------------------
# Filler sentences: no place, no leader name, so that edits (which only touch fillers) never change
# the regions of an article.

_FILLERS = {
    "news": (
        "The officials and workers of the {unit} are making an all-out effort to carry out this year's national economic plan.",
        "They have fulfilled their plan for the {period} by {pct} percent.",
        "More than {thousands} tons of {product} were produced in the period.",
        "The {unit} introduced advanced technology into production, raising efficiency by {small_pct} percent.",
        "In the course of this, the production of {product} increased {times} times over the same period last year.",
        "The technicians have developed {count} new kinds of {product} in a short span of time.",
        "Thus, a firm foundation has been laid for the sustained development of the {sector} sector.",
        "Speakers said that this year is a year of decisive significance in implementing the decisions of the Party Congress.",
        "They stressed the need to bring about a fresh upsurge in all fields of socialist construction.",
        "The participants pledged to display the spirit of self-reliance and fortitude to the full.",
        "It was attended by officials of the {ministry} and working people in the {sector} sector.",
        "The {ministry} provided them with {count} sets of modern equipment and {thousands} tons of materials.",
        "Innovators of the {unit} have raised the rate of operation of the equipment by {small_pct} percent.",
        "A total of {count} technical innovation proposals were introduced into production.",
        "Meanwhile, a brisk socialist emulation is under way among the {unit} to increase production.",
        "The builders have completed the framework of {count} buildings and are now concentrating on the finishing work.",
        "Energetic efforts are being made to protect the crops from damage by drought and blight.",
        "The machine-building workers have produced {count} units of modern farm machines for the rural communities.",
        "This is an eloquent proof of the great vitality of the Party's policy of self-reliance.",
        "Officials of the {ministry} are going deep into the production sites to solve the knotty problems.",
        "The scientists and technicians have saved more than {thousands} kilowatt-hours of electricity by improving the production processes.",
        "A ceremony was held on the {ord} to mark the completion of the project.",
        "Present there were officials concerned and {people} who took part in the construction.",
        "The speakers called on all the working people to carry out the tasks of this year without fail.",
        "The symposium discussed {count} theses dealing with the problems arising in {topic}.",
        "Exhibits on display show the successes made in the {sector} sector in recent years.",
        "The meeting was followed by a performance given by the art squad of the {org}.",
        "Over {thousands} {people} took part in the campaign, which lasted {few} weeks.",
        "The {people} are now waging a dynamic drive to reach the goal of the year {few} months ahead of schedule.",
        "The daily output of {product} has increased by {small_pct} percent compared with last month.",
    ),
    "leader": (
        "He looked round various places of the enterprise and learned in detail about {topic}.",
        "He highly appreciated the feats of the {people} who have performed labour feats with loyalty to the Party and patriotic devotion.",
        "He said that it is a shining fruition of the revolutionary spirit of self-reliance that the project was completed in only {count} months.",
        "He set forth important tasks for {goal}.",
        "He said that the {sector} sector should continue to develop on the basis of science and technology.",
        "He stressed that the work of improving the people's standard of living is the most important work of the Party.",
        "He expressed the expectation that the {people} would achieve greater successes in the future.",
        "He was accompanied by {official}, department director of the Party Central Committee.",
        "He was greeted on the spot by leading officials of the {ministry}.",
        "He praised the officials for having successfully carried out {count} projects set forth for this year.",
        "He said with pleasure that the {people} have created a new standard in {goal}.",
        "Saying that the modernization of the {unit} is an important task, he pointed to the ways of carrying it out.",
        "He noted that {count} percent of the equipment had been made by the {people} themselves.",
        "He said that the Party will always believe in the {people} and render them every assistance.",
    ),
    "feature": (
        "Today, the {people} of the country are living a happy life under the warm care of the Workers' Party of Korea.",
        "This is an eloquent proof of the people-first politics of the Party.",
        "It is the invariable stand of the Workers' Party of Korea to value the people most.",
        "Many years have passed since then, but the people still recall that day with deep emotion.",
        "The {people} say that the Party is the mother who takes care of the destiny and future of everyone.",
        "Such stories are not rare in our country.",
        "This is why the people call the country a large, harmonious family.",
        "Over the past {years} years, she has devoted her all to the work without seeking fame or compensation.",
        "He has trained more than {count} successors in this field.",
        "The doctors performed the operation successfully after {few} hours of effort.",
        "The {people} spent {count} days and nights in finding the solution.",
        "Not long ago, the story of her life was introduced to the people through the press.",
        "The family members have received {count} commendations for their devotion.",
        "Tears welled up in the eyes of the old woman who said she would never forget the benevolence.",
        "Indeed, the country is a socialist paradise where the people's ideals and dreams come true.",
        "The root of all these successes lies in the single-minded unity of the Party and the people.",
        "This tradition has been carried forward from generation to generation.",
        "The {heritage} has a long history.",
        "It is said that the {heritage} dates back to the period of {kingdom}.",
        "The heritage was registered as a national intangible cultural heritage in {year}.",
        "Thanks to the measures taken by the state, the {people} enjoy free medical care and free education.",
        "Every year, {thousands} saplings are planted by the {people} in spring.",
        "\"We will repay the Party's trust with practical deeds,\" they say.",
    ),
    "history": (
        "The work was made of {material} by skilled craftsmen with exquisite workmanship.",
        "It is {size} centimeters high and {width} centimeters wide.",
        "At its center is {motif} symbolizing friendship and peace.",
        "The gift reflects the feelings of friendship of the progressive peoples of the world.",
        "It is on display in the exhibition hall of gifts together with {thousands} other gifts.",
        "The inscription on it reads, \"To the great leader of the Korean people.\"",
        "It vividly shows the deep respect of the foreign people for the Korean nation.",
        "The incident shows that the Korean people have a tradition of fighting against foreign aggressors.",
        "The aggressors were punished by the people who rose up in righteous struggle.",
        "Historical records say that the event took place in {year}.",
        "Visitors to the exhibition hall look round the gift with keen interest.",
    ),
    "music": (
        "The song was created in {year} and has since been widely sung by the people.",
        "Its lyrics sing of {theme}.",
        "The melody is cheerful and optimistic, reflecting the buoyant life of the people.",
        "The song is loved by the service personnel and people as it represents their ardent love for the country.",
        "It consists of {few} stanzas.",
        "The orchestral music was arranged on the basis of a popular song.",
        "It is performed in various forms such as solo, chorus and orchestral music.",
        "The performers rendered the work with deep feeling.",
        "The song \"{song}\" is also popular among the younger generation.",
        "Now, let us listen to the song.",
    ),
    "letters": (
        "In the letter, he wrote that he listens to our programmes every day.",
        "He said that the programmes helped him understand the real situation of the country.",
        "He requested the song \"{song}\".",
        "We thank him for his letter and hope he will keep in touch with us.",
        "He also sent {few} reception reports with detailed information on the signal quality.",
        "Many listeners wrote to us expressing their interest in the Korean culture.",
        "We will continue to introduce the letters of our listeners in this programme.",
        "He wrote that he has listened to our broadcast for {years} years.",
        "Dear listeners, please send us your opinions and requests.",
    ),
    "qa": (
        "Dear listeners, this is Question and Answer.",
        "It has more than {thousands} books and materials.",
        "It is open to all the people free of charge.",
        "There are {count} reading rooms equipped with modern facilities.",
        "Many people, including students and researchers, visit it every day.",
        "We hope this answer helps you understand our country better.",
        "Please send your questions to us at any time.",
        "It was founded in {year} and has been expanded several times since then.",
        "More than {thousands} people use it every year.",
    ),
}  # fmt: skip
# The filler templates each kind of article draws from; the small pools borrow the features' ones
# so that long bodies need not repeat a sentence.
_POOLS_OF = {
    "leader": ("leader",),
    "news": ("news",),
    "mainnews": ("news",),
    "feature": ("feature",),
    "culture": ("feature",),
    "history": ("history", "feature"),
    "music": ("music", "feature"),
    "letters": ("letters", "feature"),
    "qa": ("qa", "feature"),
}
# A body's opening sentence when its story has none (no place, no leader, no listener).
_OPENINGS = {
    "leader": "The respected Comrade {L} gave field guidance to the {unit}.",
    "news": "Successes are being made in the {sector} sector of the country.",
    "mainnews": "A meeting of officials of the {ministry} was held on the {ord}.",
    "feature": "There are many people in our country who work devotedly for the good of others.",
    "culture": "The Korean nation has a long history and brilliant culture.",
    "history": "Today we introduce a relic that shows the long history of the Korean nation.",
    "music": "Today we introduce a song loved by the people.",
    "letters": "Dear listeners, today we introduce letters from our listeners.",
    "qa": "Dear listeners, today we answer a question from one of our listeners.",
}
# Variants of each filler template, with their numbers and words filled in differently.
_VARIANTS = 40
# Bodies must have 150 to 800 words. They aim inside this narrower range, and edits swap a sentence
# for one of about the same length, so that repeated edits keep them within the limits.
_TARGET_LOW, _TARGET_HIGH = 180, 760
_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})*\b")


def _words(sentence: str) -> int:
    return sentence.count(" ") + 1


# ---------------------------------------------------------------------------------------------------
# Stories: the headline and the fixed sentences (lead first) of each kind of article.


@dataclass(frozen=True)
class Head:
    """What a listing needs of an item, plus the sentences its body is built around."""

    title: str
    subtitle: str | None
    dateline: date | None  # a dateline shown in the heading, which may differ from the publication date
    regions: tuple[str, ...]  # canonical DPRK regions the text speaks of, in canonical order
    lead: tuple[str, ...]  # fixed sentences; the first opens the body, the rest are spread through it


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _place_sentence(kind: str, place: Place, rng: random.Random) -> str:
    """One sentence about a place, suited to the kind of article and the kind of place."""
    where = place.mention(rng)
    loc = f"{place.prep} {where}"
    if place.kind == "south":
        return _fill(
            rng.choice(
                (
                    "Civic organizations {loc} staged a rally calling for peace and the withdrawal of foreign troops.",
                    "Farmers {loc} held a protest against the falling price of rice.",
                    "Workers {loc} went on strike demanding the payment of their overdue wages.",
                )
            ),
            rng,
            loc=loc,
        )
    if place.kind == "scenic":
        templates = (
            "Large numbers of working people and students are visiting {where} these days.",
            "Construction of a modern hotel is nearing completion {loc}.",
            "{Where} is crowded with visitors enjoying the beautiful scenery.",
            "Trees planted {loc} by the {people} are growing well.",
        )
    elif kind in ("feature", "culture", "history", "music"):
        templates = (
            "{Loc}, there lives a {people_one} who is respected by everyone.",
            "The {people} {loc} have turned their workplace into a model unit.",
            "Not long ago, a new {thing} was opened {loc}.",
            "The story took place {loc} {years} years ago.",
        )
    elif kind in ("letters", "qa"):
        templates = (
            "He said he wanted to visit {where} some day.",
            "There is a famous {thing} {loc}.",
            "The {thing} {loc} is also well known.",
        )
    elif place.kind == "facility":
        templates = (
            "{Where} is pushing forward with the readjustment and reinforcement of its equipment.",
            "Working people {loc} have carried out their plan for the {period} ahead of schedule.",
            "Successes are reported {loc} in the production of {product}.",
        )
    else:
        templates = (
            "{Where} is powerfully accelerating the construction of {project}.",
            "Working people {loc} have carried out their plan for the {period} ahead of schedule.",
            "A meeting was held {loc} on the {ord} to mark the completion of {project}.",
            "A new village has been built at the {farm} Farm {loc}.",
            "Successes are reported {loc} in the production of {product}.",
        )
    people_one = rng.choice(("teacher", "doctor", "farmer", "miner", "nurse", "veteran"))
    return _fill(rng.choice(templates), rng, where=where, Where=_cap(where), loc=loc, Loc=_cap(loc), people_one=people_one)


_ALL_REGIONS_RALLY = (
    "Joint rallies of working people's organizations were held in Pyongyang City, North and South Phyongan, "
    "North and South Hwanghae, Jagang, Kangwon, North and South Hamgyong and Ryanggang Provinces and Nampho, "
    "Rason and Kaesong Cities to carry through the tasks of the five-year plan."
)
_RALLY_FOLLOW = (
    f"At the rallies, speakers said the respected {KIM_JONG_UN} clearly indicated the most correct plan of struggle for implementing the decisions of the Party Congress.",
    f"Letters of pledge to {KIM_JONG_UN} were adopted at the rallies.",
    "Then, there were mass processions.",
)  # fmt: skip
_PREMIER = (
    "Pak Thae Song, Member of the Presidium of the Political Bureau of the Central Committee of the "
    "Workers' Party of Korea and Premier of the Cabinet"
)
# (as a headline says it, as a sentence says it)
_PROJECTS = (
    ("regional development projects", "regional development projects"),
    ("new houses", "new houses"),
    ("greenhouse farm", "a greenhouse farm"),
    ("modern factory", "a modern local industry factory"),
)
_LEADER_TITLE = "General Secretary of the Workers' Party of Korea and President of the State Affairs of the Democratic People's Republic of Korea"


def _story(kind: str, rng: random.Random, places: list[Place], media: bool) -> tuple[str, str | None, list[str]]:
    """(title, subtitle, fixed sentences) for an article of this kind; the first place may be in the title."""
    first = places[0] if places else None
    subtitle = None
    fixed: list[str] = []
    if kind == "leader":
        roll = rng.random()
        if first is not None:
            verb = "inspects" if first.kind == "facility" else "visits"
            title = f"Respected Comrade Kim Jong Un {verb} {first.name}"
            fixed.append(f"The respected Comrade {KIM_JONG_UN}, {_LEADER_TITLE}, {verb[:-1]}ed {first.full}.")
            places = places[1:]
        elif roll < 0.25:
            foreign = rng.choice(VOCAB["foreign"])
            title = f"Respected Comrade Kim Jong Un sends congratulatory message to {foreign}"
            fixed.append(f"The respected Comrade {KIM_JONG_UN}, {_LEADER_TITLE}, sent a congratulatory message to the {foreign}.")
        elif roll < 0.45:
            group = _fill("{people} of {unit}", rng)
            title = f"Respected Comrade Kim Jong Un has photo session with {group}"
            fixed.append(f"The respected Comrade {KIM_JONG_UN} had a photo session with the {group}.")
        elif roll < 0.65:
            slogan = rng.choice(
                (
                    "Let Us Further Glorify the History of Our Great State",
                    "Respects to the Heroic Working Class",
                    "For a New Era of Comprehensive Development",
                    "Respects to the Glorious History of the Revolutionary School",
                )
            )
            title = f'"{slogan}"'
            occasion = _fill("celebration of {anniv} founding anniversary of the {org}", rng)
            subtitle = f"Comrade Kim Jong Un's speech at {occasion}"
            fixed.append(f"The respected Comrade {KIM_JONG_UN} made a speech at the {occasion}.")
        else:
            org = rng.choice(VOCAB["org"])
            title = f"Respected Comrade Kim Jong Un watches performance given by art squad of {org}"
            fixed.append(f"The respected Comrade {KIM_JONG_UN} watched a performance given by the art squad of the {org}.")
        fixed.append(f"He was warmly welcomed by the {_fill('{people}', rng)} who cheered \"Hurrah!\" for {KIM_JONG_UN}.")
    elif kind in ("news", "mainnews"):
        roll = rng.random()
        if roll < 0.04 and not media:
            title = rng.choice(("Joint rallies held in provinces", "Joint rallies of working people's organizations held"))
            fixed.extend((_ALL_REGIONS_RALLY, *_RALLY_FOLLOW))
            return title, None, fixed + [_place_sentence(kind, p, rng) for p in places]
        if first is not None and roll < 0.5:
            name, at = first.name, "at" if first.kind in ("facility", "scenic") else "in"
            choice = rng.randrange(4 if first.kind in ("province", "city", "county") else 3)
            if choice == 3:
                project_title, project = rng.choice(_PROJECTS)
                title = f"{name} accelerates construction of {project_title}"
                fixed.append(f"{_cap(first.full)} is powerfully accelerating the construction of {project}.")
            elif choice == 2:
                title = f"Premier Pak Thae Song makes field survey of {name}"
                fixed.append(f"{_PREMIER} made a field survey of {first.full}.")
            else:
                title = f"{('Successes made', 'New achievements reported')[choice]} {at} {name}"
                fixed.append(_place_sentence(kind, first, rng))
            places = places[1:]
        elif kind == "mainnews" and roll < 0.7:
            title = _fill(
                rng.choice(
                    (
                        "National meeting for commemorating {anniv} founding anniversary of {org} held",
                        "Letter to respected Comrade Kim Jong Un from participants in national meeting of {people}",
                        "Respected Comrade Kim Jong Un sends message of greetings to {foreign}",
                        "Delegation of friendly party leaves for {country}",
                    )
                ),
                rng,
            )
            if "Kim Jong Un" in title:
                fixed.append(f"A message was sent to the respected Comrade {KIM_JONG_UN}, {_LEADER_TITLE}.")
        else:
            title = _fill(
                rng.choice(
                    (
                        "Successes made in construction of minor power stations",
                        "Production of major ordered equipment planned this year concluded",
                        "Planned construction projects concluded in succession",
                        "Scientific symposium held to mark {anniv} anniversary of establishment of {ministry}",
                        "Production of {product} increases in {sector} sector",
                        "Meeting held to mark {anniv} founding anniversary of {org}",
                        "Exhibition of {sector} successes opens",
                        "Innovations made in {sector} sector",
                    )
                ),
                rng,
            )
        if rng.random() < 0.05:
            subtitle = _fill("Report of the {ministry}", rng)
    elif kind in ("feature", "culture"):
        if first is not None and rng.random() < 0.3:
            title = rng.choice(("For Green Landscape in the {name} Area", "Flowers in Bloom in {name}", "Changes in {name}"))
            title = title.format(name=first.name.removesuffix(" area"))
        else:
            title = rng.choice(
                (
                    "Strong Root", "Precious Wealth", "The Most Important Work", "Clear Water Flows", "Eyesight Restored",
                    "Attach Importance to the Public Sentiment!", "Sea Farming of Great Profitability",
                    "To Improve the Material and Cultural Living Standards of the Regional People All the More",
                    "Over {years} Years Dedicated to Gold Medals", "Folk Custom of Making {Food}", "Happy Laughter",
                    "Devoted Teacher", "Warm Love for Children", "The WPK's Policy of Strengthening Cities and Counties",
                )
            )  # fmt: skip
            title = _fill(title, rng, Food=string.capwords(rng.choice(VOCAB["food"])))
        if rng.random() < 0.2:
            title = f"{title} ({rng.randint(1, 9)})"
        if rng.random() < 0.12:
            subtitle = rng.choice(("Story of a Devoted Teacher", "From the Diary of a Doctor", "What a Veteran Says"))
    elif kind == "history":
        title = _fill(
            rng.choice(
                (
                    'Glasswork "{name}"', 'Woodwork "{name}"', 'Gilt Work "{name}"', "Table Clock",
                    'Gold- and Silver-Plated Work "{name}"', 'Incident of Intrusion by the US Aggressor Ship "General Sherman"',
                    "Crystal Vase", 'Embroidery "{name}"',
                )
            ),
            rng,
            name=rng.choice(("Photometer", "Nine Fishes", "Ganesa", "Steed", "Aztecan Calendar", "Two Cranes", "Spring")),
        )  # fmt: skip
        if "Incident" not in title:
            recipient = rng.choice((f"the respected Comrade {KIM_JONG_UN}", f"President {KIM_IL_SUNG}", f"Chairman {KIM_JONG_IL}"))
            fixed.append(_fill(f"This is the {{gift}} presented to {recipient} as a gift by {{giver}}.", rng))
    elif kind == "music":
        form = rng.choice(("Song", "Orchestral Music", "Female Chorus", "Piano Solo", "Male Duet"))
        song = rng.choice(VOCAB["song"])
        title = f'{form} "{song}"'
        fixed.append(f'Today we introduce the {form.lower()} "{song}".')
    elif kind == "letters":
        listener, country = rng.choice(VOCAB["listener"]), rng.choice(VOCAB["country"])
        roll = rng.random()
        if roll < 0.4:
            title = f'Song "{rng.choice(VOCAB["song"])}"--{listener} of {country}--'
        elif roll < 0.7:
            title = f"Thanks Expressed by {listener}"
        else:
            title = f"First E-mail from {listener}"
        fixed.append(f"Dear listeners, today we introduce a letter from {listener} of {country}.")
    else:  # qa
        thing = rng.choice(VOCAB["thing"])
        if rng.random() < 0.5:
            title = f"Question: What Is the Famous {_cap(thing)} in the DPRK?"
        else:
            title = f"Answer: About Famous {_cap(thing)}s in the DPRK".replace("Librarys", "Libraries")
        fixed.append(_fill("Today we answer the question sent by {listener} of {country}.", rng))
    fixed.extend(_place_sentence(kind, p, rng) for p in places)
    return title, subtitle, fixed


# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """The sentences of one version of a body and how they group into paragraphs."""

    sentences: tuple[str, ...]
    paragraph_sizes: tuple[int, ...]

    def paragraphs(self) -> list[str]:
        """Paragraph texts, leader names still marked for the renderer."""
        out, start = [], 0
        for size in self.paragraph_sizes:
            out.append(" ".join(self.sentences[start : start + size]))
            start += size
        return out


class _Pool:
    """Filler sentences of one kind of article, grouped by template."""

    def __init__(self, seed: int, names: tuple[str, ...]):
        self.variants: list[list[str]] = []
        for name in names:
            rng = random.Random(f"{seed}:pool:{name}")
            for template in _FILLERS[name]:
                # dict.fromkeys: distinct variants in a deterministic order
                filled = dict.fromkeys(_fill(template, rng) for _ in range(_VARIANTS))
                self.variants.append(list(filled))
        self.flat = [sentence for variants in self.variants for sentence in variants]
        self.words = {sentence: _words(sentence) for sentence in self.flat}


class Writer:
    """Writes every text of one seeded site: built once (filler pools), then pure per item."""

    def __init__(self, seed: int):
        self.seed = seed
        self._pools = {names: _Pool(seed, names) for names in set(_POOLS_OF.values())}

    def head(self, index: int, kind: str, published: date, media: bool = False) -> Head:
        """Headline, subtitle, dateline, regions and fixed sentences of item ``index``."""
        rng = random.Random(f"{self.seed}:{index}:head")
        places: list[Place] = []
        roll = rng.random()
        wanted = 0 if roll < 0.25 else 1 if roll < 0.7 else 2 if roll < 0.9 else 3
        if wanted:
            pool = _WORK_PLACES if kind in ("news", "mainnews", "leader") and rng.random() < 0.7 else _NAMED_PLACES
            places = rng.sample(pool, wanted)
        south = rng.choice(SOUTH_PLACES) if kind in ("news", "mainnews") and rng.random() < 0.08 else None
        title, subtitle, fixed = _story(kind, rng, places, media)
        regions = {p.region for p in places}
        if _ALL_REGIONS_RALLY in fixed:
            regions.update(REGIONS)
        if not fixed:
            fixed.append(_fill(_OPENINGS[kind], rng))
        if south is not None:
            fixed.append(_place_sentence(kind, south, rng))  # a place in south Korea is no DPRK region
        dateline = None
        if (subtitle and kind == "leader") or rng.random() < 0.1:
            dateline = date.fromordinal(published.toordinal() - rng.choice((0, 1, 1, 2)))
        return Head(title, subtitle, dateline, tuple(sort_regions(regions)), tuple(fixed))

    def body(self, index: int, kind: str, head: Head, version: int = 0) -> Body:
        """The body of item ``index`` as it reads in ``version`` (0 = as first published)."""
        pool = self._pools[_POOLS_OF[kind]]
        rng = random.Random(f"{self.seed}:{index}:body")
        target = _TARGET_LOW + int((_TARGET_HIGH - _TARGET_LOW) * rng.random() ** 2)
        words = sum(_words(plain_text(s)) for s in head.lead)
        fillers: list[str] = []
        random_ = rng.random  # int(random() * n) rather than randrange: bodies are generated on every request
        for _ in range(8):
            if words >= target:
                break
            # each template once per round, so that a sentence repeats only in the longest bodies
            for template in sorted(range(len(pool.variants)), key=lambda _: random_()):
                variants = pool.variants[template]
                sentence = variants[int(random_() * len(variants))]
                count = pool.words[sentence]
                if words + count > _TARGET_HIGH or sentence in fillers:
                    continue
                fillers.append(sentence)
                words += count
                if words >= target:
                    break
        merged, editable = _interleave(head.lead, fillers, rng)
        sizes, left = [], len(merged)
        while left:
            size = min(left, rng.choice((1, 2)) if not sizes else rng.choice((1, 2, 2, 3, 3, 4)))
            sizes.append(size)
            left -= size
        seen = {position: {merged[position]} for position in editable}
        for change in range(1, version + 1):
            self._edit(merged, editable, seen, index, change, pool)
        return Body(tuple(merged), tuple(sizes))

    def _edit(self, sentences: list[str], editable: list[int], seen: dict[int, set[str]], index: int, change: int, pool: _Pool) -> None:
        """Apply edit number ``change``: a number or a whole filler sentence changes.

        The new sentence is one its position never held, so every version of the chain differs from
        all earlier ones; a later revert to version k therefore restores exactly the text of version k.
        """
        rng = random.Random(f"{self.seed}:{index}:edit:{change}")
        position = rng.choice(editable)
        old = sentences[position]
        numbers = list(_NUMBER.finditer(old))
        candidates = []
        if numbers and rng.random() < 0.5:
            for _ in range(10):
                match = rng.choice(numbers)
                value = int(match.group().replace(",", ""))
                new_value = max(1, value + rng.choice((-1, 1)) * max(1, int(value * rng.uniform(0.02, 0.2))))
                text = f"{new_value:,}" if new_value >= 1000 else str(new_value)
                candidates.append(old[: match.start()] + text + old[match.end() :])
        old_words = _words(old)
        for _ in range(60):
            sentence = pool.flat[rng.randrange(len(pool.flat))]
            if abs(pool.words[sentence] - old_words) <= 6:
                candidates.append(sentence)
        candidates.extend(pool.flat)  # the last resort: any sentence this position never held
        new = next(sentence for sentence in candidates if sentence not in seen[position])
        seen[position].add(new)
        sentences[position] = new

    def media_title(self, index: int, kind: str, published: date) -> str:
        """The title of a video or audio item of this kind."""
        rng = random.Random(f"{self.seed}:{index}:media")
        if kind in ("feature", "culture") and rng.random() < 0.4:
            return _fill(
                rng.choice(
                    (
                        'Korean Cartoon "The Boy General" Part {count}',
                        'TV Serial Drama "New Spring of the Paekhak Plain" Part {few}',
                        "Flowers Good for Air Purification ({few})",
                        "Health Care in Sultry Weather--Nutrition Administration--",
                        'Famous Story Picture Book "Balsam(Pongsonhwa)"',
                    )
                ),
                rng,
            )
        return self.head(index, kind, published, media=True).title


def _interleave(lead: tuple[str, ...], fillers: list[str], rng: random.Random) -> tuple[list[str], list[int]]:
    """The lead's first sentence, then fillers with the lead's other sentences spread among them in order.

    Returns the sentences and the positions of the fillers (the only sentences edits touch).
    """
    rest = list(lead[1:])
    slots = sorted(rng.sample(range(len(fillers) + 1), k=min(len(rest), len(fillers) + 1)))
    merged, editable = list(lead[:1]), []
    for position, sentence in enumerate(fillers):
        if rest and slots and slots[0] == position:
            merged.append(rest.pop(0))
            slots.pop(0)
        editable.append(len(merged))
        merged.append(sentence)
    merged.extend(rest)
    return merged, editable


def truth_body(body: Body) -> str:
    """The body text ground truth hashes: paragraphs joined by a blank line, leader names inline."""
    return plain_text("\n\n".join(body.paragraphs()))
