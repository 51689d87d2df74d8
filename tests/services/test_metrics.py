"""Prometheus exposition of the monitor: the text and the HTTP endpoint."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from filemeta_gui.db.engine import Database
from filemeta_gui.services.metrics import render_metrics, start_metrics_server

NAMED = {
    "query_duration_seconds": "histogram",
    "db_connections_active": "gauge",
    "db_connections_idle": "gauge",
    "db_connections_waiting": "gauge",
    "db_pool_overflow": "counter",
    "db_pool_timeouts": "counter",
    "db_pool_checkout_wait_seconds": "histogram",
    "slow_queries": "counter",
}


def _samples(exposition: str) -> tuple[dict[str, str], dict[str, float]]:
    """(family name -> type, sample name with labels -> value)."""
    types, values = {}, {}
    for family in text_string_to_metric_families(exposition):
        types[family.name] = family.type
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return types, values


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode("utf-8"))


async def test_render_metrics_reports_the_monitor(database: Database) -> None:
    database.monitor.slow_query_ms = 0  # every query counts as slow
    async with database.session() as session:
        await session.execute(text("SELECT 1"))
        snapshot = database.monitor.snapshot()
        types, values = _samples(render_metrics(database.monitor))

    for name, kind in NAMED.items():
        assert types.get(name) == kind, name
    assert values["query_duration_seconds_count"] == snapshot.latency.count > 0
    assert values["query_duration_seconds_bucket{le=+Inf}"] == snapshot.latency.count
    assert values["query_duration_seconds_sum"] == pytest.approx(snapshot.latency.total)
    assert values["db_connections_active"] == snapshot.pool.checked_out >= 1
    assert values["db_connections_idle"] == snapshot.pool.idle
    assert values["slow_queries_total"] == snapshot.slow_total > 0
    assert values["db_pool_overflow_total"] == snapshot.pool.overflow_opened
    assert values["db_pool_timeouts_total"] == 0
    assert values["db_pool_checkout_wait_seconds_count"] == snapshot.pool.checkouts


async def test_http_endpoint_serves_parseable_metrics_on_loopback(database: Database) -> None:
    await database.ping()
    server = start_metrics_server(database.monitor, port=0)
    try:
        assert server.host == "127.0.0.1" and server.port > 0
        body = await asyncio.to_thread(_fetch, server.url)
    finally:
        server.close()

    types, values = _samples(body)
    assert set(NAMED) <= set(types)
    assert values["query_duration_seconds_count"] >= 1
    with pytest.raises(urllib.error.URLError):
        await asyncio.to_thread(_fetch, server.url)  # closed means closed
