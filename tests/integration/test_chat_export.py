"""Export and share links on the real stack: what they give is the chat's history, to its owner
and, for a link, to anyone holding it until it is revoked."""

from __future__ import annotations

from typing import Any

import httpx
import redis.asyncio as redis

from tests.integration.owned_chats import Chat, device, new_chat
from tests.stack import RunningStack


async def history(http: httpx.AsyncClient, chat: Chat, conversation: str) -> list[dict[str, Any]]:
    answer = await http.get(
        "/api/chat/conversation/history",
        params={"session_token": chat.session_token, "agent_type": conversation, "limit": 1000},
    )
    assert answer.status_code == 200
    messages: list[dict[str, Any]] = answer.json()["messages"]
    return messages


async def test_a_conversation_exports_as_markdown_equal_to_its_history(
    stack: RunningStack,
) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=60) as http:
        chat = await new_chat(http, stack.redis_url)
        export = f"/api/chats/{chat.chat_id}/export"
        answer = await http.get(
            export, params={"format": "markdown", "conversation": "guide"}, headers=chat.owner
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/markdown")
        assert answer.headers["content-disposition"].startswith("attachment;")
        guide = await history(http, chat, "guide")
        assert [m["role"] for m in guide] == ["user", "assistant"]
        expected = "# Chat\n\n## Guide\n\n" + "".join(
            f"**{'You' if m['role'] == 'user' else 'Guide'}** · {m['timestamp']}\n\n"
            f"{m['content']}\n\n"
            for m in guide
        )
        assert answer.text == expected.removesuffix("\n")

        # The whole chat as JSON: every conversation, each message as the history holds it.
        whole = await http.get(export, params={"format": "json"}, headers=chat.owner)
        assert whole.status_code == 200
        document = whole.json()
        assert document["chat_id"] == chat.chat_id
        assert document["conversations"] == [
            {"conversation": "guide", "messages": guide},
            {
                "conversation": "content_liaison",
                "messages": await history(http, chat, "content_liaison"),
            },
        ]

        stranger, _ = await device(stack.redis_url)
        assert (await http.get(export, headers=stranger)).status_code == 404
        assert (await http.get(export)).status_code == 401
        bad = await http.get(export, params={"format": "pdf"}, headers=chat.owner)
        assert bad.status_code == 422


async def test_a_share_link_shows_one_conversation_until_it_is_revoked(
    stack: RunningStack, redis_client: redis.Redis
) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=60) as http:
        chat = await new_chat(http, stack.redis_url)
        shares = f"/api/chats/{chat.chat_id}/shares"
        stranger, _ = await device(stack.redis_url)
        body = {"conversation": "content_liaison", "expires_in_seconds": 600}
        assert (await http.post(shares, json=body, headers=stranger)).status_code == 404
        for too in (59, 10**9):
            refused = await http.post(
                shares, json={**body, "expires_in_seconds": too}, headers=chat.owner
            )
            assert refused.status_code == 422
        created = await http.post(shares, json=body, headers=chat.owner)
        assert created.status_code == 201
        link = created.json()
        assert link["url"].endswith(f"/share/{link['share_id']}")
        # Kept in Redis no longer than the link lives.
        assert 590 <= await redis_client.ttl(f"share:{link['share_id']}") <= 600
        listed = (await http.get(shares, headers=chat.owner)).json()["shares"]
        assert [share["share_id"] for share in listed] == [link["share_id"]]

        # Anyone with the link, no identity: that conversation only.
        opened = await http.get(f"/api/shares/{link['share_id']}")
        assert opened.status_code == 200
        shared = opened.json()
        assert shared["conversation"] == "content_liaison"
        assert shared["messages"] == await history(http, chat, "content_liaison")
        assert shared["expires_at"] == link["expires_at"]

        revoke = f"/api/shares/{link['share_id']}"
        assert (await http.delete(revoke, headers=stranger)).status_code == 404
        assert (await http.delete(revoke, headers=chat.owner)).status_code == 204
        assert (await http.get(f"/api/shares/{link['share_id']}")).status_code == 404
        assert (await http.get(shares, headers=chat.owner)).json()["shares"] == []
        assert (await http.get("/api/shares/made-up")).status_code == 404
