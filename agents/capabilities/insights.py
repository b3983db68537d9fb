"""Insights orchestrator capability: summary statistics of an uploaded CSV."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from agents.capabilities.content import decode, is_missing, plural, read_table, to_number
from agents.capabilities.types import MAX_UPLOAD_BYTES, CapabilityInputError, Upload

_DATE = re.compile(r"^(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})([ T].*)?$")
# Categorical columns with more distinct values than this are identifiers, not categories.
_MAX_CATEGORIES_FOR_CHARTS = 20


@dataclass(frozen=True)
class NumericColumn:
    name: str
    count: int
    missing: int
    mean: float
    minimum: float
    maximum: float
    # Sample standard deviation; None with fewer than two values.
    stdev: float | None
    # Values outside 1.5 interquartile ranges of the quartiles, and the most extreme of them.
    outliers: int = 0
    most_extreme: float | None = None


@dataclass(frozen=True)
class CategoricalColumn:
    name: str
    count: int
    missing: int
    distinct: int
    top: list[tuple[str, int]]


@dataclass(frozen=True)
class DateColumn:
    name: str
    count: int
    first: str
    last: str


@dataclass(frozen=True)
class CsvSummary:
    """Summary statistics of a CSV, column by column."""

    name: str
    rows: int
    numeric: list[NumericColumn] = field(default_factory=list)
    categorical: list[CategoricalColumn] = field(default_factory=list)
    dates: list[DateColumn] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    # What a cap left out of the figures, in words for the reply.
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        """The statistics in a few sentences, with the figures, for the liaison to cite."""
        parts = [f"Summary of {self.name} ({plural(self.rows, 'row')}):"]
        for column in self.numeric:
            text = (
                f"{column.name}: mean {_number(column.mean)}, min {_number(column.minimum)}, "
                f"max {_number(column.maximum)}"
            )
            if column.stdev is not None:
                text += f", standard deviation {_number(column.stdev)}"
            text += f" over {plural(column.count, 'value')}"
            if column.missing:
                text += f" ({column.missing} missing)"
            if column.outliers:
                text += (
                    f"; {plural(column.outliers, 'outlier')}, the most extreme "
                    f"{_number(column.most_extreme or 0.0)}"
                )
            parts.append(text + ".")
        for category in self.categorical:
            top = ", ".join(f"{value} ({count})" for value, count in category.top)
            parts.append(
                f"{category.name}: {plural(category.distinct, 'distinct value')}, "
                f"most frequent {top}."
            )
        for date in self.dates:
            parts.append(f"{date.name}: dates from {date.first} to {date.last}.")
        if self.charts:
            parts.append("Charts that fit: " + "; ".join(self.charts) + ".")
        parts.extend(self.notes)
        return " ".join(parts)


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _outliers(values: list[float]) -> tuple[int, float | None]:
    if len(values) < 4:
        return 0, None
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    spread = q3 - q1
    low, high = q1 - 1.5 * spread, q3 + 1.5 * spread
    outside = [value for value in values if value < low or value > high]
    if not outside:
        return 0, None
    median = statistics.median(values)
    return len(outside), max(outside, key=lambda value: abs(value - median))


def summarize_csv(upload: Upload, top: int = 3) -> CsvSummary:
    """Per numeric column count/mean/min/max/stdev and outliers; per text column top values.

    Raises CapabilityInputError, with what to do instead, when the file is not a usable CSV.
    """
    if len(upload.data) > MAX_UPLOAD_BYTES:
        raise CapabilityInputError(
            f"{upload.name} is too large to summarise here; keep only the columns you need."
        )
    text, _ = decode(upload.name, upload.data)
    if upload.name.lower().endswith(".json") or text.lstrip().startswith(("{", "[")):
        raise CapabilityInputError(
            f"{upload.name} is JSON, and summary statistics need a table: export it as CSV "
            "with one row per record."
        )
    table = read_table(upload.name, text)
    if not table.rows:
        raise CapabilityInputError(f"{upload.name} has a header but no data rows to summarise.")
    summary = CsvSummary(upload.name, len(table.rows), notes=table.notes())
    for name, cells in zip(table.header, table.columns(), strict=True):
        present = [cell for cell in cells if not is_missing(cell)]
        # A row too short to reach this column is missing its value too.
        missing = len(table.rows) - len(present)
        if not present:
            continue
        numbers = [to_number(cell) for cell in present]
        if all(number is not None for number in numbers):
            values = [number for number in numbers if number is not None]
            outliers, extreme = _outliers(values)
            summary.numeric.append(
                NumericColumn(
                    name,
                    len(values),
                    missing,
                    statistics.fmean(values),
                    min(values),
                    max(values),
                    statistics.stdev(values) if len(values) > 1 else None,
                    outliers,
                    extreme,
                )
            )
        elif all(_DATE.match(cell) for cell in present):
            # ISO dates sort as text; other layouts are reported in file order.
            ordered = sorted(present) if present[0][:4].isdigit() else present
            summary.dates.append(DateColumn(name, len(present), ordered[0], ordered[-1]))
        else:
            counts = Counter(present)
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
            summary.categorical.append(
                CategoricalColumn(name, len(present), missing, len(counts), ranked)
            )
    if not summary.numeric and not summary.categorical and not summary.dates:
        raise CapabilityInputError(f"{upload.name} has columns but every cell is empty.")
    summary.charts.extend(_charts(summary))
    return summary


def _charts(summary: CsvSummary) -> list[str]:
    """Chart types that fit the columns: the liaison's suggestions, not drawings."""
    charts = []
    numeric = [column.name for column in summary.numeric]
    categories = [
        column.name
        for column in summary.categorical
        if column.distinct <= _MAX_CATEGORIES_FOR_CHARTS
    ]
    if summary.dates and numeric:
        charts.append(f"a line chart of {numeric[0]} over {summary.dates[0].name}")
    if categories and numeric:
        charts.append(f"a bar chart of {numeric[0]} by {categories[0]}")
    if len(numeric) >= 2:
        charts.append(f"a scatter plot of {numeric[0]} against {numeric[1]}")
    if numeric and not charts:
        charts.append(f"a histogram of {numeric[0]}")
    return charts
