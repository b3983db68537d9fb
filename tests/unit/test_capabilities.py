"""The orchestrators' capabilities: what a user gets back for their files and words."""

from __future__ import annotations

import hashlib

import pytest

from agents.capabilities import (
    Capability,
    CapabilityInputError,
    CapabilityRequest,
    Upload,
    plan_capability,
    planning,
    run_capability,
)
from agents.capabilities.business_outcomes import Horizon, outline_roadmap
from agents.capabilities.content import describe_upload, parse_file
from agents.capabilities.insights import summarize_csv
from agents.capabilities.operations import build_sop, split_steps
from agents.catalog import AgentType, Pillar
from agents.orchestrators import BuiltInOrchestrator, OrchestratorRegistry, default_registry
from agents.replies import WindowMessage

SALES = (
    b"date;region;units;revenue\n"
    b"2024-01-01;North;10;$1,000.00\n"
    b"2024-01-02;South;12;1100\n"
    b"2024-01-03;North;11;1050\n"
    b"2024-01-04;East;9;990\n"
    b"2024-01-05;North;10;\n"
    b"2024-01-06;South;250;1020\n"
)

# -- content -------------------------------------------------------------------------------


def test_a_csv_report_names_delimiter_columns_rows_and_a_sample() -> None:
    report = parse_file(Upload("sales.csv", SALES)).render()

    assert "6 data rows and 4 columns separated by semicolons" in report
    assert "date, region, units, revenue" in report
    assert "revenue=$1,000.00" in report


def test_a_csv_report_points_out_broken_rows_and_mixed_columns() -> None:
    data = b"name,amount\nA,10\nB,ten\nC,3,extra\n"

    report = parse_file(Upload("mixed.csv", data)).render()

    assert "Columns mixing numbers and text: amount" in report
    assert "1 row with a different number of fields than the header (line 4)" in report


def test_a_json_array_of_records_reports_its_fields() -> None:
    data = b'[{"id": 1, "name": "Ada"}, {"id": 2, "email": "b@example.com"}]'

    report = parse_file(Upload("people.json", data)).render()

    assert "JSON array of 2 items, 2 of them records with the fields id, name, email" in report
    assert "Every record has id" in report


def test_a_text_report_finds_structure() -> None:
    data = b"# Expense policy\nOwner: Finance\n- Keep receipts\n- Submit monthly\nDetails follow."

    report = parse_file(Upload("policy.md", data)).render()

    assert "Headings: Expense policy" in report
    assert "Owner: Finance" in report
    assert "2 list items" in report


def test_latin1_text_is_decoded_and_named() -> None:
    report = parse_file(Upload("cities.csv", "city\nMálaga\n".encode("latin-1"))).render()

    assert "Latin-1" in report
    assert "city=Málaga" in report


@pytest.mark.parametrize(
    ("name", "data", "advice"),
    [
        ("broken.json", b'{"a": 1 "b": 2}', "line 1, column 9"),
        ("report.pdf", b"%PDF-1.7 binary", "export its tables as CSV"),
        ("book.xlsx", b"PK\x03\x04zipped", "export it as CSV"),
        ("empty.csv", b"", "is empty"),
    ],
)
def test_unreadable_files_get_advice(name: str, data: bytes, advice: str) -> None:
    with pytest.raises(CapabilityInputError, match=advice):
        parse_file(Upload(name, data))


def test_upload_metadata_identifies_the_version() -> None:
    metadata = describe_upload("sales.csv", SALES)

    assert metadata.kind == "csv"
    assert metadata.media_type == "text/csv"
    assert metadata.size_bytes == len(SALES)
    assert metadata.sha256 == hashlib.sha256(SALES).hexdigest()
    assert describe_upload("scan.pdf", b"%PDF-1.4").kind == "binary"


# -- insights ------------------------------------------------------------------------------


def test_summary_statistics_per_numeric_column() -> None:
    summary = summarize_csv(Upload("sales.csv", SALES))

    units = next(column for column in summary.numeric if column.name == "units")
    revenue = next(column for column in summary.numeric if column.name == "revenue")
    assert (units.count, units.minimum, units.maximum) == (6, 9, 250)
    assert units.mean == pytest.approx(50.333, abs=1e-3)
    assert units.stdev == pytest.approx(97.82, abs=1e-2)
    assert units.outliers == 1 and units.most_extreme == 250
    assert (revenue.count, revenue.missing, revenue.mean) == (5, 1, 1032)


def test_summary_top_values_dates_and_charts() -> None:
    summary = summarize_csv(Upload("sales.csv", SALES))
    text = summary.render()

    assert summary.categorical[0].top[0] == ("North", 3)
    assert "dates from 2024-01-01 to 2024-01-06" in text
    assert "a line chart of units over date" in text
    assert "1 outlier, the most extreme 250" in text


def test_summary_of_json_asks_for_a_table() -> None:
    with pytest.raises(CapabilityInputError, match="export it as CSV"):
        summarize_csv(Upload("people.json", b'[{"a": 1}]'))


# -- operations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "steps"),
    [
        (
            "First the customer calls, then we log the ticket, after that a technician is "
            "assigned, finally we close it with a survey",
            [
                "The customer calls",
                "Log the ticket",
                "A technician is assigned",
                "Close it with a survey",
            ],
        ),
        (
            "turn these steps into a checklist: 1. back up database 2. deploy 3. notify team",
            ["Back up database", "Deploy", "Notify team"],
        ),
        (
            "Our order handling goes: receive order, check stock, pack, ship. Can you make "
            "that an SOP?",
            ["Receive order", "Check stock", "Pack", "Ship"],
        ),
        (
            "- Clerk enters the invoice\n- Manager approves it\n- Accountant pays it",
            ["Clerk enters the invoice", "Manager approves it", "Accountant pays it"],
        ),
    ],
)
def test_steps_are_split_from_the_description(description: str, steps: list[str]) -> None:
    assert split_steps(description) == steps


def test_an_sop_has_procedure_checklist_roles_and_review() -> None:
    sop = build_sop(
        "The employee submits the receipt; the manager approves it; finance team pays it",
        "write an SOP for expense claims",
    )
    text = sop.render()

    assert text.startswith("SOP: Expense claims")
    assert "2. The manager approves it" in text
    assert "[ ] Finance team pays it" in text
    assert "manager" in sop.roles
    assert "Review: every 12 months" in text


def test_an_sop_without_steps_asks_for_them() -> None:
    with pytest.raises(CapabilityInputError, match="I need the steps of onboarding new hires"):
        build_sop("Write an SOP for onboarding new hires", "Write an SOP for onboarding new hires")


# -- business outcomes ---------------------------------------------------------------------


def test_a_roadmap_groups_the_stated_goals_by_horizon() -> None:
    roadmap = outline_roadmap(
        [
            "We want to grow revenue 20% by Q4 and cut churn to 5%.",
            "We also need to hire two engineers this quarter",
            "Our goal is to open an office in Berlin next year",
            "Can you build a roadmap from that?",
        ]
    )

    grouped = roadmap.by_horizon()
    assert [item.goal for item in grouped[Horizon.NOW]] == ["Hire two engineers this quarter"]
    assert {item.goal for item in grouped[Horizon.NEXT]} == {
        "Grow revenue 20% by Q4",
        "Cut churn to 5%",
    }
    assert [item.goal for item in grouped[Horizon.LATER]] == ["Open an office in Berlin next year"]
    assert "target 20%, by Q4" in roadmap.render()


def test_a_roadmap_without_goals_asks_for_them() -> None:
    with pytest.raises(CapabilityInputError, match="could not find any goals"):
        outline_roadmap(["Can you build me a roadmap?"])


# -- planning and running ------------------------------------------------------------------

CONTENT = AgentType.CONTENT_LIAISON
INSIGHTS = AgentType.INSIGHTS_LIAISON
OPERATIONS = AgentType.OPERATIONS_LIAISON
OUTCOMES = AgentType.BUSINESS_OUTCOMES_LIAISON


@pytest.mark.parametrize(
    ("agent", "message", "capability"),
    [
        (CONTENT, "I just uploaded sales_q3.csv, can you parse it?", Capability.PARSE_FILE),
        (CONTENT, "what did you find in my upload", Capability.PARSE_FILE),
        (CONTENT, "What file formats do you support?", None),
        (CONTENT, "How do I upload a file?", None),
        (INSIGHTS, "Give me summary statistics for my sales data", Capability.SUMMARIZE_CSV),
        (INSIGHTS, "find outliers in revenue", Capability.SUMMARIZE_CSV),
        (INSIGHTS, "What does standard deviation tell me here?", None),
        (OPERATIONS, "turn these steps into a checklist: 1. a b 2. c d", Capability.BUILD_SOP),
        (OPERATIONS, "What should an SOP contain?", None),
        (OPERATIONS, "How long does it take to write an SOP?", None),
        (OUTCOMES, "Build a roadmap for our goals this year", Capability.OUTLINE_ROADMAP),
        (OUTCOMES, "how do I structure a roadmap?", None),
        (AgentType.GUIDE, "parse sales.csv", None),
    ],
)
def test_the_liaison_plans_a_capability_only_when_asked_to_act(
    agent: AgentType, message: str, capability: Capability | None
) -> None:
    request = plan_capability(agent, message, [])

    assert (request.capability if request else None) is capability


def test_a_named_upload_is_part_of_the_request() -> None:
    request = plan_capability(CONTENT, "parse sales_q3.csv please")

    assert request is not None and request.upload_name == "sales_q3.csv"


def test_an_sop_request_uses_the_process_described_earlier() -> None:
    window = [
        WindowMessage("user", "We receive the order, then we pick it, then we ship it."),
        WindowMessage("assistant", "Got it."),
    ]

    request = plan_capability(OPERATIONS, "great, now make that a checklist", window)
    assert request is not None
    outcome = run_capability(request)

    assert outcome.ok
    assert "[ ] Pick it" in outcome.summary


def test_a_roadmap_request_reads_goals_from_the_whole_conversation() -> None:
    window = [WindowMessage("user", "Our goal is to reduce churn to 5% by Q4")]

    request = plan_capability(OUTCOMES, "outline a roadmap from that", window)
    assert request is not None
    outcome = run_capability(request)

    assert outcome.ok and "Reduce churn to 5% by Q4" in outcome.summary


def test_running_without_an_upload_says_how_to_get_one() -> None:
    request = CapabilityRequest(Capability.SUMMARIZE_CSV, INSIGHTS, "asked for statistics")

    outcome = run_capability(request, None)

    assert not outcome.ok
    assert "Upload your data as a CSV" in outcome.summary


def test_bad_input_becomes_advice_not_an_exception() -> None:
    request = CapabilityRequest(Capability.PARSE_FILE, CONTENT, "asked", upload_name="b.json")

    outcome = run_capability(request, Upload("b.json", b'{"a": }'))

    assert not outcome.ok
    assert "not valid JSON" in outcome.summary


def test_a_capability_bug_becomes_an_apology(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(upload: Upload) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(planning, "parse_file", broken)
    request = CapabilityRequest(Capability.PARSE_FILE, CONTENT, "asked")

    outcome = run_capability(request, Upload("a.txt", b"hello"))

    assert not outcome.ok
    assert "Something went wrong on my side" in outcome.summary


async def test_the_registry_gives_liaisons_their_orchestrators_capabilities() -> None:
    registry = default_registry()
    insights = registry.capabilities(INSIGHTS)
    assert insights is not None
    request = insights.plan("summarise sales.csv", [])
    assert request is not None

    outcome = await insights.run(request, Upload("sales.csv", SALES))

    assert outcome.ok and "Summary of sales.csv" in outcome.summary
    assert registry.capabilities(AgentType.GUIDE) is None


def test_an_orchestrator_without_capabilities_is_still_registrable() -> None:
    class Identity:
        name = "OperationsOrchestrator"
        service_name = "operations"
        pillar = Pillar.OPERATIONS
        liaison_agent = AgentType.OPERATIONS_LIAISON

    registry = OrchestratorRegistry(
        [Identity(), BuiltInOrchestrator("Insights", "insights", Pillar.INSIGHTS)]
    )

    assert registry.liaison(Pillar.OPERATIONS) is AgentType.OPERATIONS_LIAISON
    assert registry.capabilities(OPERATIONS) is None
    assert registry.capabilities(INSIGHTS) is not None
