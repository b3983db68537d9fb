"""People own their chats: two users signed in with JWTs from a local JWKS server each see
only their own chats, and every attempt on the other's chat is answered as if it did not
exist. Real Temporal dev server, Redis, worker and uvicorn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets

from agents.builtin import BuiltInResponder
from api.main import create_app
from foundations.settings import Settings
from tests.integration.chat_client import ChatClient, close_code, connect
from tests.integration.custom_edge import run_worker, settings_for
from tests.jwks_server import AUDIENCE, ISSUER, JwksServer
from tests.serve_app import serving
from tests.stack import RunningStack

pytestmark = pytest.mark.integration

CLOSE_INVALID_TOKEN = 4001
CLOSE_UNAUTHENTICATED = 4401
# How long the list may take to show what visibility has not indexed yet.
VISIBLE_WITHIN_SECONDS = 30


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    server.add_key("k1")
    yield server
    server.close()


@dataclass
class Person:
    """One signed-in user of the edge."""

    http: httpx.AsyncClient
    ws_url: str

    async def ticket(self) -> str:
        response = await self.http.post("/api/auth/ws-ticket")
        assert response.status_code == 200, response.text
        return str(response.json()["ticket"])

    async def new_chat(self) -> dict[str, Any]:
        response = await self.http.post("/api/chats")
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def chats(self, **query: Any) -> dict[str, Any]:
        response = await self.http.get("/api/chats", params=query)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def chat_ids(self, **query: Any) -> list[str]:
        return [chat["chat_id"] for chat in (await self.chats(**query))["chats"]]

    @asynccontextmanager
    async def socket(self, **kwargs: Any) -> AsyncIterator[ChatClient]:
        async with connect(self.ws_url, "/api/ws/guide", ticket=await self.ticket(), **kwargs) as c:
            yield c


@asynccontextmanager
async def jwt_edge(stack: RunningStack, jwks: JwksServer) -> AsyncIterator[str]:
    settings = settings_for(stack).model_copy(
        update={
            "auth_mode": "jwt",
            "jwt_jwks_url": jwks.url,
            "jwt_issuer": ISSUER,
            "jwt_audience": AUDIENCE,
        }
    )
    async with run_worker(settings, BuiltInResponder()), serving(create_app(settings)) as url:
        yield url


@asynccontextmanager
async def person(url: str, bearer: str) -> AsyncIterator[Person]:
    headers = {"Authorization": f"Bearer {bearer}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        yield Person(http, url.replace("http://", "ws://"))


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Visibility indexes a moment after the workflow writes: wait for it, boundedly."""
    deadline = time.monotonic() + VISIBLE_WITHIN_SECONDS
    while not await check():
        assert time.monotonic() < deadline, "the chat list never showed the change"
        await asyncio.sleep(0.2)


async def test_two_users_see_only_their_own_chats_and_cannot_touch_the_others(
    stack: RunningStack, jwks: JwksServer
) -> None:
    async with (
        jwt_edge(stack, jwks) as url,
        person(url, jwks.token("k1", sub="alice")) as alice,
        person(url, jwks.token("k1", sub="bob")) as bob,
    ):
        mine = await alice.new_chat()
        chat_id, token = mine["chat"]["chat_id"], mine["session_token"]
        theirs = (await bob.new_chat())["chat"]["chat_id"]
        async with alice.socket(chat_id=chat_id) as guide:
            restored = await guide.recv()
            assert restored["type"] == "conversation_restored"
            assert restored["session_id"] == chat_id
            reply = await guide.turn("How do I plan a tulip garden?")
            assert reply["message"]

        async def titled() -> bool:
            chats = (await alice.chats())["chats"]
            return any(c["chat_id"] == chat_id and c["title"] for c in chats)

        await eventually(titled)
        listed = {c["chat_id"]: c for c in (await alice.chats())["chats"]}
        assert listed[chat_id]["title"] == "How do I plan a tulip garden?"
        assert listed[chat_id]["preview"] == reply["message"][:160]
        assert theirs not in listed
        await eventually(lambda: _contains(bob, theirs))
        assert chat_id not in await bob.chat_ids()
        assert chat_id not in await bob.chat_ids(q="tulip")

        # Every route and frame Bob could try on Alice's chat answers as for no chat at all.
        refused = [
            await bob.http.post(f"/api/chats/{chat_id}/token"),
            await bob.http.patch(f"/api/chats/{chat_id}", json={"title": "mine now"}),
            await bob.http.get("/api/chat/conversation/history", params={"session_token": token}),
            await bob.http.get("/api/chat/conversation/messages", params={"session_token": token}),
            await bob.http.get("/api/uploads", params={"session_token": token}),
            await bob.http.post(
                "/api/uploads",
                params={"session_token": token, "filename": "notes.txt"},
                content=b"bob's notes",
            ),
            await bob.http.post("/api/chat/guide", json={"message": "hi", "session_token": token}),
            await bob.http.post(
                "/api/chat/liaison",
                json={"message": "hi", "session_token": token, "pillar": "content"},
            ),
            await bob.http.post("/api/chat/session/close", json={"session_token": token}),
            await bob.http.put(
                "/api/chat/feedback",
                params={"session_token": token},
                json={"message_id": "r-m-" + "0" * 32, "rating": "up"},
            ),
            await bob.http.get("/api/chat/questions", params={"session_token": token}),
            await bob.http.post(
                f"/api/chat/questions/q-{'0' * 32}/answer",
                params={"session_token": token},
                json={"decision": "approve"},
            ),
            await bob.http.get(f"/api/chats/{chat_id}/export", params={"format": "json"}),
            await bob.http.get(f"/api/chats/{chat_id}/shares"),
            await bob.http.post(
                f"/api/chats/{chat_id}/shares",
                json={"conversation": "guide", "expires_in_seconds": 3600},
            ),
            await bob.http.delete(f"/api/chats/{chat_id}"),
        ]
        assert [r.status_code for r in refused] == [404] * len(refused), [r.text for r in refused]
        assert {r.json()["code"] for r in refused} == {"chat_not_found"}
        # A socket attaching by id or by token closes as for an unknown session, before any
        # frame (chat message, cancel, resume) could reach the chat.
        for opens in ({"chat_id": chat_id}, {"session_token": token}):
            code, _ = await close_code(
                bob.ws_url, "/api/ws/guide", ticket=await bob.ticket(), **opens
            )
            assert code == CLOSE_INVALID_TOKEN
        code, _ = await close_code(
            bob.ws_url, "/api/ws/liaison/content", ticket=await bob.ticket(), chat_id=chat_id
        )
        assert code == CLOSE_INVALID_TOKEN

        # Alice's chat is untouched: not renamed, not closed, nothing of Bob's in it.
        history = await alice.http.get(
            "/api/chat/conversation/history", params={"session_token": token}
        )
        assert history.status_code == 200
        assert [m["role"] for m in history.json()["messages"]] == ["user", "assistant"]
        assert (await alice.http.get("/api/uploads", params={"session_token": token})).json() == []
        assert listed[chat_id]["title"] == "How do I plan a tulip garden?"
        # Her second device gets its own token for the chat.
        second = await alice.http.post(f"/api/chats/{chat_id}/token")
        assert second.status_code == 200 and second.json()["session_token"] != token


async def test_a_chat_is_renamed_found_by_title_and_listed_newest_first_by_pages(
    stack: RunningStack, jwks: JwksServer
) -> None:
    async with jwt_edge(stack, jwks) as url, person(url, jwks.token("k1", sub="carol")) as carol:
        created = [(await carol.new_chat())["chat"]["chat_id"] for _ in range(3)]
        renamed = await carol.http.patch(f"/api/chats/{created[0]}", json={"title": "Roses"})
        assert renamed.status_code == 200, renamed.text
        # The answer is authoritative at once; the list catches up.
        assert renamed.json()["chat_id"] == created[0] and renamed.json()["title"] == "Roses"
        await eventually(lambda: _contains(carol, created[0], q="roses"))
        assert await carol.chat_ids(q="ROSES") == [created[0]]
        assert await carol.chat_ids(q="tulips") == []
        blank = await carol.http.patch(f"/api/chats/{created[1]}", json={"title": "   "})
        assert blank.status_code == 422

        async def all_listed() -> bool:
            return set(created) <= set(await carol.chat_ids())

        await eventually(all_listed)
        everything = (await carol.chats())["chats"]
        stamps = [c["last_activity"] for c in everything]
        assert stamps == sorted(stamps, reverse=True)
        paged: list[str] = []
        cursor = None
        while True:
            page = await carol.chats(limit=1, **({"cursor": cursor} if cursor else {}))
            paged += [c["chat_id"] for c in page["chats"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert paged == [c["chat_id"] for c in everything]
        bad = await carol.http.get("/api/chats", params={"cursor": "not-a-cursor"})
        assert bad.status_code == 422


async def test_jwt_mode_refuses_requests_and_sockets_without_an_identity(
    stack: RunningStack, jwks: JwksServer
) -> None:
    async with jwt_edge(stack, jwks) as url, httpx.AsyncClient(base_url=url) as anonymous:
        assert (await anonymous.get("/api/chats")).status_code == 401
        assert (await anonymous.post("/api/chat/conversation/create")).status_code == 401
        code, _ = await close_code(url.replace("http://", "ws://"), "/api/ws/guide")
        assert code == CLOSE_UNAUTHENTICATED


async def test_proxy_mode_refuses_the_user_header_from_an_untrusted_address(
    stack: RunningStack,
) -> None:
    def proxy_settings(proxies: list[str]) -> Settings:
        return settings_for(stack).model_copy(
            update={"auth_mode": "proxy", "auth_proxies": proxies}
        )

    header = {"X-Forwarded-User": "dave"}
    # The test connects from 127.0.0.1, which is not the configured proxy.
    async with serving(create_app(proxy_settings(["10.9.9.9/32"]))) as url:
        async with httpx.AsyncClient(base_url=url, headers=header) as client:
            refused = await client.get("/api/chats")
            assert refused.status_code == 401
            assert "sign-in proxy" in refused.json()["detail"]
            assert (await client.post("/api/chats")).status_code == 401
        ws_url = url.replace("http://", "ws://")
        async with connect(ws_url, "/api/ws/guide", headers=header) as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_UNAUTHENTICATED
    # From the proxy's own address the same header is believed.
    async with (
        serving(create_app(proxy_settings(["127.0.0.1/32"]))) as url,
        httpx.AsyncClient(base_url=url, headers=header) as client,
    ):
        assert (await client.get("/api/chats")).status_code == 200


async def test_a_device_identity_owns_its_chats_and_a_bare_token_opens_only_unowned_ones(
    stack: RunningStack,
) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        device = (await http.post("/api/auth/device")).json()["token"]
        other = (await http.post("/api/auth/device")).json()["token"]
        owned = await http.post("/api/chats", headers={"Authorization": f"Bearer {device}"})
        assert owned.status_code == 201
        token = owned.json()["session_token"]
        # Without the device identity the chat's token alone opens nothing; another device
        # neither.
        bare = await http.get("/api/chat/conversation/history", params={"session_token": token})
        assert bare.status_code == 404
        foreign = await http.get(
            "/api/chat/conversation/history",
            params={"session_token": token},
            headers={"Authorization": f"Bearer {other}"},
        )
        assert foreign.status_code == 404
        code, _ = await close_code(stack.ws_url, "/api/ws/guide", session_token=token)
        assert code == CLOSE_INVALID_TOKEN
        mine = await http.get(
            "/api/chat/conversation/history",
            params={"session_token": token},
            headers={"Authorization": f"Bearer {device}"},
        )
        assert mine.status_code == 200


async def _contains(who: Person, chat_id: str, **query: Any) -> bool:
    return chat_id in await who.chat_ids(**query)


async def test_an_account_that_claims_a_device_owns_its_chats(
    stack: RunningStack, jwks: JwksServer
) -> None:
    # The shared stack's API is anonymous; the jwt edge shares its Redis, so its identity
    # secret, and can verify the device's token.
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        device = (await http.post("/api/auth/device")).json()["token"]
        created = await http.post("/api/chats", headers={"Authorization": f"Bearer {device}"})
        chat_id = created.json()["chat"]["chat_id"]
    async with (
        jwt_edge(stack, jwks) as url,
        person(url, jwks.token("k1", sub="erin")) as erin,
        person(url, jwks.token("k1", sub="frank")) as frank,
    ):
        assert (await erin.http.post(f"/api/chats/{chat_id}/token")).status_code == 404
        claimed = await erin.http.post("/api/auth/claim", headers={"X-Device-Identity": device})
        assert claimed.json()["outcome"] == "claimed"
        await eventually(lambda: _contains(erin, chat_id))
        token = await erin.http.post(f"/api/chats/{chat_id}/token")
        assert token.status_code == 200
        async with erin.socket(chat_id=chat_id) as guide:
            assert (await guide.recv())["type"] == "conversation_restored"
        # The device is Erin's now: Frank cannot claim it, nor open the chat.
        stolen = await frank.http.post("/api/auth/claim", headers={"X-Device-Identity": device})
        assert stolen.status_code == 409
        assert (await frank.http.post(f"/api/chats/{chat_id}/token")).status_code == 404
        assert chat_id not in await frank.chat_ids()
