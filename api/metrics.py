"""Prometheus metrics of one running service (a registry per app, so tests stay independent)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]


class Metrics:
    """What an operator watches: appends, rejections, integration latency, tree size, errors."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.appends = Counter(
            "consular_ledger_appends", "Entries integrated into the log", registry=self.registry
        )
        self.rejections = Counter(
            "consular_ledger_append_rejections",
            "Appends refused, by problem type",
            ["problem"],
            registry=self.registry,
        )
        self.integration_latency = Histogram(
            "consular_ledger_integration_latency_seconds",
            "Time from an entry being queued to its batch being durable",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "consular_ledger_batch_size",
            "Entries per integration",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=self.registry,
        )
        self.tree_size = Gauge(
            "consular_ledger_tree_size", "Integrated entries", registry=self.registry
        )
        self.http_errors = Counter(
            "consular_ledger_http_errors",
            "HTTP responses with status ≥ 400",
            ["status"],
            registry=self.registry,
        )

    def observe_batch(self, latencies: list[float]) -> None:
        self.batch_size.observe(len(latencies))
        for latency in latencies:
            self.integration_latency.observe(latency)
