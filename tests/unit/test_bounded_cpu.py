"""The worst inputs a client can send finish promptly, and the reply says what a cap left out.

Each input here made the old code quadratic (minutes to hours of CPU); the per-test timeout is
far above what a linear pass needs and far below what the quadratic one took.
"""

from __future__ import annotations

import json
import random
import string

import pytest

from agents.capabilities import (
    Capability,
    CapabilityRequest,
    Upload,
    plan_capability,
    run_capability,
)
from agents.capabilities.business_outcomes import (
    MAX_STATEMENT_CHARS,
    extract_goals,
    outline_roadmap,
)
from agents.capabilities.content import MAX_COLUMNS, MAX_JSON_KEYS, describe_upload, parse_file
from agents.capabilities.insights import summarize_csv
from agents.capabilities.operations import MAX_PROCESS_CHARS, build_sop, split_steps
from agents.catalog import AgentType
from agents.replies import CapabilityOutcome
from agents.retrieval import neighbours_swapped, one_edit_apart, shared_index
from agents.router import MAX_ROUTED_CHARS, route

pytestmark = pytest.mark.timeout(30)

STEPS = "First we log the request, then the manager approves it, finally finance pays it."


def _ragged_csv(columns: int, rows: int) -> bytes:
    """A wide header over many one-cell rows: columns x rows for a column-by-column loop."""
    header = ",".join(f"c{index}" for index in range(columns))
    return (header + "\n" + "7\n" * rows).encode()


def test_a_ragged_csv_is_parsed_in_one_pass_and_the_column_cap_is_named() -> None:
    report = parse_file(Upload("wide.csv", _ragged_csv(50_000, 400_000))).render()
    assert "It has 400000 data rows and 50000 columns" in report
    assert f"The file has 50,000 columns; I read the first {MAX_COLUMNS:,}." in report
    assert "400000 rows with a different number of fields than the header (line 2, 3" in report


def test_a_ragged_csv_is_summarised_in_one_pass_and_the_caps_are_named() -> None:
    summary = summarize_csv(Upload("wide.csv", _ragged_csv(50_000, 1_200_000))).render()
    assert f"The file has 50,000 columns; I read the first {MAX_COLUMNS:,}." in summary
    assert "The file has 1,200,000 data rows; I read the first 1,000,000" in summary
    # The one column the rows reach is still summarised.
    assert "c0: mean 7" in summary


def test_json_records_with_distinct_keys_are_listed_up_to_the_cap() -> None:
    records = json.dumps([{f"field{index}": index} for index in range(200_000)]).encode()
    report = parse_file(Upload("records.json", records)).render()
    assert "a JSON array of 200000 items, 200000 of them records" in report
    assert "field0, field1" in report and "and 199,992 more" in report
    assert f"The file has 200,000 distinct keys; I list the first {MAX_JSON_KEYS:,}." in report


def test_deeply_nested_json_is_described_and_refused_with_advice() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    # Stored as JSON (the upload route no longer fails with an internal error) ...
    assert describe_upload("deep.data", deep).kind == "json"
    # ... and parsing it says why it cannot be read and what to do.
    outcome = _run(Capability.PARSE_FILE, upload=Upload("deep.json", deep))
    assert not outcome.ok
    assert "too deep to read: flatten it" in outcome.summary


def test_a_whitespace_run_in_a_described_process_costs_one_pass() -> None:
    assert split_steps("Build a checklist: " + " " * 60_000 + "x") == []
    assert split_steps("Log it" + " " * 60_000 + "then file it") == ["Log it", "File it"]
    plan = plan_capability(AgentType.OPERATIONS_LIAISON, "Build a checklist: " + " " * 7_970 + "x")
    assert plan is not None and plan.capability is Capability.BUILD_SOP


def test_a_long_process_description_is_cut_and_the_sop_says_so() -> None:
    sop = build_sop(STEPS + " " * 100_000 + "x", "write an SOP for paying invoices")
    assert sop.steps[:3] == ["Log the request", "The manager approves it", "Finance pays it"]
    assert f"I drafted the SOP from the first {MAX_PROCESS_CHARS:,}." in sop.render()


def test_whitespace_runs_in_stated_goals_cost_one_pass() -> None:
    padded = "In the roadmap we grow revenue" + " " * 60_000 + "x and cut costs by 5%"
    assert extract_goals([padded]) == ["Cut costs by 5%"]
    roadmap = outline_roadmap(["We want to grow revenue" + " " * 9_000 + "to 20% by Q4"])
    assert roadmap.items[0].target == "20%" and roadmap.items[0].deadline == "Q4"


def test_a_long_conversation_is_read_for_goals_up_to_the_cap() -> None:
    filler = "we talked about the weather for a while. " * 1_000
    roadmap = outline_roadmap([filler, "Our goal is to cut churn to 5% by Q4."])
    assert roadmap.items[0].goal.startswith("Cut churn")
    assert f"I looked for goals in the latest {MAX_STATEMENT_CHARS:,}." in roadmap.render()


def test_a_long_run_of_name_characters_is_not_a_file_name_and_costs_one_pass() -> None:
    assert plan_capability(AgentType.CONTENT_LIAISON, "what is in " + "a." * 30_000) is None
    plan = plan_capability(AgentType.CONTENT_LIAISON, "parse -q3_sales.v2.csv please")
    assert plan is not None and plan.upload_name == "q3_sales.v2.csv"


def test_routing_reads_the_first_characters_and_says_so() -> None:
    message = "summarize the statistics of my csv: averages and outliers. " + "please " * 500
    result = route(message)
    assert result.is_handoff
    assert f"(its first {MAX_ROUTED_CHARS:,} characters)" in result.reason


def test_routing_many_unknown_words_costs_one_lookup_each() -> None:
    rng = random.Random(8)
    gibberish = " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(8)) for _ in range(60_000)
    )
    index = shared_index()
    index.normalise(gibberish.split())  # the unbounded list, not the router's capped message
    assert route(gibberish).is_handoff is False


def test_typo_correction_by_lookup_matches_a_scan_of_the_vocabulary() -> None:
    index = shared_index()
    vocabulary = sorted(index.idf)
    rng = random.Random(3)
    typos = []
    for word in rng.sample([w for w in vocabulary if len(w) >= 4], 300):
        i = rng.randrange(len(word) - 1)
        typos += [word[:i] + word[i + 1] + word[i] + word[i + 2 :], word[:i] + "q" + word[i + 1 :]]
        typos += [word[:i] + word[i + 1 :], word[:i] + "z" + word[i:]]
    for typo in typos:
        if typo in index.idf or len(typo) < 4:
            continue
        close = one_edit_apart if len(typo) >= 6 else neighbours_swapped
        scanned = next((word for word in vocabulary if close(typo, word)), typo)
        assert index.normalise([typo]) == [scanned], typo


def _run(capability: Capability, upload: Upload | None = None) -> CapabilityOutcome:
    request = CapabilityRequest(capability, AgentType.CONTENT_LIAISON, "test")
    return run_capability(request, upload)


def test_an_upload_is_named_from_its_head() -> None:
    table = b"region;units\n" + b"north;10\n" * 2_000_000
    assert describe_upload("export", table).kind == "csv"
    records = b"[" + b'{"a": 1}, ' * 1_000_000 + b'{"a": 1}]'
    assert describe_upload("export", records).kind == "json"
