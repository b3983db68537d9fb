"""Sizes of text as Temporal payloads carry it, and cutting text down to a size.

Temporal's JSON converter escapes every non-ASCII character (`ensure_ascii`): one emoji takes
12 bytes, so a text's size in a payload is not its length. Caps on what travels through a
workflow are therefore counted in encoded bytes, with this module.
"""

from __future__ import annotations

import json


def payload_bytes(text: str) -> int:
    """The bytes `text` takes in a JSON payload, quotes included."""
    return len(json.dumps(text))


def truncate_to_payload_bytes(text: str, max_bytes: int, note: str) -> str:
    """`text` if it fits in `max_bytes`; else its longest prefix that fits with `note` after it.

    `note` is what the reader sees in place of the rest (say that, and why, it was cut).
    """
    if len(text) * 12 + 2 <= max_bytes or payload_bytes(text) <= max_bytes:
        return text
    room = max_bytes - payload_bytes(note) + 2
    low, high = 0, len(text)
    # The longest prefix that fits: encoded size grows with the prefix, so bisect.
    while low < high:
        middle = (low + high + 1) // 2
        if payload_bytes(text[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low] + note
