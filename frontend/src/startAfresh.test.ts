import { describe, expect, it, vi } from "vitest";

import { pendingExpiryMs, PENDING_EXPIRY_MS } from "./pendingMessages";
import { SessionTokens } from "./sessionTokens";
import { startAfresh } from "./startAfresh";

function memoryStorage(entries: Record<string, string>) {
  const values = new Map(Object.entries(entries));
  return {
    values,
    get length() {
      return values.size;
    },
    key: (index: number) => [...values.keys()][index] ?? null,
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
    removeItem: (key: string) => void values.delete(key),
  };
}

describe("start afresh", () => {
  it("forgets the token and unsent messages, restarts the conversations, closes the session", async () => {
    const storage = memoryStorage({
      "agentChat.sessionToken": "old-token",
      "agentChat.pending.v1\nws://x/api/ws/guide\nc1": "{}",
      "someone.else": "kept",
    });
    const tokens = new SessionTokens(storage);
    const restarted = vi.fn();
    tokens.subscribe(restarted);
    const request = vi.fn(async () => new Response("{}", { status: 200 }));

    expect(await startAfresh(tokens, storage, request)).toBe("closed");

    expect(request).toHaveBeenCalledWith("/api/chat/session/close", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_token: "old-token" }),
    });
    expect(tokens.current).toBeNull();
    expect([...storage.values.keys()]).toEqual(["someone.else"]);
    expect(restarted).toHaveBeenCalledTimes(1);
    expect(tokens.generation).toBe(1);
    // The next socket creates the new session.
    expect(await tokens.acquire()).toBeNull();
  });

  it("says so when the server could not be told, and starts afresh all the same", async () => {
    const storage = memoryStorage({ "agentChat.sessionToken": "old-token" });
    const tokens = new SessionTokens(storage);
    const down = vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    });
    expect(await startAfresh(tokens, storage, down)).toBe("not_closed");
    expect(tokens.current).toBeNull();
    const busy = vi.fn(async () => new Response("{}", { status: 503 }));
    tokens.set("second");
    expect(await startAfresh(tokens, storage, busy)).toBe("not_closed");
    // A token that had stopped working: the session is over anyway.
    tokens.set("third");
    const gone = vi.fn(async () => new Response("{}", { status: 401 }));
    expect(await startAfresh(tokens, storage, gone)).toBe("closed");
  });
});

describe("pending expiry", () => {
  it("is five minutes unless the page's address asks for whole seconds", () => {
    expect(PENDING_EXPIRY_MS).toBe(300_000);
    expect(pendingExpiryMs("")).toBe(PENDING_EXPIRY_MS);
    expect(pendingExpiryMs("?pending_expiry_s=3")).toBe(3_000);
    for (const bad of ["0", "-1", "1.5", "abc", "99999", ""]) {
      expect(pendingExpiryMs(`?pending_expiry_s=${bad}`)).toBe(PENDING_EXPIRY_MS);
    }
  });
});
