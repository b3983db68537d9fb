"""Kill or stop one server at a time under a conversation, as an operator or a crash would, and
check what the user keeps: every message once, one reply each, the streamed text equal to the
recorded reply, and a new turn working afterwards. Each test adds its recovery times to the
table printed at the end (see recovery.py)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

import pytest

from tests.faults.client import Conversation, Turn
from tests.faults.recovery import (
    CRASH_RESTART_SECONDS,
    REDIS_BACK_SECONDS,
    ROWS,
    UNAVAILABLE_SECONDS,
    Recovery,
)
from tests.faults.stack import FaultStack

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

# The guide answers these itself (no handoff), each in ~85 words.
FIRST = "Hello! What can you help me with on this platform?"
CUT = "Tell me more about how you work"
AFTER = "What should I do first?"
# A crashed worker's reply waits for the heartbeat timeout; a message sent into an outage
# waits for the outage plus the resends.
TURN_SECONDS = 150


async def _open(stack: FaultStack) -> Conversation:
    conversation = Conversation(lambda: stack.api_urls)
    await conversation.start()
    await conversation.send(Turn(FIRST), TURN_SECONDS)
    return conversation


async def _verify(
    name: str,
    conversation: Conversation,
    turns: list[Turn],
    fault_at: float,
    *,
    target: str = "",
    met: bool | None = None,
) -> Recovery:
    """Assert nothing was lost or doubled, then time a new turn and add the table's row."""
    for turn in turns:
        assert turn.response is not None and turn.message_id is not None
        assert turn.streamed == turn.response["message"], "streamed text differs from the reply"
    replies_sent = {turn.message_id: turn.response["message"] for turn in turns if turn.response}
    history = await conversation.history()
    lost = duplicated = 0
    for turn in turns:
        users = [m for m in history if m.get("client_message_id") == turn.client_message_id]
        replies = [m for m in history if m.get("in_reply_to") == turn.message_id]
        lost += int(not users) + int(not replies)
        duplicated += max(0, len(users) - 1) + max(0, len(replies) - 1)
        assert [m["content"] for m in replies] == [replies_sent[turn.message_id]]
        assert [m["content"] for m in users] == [turn.text]
    duplicated += conversation.duplicated_events()
    after = await conversation.send(Turn(AFTER), TURN_SECONDS)
    assert after.streamed == after.response["message"] if after.response else False
    cut = turns[0]
    row = Recovery(
        fault=name,
        back_seconds=_since(cut.first_frame_after(fault_at), fault_at),
        done_seconds=max(t.completed_at or 0 for t in turns) - fault_at,
        new_turn_seconds=(after.completed_at or 0) - after.sent_at,
        restarts=sum(t.restarts for t in turns),
        unavailable=sum(t.unavailable for t in turns),
        reconnects=conversation.reconnects,
        stalls=conversation.stalls,
        close_codes=", ".join(
            f"{code or 'none'}×{n}" for code, n in sorted(conversation.close_codes.items(), key=str)
        ),
        lost=lost,
        duplicated=duplicated,
        target=target,
        met=met,
    )
    ROWS.append(row)
    assert (lost, duplicated) == (0, 0)
    return row


def _since(moment: float | None, start: float) -> float | None:
    return None if moment is None else moment - start


async def _cut_reply(
    stack: FaultStack, fault: Callable[[], None]
) -> tuple[Conversation, Turn, float]:
    """Start a reply, run `fault` (in a thread: it waits for servers) once it streams."""
    conversation = await _open(stack)
    turn = Turn(CUT)
    sending = asyncio.create_task(conversation.send(turn, TURN_SECONDS))
    await asyncio.wait_for(turn.streaming.wait(), 30)
    fault_at = time.monotonic()
    # A thread, so the client keeps reading meanwhile. Servers started there end with the
    # thread that started them (devstack asks Linux so); the loop's executor threads live as
    # long as the session's loop, which outlives the stack.
    await asyncio.to_thread(fault)
    await sending
    return conversation, turn, fault_at


async def test_worker_sigkill_mid_reply(stack: FaultStack) -> None:
    """The reply restarts on the worker that replaces the dead one."""

    def fault() -> None:
        stack.signal(stack.workers[0], signal.SIGKILL)
        stack.start_worker()

    conversation, turn, fault_at = await _cut_reply(stack, fault)
    back = _since(turn.first_frame_after(fault_at), fault_at)
    met = back is not None and back <= CRASH_RESTART_SECONDS
    await _verify(
        "worker SIGKILL mid-reply",
        conversation,
        [turn],
        fault_at,
        target=f"reply back <= {CRASH_RESTART_SECONDS:.0f} s",
        met=met,
    )
    assert turn.restarts >= 1
    assert met, f"the reply came back {back} s after the crash"


async def test_worker_sigterm_mid_reply(stack: FaultStack) -> None:
    """A deploy: the old worker is told to stop while a new one starts."""
    old = stack.workers[0]

    def fault() -> None:
        stack.signal(old, signal.SIGTERM)
        stack.start_worker()

    try:
        conversation, turn, fault_at = await _cut_reply(stack, fault)
    finally:
        await asyncio.to_thread(stack.stop, old)
    await _verify(
        "worker SIGTERM mid-reply",
        conversation,
        [turn],
        fault_at,
        target="finishes without reply_restarted",
        met=turn.restarts == 0,
    )
    assert turn.restarts == 0, "the draining worker's reply was restarted"


async def test_api_sigkill_mid_reply_resumes_on_a_new_api(stack: FaultStack) -> None:
    def fault() -> None:
        stack.signal(stack.apis[next(iter(stack.apis))], signal.SIGKILL)
        stack.start_api()

    conversation, turn, fault_at = await _cut_reply(stack, fault)
    await _verify("API SIGKILL mid-reply, resume on a new API", conversation, [turn], fault_at)
    assert conversation.reconnects >= 1


async def test_temporal_sigkill_and_restart_mid_reply(stack: FaultStack) -> None:
    def fault() -> None:
        stack.signal(stack.temporal, signal.SIGKILL)
        stack.start_temporal()

    conversation, turn, fault_at = await _cut_reply(stack, fault)
    await _verify("Temporal SIGKILL + restart mid-reply", conversation, [turn], fault_at)


async def test_redis_sigkill_and_restart_mid_reply(stack: FaultStack) -> None:
    """No stall: the socket keeps relaying once Redis is back, or closes with 1013 and the
    client resumes; either way the reply completes soon after Redis is back."""
    back: list[float] = []

    def fault() -> None:
        stack.signal(stack.redis, signal.SIGKILL)
        stack.start_redis()
        back.append(time.monotonic())

    conversation, turn, fault_at = await _cut_reply(stack, fault)
    after_back = (turn.completed_at or float("inf")) - back[0]
    met = conversation.stalls == 0 and after_back <= REDIS_BACK_SECONDS
    await _verify(
        "Redis SIGKILL + restart mid-reply",
        conversation,
        [turn],
        fault_at,
        target=f"no stall; reply done <= {REDIS_BACK_SECONDS:.0f} s after Redis is back",
        met=met,
    )
    assert conversation.stalls == 0, "an open socket stopped relaying"
    assert met, f"the reply completed {after_back:.1f} s after Redis was back"


async def _send_while_down(
    stack: FaultStack, stop: Callable[[], object], start: Callable[[], object], outage: float
) -> tuple[Conversation, Turn, float]:
    """Stop a server, send a message, bring the server back after `outage` seconds."""
    conversation = await _open(stack)
    await asyncio.to_thread(stop)
    fault_at = time.monotonic()
    turn = Turn(CUT)
    sending = asyncio.create_task(conversation.send(turn, TURN_SECONDS))
    await asyncio.sleep(outage)
    await asyncio.to_thread(start)
    await sending
    return conversation, turn, fault_at


async def test_send_while_no_worker_polls(stack: FaultStack) -> None:
    """The client hears `unavailable` within 10 s; the message is answered once a worker runs
    again."""
    conversation, turn, fault_at = await _send_while_down(
        stack,
        lambda: stack.signal(stack.workers[0], signal.SIGKILL),
        stack.start_worker,
        UNAVAILABLE_SECONDS + 3,
    )
    first_refusal = next(
        (t for t in turn.frame_times if turn.accepted_at is None or t < turn.accepted_at), None
    )
    told = _since(first_refusal, turn.sent_at)
    met = turn.unavailable > 0 and told is not None and told <= UNAVAILABLE_SECONDS
    await _verify(
        "send while no worker polls",
        conversation,
        [turn],
        fault_at,
        target=f"unavailable <= {UNAVAILABLE_SECONDS:.0f} s",
        met=met,
    )
    assert met, f"unavailable {told} s after sending ({turn.unavailable} times)"


async def test_send_while_temporal_is_down(stack: FaultStack) -> None:
    conversation, turn, fault_at = await _send_while_down(
        stack,
        lambda: stack.signal(stack.temporal, signal.SIGKILL),
        stack.start_temporal,
        10,
    )
    await _verify("send while Temporal is down", conversation, [turn], fault_at)
    assert turn.unavailable >= 1


async def test_send_while_redis_is_down(stack: FaultStack) -> None:
    conversation, turn, fault_at = await _send_while_down(
        stack,
        lambda: stack.signal(stack.redis, signal.SIGKILL),
        stack.start_redis,
        5,
    )
    await _verify("send while Redis is down", conversation, [turn], fault_at)


async def test_two_apis_two_workers_one_of_each_killed(stack: FaultStack) -> None:
    """Two conversations, one per API, both mid-reply when an API and a worker die."""
    stack.start_api()
    stack.start_worker()
    first = await _open(stack)
    second = await _open(stack)
    turns = [Turn(CUT), Turn(CUT)]
    sending = [
        asyncio.create_task(conversation.send(turn, TURN_SECONDS))
        for conversation, turn in zip((first, second), turns, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(turn.streaming.wait() for turn in turns)), 30)
    fault_at = time.monotonic()
    stack.signal(stack.apis[next(iter(stack.apis))], signal.SIGKILL)
    stack.signal(stack.workers[0], signal.SIGKILL)
    await asyncio.gather(*sending)
    for conversation, turn in zip((first, second), turns, strict=True):
        await _verify("2 APIs + 2 workers, one of each killed", conversation, [turn], fault_at)
