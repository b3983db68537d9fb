"""Benchmarks: turn latency, streaming relay, throughput and connection capacity.

`make bench` (or `python -m benchmarks [--quick]`) starts its own stack, runs every scenario
over the real WebSocket protocol next to its baselines, and writes `benchmarks/results/`.
Benchmarks report numbers; they assert nothing (that is what tests are for).
"""
