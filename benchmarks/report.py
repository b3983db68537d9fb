"""What a run produced, for people: the targets met or missed, a Markdown table, PNG charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from benchmarks.stats import ratio

# Scenario 2 figures reported in the tables, by system: (label, its latency sample).
SWEEP_SYSTEMS = {
    "chat": ("chat turn (first chunk)", "first_chunk"),
    "noop_update": ("no-op update", "update"),
    "two_local_activities": ("two-local-activity update", "update"),
    "echo": ("WebSocket echo", "round_trip"),
}
SEQUENTIAL_ROWS = (
    ("chat", "ack", "chat: ack (send -> message_accepted)"),
    ("chat", "first_chunk", "chat: time to first chunk"),
    ("chat", "response", "chat: time to chat_response"),
    ("noop_update", "update", "baseline: no-op update"),
    ("noop_update_with_start", "update", "baseline: no-op update-with-start"),
    ("two_local_activities", "update", "baseline: update with two local activities"),
    ("echo", "round_trip", "baseline: WebSocket echo round trip"),
)


def _capacity_series(s: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    capacity = s.get("capacity") or {}
    ws = capacity.get("ws")
    other = capacity.get("echo_other_ws") or {}
    series = [
        (f"API (ws={ws})", capacity.get("api") or []),
        ("bare echo, same settings", capacity.get("echo") or []),
        (f"bare echo, ws={other.get('ws')}", other.get("rows") or []),
    ]
    return [(label, rows) for label, rows in series if rows]


def _get(data: Any, *path: Any) -> Any:
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def _level(rows: Any, concurrency: int) -> dict[str, Any] | None:
    for row in rows or []:
        if row.get("concurrency") == concurrency:
            return dict(row)
    return None


def _relay(s: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The relay row of a path at the most streams."""
    rows = [row for row in _get(s, "relay", path) or [] if "streams" in row]
    return max(rows, key=lambda row: row["streams"]) if rows else None


def targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets: each with what was measured, against what, and whether it is met."""
    s = document["scenarios"]
    chat = _get(s, "turn_latency", "chat", "latency")
    noop = _get(s, "turn_latency", "noop_update", "latency", "update")
    rows = []

    def add(target: str, measured: Any, against: Any, value: Any, met: bool | None) -> None:
        rows.append(
            {"target": target, "measured": measured, "against": against, "ratio": value, "met": met}
        )

    def at_most(value: float | None, limit: float) -> bool | None:
        return None if value is None else value <= limit

    def at_least(value: float | None, limit: float) -> bool | None:
        return None if value is None else value >= limit

    ttfc_p50, noop_p50 = _get(chat, "first_chunk", "p50_ms"), _get(noop, "p50_ms")
    ttfc_p99, noop_p99 = _get(chat, "first_chunk", "p99_ms"), _get(noop, "p99_ms")
    ack_p50 = _get(chat, "ack", "p50_ms")
    r = ratio(ttfc_p50, noop_p50)
    add("time to first chunk p50 <= 1.5 x no-op update p50", ttfc_p50, noop_p50, r, at_most(r, 1.5))
    r = ratio(ttfc_p99, noop_p99)
    add("time to first chunk p99 <= 3 x no-op update p99", ttfc_p99, noop_p99, r, at_most(r, 3))
    r = ratio(ack_p50, noop_p50)
    add("ack p50 <= 1.5 x no-op update p50", ack_p50, noop_p50, r, at_most(r, 1.5))

    chat50 = _level(_get(s, "sweep", "chat"), 50)
    local50 = _level(_get(s, "sweep", "two_local_activities"), 50)
    turns, updates = _get(chat50, "per_second"), _get(local50, "per_second")
    r = ratio(turns, updates)
    add(
        "turns/s at 50 sessions >= 0.8 x two-local-activity updates/s at 50",
        turns,
        updates,
        r,
        at_least(r, 0.8),
    )

    relay_p50 = _get(_relay(s, "chat"), "latency", "p50_ms")
    streams_p50 = _get(_relay(s, "workflow_streams"), "latency", "p50_ms")
    add("relay p50 <= 2 ms", relay_p50, 2, None, at_most(relay_p50, 2))
    r = ratio(streams_p50, relay_p50)
    add(
        "relay p50 >= 10 x faster than workflow_streams p50",
        relay_p50,
        streams_p50,
        r,
        at_least(r, 10),
    )

    api_rows = _get(s, "capacity", "api") or []
    at_10k = next((row for row in api_rows if row.get("sockets", 0) >= 10_000), None)
    largest = api_rows[-1] if api_rows else None
    add(
        ">= 10,000 idle sockets per API process at <= 30 KB each",
        f"{_get(largest, 'sockets')} sockets, {_get(largest, 'kb_per_socket')} KB each"
        if largest
        else None,
        "30 KB",
        None,
        None if at_10k is None else at_10k["kb_per_socket"] <= 30,
    )
    for percentile in ("p50", "p99"):
        quiet = _get(s, "isolation", "quiet", f"{percentile}_ms")
        attacked = _get(s, "isolation", "attacked", f"{percentile}_ms")
        r = ratio(attacked, quiet)
        add(
            f"another session's first chunk {percentile} under attack <= 1.5 x quiet",
            attacked,
            quiet,
            r,
            at_most(r, 1.5),
        )
    events = _get(chat50, "history", "events_per_operation")
    add(
        "history events per turn (at 50 sessions): as low as the design allows",
        events,
        None,
        None,
        None,
    )
    return rows


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return (
            f"{value:,.3g}"
            if abs(value) < 10
            else f"{value:,.0f}"
            if abs(value) >= 1000
            else f"{value:.1f}"
        )
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown(document: dict[str, Any]) -> str:
    s = document["scenarios"]
    machine = document["machine"]
    lines = [
        f"Run `{document['command']}` ({document['mode']}), {document['started']}; "
        f"{machine['cpus']} CPUs, {machine['memory_gb']} GB, Python {machine['python']}; "
        f"commit {_get(document, 'code', 'commit')}"
        + (" with local changes" if _get(document, "code", "changed") else "")
        + ".",
        "",
        "**Targets**",
        "",
        "| target | measured | against | ratio | met |",
        "|---|---|---|---|---|",
    ]
    for row in document.get("targets", []):
        met = {True: "yes", False: "**no**", None: "-"}[row["met"]]
        lines.append(
            f"| {row['target']} | {_fmt(row['measured'])} | {_fmt(row['against'])} "
            f"| {_fmt(row['ratio'])} | {met} |"
        )
    lines += [
        "",
        "**1. One session, sequential turns** (ms)",
        "",
        "| what | n | p50 | p90 | p99 |",
        "|---|---|---|---|---|",
    ]
    for system, metric, label in SEQUENTIAL_ROWS:
        latency = _get(s, "turn_latency", system, "latency", metric) or {}
        lines.append(
            f"| {label} | {_fmt(latency.get('count'))} | {_fmt(latency.get('p50_ms'))} "
            f"| {_fmt(latency.get('p90_ms'))} | {_fmt(latency.get('p99_ms'))} |"
        )
    lines += [
        "",
        "**2. Concurrency sweep** (latencies in ms; CPU in ms per operation)",
        "",
        "| system | sessions | ops/s | ack p50 / p99 | first chunk p50 / p99 | response or update p50 / p99 "
        "| CPU: server / worker / API / Redis / client | history events / op | failures "
        "| other load, cores |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for system, (label, metric) in SWEEP_SYSTEMS.items():
        for row in _get(s, "sweep", system) or []:
            latency = row["latency"]
            cpu = row["cpu_ms_per_operation"]

            def pair(name: str, latency: dict[str, Any] = latency) -> str:
                if name not in latency:
                    return "-"
                return f"{_fmt(latency[name].get('p50_ms'))} / {_fmt(latency[name].get('p99_ms'))}"

            main = "response" if system == "chat" else metric
            worker = cpu.get("worker", cpu.get("baseline-worker"))
            server = cpu.get("temporal", cpu.get("echo"))
            lines.append(
                f"| {label.split(' (')[0]} | {row['concurrency']} | {_fmt(row['per_second'])} "
                f"| {pair('ack')} | {pair('first_chunk')} | {pair(main)} "
                f"| {_fmt(server)} / {_fmt(worker)} / {_fmt(cpu.get('api'))} / "
                f"{_fmt(cpu.get('redis'))} / {_fmt(cpu.get('client'))} "
                f"| {_fmt(_get(row, 'history', 'events_per_operation'))} "
                f"| {sum(row['failures'].values()) or '-'} | {_fmt(row.get('other_load_cores'))} |"
            )
    lines += [
        "",
        "**3. Relay: publish -> arrival at the client** (ms)",
        "",
        "| path | streams | deltas/s | delivered | p50 | p90 | p99 | CPU us per delta |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label in (
        ("chat", "Redis PUBLISH -> LiveRelay -> WebSocket"),
        ("workflow_streams", "temporalio workflow_streams (signal -> poll update)"),
    ):
        for row in _get(s, "relay", name) or []:
            latency = row.get("latency", {})
            cpu = ", ".join(
                f"{k} {_fmt(v)}" for k, v in (row.get("cpu_us_per_delta") or {}).items()
            )
            total_rate = (row.get("streams") or 0) * (row.get("deltas_per_second_per_stream") or 0)
            lines.append(
                f"| {label} | {_fmt(row.get('streams'))} | {_fmt(total_rate)} "
                f"| {_fmt(row.get('delivered'))} / {_fmt(row.get('published'))} "
                f"| {_fmt(latency.get('p50_ms'))} | {_fmt(latency.get('p90_ms'))} "
                f"| {_fmt(latency.get('p99_ms'))} | {cpu or '-'} |"
            )
    lines += [
        "",
        "**4. Idle sockets held by one process**",
        "",
        "| server | sockets | RSS MB | KB per socket | Redis KB per socket | opened per s |",
        "|---|---|---|---|---|---|",
    ]
    for label, rows in _capacity_series(s):
        for row in rows:
            lines.append(
                f"| {label} | {_fmt(row['sockets'])} | {_fmt(row['rss_mb'])} "
                f"| {_fmt(row['kb_per_socket'])} | {_fmt(row.get('redis_kb_per_socket'))} "
                f"| {_fmt(row['opened_per_second'])} |"
            )
    isolated = s.get("isolation") or {}
    if "quiet" in isolated:
        lines += [
            "",
            "**5. Isolation: another session's time to first chunk** (ms)",
            "",
            "| while | n | p50 | p90 | p99 | cores used |",
            "|---|---|---|---|---|---|",
        ]
        attacker = isolated.get("attacker") or {}
        for key, label in (
            ("quiet", "nobody else is busy"),
            (
                "attacked",
                f"one client uploads and parses worst-case files ({_fmt(attacker.get('turn'))} "
                f"turns, {_fmt(attacker.get('upload'))} uploads)",
            ),
        ):
            row = isolated[key]
            used = (isolated.get("cores") or {}).get(key) or {}
            lines.append(
                f"| {label} | {_fmt(row.get('count'))} | {_fmt(row.get('p50_ms'))} "
                f"| {_fmt(row.get('p90_ms'))} | {_fmt(row.get('p99_ms'))} "
                f"| {', '.join(f'{name} {_fmt(value)}' for name, value in used.items()) or '-'} |"
            )
    relay_rows = [row for rows in (s.get("relay") or {}).values() for row in rows]
    errors = [
        f"- {name}: {value['error']}"
        for name, value in list(s.items()) + [("relay", row) for row in relay_rows]
        if isinstance(value, dict) and "error" in value
    ]
    if errors:
        lines += ["", "**Scenarios that failed**", "", *errors]
    return "\n".join(lines) + "\n"


def _ecdf(axis: Any, values: list[float], label: str) -> None:
    ordered = sorted(values)
    if ordered:
        axis.plot(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=label)


def charts(document: dict[str, Any], base: Path) -> list[Path]:
    """PNG charts beside the JSON: latency distributions, throughput and p99 by concurrency,
    relay latency and memory per idle socket."""
    s = document["scenarios"]
    written = []

    figure, axis = plt.subplots(figsize=(9, 5))
    for system, metric, label in SEQUENTIAL_ROWS:
        _ecdf(axis, _get(s, "turn_latency", system, "samples_ms", metric) or [], label)
    axis.set_xscale("log")
    axis.set_xlabel("latency, ms (log)")
    axis.set_ylabel("fraction of operations")
    axis.set_title("Scenario 1: one session, sequential operations")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    written.append(_save(figure, base, "latency"))

    figure, (throughput, tail) = plt.subplots(1, 2, figsize=(12, 5))
    for system, (label, metric) in SWEEP_SYSTEMS.items():
        rows = _get(s, "sweep", system) or []
        if not rows:
            continue
        levels = [row["concurrency"] for row in rows]
        throughput.plot(levels, [row["per_second"] for row in rows], marker="o", label=label)
        tail.plot(
            levels,
            [_get(row, "latency", metric, "p99_ms") for row in rows],
            marker="o",
            label=f"{label} p99",
        )
        if system == "chat":
            tail.plot(
                levels,
                [_get(row, "latency", "ack", "p99_ms") for row in rows],
                marker="s",
                linestyle="--",
                label="chat ack p99",
            )
    for axis, title, ylabel in (
        (throughput, "Throughput against concurrency", "operations per second (log)"),
        (tail, "p99 latency against concurrency", "p99, ms (log)"),
    ):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("concurrent sessions (log)")
        axis.set_ylabel(ylabel)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    written.append(_save(figure, base, "sweep"))

    relay_rows = [
        (f"{label}, {_get(row, 'streams')} streams", _get(row, "latency") or {})
        for name, label in (("chat", "chat relay"), ("workflow_streams", "workflow_streams"))
        for row in _get(s, "relay", name) or []
    ]
    if any(latency for _, latency in relay_rows):
        figure, axis = plt.subplots(figsize=(8, 5))
        width = 0.8 / len(relay_rows)
        for i, (label, latency) in enumerate(relay_rows):
            values = [latency.get(f"p{p}_ms") or 0 for p in (50, 90, 99)]
            axis.bar([x + i * width for x in range(3)], values, width, label=label)
        axis.set_xticks([x + 0.4 - width / 2 for x in range(3)], ["p50", "p90", "p99"])
        axis.set_yscale("log")
        axis.set_ylabel("publish -> arrival, ms (log)")
        axis.set_title("Scenario 3: delta relay latency")
        axis.grid(True, axis="y", which="both", alpha=0.3)
        axis.legend()
        written.append(_save(figure, base, "relay"))

    api_rows = _get(s, "capacity", "api") or []
    if api_rows:
        figure, axis = plt.subplots(figsize=(8, 5))
        series = _capacity_series(s)
        width = 0.8 / len(series)
        for i, (label, rows) in enumerate(series):
            axis.bar(
                [x + i * width for x in range(len(rows))],
                [row["kb_per_socket"] for row in rows],
                width,
                label=label,
            )
        axis.set_xticks(
            [x + 0.4 - width / 2 for x in range(len(api_rows))],
            [str(r["sockets"]) for r in api_rows],
        )
        axis.axhline(30, color="grey", linestyle="--", label="target: 30 KB")
        axis.set_xlabel("idle sockets held")
        axis.set_ylabel("resident memory per socket, KB")
        axis.set_title("Scenario 4: memory per idle socket")
        axis.legend()
        written.append(_save(figure, base, "capacity"))
    return written


def _save(figure: Any, base: Path, name: str) -> Path:
    path = base.with_name(f"{base.name}-{name}.png")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
