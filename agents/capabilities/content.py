"""Content orchestrator capability: take a file in, say what it is and what is in it."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
import sys
from collections import Counter
from collections.abc import Sized
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from agents.capabilities.types import MAX_UPLOAD_BYTES, CapabilityInputError, Upload

FileKind = Literal["csv", "json", "text"]

_EXTENSIONS: dict[str, FileKind] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".txt": "text",
    ".md": "text",
    ".log": "text",
}
_MEDIA_TYPES: dict[FileKind, str] = {
    "csv": "text/csv",
    "json": "application/json",
    "text": "text/plain",
}
# Formats we recognise but cannot read yet, by their first bytes, and what to do instead.
_BINARY_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF", "a PDF document: copy its text into a .txt file, or export its tables as CSV"),
    (
        b"PK\x03\x04",
        "an Office document or zip archive (.xlsx, .docx): export it as CSV or plain text",
    ),
    (b"\x89PNG", "a PNG image: images cannot be parsed yet"),
    (b"\xff\xd8\xff", "a JPEG image: images cannot be parsed yet"),
    (b"GIF8", "a GIF image: images cannot be parsed yet"),
]
_MISSING = frozenset({"", "na", "n/a", "null", "none", "nan", "-", "--"})

# What one parse reads at most, so its time and memory follow the caps, not the file's shape.
# The reply says when a cap bit ("the file has 200,000 columns; I read the first 1,000").
MAX_COLUMNS = 1_000
# Cells kept for the figures; rows past it are still counted, not read.
MAX_CELLS = 1_000_000
# Distinct fields of a JSON array's records (or keys of an object) listed in a report.
MAX_JSON_KEYS = 1_000
# A file without a telling extension is named from this many characters at most, so
# describing an upload costs little for any size.
_SNIFF_CHARS = 64 * 1024
# Ragged lines remembered by number; the rest are counted.
_RAGGED_SHOWN = 5


@dataclass(frozen=True)
class UploadMetadata:
    """What the platform records about an upload, before and independently of parsing."""

    name: str
    size_bytes: int
    sha256: str
    media_type: str
    # csv, json, text, or "binary" for files that are stored but cannot be parsed.
    kind: str
    encoding: str | None


@dataclass(frozen=True)
class Table:
    """A delimited file, decoded: the header and the data rows."""

    delimiter: str
    # The first MAX_COLUMNS columns of the header, and the rows read, cut to those columns.
    header: list[str]
    rows: list[list[str]]
    # The first few data rows whose number of fields differs from the header's, by 1-based
    # line number, and how many such rows there are in all.
    ragged_lines: list[int] = field(default_factory=list)
    ragged_count: int = 0
    # The file's full header width and number of data rows, read or not.
    column_count: int = 0
    row_count: int = 0

    def columns(self) -> list[list[str]]:
        """The cells of each column, read in one pass: cost follows the cells, not the shape."""
        cells: list[list[str]] = [[] for _ in self.header]
        for row in self.rows:
            for column, cell in zip(cells, row, strict=False):
                column.append(cell)
        return cells

    def notes(self) -> list[str]:
        """What a cap left out, in words for the reply; empty when the whole file was read."""
        notes = []
        if self.column_count > len(self.header):
            notes.append(
                f"The file has {self.column_count:,} columns; I read the first {len(self.header):,}."
            )
        if self.row_count > len(self.rows):
            notes.append(
                f"The file has {self.row_count:,} data rows; I read the first {len(self.rows):,} "
                f"(up to {MAX_CELLS:,} cells) for these figures."
            )
        return notes


@dataclass(frozen=True)
class CsvReport:
    delimiter: str
    columns: list[str]
    row_count: int
    sample: dict[str, str]
    empty_columns: list[str]
    mixed_columns: list[str]
    ragged_lines: list[int]
    ragged_count: int = 0
    column_count: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class JsonReport:
    top_level: str  # object, array, string, number, boolean, null
    keys: list[str]  # an object's keys, or the fields of an array's records (MAX_JSON_KEYS)
    length: int  # keys of an object, items of an array
    record_count: int  # items of an array that are objects
    shared_keys: list[str]  # fields every record has
    sample: str
    key_count: int = 0  # distinct keys or fields in all, listed or not
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TextReport:
    lines: int
    words: int
    characters: int
    opening: list[str]
    headings: list[str]
    list_items: int
    key_values: dict[str, str]


@dataclass(frozen=True)
class FileReport:
    """What parsing an upload found."""

    metadata: UploadMetadata
    details: CsvReport | JsonReport | TextReport

    def render(self) -> str:
        """The report in a few sentences, with its figures, for the liaison to cite."""
        meta = self.metadata
        head = f"I parsed {meta.name} ({_size(meta.size_bytes)}, {meta.kind.upper()}"
        head += f", {meta.encoding})." if meta.encoding else ")."
        details = self.details
        if isinstance(details, CsvReport):
            delimiter = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}.get(
                details.delimiter, repr(details.delimiter)
            )
            parts = [
                f"It has {plural(details.row_count, 'data row')} and "
                f"{plural(max(details.column_count, len(details.columns)), 'column')} "
                f"separated by {delimiter}: {_listing(details.columns)}."
            ]
            if details.sample:
                sample = ", ".join(f"{k}={v}" for k, v in list(details.sample.items())[:6])
                parts.append(f"First row: {sample}.")
            if details.empty_columns:
                parts.append(f"Empty columns: {_listing(details.empty_columns)}.")
            if details.mixed_columns:
                parts.append(
                    f"Columns mixing numbers and text: {_listing(details.mixed_columns)}; "
                    "check them before analysis."
                )
            if details.ragged_lines:
                lines = ", ".join(map(str, details.ragged_lines[:_RAGGED_SHOWN]))
                ragged = max(details.ragged_count, len(details.ragged_lines))
                parts.append(
                    f"{plural(ragged, 'row')} with a different number of "
                    f"fields than the header (line {lines})."
                )
            parts.extend(details.notes)
        elif isinstance(details, JsonReport):
            if details.top_level == "object":
                parts = [
                    f"It is a JSON object with {plural(details.length, 'key')}: "
                    f"{_listing(details.keys, total=details.key_count)}."
                ]
            elif details.top_level == "array":
                parts = [f"It is a JSON array of {plural(details.length, 'item')}"]
                if details.record_count:
                    parts[0] += (
                        f", {details.record_count} of them records with the fields "
                        f"{_listing(details.keys, total=details.key_count)}."
                        if details.keys
                        else f", {details.record_count} of them empty records."
                    )
                    if details.shared_keys and details.shared_keys != details.keys:
                        parts.append(f"Every record has {_listing(details.shared_keys)}.")
                else:
                    parts[0] += "."
            else:
                parts = [f"It is a single JSON {details.top_level}: {details.sample}."]
            parts.extend(details.notes)
        else:
            parts = [
                f"It has {plural(details.lines, 'line')}, {plural(details.words, 'word')} "
                f"and {plural(details.characters, 'character')}."
            ]
            if details.headings:
                parts.append(f"Headings: {_listing(details.headings)}.")
            if details.list_items:
                parts.append(f"It contains {plural(details.list_items, 'list item')}.")
            if details.key_values:
                pairs = ", ".join(f"{k}: {v}" for k, v in list(details.key_values.items())[:5])
                parts.append(f"Key-value lines: {pairs}.")
            if details.opening:
                parts.append(f'It opens with: "{details.opening[0]}".')
        return " ".join([head, *parts])


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _listing(items: list[str], limit: int = 8, total: int = 0) -> str:
    """The first `limit` items and how many more; `total` counts items a cap left out too."""
    total = max(total, len(items))
    shown = ", ".join(items[:limit])
    return shown + (f" and {total - limit:,} more" if total > limit else "")


def decode(name: str, data: bytes) -> tuple[str, str]:
    """The text of an upload and the encoding it was in; binary files are refused helpfully."""
    if not data:
        raise CapabilityInputError(f"{name} is empty: upload the file again with its contents.")
    for signature, advice in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise CapabilityInputError(f"{name} looks like {advice}.")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "UTF-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    if b"\x00" in data[:4096]:
        raise CapabilityInputError(
            f"{name} is a binary file, not text: I can parse plain text, CSV and JSON."
        )
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        # Every byte sequence is valid Latin-1: the right guess for older Windows exports.
        return data.decode("latin-1"), "Latin-1"


def _kind(name: str, text: str) -> FileKind:
    kind = _EXTENSIONS.get(PurePosixPath(name.lower()).suffix)
    if kind:
        return kind
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        if len(stripped) > _SNIFF_CHARS:
            # Too big to load just to name it: brackets at both ends will do; parsing it
            # later reports any error in the middle plainly.
            if stripped.rstrip().endswith(("}", "]")):
                return "json"
        else:
            try:
                json.loads(stripped)
                return "json"
            except ValueError:
                pass
            except RecursionError:
                return "json"  # nested too deeply to load: the JSON report says so
    head = stripped[:_SNIFF_CHARS]
    if len(stripped) > _SNIFF_CHARS:
        head = head[: head.rfind("\n") + 1]  # whole lines only
    lines = [line for line in _head_lines(head, 20) if line.strip()]
    if len(lines) >= 2:
        delimiter = detect_delimiter(head)
        if delimiter is not None:
            counts = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
            if len(counts) == 1:
                return "csv"
    return "text"


def _head_lines(text: str, count: int) -> list[str]:
    """The first `count` lines, without splitting the rest of a large file."""
    end = 0
    for _ in range(count):
        end = text.find("\n", end) + 1
        if end == 0:
            return text.splitlines()[:count]
    return text[:end].splitlines()[:count]


def describe_upload(name: str, data: bytes, content_type: str | None = None) -> UploadMetadata:
    """The metadata to store with an upload. Never raises: unreadable files are "binary"."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        text, encoding = decode(name, data)
    except CapabilityInputError:
        return UploadMetadata(
            name, len(data), digest, content_type or "application/octet-stream", "binary", None
        )
    kind = _kind(name, text)
    return UploadMetadata(name, len(data), digest, _MEDIA_TYPES[kind], kind, encoding)


def detect_delimiter(text: str) -> str | None:
    """The delimiter that splits the most lines into the same number (> 1) of fields.

    More robust than csv.Sniffer, which is misled by "$1,200.50" in a semicolon file.
    """
    lines = [line for line in _head_lines(text, 50) if line.strip()]
    best: tuple[float, int] | None = None
    chosen = None
    for delimiter in (",", ";", "\t", "|"):
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        mode = max(set(counts), key=lambda count: (counts.count(count), count))
        if mode < 2:
            continue
        rank = (counts.count(mode) / len(counts), mode)
        if best is None or rank > best:
            best, chosen = rank, delimiter
    return chosen


def read_table(name: str, text: str) -> Table:
    """Parse delimited text: the delimiter is detected, the first row is the header.

    One pass over the file, keeping at most MAX_COLUMNS columns and MAX_CELLS cells; rows
    past the cells cap are counted, not kept.
    """
    delimiter = detect_delimiter(text) or ("\t" if name.lower().endswith(".tsv") else ",")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    width = 0
    rows: list[list[str]] = []
    cells = row_count = ragged_count = 0
    ragged: list[int] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header, width = [cell.strip() for cell in row[:MAX_COLUMNS]], len(row)
                continue
            row_count += 1
            if len(row) != width:
                ragged_count += 1
                if len(ragged) < _RAGGED_SHOWN:
                    ragged.append(reader.line_num)
            if cells < MAX_CELLS:
                kept = [cell.strip() for cell in row[:MAX_COLUMNS]]
                rows.append(kept)
                cells += max(len(kept), 1)
    except csv.Error as error:
        raise CapabilityInputError(
            f"{name} could not be read as CSV at line {reader.line_num}: {error}. "
            "Check the quotes on that line and upload it again."
        ) from None
    if header is None:
        raise CapabilityInputError(f"{name} has no rows: it contains only blank lines.")
    return Table(delimiter, header, rows, ragged, ragged_count, width, row_count)


def is_missing(value: str) -> bool:
    return value.strip().lower() in _MISSING


_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def to_number(value: str) -> float | None:
    """A cell as a number: "1,234.50", "$99", "12%" and "-3" all count; text does not."""
    cleaned = value.strip().replace(",", "").replace(" ", "")
    cleaned = cleaned.lstrip("$€£¥").rstrip("%")
    if cleaned.startswith("-") and cleaned[1:2] in "$€£¥":
        cleaned = "-" + cleaned[2:]
    return float(cleaned) if _NUMBER.match(cleaned) else None


def _csv_report(name: str, text: str) -> CsvReport:
    table = read_table(name, text)
    columns = table.header
    empty, mixed = [], []
    for column, values in zip(columns, table.columns(), strict=True):
        present = [value for value in values if not is_missing(value)]
        if not present:
            empty.append(column)
            continue
        numbers = sum(1 for value in present if to_number(value) is not None)
        if 0 < numbers < len(present):
            mixed.append(column)
    sample = dict(zip(columns, table.rows[0], strict=False)) if table.rows else {}
    return CsvReport(
        table.delimiter,
        columns,
        table.row_count,
        sample,
        empty,
        mixed,
        table.ragged_lines,
        table.ragged_count,
        table.column_count,
        table.notes(),
    )


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "string"


def _json_report(name: str, text: str) -> JsonReport:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise CapabilityInputError(
            f"{name} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}. "
            "Fix that spot (often a missing comma or quote) and upload it again."
        ) from None
    except RecursionError:
        raise CapabilityInputError(
            f"{name} nests lists or objects more than {sys.getrecursionlimit():,} levels deep, "
            "too deep to read: flatten it, or export it as CSV with one row per record."
        ) from None
    kind = _json_type(value)
    sample = json.dumps(value, ensure_ascii=False)[:120]
    if isinstance(value, dict):
        keys = list(itertools.islice(value, MAX_JSON_KEYS))
        return JsonReport(kind, keys, len(value), 0, [], sample, len(value), _key_notes(value))
    if isinstance(value, list):
        records = [item for item in value if isinstance(item, dict)]
        # One pass: each field's number of records, in first-seen order (dicts keep it).
        seen: Counter[str] = Counter()
        for record in records:
            seen.update(record.keys())
        shared = [key for key, count in seen.items() if count == len(records)]
        keys = list(itertools.islice(seen, MAX_JSON_KEYS))
        return JsonReport(
            kind,
            keys,
            len(value),
            len(records),
            shared[:MAX_JSON_KEYS],
            sample,
            len(seen),
            _key_notes(seen),
        )
    return JsonReport(kind, [], 0, 0, [], sample)


def _key_notes(keys: Sized) -> list[str]:
    if len(keys) <= MAX_JSON_KEYS:
        return []
    return [f"The file has {len(keys):,} distinct keys; I list the first {MAX_JSON_KEYS:,}."]


_HEADING = re.compile(r"^(#{1,6}\s+.+|[A-Z][^.!?:]{2,60}:)$")
_LIST_ITEM = re.compile(r"^\s*([-*•]|\d+[.)])\s+\S")
_KEY_VALUE = re.compile(r"^([A-Z][\w ]{1,30}):\s+(\S.{0,80})$")


def _text_report(text: str) -> TextReport:
    lines = text.splitlines()
    headings, key_values = [], {}
    for line in lines:
        stripped = line.strip()
        if match := _KEY_VALUE.match(stripped):
            key_values[match.group(1)] = match.group(2).strip()
        elif _HEADING.match(stripped):
            headings.append(stripped.lstrip("#").strip().rstrip(":"))
    opening = [line.strip() for line in lines if line.strip()][:3]
    return TextReport(
        lines=len(lines),
        words=len(text.split()),
        characters=len(text),
        opening=[line[:120] for line in opening],
        headings=headings[:10],
        list_items=sum(1 for line in lines if _LIST_ITEM.match(line)),
        key_values=key_values,
    )


def parse_file(upload: Upload) -> FileReport:
    """Parse an uploaded text, CSV or JSON file and report what is in it.

    Raises CapabilityInputError, with what to do instead, for files it cannot read.
    """
    if len(upload.data) > MAX_UPLOAD_BYTES:
        raise CapabilityInputError(
            f"{upload.name} is {_size(len(upload.data))}, over the {_size(MAX_UPLOAD_BYTES)} "
            "limit: split it (by month or region) or keep only the columns you need."
        )
    text, encoding = decode(upload.name, upload.data)
    kind = _kind(upload.name, text)
    details: CsvReport | JsonReport | TextReport
    if kind == "csv":
        details = _csv_report(upload.name, text)
    elif kind == "json":
        details = _json_report(upload.name, text)
    else:
        details = _text_report(text)
    metadata = UploadMetadata(
        upload.name,
        len(upload.data),
        hashlib.sha256(upload.data).hexdigest(),
        _MEDIA_TYPES[kind],
        kind,
        encoding,
    )
    return FileReport(metadata, details)
