"""Every setting is documented where operators look: the README or a page under docs/."""

from __future__ import annotations

from pathlib import Path

from foundations.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_named_in_the_docs() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "\n".join(page.read_text() for page in pages)
    undocumented = [name.upper() for name in Settings.model_fields if name.upper() not in text]
    assert undocumented == []
