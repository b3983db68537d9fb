"""Measure the router on the labelled utterances: `python -m agents.evaluate_routing`.

Prints the accuracy and the confusion matrix (rows: the label, columns: the router's choice).
`--split dev` is the part the router was tuned on, `--split holdout` the part it never was;
the default is the whole set. `--errors` lists the misrouted utterances. `--data` evaluates
another file of the same format, such as tests/data/routing_fresh.jsonl, written after tuning.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agents.replies import WindowMessage
from agents.router import route

DATA = Path(__file__).parent.parent / "tests" / "data" / "routing.jsonl"
FRESH = DATA.with_name("routing_fresh.jsonl")
LABELS = ("guide", "content", "insights", "operations", "business_outcomes")


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    kind: str
    window: tuple[WindowMessage, ...]

    @property
    def split(self) -> str:
        """One in three examples, chosen by a hash of the text, is held out from tuning."""
        digest = hashlib.sha256(self.text.encode()).digest()
        return "holdout" if digest[0] % 3 == 0 else "dev"


@dataclass(frozen=True)
class Evaluation:
    total: int
    correct: int
    # (label, predicted) -> count
    confusion: Counter[tuple[str, str]]
    errors: list[tuple[Example, str, str]]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def load_examples(path: Path = DATA) -> list[Example]:
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row.get("label") is None:
                continue  # exported feedback a person has not labelled yet
            window = tuple(WindowMessage(m["role"], m["content"]) for m in row.get("window", []))
            examples.append(Example(row["text"], row["label"], row["kind"], window))
    return examples


def evaluate(examples: Sequence[Example]) -> Evaluation:
    confusion: Counter[tuple[str, str]] = Counter()
    errors = []
    for example in examples:
        result = route(example.text, list(example.window))
        predicted = result.pillar.value if result.pillar else "guide"
        confusion[(example.label, predicted)] += 1
        if predicted != example.label:
            errors.append((example, predicted, result.reason))
    correct = sum(count for (label, predicted), count in confusion.items() if label == predicted)
    return Evaluation(len(examples), correct, confusion, errors)


def confusion_table(evaluation: Evaluation) -> str:
    """A Markdown table: one row per label, one column per routed target."""
    header = "| label \\ routed to | " + " | ".join(LABELS) + " | recall |"
    lines = [header, "|" + " --- |" * (len(LABELS) + 2)]
    for label in LABELS:
        counts = [evaluation.confusion[(label, predicted)] for predicted in LABELS]
        total = sum(counts)
        recall = f"{counts[LABELS.index(label)] / total:.0%}" if total else "-"
        lines.append(f"| {label} | " + " | ".join(map(str, counts)) + f" | {recall} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--split", choices=("all", "dev", "holdout"), default="all")
    parser.add_argument("--errors", action="store_true", help="list misrouted utterances")
    parser.add_argument("--data", type=Path, default=DATA, help="a labelled .jsonl file")
    args = parser.parse_args(argv)
    examples = [e for e in load_examples(args.data) if args.split in ("all", e.split)]
    evaluation = evaluate(examples)
    print(f"data: {args.data.name}, split: {args.split}, utterances: {evaluation.total}")
    print(f"accuracy: {evaluation.accuracy:.1%} ({evaluation.correct}/{evaluation.total})")
    print()
    print(confusion_table(evaluation))
    if args.errors:
        print()
        for example, predicted, reason in evaluation.errors:
            print(f"- [{example.kind}] {example.text!r}: {example.label} -> {predicted} ({reason})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
