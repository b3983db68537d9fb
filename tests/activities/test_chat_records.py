"""A chat's sweep deletes its keys and no other chat's, on a real Redis."""

from __future__ import annotations

import redis.asyncio as redis

from foundations.chat_records import ChatRecords


async def test_the_sweep_deletes_one_chats_keys_and_leaves_the_others(
    lone_redis_url: str,
) -> None:
    client = redis.Redis.from_url(lone_redis_url)
    mine = [
        "chat:ab:guide:history",
        "chat:ab:guide:events",
        "chat:ab:connections",
        "upload:ab:meta",
        "rate:session:ab:29939993",
        "session:ab",
        "admit:session-sockets:ab",
    ]
    # Chats whose ids the first one's patterns could match, were they not exact.
    others = ["chat:abc:guide:history", "session:abc", "upload:a*:meta", "chat:a?:guide:history"]
    for key in [*mine, *others]:
        if key.startswith("session:"):
            await client.hset(key, mapping={"user_id": "u", "status": "active"})
        else:
            await client.set(key, "x")
    records = ChatRecords(client, tombstone_seconds=60)
    await records.mark_deleting("ab")
    assert await records.is_deleting("ab") and not await records.is_deleting("abc")
    # Its tokens open nothing from now on.
    assert await client.hget("session:ab", "status") == b"revoked"
    # Marking a chat deleting makes no session record for a chat that has none.
    await records.mark_deleting("gone")
    assert not await client.exists("session:gone")
    assert await records.delete_chat_keys("ab", lambda: None) == len(mine)
    assert await records.delete_chat_keys("a*", lambda: None) == 1
    remaining = {key.decode() async for key in client.scan_iter()}
    assert remaining == {
        "chat:abc:guide:history",
        "session:abc",
        "chat:a?:guide:history",
        "chat-deleting:ab",
        "chat-deleting:gone",
    }
    await client.aclose()
