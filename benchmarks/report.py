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
    "irreducible": ("irreducible turn", "update"),
    "noop_update": ("no-op update", "update"),
    "two_local_activities": ("two-local-activity update", "update"),
    "echo": ("WebSocket echo", "round_trip"),
}
SEQUENTIAL_ROWS = (
    ("chat", "ack", "chat: ack (send -> message_accepted)"),
    ("chat", "first_chunk", "chat: time to first chunk"),
    ("chat", "response", "chat: time to chat_response"),
    ("irreducible", "update", "baseline: irreducible turn (admit, stream, record)"),
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


def _server_and_worker_ms(row: dict[str, Any] | None) -> float | None:
    """Temporal server + worker CPU per operation (the chat's worker or the baselines')."""
    cpu = _get(row, "cpu_ms_per_operation") or {}
    worker = cpu.get("worker", cpu.get("baseline-worker"))
    if cpu.get("temporal") is None or worker is None:
        return None
    return round(float(cpu["temporal"]) + float(worker), 2)


def targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets: each with a stable id, what was measured, against what, the ratio
    and whether it is met (None: not measured in this run)."""
    s = document["scenarios"]
    chat = _get(s, "turn_latency", "chat", "latency")
    noop = _get(s, "turn_latency", "noop_update", "latency", "update")
    rows = []

    def add(
        id: str, target: str, measured: Any, against: Any, value: Any, met: bool | None
    ) -> None:
        rows.append(
            {
                "id": id,
                "target": target,
                "measured": measured,
                "against": against,
                "ratio": value,
                "met": met,
            }
        )

    def at_most(value: float | None, limit: float) -> bool | None:
        return None if value is None else value <= limit

    def at_least(value: float | None, limit: float) -> bool | None:
        return None if value is None else value >= limit

    ttfc_p50, noop_p50 = _get(chat, "first_chunk", "p50_ms"), _get(noop, "p50_ms")
    ttfc_p99, noop_p99 = _get(chat, "first_chunk", "p99_ms"), _get(noop, "p99_ms")
    ack_p50 = _get(chat, "ack", "p50_ms")
    r = ratio(ttfc_p50, noop_p50)
    add(
        "first_chunk_p50",
        "time to first chunk p50 <= 1.5 x no-op update p50",
        ttfc_p50,
        noop_p50,
        r,
        at_most(r, 1.5),
    )
    r = ratio(ttfc_p99, noop_p99)
    add(
        "first_chunk_p99",
        "time to first chunk p99 <= 3 x no-op update p99",
        ttfc_p99,
        noop_p99,
        r,
        at_most(r, 3),
    )
    r = ratio(ack_p50, noop_p50)
    add("ack_p50", "ack p50 <= 1.5 x no-op update p50", ack_p50, noop_p50, r, at_most(r, 1.5))

    chat50 = _level(_get(s, "sweep", "chat"), 50)
    floor50 = _level(_get(s, "sweep", "irreducible"), 50)
    turns, floor_turns = _get(chat50, "per_second"), _get(floor50, "per_second")
    r = ratio(turns, floor_turns)
    add(
        "throughput_50",
        "turns/s at 50 sessions >= 0.8 x irreducible turns/s at 50",
        turns,
        floor_turns,
        r,
        at_least(r, 0.8),
    )
    events = _get(chat50, "history", "events_per_operation")
    floor_events = _get(floor50, "history", "events_per_operation")
    r = ratio(events, floor_events)
    add(
        "events_per_turn",
        "history events per turn at 50 sessions <= 1.25 x the irreducible turn's",
        events,
        floor_events,
        r,
        at_most(r, 1.25),
    )
    cpu, floor_cpu = _server_and_worker_ms(chat50), _server_and_worker_ms(floor50)
    r = ratio(cpu, floor_cpu)
    add(
        "cpu_per_turn",
        "Temporal server + worker CPU ms per turn at 50 sessions <= 1.3 x the irreducible turn's",
        cpu,
        floor_cpu,
        r,
        at_most(r, 1.3),
    )

    api_rows = _get(s, "capacity", "api") or []
    echo_rows = _get(s, "capacity", "echo") or []
    largest = api_rows[-1] if api_rows else None
    echo_same = next(
        (row for row in echo_rows if largest and row.get("sockets") == largest.get("sockets")),
        None,
    )
    api_kb, echo_kb = _get(largest, "kb_per_socket"), _get(echo_same, "kb_per_socket")
    r = ratio(api_kb, echo_kb)
    add(
        "socket_kb",
        f"KB per idle socket at {_get(largest, 'sockets')} sockets <= 1.15 x the bare echo's",
        api_kb,
        echo_kb,
        r,
        at_most(r, 1.15),
    )
    held = _get(largest, "sockets")
    add(
        "sockets_held",
        ">= 10,000 idle sockets held by one API process",
        held,
        10_000,
        None,
        at_least(held, 10_000),
    )

    relay_p50 = _get(_relay(s, "chat"), "latency", "p50_ms")
    streams_p50 = _get(_relay(s, "workflow_streams"), "latency", "p50_ms")
    add("relay_p50", "relay p50 <= 2 ms", relay_p50, 2, None, at_most(relay_p50, 2))
    r = ratio(streams_p50, relay_p50)
    add(
        "relay_vs_workflow_streams",
        "relay p50 >= 10 x faster than workflow_streams p50",
        relay_p50,
        streams_p50,
        r,
        at_least(r, 10),
    )
    for percentile in ("p50", "p99"):
        quiet = _get(s, "isolation", "quiet", f"{percentile}_ms")
        attacked = _get(s, "isolation", "attacked", f"{percentile}_ms")
        r = ratio(attacked, quiet)
        add(
            f"isolation_{percentile}",
            f"another session's first chunk {percentile} under attack <= 1.5 x quiet",
            attacked,
            quiet,
            r,
            at_most(r, 1.5),
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
        "| id | target | measured | against | ratio | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in document.get("targets", []):
        met = {True: "yes", False: "**no**", None: "-"}[row["met"]]
        lines.append(
            f"| `{row['id']}` | {row['target']} | {_fmt(row['measured'])} | {_fmt(row['against'])} "
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
        echo_kb = _get(s, "capacity", "echo", -1, "kb_per_socket")
        if echo_kb:
            axis.axhline(
                1.15 * echo_kb, color="grey", linestyle="--", label="target: 1.15 x bare echo"
            )
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
