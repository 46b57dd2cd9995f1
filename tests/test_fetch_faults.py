"""Transport faults that mocks cannot show, against a real misbehaving server on 127.0.0.1."""

import time

import pytest

from dprk_archive.fetch import FetchFailed, PoliteClient
from faultserver import FaultServer


@pytest.fixture
def server():
    with FaultServer() as running:
        yield running


def client(**options):
    options.setdefault("delay", 0)
    options.setdefault("backoff", 0.01)
    return PoliteClient(**options)


@pytest.mark.parametrize("fault", ["reset", "empty", "truncated"])
def test_broken_responses_are_retried_three_times_then_fail(server, fault):
    with client() as http:
        with pytest.raises(FetchFailed) as failure:
            http.fetch(f"{server.base_url}/{fault}")
    assert len(failure.value.attempts) == 3
    assert [p for p, _ in server.log].count(f"/{fault}") == 3


def test_a_reset_that_recovers_is_kept_as_a_failed_attempt(server):
    with client() as http:
        result = http.fetch(f"{server.base_url}/flaky")
    assert result.status == 200 and b"fine" in result.body
    assert len(result.failed_attempts) == 1


def test_drip_fed_response_is_abandoned_at_the_total_deadline(server):
    started = time.monotonic()
    with client(deadline=0.5, max_attempts=1) as http:
        with pytest.raises(FetchFailed) as failure:
            http.fetch(f"{server.base_url}/drip")
    assert "deadline" in failure.value.attempts[0]
    assert time.monotonic() - started < 3


def test_endless_body_is_cut_at_the_size_cap(server):
    with client(max_bytes=1_000_000) as http:
        with pytest.raises(FetchFailed) as failure:
            http.fetch(f"{server.base_url}/endless")
    assert "cap" in failure.value.attempts[0]
    assert len(failure.value.attempts) == 1
