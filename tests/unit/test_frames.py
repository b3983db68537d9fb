"""Client frame validation: every bad frame gets a code and a sentence a person can act on."""

from __future__ import annotations

import json

import pytest

from agents.catalog import AgentType
from api.frames import (
    ChatMessageFrame,
    FrameError,
    PingFrame,
    ResumeFrame,
    close_reason,
    parse_client_frame,
)
from foundations import server_events


def test_valid_frames_parse() -> None:
    assert parse_client_frame('{"type": "ping"}') == PingFrame(type="ping")
    assert parse_client_frame(
        '{"type": "resume", "last_event_id": "1700000000000-3"}'
    ) == ResumeFrame(type="resume", last_event_id="1700000000000-3")
    chat = parse_client_frame(
        '{"type": "chat_message", "message": "hi", "client_message_id": "a1"}'
    )
    assert chat == ChatMessageFrame(type="chat_message", message="hi", client_message_id="a1")


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("{", "invalid_json", "JSON"),
        ('"ping"', "invalid_frame", "object"),
        ('{"message": "hi"}', "unknown_type", "chat_message"),
        ('{"type": "shout"}', "unknown_type", "shout"),
        ('{"type": "chat_message"}', "invalid_frame", "message"),
        ('{"type": "chat_message", "message": ["a"]}', "invalid_frame", "message"),
        (
            '{"type": "chat_message", "message": "a", "client_message_id": ""}',
            "invalid_frame",
            "client_message_id",
        ),
        ('{"type": "resume", "last_event_id": "../../etc"}', "invalid_frame", "last_event_id"),
        ('{"type": "ping", "extra": true}', "invalid_frame", "extra"),
    ],
)
def test_bad_frames_are_explained(text: str, code: str, says: str) -> None:
    with pytest.raises(FrameError) as error:
        parse_client_frame(text)
    assert error.value.code == code
    assert says in str(error.value)


def test_server_frames_carry_event_id_even_when_none() -> None:
    frame = json.loads(server_events.frame(server_events.Pong(agent_type=AgentType.GUIDE)))
    assert frame == {"type": "pong", "event_id": None, "agent_type": "guide", "pillar": None}


def test_close_reasons_keep_their_retry_hint_within_123_bytes() -> None:
    reason = close_reason("é" * 200, 42)
    assert len(reason.encode()) <= 123 and reason.endswith(" retry_after=42")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[" * 60_000, "invalid_json"),
        ('{"type": "chat_message", "message": "hi \\ud800"}', "invalid_frame"),
        ('{"type": "chat_message", "message": "a\\u0000b"}', "invalid_frame"),
        ('{"type": "resume", "last_event_id": "١٧٠٠-٠"}', "invalid_frame"),
        ('{"type": "resume", "last_event_id": "1700-0\\n"}', "invalid_frame"),
        ('{"type": "chat_message", "message": "a", "client_message_id": "é"}', "invalid_frame"),
        ('{"type": "cancel", "message_id": "../x"}', "invalid_frame"),
    ],
)
def test_input_that_cannot_be_stored_or_read_is_refused(text: str, code: str) -> None:
    with pytest.raises(FrameError) as error:
        parse_client_frame(text)
    assert error.value.code == code
