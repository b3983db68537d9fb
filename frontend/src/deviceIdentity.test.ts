import { describe, expect, it } from "vitest";

import { DeviceIdentity, type Fetch } from "./deviceIdentity";

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

/** A server that issues dev-1, dev-2, ... and accepts only the devices in `known`. */
function server(known: Set<string>) {
  const calls: Array<{ url: string; authorization: string | null }> = [];
  let issued = 0;
  const request: Fetch = (url, init) => {
    const authorization = new Headers(init?.headers).get("Authorization");
    calls.push({ url, authorization });
    if (url === "/api/auth/device") {
      issued += 1;
      known.add(`dev-${issued}`);
      return Promise.resolve(Response.json({ token: `dev-${issued}` }));
    }
    const ok = authorization !== null && known.has(authorization.slice("Bearer ".length));
    return Promise.resolve(new Response(null, { status: ok ? 200 : 401 }));
  };
  return { calls, request };
}

describe("DeviceIdentity", () => {
  it("asks for one identity however many requests wait, and keeps it", async () => {
    const storage = memoryStorage();
    const { calls, request } = server(new Set());
    const identity = new DeviceIdentity(storage, request);
    await Promise.all([identity.fetch("/api/chats"), identity.fetch("/api/chats")]);
    expect(calls.filter((call) => call.url === "/api/auth/device")).toHaveLength(1);
    expect(calls.filter((call) => call.url === "/api/chats").map((c) => c.authorization)).toEqual([
      "Bearer dev-1",
      "Bearer dev-1",
    ]);
    // The next page of this browser is the same device.
    expect(await new DeviceIdentity(storage, request).token()).toBe("dev-1");
  });

  it("gets a new identity once when the server no longer knows the kept one", async () => {
    const storage = memoryStorage();
    storage.setItem("agentChat.deviceIdentity", "forgotten");
    const { calls, request } = server(new Set());
    const response = await new DeviceIdentity(storage, request).fetch("/api/chats");
    expect(response.status).toBe(200);
    expect(calls.map((call) => call.authorization)).toEqual([
      "Bearer forgotten",
      null,
      "Bearer dev-1",
    ]);
  });
});

describe("WebSocket tickets", () => {
  it("asks for a ticket with the identity, and for none where the server has no identities", async () => {
    const known = new Set<string>();
    const { request } = server(known);
    const withTickets: Fetch = (url, init) =>
      url === "/api/auth/ws-ticket"
        ? request("/api/chats", init).then((answer) =>
            answer.ok ? Response.json({ ticket: "t-1", expires_in: 30 }) : answer,
          )
        : request(url, init);
    expect(await new DeviceIdentity(memoryStorage(), withTickets).ticket()).toBe("t-1");

    const old: Fetch = () => Promise.resolve(new Response(null, { status: 404 }));
    expect(await new DeviceIdentity(memoryStorage(), old).ticket()).toBeNull();
  });
});
