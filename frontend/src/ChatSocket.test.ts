import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import {
  type Backoff,
  backoffDelay,
  ChatSocket,
  type ChatSocketEvent,
  type WebSocketLike,
} from "./ChatSocket";
import type { PendingStorage } from "./pendingMessages";
import type { ErrorCode, MessageAcceptedFrame, ServerFrame } from "./protocol";
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

  constructor(
    readonly url: string,
    readonly protocols?: string[],
  ) {}

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

/** localStorage as one browser profile has it: shared by its pages, kept across reloads. */
class MemoryStorage implements TokenStorage, PendingStorage {
  values = new Map<string, string>();
  get length(): number {
    return this.values.size;
  }
  key(index: number): string | null {
    return [...this.values.keys()][index] ?? null;
  }
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

interface HarnessOptions {
  random?: () => number;
  protocols?: () => Promise<string[]>;
  url?: string;
  maxPending?: number;
  pendingExpiryMs?: number;
  pendingStorage?: PendingStorage | null;
  // Where this page's client_message_ids start: a reloaded page must not reuse the old ones.
  firstId?: number;
}

function harness(options: HarnessOptions = {}): Harness {
  const sockets: FakeSocket[] = [];
  const events: ChatSocketEvent[] = [];
  let ids = options.firstId ?? 0;
  const chat = new ChatSocket({
    url: options.url ?? URL_GUIDE,
    tokens,
    createSocket: (url, protocols) => {
      const socket = new FakeSocket(url, protocols);
      sockets.push(socket);
      return socket;
    },
    protocols: options.protocols,
    backoff: BACKOFF,
    random: options.random ?? (() => 0.5),
    pingIntervalMs: 5_000,
    pongTimeoutMs: 2_000,
    offlineAfterAttempts: 3,
    newId: () => `c${++ids}`,
    pendingStorage: options.pendingStorage === undefined ? storage : options.pendingStorage,
    maxPending: options.maxPending,
    pendingExpiryMs: options.pendingExpiryMs,
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

  it("offers a fresh ticket per socket and names the chat by id, not by token", async () => {
    let tickets = 0;
    const { chat, latest, sockets } = harness({
      protocols: async () => ["chat.v1", `ticket.t${++tickets}`],
    });
    chat.start();
    await settle();
    expect(latest().protocols).toEqual(["chat.v1", "ticket.t1"]);
    latest().open();
    latest().receive({
      type: "session_created",
      session_token: "tok-1",
      session_id: "s1",
      expires_at: 1,
    });
    latest().drop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sockets).toHaveLength(2);
    expect(latest().protocols).toEqual(["chat.v1", "ticket.t2"]);
    expect(latest().query.get("chat_id")).toBe("s1");
    expect(latest().query.has("session_token")).toBe(false);
    // The token is still the chat's handle for REST, kept across reloads with its id.
    expect(storage.getItem("agentChat.sessionToken")).toBe("tok-1");
    expect(storage.getItem("agentChat.chatId")).toBe("s1");
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
    const first = chat.send("hello").clientMessageId;
    const second = chat.send("again").clientMessageId;
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
    const id = chat.send("early").clientMessageId;
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
    const id = chat.send("spam").clientMessageId;
    latest().receive({
      type: "error",
      code: "content_policy",
      message: "no",
      client_message_id: id,
    });
    expect(chat.pending).toEqual([]);
  });
});

/** The pending-message keys the page left in storage. */
function storedPending(): string[] {
  return [...storage.values.keys()].filter((key) => key.startsWith("agentChat.pending."));
}

function chatMessages(socket: FakeSocket): Array<Record<string, unknown>> {
  return socket.frames.filter((frame) => frame.type === "chat_message");
}

function acknowledge(
  socket: FakeSocket,
  clientMessageId: string,
  fields: Partial<MessageAcceptedFrame> = {},
): void {
  socket.receive({
    type: "message_accepted",
    event_id: "2-0",
    message_id: `m-${clientMessageId}`,
    client_message_id: clientMessageId,
    seq: 1,
    ...fields,
  });
}

/** A page that sent `messages` while the API was down: it never connected. */
async function offlinePage(...messages: string[]): Promise<{ page: Harness; ids: string[] }> {
  const page = harness();
  page.chat.start();
  await settle();
  page.latest().drop();
  const ids = messages.map((message) => page.chat.send(message).clientMessageId);
  return { page, ids };
}

describe("messages that wait too long", () => {
  const EXPIRY = 60_000;

  // Later than every order value earlier tests handed out (they move the fake clock on).
  let day = 0;
  beforeEach(() => vi.setSystemTime(Date.UTC(2030, 0, 1) + ++day * 86_400_000));

  function expired(events: ChatSocketEvent[]): string[] {
    return events.flatMap((event) =>
      event.kind === "expired" ? event.messages.map((each) => each.clientMessageId) : [],
    );
  }

  it("gives up on a message not acknowledged in time, and resends it once on retry", async () => {
    tokens.set("tok");
    const page = harness({ pendingExpiryMs: EXPIRY });
    page.chat.start();
    await settle();
    page.latest().drop();
    const { clientMessageId } = page.chat.send("still there?");
    await vi.advanceTimersByTimeAsync(EXPIRY - 1);
    expect(expired(page.events)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(expired(page.events)).toEqual([clientMessageId]);
    expect(page.chat.pending).toEqual([]);
    expect(storedPending()).toEqual([]);
    // The server is back: the expired message is not sent by itself.
    await vi.advanceTimersByTimeAsync(BACKOFF.maxMs);
    accept(page.latest());
    expect(chatMessages(page.latest())).toEqual([]);
    // Retry: the same id, once.
    page.chat.send("still there?", clientMessageId);
    expect(chatMessages(page.latest())).toEqual([
      { type: "chat_message", message: "still there?", client_message_id: clientMessageId },
    ]);
    acknowledge(page.latest(), clientMessageId);
    await vi.advanceTimersByTimeAsync(EXPIRY * 2);
    expect(expired(page.events)).toEqual([clientMessageId]);
  });

  it("shows a stored message that waited too long as expired on the reloaded page", async () => {
    tokens.set("tok");
    const { page, ids } = await offlinePage("old");
    page.chat.stop();
    vi.setSystemTime(Date.now() + EXPIRY);
    const reloaded = harness({ firstId: 100, pendingExpiryMs: EXPIRY });
    reloaded.chat.start();
    expect(expired(reloaded.events)).toEqual(ids);
    await settle();
    accept(reloaded.latest());
    expect(chatMessages(reloaded.latest())).toEqual([]);
    expect(storedPending()).toEqual([]);
  });

  it("never expires a message the server acknowledged", async () => {
    tokens.set("tok");
    const page = harness({ pendingExpiryMs: EXPIRY });
    page.chat.start();
    await settle();
    accept(page.latest());
    const { clientMessageId } = page.chat.send("hi");
    acknowledge(page.latest(), clientMessageId);
    await vi.advanceTimersByTimeAsync(EXPIRY * 2);
    expect(expired(page.events)).toEqual([]);
  });
});

describe("messages kept across reloads", () => {
  it("sends a message queued offline from the reloaded page, once, with its original id", async () => {
    tokens.set("tok");
    const { ids } = await offlinePage("hello");
    // The page reloads: a new ChatSocket on the same storage. (A reload runs no clean-up.)
    const reloaded = harness({ firstId: 100 });
    reloaded.chat.start();
    expect(reloaded.chat.pendingMessages).toEqual([{ clientMessageId: ids[0], message: "hello" }]);
    await settle();
    const socket = reloaded.latest();
    accept(socket);
    expect(chatMessages(socket)).toEqual([
      { type: "chat_message", message: "hello", client_message_id: ids[0] },
    ]);
    acknowledge(socket, ids[0]);
    await vi.advanceTimersByTimeAsync(BACKOFF.maxMs * 3);
    expect(chatMessages(socket)).toHaveLength(1);
    expect(reloaded.chat.pending).toEqual([]);
    expect(storedPending()).toEqual([]);
  });

  it("sends them again when the user comes back to the tab, in the order they were typed", async () => {
    tokens.set("tok");
    const { page, ids } = await offlinePage("one", "two", "three");
    page.chat.stop(); // the tab is switched away: its socket closes
    const back = harness({ firstId: 100 });
    back.chat.start();
    await settle();
    accept(back.latest());
    expect(chatMessages(back.latest()).map((frame) => frame.client_message_id)).toEqual(ids);
    expect(chatMessages(back.latest()).map((frame) => frame.message)).toEqual([
      "one",
      "two",
      "three",
    ]);
  });

  it("keeps a message typed before the page had a session, for the session created later", async () => {
    const { ids } = await offlinePage("first words");
    const reloaded = harness({ firstId: 100 });
    reloaded.chat.start();
    await settle();
    const socket = reloaded.latest();
    expect(socket.query.has("session_token")).toBe(false);
    socket.open();
    socket.receive({
      type: "session_created",
      session_token: "new",
      session_id: "s",
      expires_at: 1,
    });
    accept(socket);
    expect(chatMessages(socket)).toEqual([
      { type: "chat_message", message: "first words", client_message_id: ids[0] },
    ]);
  });

  it("forgets an acknowledged message", async () => {
    tokens.set("tok");
    const { chat, latest } = harness();
    chat.start();
    await settle();
    accept(latest());
    const id = chat.send("hello").clientMessageId;
    expect(storedPending()).toHaveLength(1);
    acknowledge(latest(), id);
    expect(storedPending()).toEqual([]);
    latest().drop();
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs);
    accept(latest(), "2-0");
    expect(chatMessages(latest())).toEqual([]);
    const reloaded = harness({ firstId: 100 });
    reloaded.chat.start();
    expect(reloaded.chat.pending).toEqual([]);
  });

  it("forgets a message the server refused for good, and passes the refusal on", async () => {
    tokens.set("tok");
    const { ids } = await offlinePage("buy now", "fine");
    const reloaded = harness({ firstId: 100 });
    reloaded.chat.start();
    await settle();
    accept(reloaded.latest());
    reloaded.latest().receive({
      type: "error",
      code: "content_policy",
      message: "Blocked term.",
      client_message_id: ids[0],
    });
    expect(reloaded.chat.pending).toEqual([ids[1]]);
    expect(storedPending()).toHaveLength(1);
    const refusal = reloaded.frames().find((frame) => frame.type === "error");
    expect(refusal).toMatchObject({ code: "content_policy", client_message_id: ids[0] });
    // Gone for good: neither a reconnect nor another reload sends it again.
    reloaded.latest().drop();
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs);
    accept(reloaded.latest());
    expect(chatMessages(reloaded.latest()).map((frame) => frame.client_message_id)).toEqual([
      ids[1],
    ]);
  });

  it("forgets a message when the resend is answered as a duplicate", async () => {
    tokens.set("tok");
    // Accepted just before the reload, but the acknowledgement never reached the page.
    const { ids } = await offlinePage("hello");
    const reloaded = harness({ firstId: 100 });
    reloaded.chat.start();
    await settle();
    accept(reloaded.latest(), "5-0");
    acknowledge(reloaded.latest(), ids[0], { event_id: "3-0", duplicate: true });
    expect(reloaded.chat.pending).toEqual([]);
    expect(storedPending()).toEqual([]);
    expect(reloaded.frames().filter((frame) => frame.type === "message_accepted")).toHaveLength(1);
  });

  it("keeps a message the server could not take yet and sends it again, backing off", async () => {
    tokens.set("tok");
    const { chat, latest } = harness(); // random 0.5: the first wait is 75 ms, then 150 ms
    chat.start();
    await settle();
    accept(latest());
    const id = chat.send("hello").clientMessageId;
    const refuse = (code: ErrorCode) =>
      latest().receive({ type: "error", code, message: "later", client_message_id: id });
    refuse("unavailable");
    expect(chat.pending).toEqual([id]);
    expect(storedPending()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(74);
    expect(chatMessages(latest())).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(chatMessages(latest())).toHaveLength(2);
    refuse("rate_limited");
    await vi.advanceTimersByTimeAsync(149);
    expect(chatMessages(latest())).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(chatMessages(latest())).toHaveLength(3);
    acknowledge(latest(), id);
    await vi.advanceTimersByTimeAsync(BACKOFF.maxMs * 3);
    expect(chatMessages(latest())).toHaveLength(3);
    expect(chat.pending).toEqual([]);
    expect(storedPending()).toEqual([]);
  });

  it("resends a message no worker took (unavailable) with the same id, across a restart", async () => {
    tokens.set("tok");
    const { chat, latest } = harness();
    chat.start();
    await settle();
    accept(latest());
    const id = chat.send("hello").clientMessageId;
    latest().receive({
      type: "error",
      code: "unavailable",
      message: "later",
      client_message_id: id,
    });
    latest().drop(1012, "the server is restarting; reconnect");
    await settle();
    accept(latest());
    expect(chatMessages(latest()).map((frame) => frame.client_message_id)).toEqual([id]);
    expect(chatMessages(latest()).map((frame) => frame.message)).toEqual(["hello"]);
    acknowledge(latest(), id, { duplicate: true });
    expect(chat.pending).toEqual([]);
    expect(storedPending()).toEqual([]);
  });

  it("sends every waiting message again when the socket's frame limit dropped one", async () => {
    tokens.set("tok");
    const { chat, latest } = harness();
    chat.start();
    await settle();
    accept(latest());
    const first = chat.send("one").clientMessageId;
    const second = chat.send("two").clientMessageId;
    acknowledge(latest(), first);
    // The frame limit names no message.
    latest().receive({ type: "error", code: "rate_limited", message: "Too many frames." });
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs);
    expect(chatMessages(latest()).map((frame) => frame.client_message_id)).toEqual([
      first,
      second,
      second,
    ]);
  });

  it("refuses a message beyond the limit instead of dropping one", async () => {
    tokens.set("tok");
    const { chat, latest } = harness({ maxPending: 2 });
    chat.start();
    await settle();
    expect(chat.send("one").queued).toBe(true);
    expect(chat.send("two").queued).toBe(true);
    const third = chat.send("three");
    expect(third.queued).toBe(false);
    expect(chat.pending).toHaveLength(2);
    expect(storedPending()).toHaveLength(2);
    accept(latest());
    expect(chatMessages(latest()).map((frame) => frame.message)).toEqual(["one", "two"]);
    acknowledge(latest(), chat.pending[0]);
    // Room again: the refused message can be sent with its id.
    expect(chat.send("three", third.clientMessageId).queued).toBe(true);
    expect(chatMessages(latest()).at(-1)).toMatchObject({
      client_message_id: third.clientMessageId,
    });
  });

  it("ignores what it cannot read in storage, and leaves other keys alone", async () => {
    tokens.set("tok");
    const ours = `agentChat.pending.v1\n${URL_GUIDE}\n`;
    const other = `agentChat.pending.v1\nws://chat.test/api/ws/liaison/content\nx1`;
    const entry = (fields: Record<string, unknown>) =>
      JSON.stringify({
        clientMessageId: "ok",
        message: "kept",
        session: "tok",
        order: Date.now(),
        ...fields,
      });
    storage.setItem(`${ours}ok`, entry({}));
    storage.setItem(`${ours}bad-json`, "{not json");
    storage.setItem(`${ours}null`, "null");
    storage.setItem(`${ours}wrong-key`, entry({ clientMessageId: "elsewhere" }));
    storage.setItem(`${ours}no-text`, entry({ clientMessageId: "no-text", message: 42 }));
    storage.setItem(`${ours}bad-order`, entry({ clientMessageId: "bad-order", order: "soon" }));
    storage.setItem(other, entry({ clientMessageId: "x1" }));
    storage.setItem("someone.else", "whatever");
    const { chat, latest } = harness();
    chat.start();
    expect(chat.pendingMessages).toEqual([{ clientMessageId: "ok", message: "kept" }]);
    expect([...storage.values.keys()].sort()).toEqual(
      ["agentChat.sessionToken", `${ours}ok`, other, "someone.else"].sort(),
    );
    await settle();
    accept(latest());
    expect(chatMessages(latest())).toEqual([
      { type: "chat_message", message: "kept", client_message_id: "ok" },
    ]);
  });

  it("still sends when storage is disabled or full", async () => {
    tokens.set("tok");
    const broken: PendingStorage = {
      length: 0,
      key: () => {
        throw new Error("SecurityError");
      },
      getItem: () => {
        throw new Error("SecurityError");
      },
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
      removeItem: () => {
        throw new Error("SecurityError");
      },
    };
    const { chat, latest } = harness({ pendingStorage: broken });
    chat.start();
    await settle();
    accept(latest());
    const id = chat.send("hello").clientMessageId;
    expect(chatMessages(latest())).toEqual([
      { type: "chat_message", message: "hello", client_message_id: id },
    ]);
    acknowledge(latest(), id);
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

  it("reconnects at once when the server restarts (1012), then backs off if that fails", async () => {
    tokens.set("tok");
    const { chat, sockets, latest } = harness({ random: () => 1 });
    chat.start();
    await settle();
    accept(latest());
    latest().drop(1012, "the server is restarting; reconnect");
    await settle();
    expect(sockets).toHaveLength(2);
    expect(chat.status).toBe("reconnecting");
    latest().drop(); // nothing answers yet: the usual backoff applies
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs - 1);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(3);
  });

  it("backs off when the server says try again later (1013)", async () => {
    tokens.set("tok");
    const { chat, sockets, latest } = harness({ random: () => 1 });
    chat.start();
    await settle();
    latest().drop(1013, "the chat service is unavailable; try again later");
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs - 1);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(2);
    expect(chat.status).toBe("reconnecting");
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

  it("waits the retry hint of a 'too many' close, showing why, then reconnects", async () => {
    tokens.set("tok");
    const { chat, sockets, latest } = harness();
    chat.start();
    await settle();
    latest().drop(4009, "Too many new sessions from your address. retry_after=30");
    expect(chat.status).toBe("reconnecting");
    expect(chat.closedReason).toBe("Too many new sessions from your address.");
    await vi.advanceTimersByTimeAsync(30_000 - 1);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(2);
    accept(latest());
    expect(chat.closedReason).toBeNull();
  });

  it("resumes from its last event at once after falling behind", async () => {
    tokens.set("tok");
    const { chat, sockets, latest } = harness();
    chat.start();
    await settle();
    accept(latest());
    latest().receive(chunk("5-0", "hi"));
    latest().drop(4012, "Fell behind; reconnect with last_event_id. retry_after=0");
    expect(chat.closedReason).toBeNull();
    await vi.advanceTimersByTimeAsync(BACKOFF.initialMs);
    expect(sockets).toHaveLength(2);
    expect(latest().query.get("last_event_id")).toBe("5-0");
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
