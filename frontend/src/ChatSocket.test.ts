import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import {
  type Backoff,
  backoffDelay,
  ChatSocket,
  type ChatSocketEvent,
  type WebSocketLike,
} from "./ChatSocket";
import type { ServerFrame } from "./protocol";
import { SessionTokens, type TokenStorage } from "./sessionTokens";

/** A WebSocket the test drives: it opens, receives and drops when told to. */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  sent: string[] = [];
  closedByPage: { code?: number; reason?: string } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedByPage = { code, reason };
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: Partial<ServerFrame> & { type: ServerFrame["type"] }): void {
    this.onmessage?.({
      data: JSON.stringify({ event_id: null, agent_type: "guide", pillar: null, ...frame }),
    });
  }

  /** The connection dies (server stopped, network gone). */
  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  get frames(): Array<Record<string, unknown>> {
    return this.sent.map((text) => JSON.parse(text) as Record<string, unknown>);
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }
}

class MemoryStorage implements TokenStorage {
  values = new Map<string, string>();
  getItem(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.values.set(key, value);
  }
  removeItem(key: string): void {
    this.values.delete(key);
  }
}

const URL_GUIDE = "ws://chat.test/api/ws/guide";
const BACKOFF: Backoff = { initialMs: 100, maxMs: 1_000, factor: 2 };

interface Harness {
  chat: ChatSocket;
  sockets: FakeSocket[];
  events: ChatSocketEvent[];
  frames(): ServerFrame[];
  statuses(): string[];
  latest(): FakeSocket;
}

let tokens: SessionTokens;
let storage: MemoryStorage;

function harness(options: { random?: () => number; url?: string } = {}): Harness {
  const sockets: FakeSocket[] = [];
  const events: ChatSocketEvent[] = [];
  let ids = 0;
  const chat = new ChatSocket({
    url: options.url ?? URL_GUIDE,
    tokens,
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    backoff: BACKOFF,
    random: options.random ?? (() => 0.5),
    pingIntervalMs: 5_000,
    pongTimeoutMs: 2_000,
    offlineAfterAttempts: 3,
    newId: () => `c${++ids}`,
  });
  chat.subscribe((event) => events.push(event));
  return {
    chat,
    sockets,
    events,
    frames: () => events.flatMap((event) => (event.kind === "frame" ? [event.frame] : [])),
    statuses: () => events.flatMap((event) => (event.kind === "status" ? [event.status] : [])),
    latest: () => {
      const socket = sockets.at(-1);
      if (socket === undefined) throw new Error("no socket was created");
      return socket;
    },
  };
}

/** Let the pending connect (it awaits the token) create its socket. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** Open the latest socket and deliver the history, as the server does on connect. */
function accept(socket: FakeSocket, latestEventId = "0-0"): void {
  socket.open();
  socket.receive({
    type: "conversation_restored",
    event_id: latestEventId,
    latest_event_id: latestEventId,
    messages: [],
    message_count: 0,
    session_id: "s1",
  });
}

function chunk(eventId: string, delta: string): Parameters<FakeSocket["receive"]>[0] {
  return { type: "chat_chunk", event_id: eventId, message_id: "r-1", delta };
}

beforeEach(() => {
  vi.useFakeTimers();
  storage = new MemoryStorage();
  tokens = new SessionTokens(storage);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("session token", () => {
  it("connects without a token, then keeps the one the server created", async () => {
    const { chat, latest } = harness();
    chat.start();
    await settle();
    expect(latest().query.has("session_token")).toBe(false);
    latest().open();
    latest().receive({
      type: "session_created",
      session_token: "tok-1",
      session_id: "s1",
      expires_at: 1,
    });
    expect(storage.getItem("agentChat.sessionToken")).toBe("tok-1");
  });

  it("lets one socket create the session while the others wait for its token", async () => {
    const guide = harness();
    const liaison = harness({ url: "ws://chat.test/api/ws/liaison/content" });
    guide.chat.start();
    liaison.chat.start();
    await settle();
    expect(guide.sockets).toHaveLength(1);
    expect(liaison.sockets).toHaveLength(0);
    guide.latest().open();
    guide.latest().receive({
      type: "session_created",
      session_token: "tok-1",
      session_id: "s1",
      expires_at: 1,
    });
    await settle();
    expect(liaison.latest().query.get("session_token")).toBe("tok-1");
  });

  it("starts a new session when the server rejects the token (4001)", async () => {
    storage.setItem("agentChat.sessionToken", "old");
    tokens = new SessionTokens(storage);
    const { chat, latest, sockets, events } = harness();
    chat.start();
    await settle();
    expect(latest().query.get("session_token")).toBe("old");
    latest().open();
    latest().drop(4001, "invalid, unknown or expired session token");
    await settle();
    expect(sockets).toHaveLength(2);
    expect(latest().query.has("session_token")).toBe(false);
    expect(latest().query.has("last_event_id")).toBe(false);
    expect(events.some((event) => event.kind === "session_reset")).toBe(true);
    expect(storage.getItem("agentChat.sessionToken")).toBeNull();
  });
});

describe("resume", () => {
  it("reconnects with the last event id it delivered", async () => {
    tokens.set("tok");
    const { chat, latest } = harness();
    chat.start();
    await settle();
    accept(latest(), "100-0");
    latest().receive(chunk("100-1", "Hel"));
    latest().receive(chunk("100-2", "lo"));
    latest().drop();
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs);
    expect(latest().query.get("session_token")).toBe("tok");
    expect(latest().query.get("last_event_id")).toBe("100-2");
    expect(chat.lastEventId).toBe("100-2");
  });

  it("resumes from the restored history when no event arrived yet", async () => {
    tokens.set("tok");
    const { chat, latest } = harness();
    chat.start();
    await settle();
    accept(latest(), "42-7");
    latest().drop();
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs);
    expect(latest().query.get("last_event_id")).toBe("42-7");
  });

  it("delivers the replayed events between its resume point and the restored history", async () => {
    tokens.set("tok");
    const { chat, latest, frames } = harness();
    chat.start();
    await settle();
    accept(latest(), "100-0");
    latest().receive(chunk("100-1", "a"));
    latest().drop();
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs);
    // The history now ends later than the client's point; the server replays from that point.
    accept(latest(), "200-0");
    latest().receive(chunk("150-0", "b"));
    latest().receive(chunk("250-0", "c"));
    const deltas = frames().flatMap((frame) => (frame.type === "chat_chunk" ? [frame.delta] : []));
    expect(deltas).toEqual(["a", "b", "c"]);
  });

  it("starts over from the fresh history after a gap", async () => {
    tokens.set("tok");
    const { chat, latest, frames } = harness();
    chat.start();
    await settle();
    accept(latest(), "100-0");
    latest().drop();
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs);
    const socket = latest();
    accept(socket, "100-0");
    socket.receive({ type: "gap", last_event_id: "100-0", message: "gone" });
    accept(socket, "900-0");
    socket.receive(chunk("800-0", "stale"));
    socket.receive(chunk("901-0", "fresh"));
    const deltas = frames().flatMap((frame) => (frame.type === "chat_chunk" ? [frame.delta] : []));
    expect(deltas).toEqual(["fresh"]);
  });
});

describe("dedupe", () => {
  it("drops events it has already delivered, however they come back", async () => {
    tokens.set("tok");
    const { chat, latest, frames } = harness();
    chat.start();
    await settle();
    accept(latest(), "1-0");
    latest().receive(chunk("5-0", "one "));
    latest().receive(chunk("5-0", "one "));
    latest().receive(chunk("4-0", "older "));
    latest().receive(chunk("6-0", "two"));
    const deltas = frames().flatMap((frame) => (frame.type === "chat_chunk" ? [frame.delta] : []));
    expect(deltas).toEqual(["one ", "two"]);
    expect(chat.duplicatesDropped).toBe(2);
  });

  it("still delivers the answer to a resend, which repeats an old event id", async () => {
    tokens.set("tok");
    const { chat, latest, frames } = harness();
    chat.start();
    await settle();
    accept(latest(), "1-0");
    latest().receive({
      type: "message_accepted",
      event_id: "5-0",
      message_id: "m-1",
      client_message_id: "c1",
      seq: 1,
    });
    latest().receive({
      type: "message_accepted",
      event_id: "5-0",
      message_id: "m-1",
      client_message_id: "c1",
      seq: 1,
      duplicate: true,
    });
    expect(frames().filter((frame) => frame.type === "message_accepted")).toHaveLength(2);
    expect(chat.lastEventId).toBe("5-0");
  });

  it("orders event ids numerically, not as text", async () => {
    tokens.set("tok");
    const { chat, latest, frames } = harness();
    chat.start();
    await settle();
    accept(latest(), "999-9");
    latest().receive(chunk("1000-0", "later"));
    latest().receive(chunk("999-10", "earlier"));
    expect(frames().filter((frame) => frame.type === "chat_chunk")).toHaveLength(1);
  });
});

describe("messages", () => {
  it("resends an unacknowledged message with the same client_message_id after a reconnect", async () => {
    tokens.set("tok");
    const { chat, latest } = harness();
    chat.start();
    await settle();
    accept(latest());
    const first = chat.send("hello");
    const second = chat.send("again");
    latest().receive({
      type: "message_accepted",
      event_id: "2-0",
      message_id: "m-1",
      client_message_id: first,
      seq: 1,
    });
    latest().drop();
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs);
    const socket = latest();
    expect(socket.frames).toEqual([]); // nothing before the history arrives
    accept(socket, "2-0");
    expect(socket.frames).toEqual([
      { type: "chat_message", message: "again", client_message_id: second },
    ]);
    expect(chat.pending).toEqual([second]);
  });

  it("queues a message sent while disconnected and sends it once connected", async () => {
    tokens.set("tok");
    const { chat, latest } = harness();
    chat.start();
    const id = chat.send("early");
    await settle();
    accept(latest());
    expect(latest().frames).toEqual([
      { type: "chat_message", message: "early", client_message_id: id },
    ]);
  });

  it("stops resending a message the server refused", async () => {
    tokens.set("tok");
    const { chat, latest } = harness();
    chat.start();
    await settle();
    accept(latest());
    const id = chat.send("spam");
    latest().receive({
      type: "error",
      code: "content_policy",
      message: "no",
      client_message_id: id,
    });
    expect(chat.pending).toEqual([]);
  });
});

describe("backoff", () => {
  it("grows exponentially up to a cap, half fixed and half random", () => {
    expect(backoffDelay(1, BACKOFF, () => 0)).toBe(50);
    expect(backoffDelay(1, BACKOFF, () => 1)).toBe(100);
    expect(backoffDelay(2, BACKOFF, () => 1)).toBe(200);
    expect(backoffDelay(3, BACKOFF, () => 0.5)).toBe(300);
    expect(backoffDelay(10, BACKOFF, () => 1)).toBe(1_000);
    expect(backoffDelay(10, BACKOFF, () => 0)).toBe(500);
  });

  it("waits longer after each failed attempt and starts over once connected", async () => {
    tokens.set("tok");
    const { chat, sockets, latest } = harness({ random: () => 1 });
    chat.start();
    await settle();
    latest().drop();
    const expectAttemptAfter = async (waitMs: number) => {
      const before = sockets.length;
      await vi.advanceTimersByTimeAsync(waitMs - 1);
      expect(sockets).toHaveLength(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(sockets).toHaveLength(before + 1);
    };
    await expectAttemptAfter(100);
    latest().drop();
    await expectAttemptAfter(200);
    latest().drop();
    await expectAttemptAfter(400);
    accept(latest());
    latest().drop();
    await expectAttemptAfter(100);
  });

  it("says reconnecting, then offline after repeated failures, then connected", async () => {
    tokens.set("tok");
    const { chat, latest, statuses } = harness();
    chat.start();
    await settle();
    accept(latest());
    for (let attempt = 0; attempt < 3; attempt += 1) {
      latest().drop();
      await vi.advanceTimersByTimeAsync(BACKOFF.maxMs);
    }
    accept(latest());
    expect(statuses()).toEqual([
      "connecting",
      "connected",
      "reconnecting",
      "reconnecting",
      "reconnecting",
      "reconnecting",
      "offline",
      "offline",
      "connected",
    ]);
  });

  it("reconnects at once when asked to", async () => {
    tokens.set("tok");
    const { chat, sockets, latest } = harness();
    chat.start();
    await settle();
    latest().drop();
    chat.retryNow();
    await settle();
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(BACKOFF.maxMs);
    expect(sockets).toHaveLength(2); // the scheduled attempt was replaced, not added
  });

  it("gives up on close codes that a retry cannot fix", async () => {
    tokens.set("tok");
    const { chat, sockets, latest } = harness();
    chat.start();
    await settle();
    latest().drop(4004, "unknown pillar 'nope'");
    await vi.advanceTimersByTimeAsync(BACKOFF.maxMs * 3);
    expect(sockets).toHaveLength(1);
    expect(chat.status).toBe("offline");
    expect(chat.closedReason).toBe("unknown pillar 'nope'");
  });

  it("does not reconnect once stopped", async () => {
    tokens.set("tok");
    const { chat, sockets, latest } = harness();
    chat.start();
    await settle();
    accept(latest());
    chat.stop();
    expect(latest().closedByPage).not.toBeNull();
    latest().drop();
    await vi.advanceTimersByTimeAsync(BACKOFF.maxMs * 3);
    expect(sockets).toHaveLength(1);
  });
});

describe("liveness", () => {
  it("pings, and keeps a connection that answers", async () => {
    tokens.set("tok");
    const { chat, sockets, latest } = harness();
    chat.start();
    await settle();
    accept(latest());
    await vi.advanceTimersByTimeAsync(5_000);
    expect(latest().frames).toEqual([{ type: "ping" }]);
    latest().receive({ type: "pong" });
    await vi.advanceTimersByTimeAsync(4_000);
    expect(sockets).toHaveLength(1);
    expect(chat.status).toBe("connected");
  });

  it("drops a connection that stays silent after a ping, and reconnects", async () => {
    tokens.set("tok");
    const { chat, sockets, latest } = harness();
    chat.start();
    await settle();
    accept(latest(), "7-0");
    await vi.advanceTimersByTimeAsync(5_000 + 2_000);
    expect(sockets[0].closedByPage).not.toBeNull();
    expect(chat.status).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs);
    expect(sockets).toHaveLength(2);
    expect(latest().query.get("last_event_id")).toBe("7-0");
  });
});
