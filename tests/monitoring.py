"""The PromQL the stack ships (the Grafana dashboard and the Prometheus alerts under deploy/),
taken apart into the metric names and labels it uses, and what the platform exports.

Shared by the unit test that holds the `chat_*` names to foundations/metrics.py and the
integration test that holds the `temporal_*` names to a real worker's scrape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from prometheus_client.registry import Collector

from foundations import metrics

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"

# Made by Prometheus itself for every target, whatever the target exports.
PROMETHEUS_SERIES = {"up": set[str]()}
PROMETHEUS_LABELS = {"job", "instance"}

_FUNCTIONS_AND_KEYWORDS = {
    "sum", "avg", "min", "max", "count", "rate", "irate", "increase", "histogram_quantile",
    "absent", "clamp_min", "clamp_max", "by", "without", "or", "and", "unless", "on",
    "ignoring", "group_left", "group_right", "bool", "offset",
}  # fmt: skip
_IDENTIFIER = re.compile(r"[A-Za-z_:][\w:]*")
_SELECTOR = re.compile(r"([A-Za-z_:][\w:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


@dataclass
class Query:
    """One PromQL expression and where it is written."""

    where: str
    expr: str
    metrics: set[str] = field(default_factory=set)
    # (metric, label, operator, value) for every label matcher in a selector.
    matchers: list[tuple[str, str, str, str]] = field(default_factory=list)
    grouping_labels: set[str] = field(default_factory=set)


def parse(where: str, expr: str) -> Query:
    query = Query(where, expr)
    for name, body in _SELECTOR.findall(expr):
        query.matchers += [(name, *m) for m in _MATCHER.findall(body)]
    for labels in _GROUPING.findall(expr):
        query.grouping_labels |= {label.strip() for label in labels.split(",") if label.strip()}
    bare = _GROUPING.sub(" ", expr)
    bare = re.sub(r'"[^"]*"', " ", bare)  # label values
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", bare)  # selectors' matchers, range durations
    bare = re.sub(r"\$\w+", " ", bare)  # Grafana's variables
    bare = re.sub(r"\b\d[\w.]*", " ", bare)  # numbers, durations
    query.metrics = {
        name for name in _IDENTIFIER.findall(bare) if name not in _FUNCTIONS_AND_KEYWORDS
    }
    return query


def shipped_queries() -> Iterator[Query]:
    """Every expression of every committed dashboard panel and every alert rule."""
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                yield parse(f"{path.name}: {panel['title']}", target["expr"])
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            yield parse(f"{ALERTS.name}: {rule['alert']}", rule["expr"])


def exported_series(collectors: tuple[Collector, ...]) -> dict[str, set[str]]:
    """The series names a set of prometheus-client metrics produces, with their labels."""
    series: dict[str, set[str]] = {}
    for collector in collectors:
        labels = set(getattr(collector, "_labelnames", ()))
        for family in collector.collect():
            if family.type == "counter":
                series[f"{family.name}_total"] = labels
            elif family.type == "histogram":
                series[f"{family.name}_bucket"] = labels | {"le"}
                series[f"{family.name}_count"] = labels
                series[f"{family.name}_sum"] = labels
            else:
                series[family.name] = labels
    return series


def platform_series() -> dict[str, set[str]]:
    """Every `chat_*` series the API and the worker export, with their labels."""
    return exported_series(metrics.EDGE_METRICS + metrics.WORKER_METRICS)
