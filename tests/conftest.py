"""Shared fixtures: the offline mirror, served over loopback."""

import pytest

from dprk_archive.mirror.server import start_mirror


@pytest.fixture(scope="session")
def mirror():
    """A 300-article mirror (seed 1) on day 0, shared by the session: tests must not change its day."""
    running = start_mirror(port=0, articles=300, seed=1)
    yield running
    running.stop()


@pytest.fixture
def mirror_factory():
    """Start mirrors of any size, seed or day (``mirror_factory(articles=2000, seed=5)``); all stop after the test."""
    started = []

    def start(**options):
        running = start_mirror(port=0, **options)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
