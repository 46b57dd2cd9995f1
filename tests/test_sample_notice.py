"""A build made from the offline mirror says on every page that its articles are synthetic."""

from dprk_archive import load
from dprk_archive.build import build_database
from dprk_archive.crawl import Crawler
from dprk_archive.fetch import PoliteClient
from site_fixtures import Site, make_datasette, site  # noqa: F401  (site is a fixture)

NOTICE = "synthetic sample data from the offline mirror"


def test_a_build_from_the_mirror_is_marked_as_sample_data(mirror, tmp_path):
    work = tmp_path / "work.db"
    db = load.open_working_db(str(work))
    with PoliteClient(delay=0) as client:
        Crawler(db, client, mirror.base_url, max_requests=30).run()
    db.conn.close()
    out = tmp_path / "dprk-archive.db"
    build_database(work, out)
    site = Site(make_datasette(out), out)
    home = site.get("/").text
    assert "Sample data." in home and NOTICE in home
    assert NOTICE in site.get("/dprk-archive/articles").text
    assert site.sql("select sample_data from builds").json() == [{"sample_data": 1}]


def test_a_build_from_the_real_outlet_carries_no_notice(site):
    assert "Sample data." not in site.get("/").text
    assert NOTICE not in site.get("/dprk-archive/articles").text
