"""The data converter of every worker and replayer: Temporal's default, plus renamed fields.

A payload type that renames a field declares it, `RENAMED_FIELDS = {"old_name": "new_name"}`
(a ClassVar, so not a field itself). Payloads written before the rename keep the old name in
the histories of running sessions: update and signal inputs, activity inputs scheduled but not
yet run, local activity results. Temporal's converter would ignore the old name as unknown and
then fail on the missing new one; this one reads the old name as the new one. Nothing changes
for payloads that already use the new name, and payloads are always written with it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    value_to_type,
)


class _RenamedFields(JSONTypeConverter):
    def to_typed_value(self, hint: type, value: Any) -> Any:
        renamed: dict[str, str] | None = getattr(hint, "RENAMED_FIELDS", None)
        if not renamed or not isinstance(value, dict) or not dataclasses.is_dataclass(hint):
            return JSONTypeConverter.Unhandled
        stale = {old: new for old, new in renamed.items() if old in value and new not in value}
        if not stale:
            return JSONTypeConverter.Unhandled
        return value_to_type(hint, {stale.get(k, k): v for k, v in value.items()}, [self])


class PayloadConverter(CompositePayloadConverter):
    """Temporal's default payload converter, reading renamed dataclass fields by either name."""

    def __init__(self) -> None:
        super().__init__(
            *(
                JSONPlainPayloadConverter(custom_type_converters=[_RenamedFields()])
                if isinstance(converter, JSONPlainPayloadConverter)
                else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


DATA_CONVERTER = dataclasses.replace(
    DataConverter.default, payload_converter_class=PayloadConverter
)
