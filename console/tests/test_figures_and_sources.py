"""The day's figures (NTRS manner) and what the console makes of the services' answers."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from clearance_console import sources
from clearance_console.figures import day_bounds, day_figures, percentile
from clearance_runtime.access import ClientCredentials

pytestmark = pytest.mark.unit


def _be(status: str, seen: str, **times: str) -> dict[str, object]:
    return {"status": status, "first_seen_at": seen, **times}


def test_percentiles_interpolate_between_closest_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([4.0], 99) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0, 0.0], 100) == 10.0


def test_the_customs_day_is_the_day_in_india() -> None:
    start, end = day_bounds(date(2025, 3, 20))
    assert start.isoformat() == "2025-03-20T00:00:00+05:30"
    assert (end - start).days == 1


def test_day_figures_count_outcomes_and_time_release_from_filing_to_out_of_charge() -> None:
    bills = [
        _be(
            "gatepass_issued",
            "2025-03-20T10:00:00+05:30",
            registered_at="2025-03-20T10:00:00+05:30",
            rms_decided_at="2025-03-20T10:00:02+05:30",
            released_at="2025-03-20T10:00:03+05:30",
        ),
        _be(
            "gatepass_issued",
            "2025-03-20T11:00:00+05:30",
            registered_at="2025-03-20T11:00:01+05:30",
            rms_decided_at="2025-03-20T11:00:05+05:30",
            released_at="2025-03-20T12:00:00+05:30",
        ),
        _be("under_control", "2025-03-20T12:00:00+05:30", held_at="2025-03-20T12:00:04+05:30"),
        _be("rejected", "2025-03-20T13:00:00+05:30", rejected_at="2025-03-20T13:00:00+05:30"),
        _be("accepted", "2025-03-20T23:59:59+05:30"),
        # Filed on 19 March in India, though 20 March in UTC terms is not: the day before.
        _be("released", "2025-03-19T23:00:00+05:30", released_at="2025-03-20T01:00:00+05:30"),
    ]
    figures = day_figures(date(2025, 3, 20), bills)
    assert figures.filed == 5
    assert figures.outcomes == {"cleared": 2, "held": 1, "rejected": 1, "in progress": 1}
    assert figures.release.count == 2
    assert figures.release.mean == (3 + 3600) / 2
    assert figures.release.p50 == (3 + 3600) / 2
    assert figures.within == {"1 minute": 0.5, "1 hour": 1.0, "1 day": 1.0}
    stages = figures.stages
    assert stages["filing to registration"].count == 2
    assert stages["registration to RMS decision"].p50 == 3.0
    assert stages["RMS decision to Out of Charge"].count == 2
    data = figures.to_data()
    assert data["day"] == "2025-03-20"
    assert data["release_seconds"]["p99"] == pytest.approx(3 + (3600 - 3) * 0.99)


def test_a_day_without_releases_has_no_percentiles() -> None:
    figures = day_figures(date(2025, 3, 20), [])
    assert figures.filed == 0
    assert figures.release.p50 is None
    assert figures.within["1 hour"] is None


def test_flow_sums_each_runtime_metric_over_its_labels() -> None:
    text = (
        "# TYPE clearance_consumer_lag gauge\n"
        'clearance_consumer_lag{service="a",topic="t",partition="0"} 3.0\n'
        'clearance_consumer_lag{service="a",topic="t",partition="1"} 4.0\n'
        "# TYPE clearance_outbox_backlog gauge\n"
        'clearance_outbox_backlog{service="a"} 2.0\n'
        "# TYPE clearance_dead_letters counter\n"
        'clearance_dead_letters_total{service="a",topic="t",reason="contract"} 1.0\n'
    )
    flow = sources.flow_of(text)
    assert flow["consumer_lag"] == 7.0
    assert flow["outbox_backlog"] == 2.0
    assert flow["dead_letters"] == 1.0
    assert flow["stuck"] == 0.0


async def test_queue_depths_per_location_and_group_with_the_oldest_item() -> None:
    items = [
        {"port_code": "INNSA1", "assessment_group": "5C", "queued_at": "2025-03-20T10:05:00Z"},
        {"port_code": "INNSA1", "assessment_group": "5C", "queued_at": "2025-03-20T10:01:00Z"},
        {"port_code": "INMAA1", "assessment_group": "2A", "queued_at": "2025-03-20T09:00:00Z"},
    ]
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=items)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        rows = await sources.queue_depths(
            client, {"rms-router": "http://rms"}, {"Authorization": "Bearer console-token"}
        )
    assert [(r["location"], r["group"], r["depth"], r["oldest"]) for r in rows] == [
        ("INMAA1", "2A", 1, "2025-03-20T09:00:00Z"),
        ("INNSA1", "5C", 2, "2025-03-20T10:01:00Z"),
    ]
    assert seen[0].url.path == "/queues/examination"
    assert seen[0].headers["authorization"] == "Bearer console-token"  # the console's own


async def test_the_console_reads_with_its_own_client_credentials_token() -> None:
    """ClientCredentials: the token endpoint from the issuer's OpenID configuration, the
    client credentials grant, the token kept until it nearly expires."""
    posted: list[dict[str, str]] = []

    async def fetch(url: str) -> dict[str, str]:
        assert url == "http://idp/realms/r/.well-known/openid-configuration"
        return {"token_endpoint": "http://idp/realms/r/token"}

    async def post(url: str, form: Any) -> dict[str, Any]:
        posted.append(dict(form))
        return {"access_token": f"t{len(posted)}", "expires_in": 300}

    creds = ClientCredentials(
        "http://idp/realms/r", "clearance-console", "s3", post=post, fetch=fetch
    )
    assert await creds.headers() == {"Authorization": "Bearer t1"}
    assert await creds.token() == "t1"  # cached
    assert posted == [
        {
            "grant_type": "client_credentials",
            "client_id": "clearance-console",
            "client_secret": "s3",
        }
    ]
