"""Percentiles and summaries of latency samples (seconds in, milliseconds out)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

PERCENTILES = (50, 90, 99)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks, like numpy's default."""
    if not sorted_values:
        return math.nan
    rank = (len(sorted_values) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def summary(seconds: Sequence[float]) -> dict[str, Any]:
    """Count, mean, p50 / p90 / p99 and max, in milliseconds."""
    values = sorted(seconds)
    result: dict[str, Any] = {"count": len(values)}
    if not values:
        return result
    result["mean_ms"] = round(1000 * sum(values) / len(values), 3)
    for p in PERCENTILES:
        result[f"p{p}_ms"] = round(1000 * percentile(values, p), 3)
    result["max_ms"] = round(1000 * values[-1], 3)
    return result


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    if math.isnan(numerator) or math.isnan(denominator):
        return None
    return round(numerator / denominator, 3)
