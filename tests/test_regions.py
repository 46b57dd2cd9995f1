import json
import re
import sys
from importlib import resources
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

import pytest

from dprk_archive.enrich import Place, enrich_article, find_places, find_regions, load_regions
from dprk_archive.models import Article

ROOT = Path(__file__).resolve().parent.parent
SEED = Path("/work/shared/seed/000_ffc4652c616b7d12.txt")

ALL_13 = [
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
]

# The seed article's first paragraph, line breaks as on the page.
SEED_FIRST_PARAGRAPH = (
    "Joint rallies of working people's organizations were held in Pyongyang City,\n"
    "North and South Phyongan, North and South Hwanghae, Jagang, Kangwon,\n"
    "North and South Hamgyong and Ryanggang Provinces and Nampho, Rason and\n"
    "Kaesong Cities to carry through the first-year tasks of the five-year plan set forth at the Eighth Congress "
    "of the Workers' Party of Korea."
)


def _data(name):
    return json.loads(resources.files("dprk_archive").joinpath("data", name).read_text(encoding="utf-8"))


def _eval_script():
    loader = SourceFileLoader("eval_regions", str(ROOT / "scripts" / "eval-regions"))
    module = module_from_spec(spec_from_loader(loader.name, loader))
    # dataclasses look their module up in sys.modules while the script is being executed.
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


# --- the seed and datelines ---


def test_seed_first_paragraph_names_all_13_divisions_in_canonical_order():
    assert find_regions(SEED_FIRST_PARAGRAPH) == ALL_13


@pytest.mark.skipif(not SEED.exists(), reason="shared seed text not available")
def test_seed_file_as_flattened_on_the_aggregator():
    text = SEED.read_text(encoding="utf-8")
    assert find_regions(text) == ALL_13
    places = [place.name for place in find_places(text)]
    assert places[:4] == ["Wonsan-Kalma Coastal Tourist Area", "Chongdan", "Unhung", "Hoechang"]
    assert "Pukchang" in places and "Onpho" in places


def test_shouted_dateline_counts_as_pyongyang():
    assert find_regions("PYONGYANG, November 19 (KCNA) -- A meeting was held.") == ["Pyongyang"]


def test_dateline_abroad_counts_as_nothing():
    assert find_regions("Beijing, May 3 (KCNA) -- An exhibition opened here.") == []


def test_shouted_city_dateline():
    assert find_regions("HAMHUNG, March 2 (KCNA) -- Workers overfulfilled the plan.") == ["South Hamgyong"]


# --- conjunctions and adjective forms ---


def test_north_and_south_expands_to_both_provinces():
    assert find_regions("Bumper harvests were reaped in North and South Phyongan Provinces.") == [
        "North Phyongan",
        "South Phyongan",
    ]


def test_south_and_north_expands_to_both_provinces():
    assert find_regions("Farmers in South and North Hwanghae Provinces finished transplanting.") == [
        "North Hwanghae",
        "South Hwanghae",
    ]


def test_conjunction_followed_by_another_province():
    assert find_regions("in North and South Hamgyong and Ryanggang Provinces") == [
        "North Hamgyong",
        "South Hamgyong",
        "Ryanggang",
    ]


def test_list_of_cities_broken_across_lines():
    assert find_regions("in Nampho, Rason and\nKaesong Cities") == ["Rason", "Nampho", "Kaesong"]


def test_provincial_adjective():
    assert find_regions("The South Phyongan Provincial Party Committee held a plenary meeting.") == ["South Phyongan"]


def test_other_romanizations_of_regions():
    assert find_regions("Chagang Province and North Pyongan Province") == ["North Phyongan", "Jagang"]
    assert find_regions("South Hamkyong, Ryangkang and Yanggang") == ["South Hamgyong", "Ryanggang"]
    assert find_regions("Hamgyong-bukto and Hwanghae-namdo") == ["South Hwanghae", "North Hamgyong"]
    assert find_regions("the port of Nampo and the Rajin-Sonbong zone") == ["Rason", "Nampho"]
    assert find_regions("P\u2019yongyang") == ["Pyongyang"]


def test_bare_directionless_stem_is_not_a_region():
    # "the former Pyongan Province" is the pre-1896 province: neither of today's two.
    assert find_regions("formed from the former Pyongan Province") == []


# --- places named without their province ---


def test_gazetteer_places_give_their_region():
    assert find_regions("Tourists visited Samjiyon and Mt. Paektu.") == ["Ryanggang"]
    assert find_regions("Mt Kumgang and the Wonsan\u2013Kalma Coastal Tourist Area") == ["Kangwon"]
    assert find_regions("The Hwanghae Iron and Steel Complex") == ["North Hwanghae"]
    assert find_regions("The Sohae Satellite Launching Ground") == ["North Phyongan"]


def test_places_are_in_order_of_first_appearance_without_duplicates():
    text = "From Samjiyon to Mount Paektu and back to Samjiyon, then on to Hyesan."
    assert find_places(text) == [
        Place("Samjiyon", "Ryanggang"),
        Place("Mt. Paektu", "Ryanggang"),
        Place("Hyesan", "Ryanggang"),
    ]


def test_a_region_name_is_not_a_place():
    assert find_places("South Hwanghae Province and Pyongyang") == []


def test_longest_name_wins():
    assert find_places("Songhwa Street") == [Place("Songhwa Street", "Pyongyang")]
    assert find_places("Songhwa County") == [Place("Songhwa County", "South Hwanghae")]
    assert find_places("Kaesong Industrial Zone") == [Place("Kaesong Industrial Zone", "Kaesong")]


def test_a_farm_named_after_a_village_takes_the_location_that_follows():
    # Sinhung is also a county of South Hamgyong; this farm is in South Phyongan.
    text = "A new village has been built at the Sinhung Farm in Hoechang County of South Phyongan Province."
    assert find_regions(text) == ["South Phyongan"]
    assert find_places(text) == [Place("Hoechang", "South Phyongan")]


def test_a_farm_without_a_following_location_still_names_its_place():
    assert find_regions("The Kangdong Greenhouse Farm was completed.") == ["Pyongyang"]


# --- people named like places ---


def test_kim_chaek_the_man_is_no_place():
    assert find_regions("Kim Chaek, an anti-Japanese revolutionary fighter, devoted his life to the revolution.") == []


def test_kimchaek_the_city_is_in_north_hamgyong():
    assert find_regions("The Kimchaek City People's Committee renovated the streets.") == ["North Hamgyong"]


def test_kim_chaek_university_is_in_pyongyang():
    assert find_regions("The Kim Chaek University of Technology held a conference.") == ["Pyongyang"]


def test_kim_chaek_iron_and_steel_complex_is_in_chongjin():
    assert find_places("the Kim Chaek Iron and Steel Complex") == [
        Place("Kim Chaek Iron and Steel Complex", "North Hamgyong")
    ]


def test_counties_named_after_people_but_not_the_people():
    assert find_regions("Kimjongsuk County, Kimhyongjik County and Kimhyonggwon County") == ["Ryanggang"]
    assert find_regions("Kim Jong Suk, Kim Hyong Jik and Kim Hyong Gwon") == []


# --- names that are not places ---


@pytest.mark.parametrize(
    "text",
    [
        "The Korean Central News Agency released a report.",
        "The DPRK and Korea",
        "The Pyongyang Times carried an article.",
        "Japan should implement the DPRK-Japan Pyongyang Declaration.",
        "The missile was launched at 7:10 a.m. Pyongyang time.",
        "The Taean work system and the Chollima spirit",
        "The ICBM Hwasong-18 was test-fired.",
        "Young people carry forward the Paektu spirit.",
        "The Mangyongdae Prize sports games opened.",
        "Pleasure boats sail on the Taedong River.",
        "The Samjiyon Orchestra performed.",
    ],
)
def test_not_places(text):
    assert find_regions(text) == []


def test_lower_case_words_are_not_names():
    # Only title case and the capitals of datelines are matched, so English words stay out.
    assert find_regions("suan, anak and orang in lower case") == []


def test_pyongyang_institution_counts():
    assert find_regions("Pyongyang General Hospital") == ["Pyongyang"]


# --- south Korean homonyms ---


@pytest.mark.parametrize(
    "text",
    [
        "Forest fires broke out in Kangwon Province of south Korea.",
        "Forest fires in south Korea's Kangwon Province spread.",
        "Kangwon Province, S. Korea, suffered a drought.",
        "Heavy snow fell in Gangwon-do.",
        "Farmers rallied in Seoul and Gyeonggi Province.",
        "The south Korean puppet military staged artillery drills in Kosong, Kangwon Province.",
        "Yonphyong Island in Ongjin County of Inchon was put under alert.",
    ],
)
def test_south_korean_look_alikes_do_not_count(text):
    assert find_regions(text) == []


def test_south_korean_cue_after_a_northern_name_does_not_negate_it():
    text = "The Kangwon Provincial Party Committee denounced the leaflet scattering by south Korean puppets."
    assert find_regions(text) == ["Kangwon"]


def test_northern_places_without_a_southern_twin_count_in_south_korean_context():
    assert find_regions("The south Korean puppets are to blame for the closure of the Kaesong Industrial Zone.") == [
        "Kaesong"
    ]
    assert find_regions("The south Korean puppets' drones intruded into the sky over Pyongyang.") == ["Pyongyang"]


def test_south_korean_cue_in_an_earlier_sentence_does_not_negate():
    assert find_regions("It happened in south Korea. Kosong County of Kangwon Province planted trees.") == ["Kangwon"]


# --- enrich_article and load_regions ---


def test_enrich_article_reads_title_subtitle_and_body_and_leaves_the_input_alone():
    article = Article(
        source="Voice of Korea",
        id="ien261003020",
        url="http://vok.rep.kp/index.php/detail_com/comde/ien261003020/18/en",
        title="New village built in Unhung County",
        subtitle="Ryanggang Province",
        published="2025-11-18",
        published_raw="2025.11.18",
        body="Farmers moved in.\n\nA delegation came from Pyongyang and visited Samjiyon.",
    )
    enriched = enrich_article(article)
    assert enriched.regions == ["Pyongyang", "Ryanggang"]
    assert enriched.places == ["Unhung", "Samjiyon"]
    assert article.regions == [] and article.places == []
    assert enriched.body == article.body and enriched.id == article.id


def test_enrich_article_without_subtitle():
    article = Article("Voice of Korea", "ien1", "http://x/", "Hamhung", None, None, None, "Nothing else.")
    assert enrich_article(article).regions == ["South Hamgyong"]


def test_load_regions_gives_the_13_rows_for_the_regions_table():
    rows = load_regions()
    assert [row["name"] for row in rows] == ALL_13
    assert {row["name"]: row["iso_code"] for row in rows} == {
        "Pyongyang": "KP-01",
        "South Phyongan": "KP-02",
        "North Phyongan": "KP-03",
        "Jagang": "KP-04",
        "South Hwanghae": "KP-05",
        "North Hwanghae": "KP-06",
        "Kangwon": "KP-07",
        "South Hamgyong": "KP-08",
        "North Hamgyong": "KP-09",
        "Ryanggang": "KP-10",
        "Rason": "KP-13",
        "Nampho": "KP-14",
        "Kaesong": "KP-15",
    }
    assert all(isinstance(value, (str, float)) for row in rows for value in row.values())


# --- the package data ---


def test_regions_have_valid_iso_codes_and_points_inside_north_korea():
    regions = _data("regions.json")["regions"]
    assert len(regions) == 13
    for region in regions:
        assert re.fullmatch(r"KP-(0[1-9]|10|1[3-5])", region["iso_code"]), region["name"]
        assert 37.6 <= region["latitude"] <= 43.1, region["name"]
        assert 124.2 <= region["longitude"] <= 130.7, region["name"]
        assert region["kind"] in ("province", "special city", "directly governed city")
    assert len({region["iso_code"] for region in regions}) == 13


def test_every_gazetteer_place_lies_in_a_canonical_region():
    places = _data("gazetteer.json")["places"]
    assert len(places) >= 150
    for place in places:
        assert place["region"] in ALL_13, place["name"]
    assert len({place["name"] for place in places}) == len(places)


def test_every_form_in_the_data_is_found_on_its_own():
    for region in _data("regions.json")["regions"]:
        for form in region["forms"]:
            assert find_regions(f"They went to {form} yesterday.") == [region["name"]], form
    for place in _data("gazetteer.json")["places"]:
        for form in place["forms"]:
            for spelling in (form, form.upper()):
                assert find_places(f"They went to {spelling} yesterday.") == [
                    Place(place["name"], place["region"])
                ], spelling


# --- the labelled evaluation set ---


def test_evaluation_set_precision_and_recall_are_at_least_097():
    report = _eval_script().evaluate(ROOT / "tests" / "data" / "regions_eval.tsv")
    assert report.sentences >= 150
    mistakes = "\n".join(f"line {n}: missed {m}, extra {e}: {s}" for n, s, m, e in report.mistakes)
    assert report.overall.precision >= 0.97, mistakes
    assert report.overall.recall >= 0.97, mistakes


def test_evaluation_set_covers_every_region():
    report = _eval_script().evaluate(ROOT / "tests" / "data" / "regions_eval.tsv")
    for name, score in report.per_region.items():
        assert score.true_positive + score.false_negative >= 5, name
