import { describe, expect, it } from "vitest";

import { Identity } from "./identity";

function memoryStorage(entries: Record<string, string> = {}) {
  const values = new Map(Object.entries(entries));
  return {
    values,
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
    removeItem: (key: string) => void values.delete(key),
  };
}

// A fake API: mints numbered device identities, and answers each other call as told.
function fakeApi(answer: (path: string, auth: string | null) => Response) {
  const calls: Array<{ path: string; auth: string | null }> = [];
  let minted = 0;
  const request = async (input: RequestInfo | URL, init?: RequestInit) => {
    const path = String(input);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const auth = headers.Authorization ?? null;
    calls.push({ path, auth });
    if (path === "/api/auth/device") {
      minted += 1;
      return Response.json({ token: `dev1.device-${minted}` });
    }
    return answer(path, auth);
  };
  return { calls, request };
}

describe("the device identity", () => {
  it("is minted once, kept in storage and sent as a bearer credential", async () => {
    const storage = memoryStorage();
    const api = fakeApi(() => Response.json({ ok: true }));
    const identity = new Identity(storage, api.request);
    await Promise.all([identity.fetch("/api/chats"), identity.fetch("/api/chats")]);
    expect(api.calls.filter((c) => c.path === "/api/auth/device")).toHaveLength(1);
    expect(api.calls.filter((c) => c.path === "/api/chats").map((c) => c.auth)).toEqual([
      "Bearer dev1.device-1",
      "Bearer dev1.device-1",
    ]);
    expect(storage.values.get("agentChat.deviceIdentity")).toBe("dev1.device-1");
    // A reloaded page uses the stored identity.
    const reloaded = new Identity(storage, api.request);
    expect(await reloaded.credential()).toBe("dev1.device-1");
  });

  it("is replaced when the server refuses it, but not when a session token expired", async () => {
    const storage = memoryStorage({ "agentChat.deviceIdentity": "dev1.stale" });
    const api = fakeApi((path, auth) => {
      if (path === "/api/chat/conversation/history") {
        return Response.json({ code: "session_invalid" }, { status: 401 });
      }
      return auth === "Bearer dev1.stale"
        ? Response.json({ code: "unauthenticated" }, { status: 401 })
        : Response.json({ chats: [] });
    });
    const identity = new Identity(storage, api.request);
    expect((await identity.fetch("/api/chat/conversation/history")).status).toBe(401);
    expect(await identity.credential()).toBe("dev1.stale");
    expect((await identity.fetch("/api/chats")).status).toBe(200);
    expect(await identity.credential()).toBe("dev1.device-1");
  });

  it("offers a fresh ticket beside chat.v1 for every socket", async () => {
    let tickets = 0;
    const api = fakeApi(() => Response.json({ ticket: `t${++tickets}`, expires_in: 30 }));
    const identity = new Identity(memoryStorage(), api.request);
    expect(await identity.socketProtocols()).toEqual(["chat.v1", "ticket.t1"]);
    expect(await identity.socketProtocols()).toEqual(["chat.v1", "ticket.t2"]);
  });
});
