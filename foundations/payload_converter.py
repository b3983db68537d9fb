"""The data converter of every worker and replayer: Temporal's default, plus renamed fields.

A payload type that renames a field declares it, `RENAMED_FIELDS = {"old_name": "new_name"}`
(a ClassVar, so not a field itself). Payloads written before the rename keep the old name in
the histories of running sessions: update and signal inputs, activity inputs scheduled but not
yet run, local activity results. Temporal's converter would ignore the old name as unknown and
then fail on the missing new one; this one reads the old name as the new one.

Payloads are also written with the old name beside the new (WRITE_FORMER_NAMES): during a
rolling deploy (docs/operations.md) workers of the previous release run beside new ones and
must read what the new ones wrote. The previous release knows only the old name and ignores
the new one. Once no worker of a release before the rename runs, writing the old name can stop;
reading it stays while any history may hold it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.converter import (
    AdvancedJSONEncoder,
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    value_to_type,
)

# Write each renamed field under its former name too, for workers of the previous release.
WRITE_FORMER_NAMES = True


class _WithFormerNames(AdvancedJSONEncoder):
    def default(self, o: Any) -> Any:
        if not dataclasses.is_dataclass(o) or isinstance(o, type):
            return super().default(o)
        # One level at a time (not dataclasses.asdict), so that a nested dataclass comes back
        # here and gets its former names too. The JSON is the same as asdict's otherwise.
        value = {field.name: getattr(o, field.name) for field in dataclasses.fields(o)}
        renamed: dict[str, str] = getattr(o, "RENAMED_FIELDS", {})
        return {**{old: value[new] for old, new in renamed.items()}, **value}


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
    """Temporal's default payload converter; renamed dataclass fields read by either name and
    written under both."""

    def __init__(self) -> None:
        super().__init__(
            *(
                JSONPlainPayloadConverter(
                    encoder=_WithFormerNames if WRITE_FORMER_NAMES else AdvancedJSONEncoder,
                    custom_type_converters=[_RenamedFields()],
                )
                if isinstance(converter, JSONPlainPayloadConverter)
                else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


DATA_CONVERTER = dataclasses.replace(
    DataConverter.default, payload_converter_class=PayloadConverter
)
