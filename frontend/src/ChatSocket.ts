// One conversation's WebSocket, kept alive: reconnects with exponential backoff and jitter,
// resumes from the last event it delivered, drops events it has already delivered, resends
// messages the server has not acknowledged, and pings to notice a dead connection.

import {
  type ClientFrame,
  CloseCode,
  compareEventIds,
  PERMANENT_CLOSE_CODES,
  parseServerFrame,
  type ServerFrame,
} from "./protocol";
import { SessionTokens, sessionTokens } from "./sessionTokens";

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
  | { kind: "session_reset" };

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export interface ChatSocketOptions {
  /** The endpoint's ws:// or wss:// URL, without query. */
  url: string;
  tokens?: SessionTokens;
  createSocket?: (url: string) => WebSocketLike;
  backoff?: Partial<Backoff>;
  random?: () => number;
  pingIntervalMs?: number;
  /** No frame at all for this long after a ping: the connection is dead. */
  pongTimeoutMs?: number;
  /** After this many failed attempts in a row the badge says offline (retries go on). */
  offlineAfterAttempts?: number;
  newId?: () => string;
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

interface Outgoing {
  clientMessageId: string;
  message: string;
}

export class ChatSocket {
  private readonly url: string;
  private readonly tokens: SessionTokens;
  private readonly createSocket: (url: string) => WebSocketLike;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly offlineAfterAttempts: number;
  private readonly newId: () => string;

  private readonly listeners = new Set<(event: ChatSocketEvent) => void>();
  // Messages sent but not yet acknowledged, resent on every new connection.
  private readonly outbox = new Map<string, Outgoing>();

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
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as WebSocketLike);
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.pingIntervalMs = options.pingIntervalMs ?? 20_000;
    this.pongTimeoutMs = options.pongTimeoutMs ?? 10_000;
    this.offlineAfterAttempts = options.offlineAfterAttempts ?? 4;
    this.newId = options.newId ?? randomId;
  }

  subscribe(listener: (event: ChatSocketEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.closedReason = null;
    void this.connect();
  }

  /** Close for good: no reconnects, unacknowledged messages are forgotten. */
  stop(): void {
    this.stopped = true;
    this.abandonConnection();
    this.clearReconnect();
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
   * Send a chat message; returns its client_message_id. Until the server acknowledges it, the
   * message is sent again (with the same id) after every reconnect, so it is accepted once.
   */
  send(message: string, clientMessageId: string = this.newId()): string {
    this.outbox.set(clientMessageId, { clientMessageId, message });
    if (this.ready)
      this.transmit({ type: "chat_message", message, client_message_id: clientMessageId });
    return clientMessageId;
  }

  /** Ask the server to stop a reply; false when there is no open connection to ask on. */
  cancel(messageId: string): boolean {
    if (!this.ready) return false;
    return this.transmit({ type: "cancel", message_id: messageId });
  }

  /** Messages sent but not acknowledged yet. */
  get pending(): string[] {
    return [...this.outbox.keys()];
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
    if (token !== null) query.set("session_token", token);
    if (this.resumedFrom !== null) query.set("last_event_id", this.resumedFrom);
    const search = query.toString();
    const url = search ? `${this.url}?${search}` : this.url;
    let socket: WebSocketLike;
    try {
      socket = this.createSocket(url);
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
        break;
      case "conversation_restored":
        this.onRestored(frame.latest_event_id);
        break;
      case "gap":
        this.afterGap = true;
        break;
      case "message_accepted":
        if (frame.client_message_id) this.outbox.delete(frame.client_message_id);
        // The answer to a resend repeats the original event's id: not a new event.
        if (frame.duplicate) {
          this.emit({ kind: "frame", frame });
          return;
        }
        break;
      case "error":
        // The server refused the message; the page decides whether to send it again.
        if (frame.client_message_id) this.outbox.delete(frame.client_message_id);
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
    for (const outgoing of this.outbox.values()) {
      this.transmit({
        type: "chat_message",
        message: outgoing.message,
        client_message_id: outgoing.clientMessageId,
      });
    }
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
    if (PERMANENT_CLOSE_CODES.has(event.code)) {
      this.stopped = true;
      this.closedReason = event.reason || `The server closed the connection (${event.code}).`;
      this.setStatus("offline");
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.attempt += 1;
    const delay = backoffDelay(this.attempt, this.backoff, this.random);
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
