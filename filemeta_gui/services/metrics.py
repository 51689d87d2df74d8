"""The monitor's figures in the Prometheus text format: an HTTP endpoint and a string.

A private ``CollectorRegistry`` holds one collector that reads ``QueryMonitor.snapshot()``
on every scrape, so there is no second set of counters to keep in step and nothing is
registered in ``prometheus_client``'s global registry (two libraries open in one process
would clash there).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from filemeta_gui.db.monitoring import QueryMonitor
from filemeta_gui.domain.monitoring import HistogramSnapshot, MonitorSnapshot

DEFAULT_HOST = "127.0.0.1"


class MonitorCollector:
    """A ``prometheus_client`` collector over one ``QueryMonitor``."""

    def __init__(self, monitor: QueryMonitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Any]:
        snapshot = self.monitor.snapshot()
        yield _histogram(
            "query_duration_seconds", "Time from sending a query to its result.", snapshot.latency
        )
        yield from _query_counters(snapshot)
        pool = snapshot.pool
        gauges = (
            ("db_connections_active", "Connections checked out of the pool.", pool.checked_out),
            ("db_connections_idle", "Connections open and waiting in the pool.", pool.idle),
            ("db_connections_waiting", "Callers waiting for a pool checkout.", pool.waiting),
            ("db_pool_size", "Connections the pool keeps open.", pool.size),
            (
                "db_pool_max_overflow",
                "Connections allowed beyond the pool size.",
                pool.max_overflow,
            ),
            (
                "db_pool_overflow_connections",
                "Connections open beyond the pool size now.",
                pool.overflow,
            ),
        )
        for name, documentation, value in gauges:
            yield GaugeMetricFamily(name, documentation, value=value)
        counters = (
            (
                "db_pool_overflow",
                "Connections ever opened beyond the pool size.",
                pool.overflow_opened,
            ),
            ("db_pool_timeouts", "Checkouts that gave up waiting for a connection.", pool.timeouts),
            ("db_pool_checkouts", "Connections handed out by the pool.", pool.checkouts),
            (
                "db_connections_invalidated",
                "Connections discarded as broken or stale.",
                pool.invalidated + pool.soft_invalidated,
            ),
            ("db_reconnects", "Connections opened to replace invalidated ones.", pool.reconnects),
        )
        for name, documentation, count in counters:
            yield CounterMetricFamily(name, documentation, value=count)
        if pool.wait is not None:
            yield _histogram(
                "db_pool_checkout_wait_seconds",
                "Time from asking the pool for a connection to getting one.",
                pool.wait,
            )


def _query_counters(snapshot: MonitorSnapshot) -> Iterator[CounterMetricFamily]:
    yield CounterMetricFamily("query_errors", "Queries that failed.", value=snapshot.errors)
    yield CounterMetricFamily(
        "slow_queries",
        "Queries slower than the slow-query threshold.",
        value=snapshot.slow_total,
    )
    yield CounterMetricFamily(
        "queries_excluded",
        "Queries left out of these figures (the monitoring panel's own).",
        value=snapshot.excluded,
    )


def _histogram(name: str, documentation: str, histogram: HistogramSnapshot) -> Any:
    bounds = [floatToGoString(bound) for bound in histogram.bounds] + ["+Inf"]
    buckets = list(zip(bounds, histogram.cumulative(), strict=True))
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=histogram.total)


def metrics_registry(monitor: QueryMonitor) -> CollectorRegistry:
    """A registry of its own holding only ``monitor``'s figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MonitorCollector(monitor))
    return registry


def render_metrics(monitor: QueryMonitor) -> str:
    """The Prometheus text exposition of ``monitor`` (what ``filemeta metrics`` prints)."""
    return generate_latest(metrics_registry(monitor)).decode("utf-8")


@dataclass
class MetricsServer:
    """A running endpoint; ``close()`` stops its thread. Usable as a context manager."""

    host: str
    port: int
    _server: Any
    _thread: threading.Thread

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


def start_metrics_server(
    monitor: QueryMonitor, port: int, host: str = DEFAULT_HOST
) -> MetricsServer:
    """Serve ``monitor``'s figures at ``http://host:port/metrics`` from a daemon thread.

    Loopback only unless ``host`` says otherwise: the endpoint has no authentication.
    ``port=0`` picks a free port (read it back from ``.port``).
    """
    server, thread = start_http_server(port, addr=host, registry=metrics_registry(monitor))
    return MetricsServer(
        host=host, port=int(server.server_address[1]), _server=server, _thread=thread
    )
