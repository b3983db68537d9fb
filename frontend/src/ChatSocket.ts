// One conversation's WebSocket, kept alive: reconnects with exponential backoff and jitter,
// resumes from the last event it delivered, drops events it has already delivered, resends
// messages the server has not acknowledged (kept in localStorage, so across reloads too), and
// pings to notice a dead connection.

import {
  MAX_PENDING_PER_CONVERSATION,
  nextOrder,
  PENDING_EXPIRY_MS,
  type PendingMessage,
  type PendingStorage,
  PendingStore,
} from "./pendingMessages";
import {
  type ClientFrame,
  CloseCode,
  compareEventIds,
  PERMANENT_CLOSE_CODES,
  parseServerFrame,
  RETRYABLE_SEND_ERRORS,
  retryHint,
  type ServerFrame,
} from "./protocol";
import { browserStorage, SessionTokens, sessionTokens } from "./sessionTokens";

/** What ChatSocket needs of a WebSocket; the browser's WebSocket fits. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "offline";

export type ChatSocketEvent =
  /** A server frame, each conversation event at most once and in order. */
  | { kind: "frame"; frame: ServerFrame }
  | {
      kind: "status";
      status: ConnectionStatus;
      // Failed attempts in a row, and when the next one starts (epoch ms), while reconnecting.
      attempt: number;
      retryAt: number | null;
      // Set when the server closed the socket for good: why, in words.
      closedReason: string | null;
    }
  /** The server rejected the session token; a new session (with an empty history) is started. */
  | { kind: "session_reset" }
  /**
   * Messages that waited `pendingExpiryMs` without an acknowledgement: no longer sent (nor
   * kept in storage). Sending one again with its id (Retry) starts its wait over.
   */
  | { kind: "expired"; messages: Outgoing[] };

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export interface ChatSocketOptions {
  /** The endpoint's ws:// or wss:// URL, without query. */
  url: string;
  tokens?: SessionTokens;
  createSocket?: (url: string, protocols?: string[]) => WebSocketLike;
  /**
   * The subprotocols each new socket offers: the page's identity gives a fresh single-use
   * ticket for every connection (identity.ts). Without it the socket proves no identity.
   */
  protocols?: () => Promise<string[]>;
  backoff?: Partial<Backoff>;
  random?: () => number;
  pingIntervalMs?: number;
  /** No frame at all for this long after a ping: the connection is dead. */
  pongTimeoutMs?: number;
  /** After this many failed attempts in a row the badge says offline (retries go on). */
  offlineAfterAttempts?: number;
  newId?: () => string;
  /** Where unacknowledged messages are kept across reloads; the page's localStorage by default. */
  pendingStorage?: PendingStorage | null;
  /** At most this many unacknowledged messages; send() refuses another. */
  maxPending?: number;
  /** How long a message may wait for its acknowledgement before it counts as not sent. */
  pendingExpiryMs?: number;
}

export interface SendResult {
  clientMessageId: string;
  /** False when `maxPending` messages wait already: this one was neither kept nor sent. */
  queued: boolean;
}

/** A message waiting for the server's acknowledgement. */
export interface Outgoing {
  clientMessageId: string;
  message: string;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 15_000, factor: 2 };

const OPEN = 1;

/**
 * The wait before reconnect attempt `attempt` (1, 2, ...): exponential up to a cap, with
 * "equal jitter" (half fixed, half random) so that many pages do not return at once.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** (attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

export class ChatSocket {
  private readonly url: string;
  private readonly tokens: SessionTokens;
  private readonly createSocket: (url: string, protocols?: string[]) => WebSocketLike;
  private readonly protocols: (() => Promise<string[]>) | null;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly offlineAfterAttempts: number;
  private readonly newId: () => string;
  private readonly store: PendingStore;
  private readonly maxPending: number;
  private readonly pendingExpiryMs: number;

  private readonly listeners = new Set<(event: ChatSocketEvent) => void>();
  // Messages sent but not yet acknowledged, oldest first, resent on every new connection. The
  // store holds the same messages, for the next ChatSocket of this endpoint (after a reload).
  private outbox = new Map<string, PendingMessage>();
  // Messages the server could not take yet (`unavailable`, `rate_limited`): sent again when
  // the resend timer fires, after a backoff that grows while the server keeps refusing.
  private readonly toResend = new Set<string>();
  private resendTimer: ReturnType<typeof setTimeout> | null = null;
  private resendAttempt = 0;
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;

  private socket: WebSocketLike | null = null;
  // True once the current socket delivered `conversation_restored`: frames may be sent.
  private ready = false;
  private stopped = true;
  // Bumped whenever a connection is given up, so late callbacks of the old one do nothing.
  private generation = 0;
  private attempt = 0;
  private everConnected = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  // The token this connection uses, or null while it is the one creating the session.
  private connectedWith: string | null = null;
  private creatingSession = false;

  /** The id of the last conversation event delivered; sent as `last_event_id` on reconnect. */
  lastEventId: string | null = null;
  // The id the current connection resumes from (null: it starts from the restored history).
  private resumedFrom: string | null = null;
  private afterGap = false;

  status: ConnectionStatus = "offline";
  closedReason: string | null = null;
  retryAt: number | null = null;
  /** Events dropped because they had been delivered before (for tests and diagnostics). */
  duplicatesDropped = 0;

  constructor(options: ChatSocketOptions) {
    this.url = options.url;
    this.tokens = options.tokens ?? sessionTokens;
    this.createSocket =
      options.createSocket ?? ((url, protocols) => new WebSocket(url, protocols) as WebSocketLike);
    this.protocols = options.protocols ?? null;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.pingIntervalMs = options.pingIntervalMs ?? 20_000;
    this.pongTimeoutMs = options.pongTimeoutMs ?? 10_000;
    this.offlineAfterAttempts = options.offlineAfterAttempts ?? 4;
    this.newId = options.newId ?? randomId;
    const storage =
      options.pendingStorage === undefined ? browserStorage() : options.pendingStorage;
    this.store = new PendingStore(storage, options.url);
    this.maxPending = options.maxPending ?? MAX_PENDING_PER_CONVERSATION;
    this.pendingExpiryMs = options.pendingExpiryMs ?? PENDING_EXPIRY_MS;
  }

  subscribe(listener: (event: ChatSocketEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.closedReason = null;
    this.loadPending();
    // Messages an earlier page left waiting too long are shown as not sent, not sent now.
    this.expireDue();
    void this.connect();
  }

  /**
   * Close for good: no reconnects. Unacknowledged messages stay stored, and the next
   * ChatSocket of this endpoint (the page reloaded, or the user came back to this tab)
   * sends them.
   */
  stop(): void {
    this.stopped = true;
    this.abandonConnection();
    this.clearReconnect();
    this.clearResend();
    this.clearExpiry();
    this.outbox.clear();
  }

  /** Skip the remaining backoff wait and connect now. */
  retryNow(): void {
    if (this.stopped) {
      this.start();
      return;
    }
    if (this.socket !== null) return;
    this.clearReconnect();
    void this.connect();
  }

  /**
   * Send a chat message. Until the server acknowledges it (or refuses it for good), the message
   * is kept, in storage too, and sent again with the same client_message_id after every
   * reconnect and every reload, so that it is accepted once. Sending the id of a message that
   * is still waiting sends it again now.
   */
  send(message: string, clientMessageId: string = this.newId()): SendResult {
    let entry = this.outbox.get(clientMessageId);
    if (entry === undefined) {
      if (this.outbox.size >= this.maxPending) return { clientMessageId, queued: false };
      entry = { clientMessageId, message, session: this.tokens.current, order: nextOrder() };
      this.outbox.set(clientMessageId, entry);
      // Storage full or disabled: the message is still sent, it just would not survive a reload.
      this.store.save(entry);
      this.scheduleExpiry();
    }
    this.toResend.delete(clientMessageId);
    if (this.ready) this.transmitMessage(entry);
    return { clientMessageId, queued: true };
  }

  /** Ask the server to stop a reply; false when there is no open connection to ask on. */
  cancel(messageId: string): boolean {
    if (!this.ready) return false;
    return this.transmit({ type: "cancel", message_id: messageId });
  }

  /**
   * Ask for a new version of a reply, or send an edited message; false when there is no open
   * connection. The frame's client_message_id makes a repeat count once.
   */
  request(frame: Extract<ClientFrame, { type: "regenerate" | "edit_message" }>): boolean {
    if (!this.ready) return false;
    return this.transmit(frame);
  }

  /** The client_message_ids of the messages sent but not acknowledged yet, oldest first. */
  get pending(): string[] {
    return [...this.outbox.keys()];
  }

  /** The messages sent but not acknowledged yet, oldest first: the page shows them as sending. */
  get pendingMessages(): Outgoing[] {
    return [...this.outbox.values()].map(({ clientMessageId, message }) => ({
      clientMessageId,
      message,
    }));
  }

  // --- connecting ----------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    this.setStatus(
      this.everConnected || this.attempt > 0 ? this.reconnectingStatus() : "connecting",
    );
    const token = await this.tokens.acquire();
    if (this.stopped || generation !== this.generation) {
      if (token === null) this.tokens.release();
      return;
    }
    this.connectedWith = token;
    this.creatingSession = token === null;
    // A new session has a new conversation: nothing to resume from.
    this.resumedFrom = token === null ? null : this.lastEventId;
    if (token === null) this.lastEventId = null;
    const query = new URLSearchParams();
    // A socket that proves its user names the chat by id; the token stays out of the URL.
    const chatId = this.tokens.chatId;
    if (token !== null && chatId !== null && this.protocols !== null) query.set("chat_id", chatId);
    else if (token !== null) query.set("session_token", token);
    if (this.resumedFrom !== null) query.set("last_event_id", this.resumedFrom);
    const search = query.toString();
    const url = search ? `${this.url}?${search}` : this.url;
    let socket: WebSocketLike;
    try {
      const protocols = this.protocols === null ? undefined : await this.protocols();
      if (this.stopped || generation !== this.generation) {
        if (token === null) this.tokens.release();
        return;
      }
      socket = this.createSocket(url, protocols);
    } catch {
      this.onClosed(generation, { code: 1006, reason: "" });
      return;
    }
    this.socket = socket;
    this.ready = false;
    socket.onmessage = (event) => this.onMessage(generation, event.data);
    socket.onclose = (event) => this.onClosed(generation, event);
    socket.onerror = () => {
      // A close event always follows; that is where reconnecting starts.
    };
  }

  private onMessage(generation: number, data: unknown): void {
    if (generation !== this.generation) return;
    this.clearPongTimer();
    const frame = parseServerFrame(data);
    if (frame === null) return;
    switch (frame.type) {
      case "pong":
        return;
      case "session_created":
        this.creatingSession = false;
        this.connectedWith = frame.session_token;
        this.tokens.set(frame.session_token);
        this.tokens.setChatId(frame.session_token, frame.session_id);
        break;
      case "conversation_restored":
        if (this.connectedWith !== null) {
          this.tokens.setChatId(this.connectedWith, frame.session_id);
        }
        this.onRestored(frame.latest_event_id);
        break;
      case "gap":
        this.afterGap = true;
        break;
      case "message_accepted":
        if (frame.client_message_id) this.forget(frame.client_message_id);
        // The server takes messages again: the next refusal starts the backoff over.
        this.resendAttempt = 0;
        // The answer to a resend repeats the original event's id: not a new event.
        if (frame.duplicate) {
          this.emit({ kind: "frame", frame });
          return;
        }
        break;
      case "error":
        if (frame.client_message_id) {
          // Could not take it now: send it again later. Any other refusal is final; the page
          // shows it, and the message is not kept.
          if (RETRYABLE_SEND_ERRORS.has(frame.code)) this.resendLater([frame.client_message_id]);
          else this.forget(frame.client_message_id);
        } else if (frame.code === "rate_limited") {
          // The socket's frame limit dropped a frame without saying which: send every waiting
          // message again (the server accepts each once, whatever it already has).
          this.resendLater(this.outbox.keys());
        }
        break;
    }
    if (frame.type !== "conversation_restored" && frame.event_id !== null) {
      if (this.lastEventId !== null && compareEventIds(frame.event_id, this.lastEventId) <= 0) {
        this.duplicatesDropped += 1;
        return;
      }
      this.lastEventId = frame.event_id;
    }
    this.emit({ kind: "frame", frame });
  }

  private onRestored(latestEventId: string): void {
    // The events that follow start after the id this connection resumed from, or after the
    // restored history when it resumed from nothing (or the server lost what it asked for).
    if (this.resumedFrom === null || this.afterGap) this.lastEventId = latestEventId;
    this.afterGap = false;
    this.ready = true;
    this.attempt = 0;
    this.everConnected = true;
    this.closedReason = null;
    this.setStatus("connected");
    this.startPings();
    // Everything waiting goes now, so nothing is left for the resend timer.
    this.clearResend();
    for (const entry of this.outbox.values()) this.transmitMessage(entry);
  }

  private onClosed(generation: number, event: { code: number; reason: string }): void {
    if (generation !== this.generation) return;
    this.handleClose(event);
  }

  private handleClose(event: { code: number; reason: string }): void {
    this.socket = null;
    this.ready = false;
    this.stopTimers();
    if (this.creatingSession) {
      this.creatingSession = false;
      this.tokens.release();
    }
    if (this.stopped) return;
    if (event.code === CloseCode.InvalidToken) {
      if (this.connectedWith !== null) this.tokens.reject(this.connectedWith);
      this.lastEventId = null;
      this.emit({ kind: "session_reset" });
      // Not a network failure: start the new session at once.
      void this.connect();
      return;
    }
    if (event.code === CloseCode.ServiceRestart) {
      // A deploy, not a failure: the new process or another replica takes the socket now.
      this.setStatus("reconnecting");
      void this.connect();
      return;
    }
    if (PERMANENT_CLOSE_CODES.has(event.code)) {
      this.stopped = true;
      this.closedReason = event.reason || `The server closed the connection (${event.code}).`;
      this.setStatus("offline");
      return;
    }
    // "Too many" closes (and a socket that fell behind) say how long to wait; show why.
    const hint = retryHint(event.reason);
    if (hint !== null && hint.waitMs > 0) this.closedReason = hint.text;
    this.scheduleReconnect(hint?.waitMs ?? 0);
  }

  private scheduleReconnect(minimumMs = 0): void {
    this.attempt += 1;
    const delay = Math.max(minimumMs, backoffDelay(this.attempt, this.backoff, this.random));
    this.retryAt = Date.now() + delay;
    this.setStatus(this.reconnectingStatus());
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  private reconnectingStatus(): ConnectionStatus {
    const browserOffline = typeof navigator !== "undefined" && navigator.onLine === false;
    return browserOffline || this.attempt >= this.offlineAfterAttempts ? "offline" : "reconnecting";
  }

  /** Give up the current connection (and any connect in progress) without a close event. */
  private abandonConnection(): void {
    this.generation += 1;
    this.stopTimers();
    if (this.creatingSession) {
      this.creatingSession = false;
      this.tokens.release();
    }
    this.detachSocket();
  }

  /** Close the current socket without waiting for its close handshake or its events. */
  private detachSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    if (socket === null) return;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    try {
      socket.close(1000, "closed by the page");
    } catch {
      // Already closed.
    }
  }

  // --- unacknowledged messages --------------------------------------------------------------

  /** Add the stored messages of this endpoint (from an earlier page or tab) to the outbox. */
  private loadPending(): void {
    const entries = new Map(this.outbox);
    for (const entry of this.store.load()) {
      if (!entries.has(entry.clientMessageId)) entries.set(entry.clientMessageId, entry);
    }
    this.outbox = new Map([...entries].sort(([, a], [, b]) => a.order - b.order));
  }

  /** The server acknowledged the message, or refused it for good: stop sending it. */
  private forget(clientMessageId: string): void {
    this.outbox.delete(clientMessageId);
    this.toResend.delete(clientMessageId);
    this.store.delete(clientMessageId);
  }

  /** Give up on the messages that waited too long, and say so; then wait for the next one. */
  private expireDue(): void {
    this.clearExpiry();
    const now = Date.now();
    const expired: Outgoing[] = [];
    for (const entry of [...this.outbox.values()]) {
      // `order` is the time the message was typed (or last retried).
      if (now - entry.order < this.pendingExpiryMs) continue;
      this.forget(entry.clientMessageId);
      expired.push({ clientMessageId: entry.clientMessageId, message: entry.message });
    }
    if (expired.length > 0) this.emit({ kind: "expired", messages: expired });
    this.scheduleExpiry();
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer !== null || this.stopped) return;
    let oldest = Infinity;
    for (const entry of this.outbox.values()) oldest = Math.min(oldest, entry.order);
    if (oldest === Infinity) return;
    const delay = Math.max(0, oldest + this.pendingExpiryMs - Date.now());
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      this.expireDue();
    }, delay);
  }

  private clearExpiry(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  private resendLater(clientMessageIds: Iterable<string>): void {
    for (const id of clientMessageIds) if (this.outbox.has(id)) this.toResend.add(id);
    if (this.toResend.size === 0 || this.resendTimer !== null) return;
    this.resendAttempt += 1;
    const delay = backoffDelay(this.resendAttempt, this.backoff, this.random);
    this.resendTimer = setTimeout(() => {
      this.resendTimer = null;
      const due = new Set(this.toResend);
      this.toResend.clear();
      // Not connected: the next connection sends every waiting message anyway.
      if (!this.ready) return;
      for (const entry of this.outbox.values()) {
        if (due.has(entry.clientMessageId)) this.transmitMessage(entry);
      }
    }, delay);
  }

  private clearResend(): void {
    if (this.resendTimer !== null) clearTimeout(this.resendTimer);
    this.resendTimer = null;
    this.toResend.clear();
  }

  private transmitMessage(entry: PendingMessage): boolean {
    return this.transmit({
      type: "chat_message",
      message: entry.message,
      client_message_id: entry.clientMessageId,
    });
  }

  // --- liveness --------------------------------------------------------------------------------

  private startPings(): void {
    this.stopTimers();
    this.pingTimer = setInterval(() => {
      if (!this.transmit({ type: "ping" }) || this.pongTimer !== null) return;
      this.pongTimer = setTimeout(() => {
        this.pongTimer = null;
        // Silence after a ping: the connection is dead even if the browser has not noticed.
        this.detachSocket();
        this.handleClose({ code: 4000, reason: "no pong" });
      }, this.pongTimeoutMs);
    }, this.pingIntervalMs);
  }

  private clearPongTimer(): void {
    if (this.pongTimer !== null) clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  private stopTimers(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.clearPongTimer();
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.retryAt = null;
  }

  // --- plumbing --------------------------------------------------------------------------------

  private transmit(frame: ClientFrame): boolean {
    const socket = this.socket;
    if (socket === null || socket.readyState !== OPEN) return false;
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  private setStatus(status: ConnectionStatus): void {
    if (status !== "reconnecting" && status !== "offline") this.retryAt = null;
    this.status = status;
    this.emit({
      kind: "status",
      status,
      attempt: this.attempt,
      retryAt: this.retryAt,
      closedReason: this.closedReason,
    });
  }

  private emit(event: ChatSocketEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}

function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
