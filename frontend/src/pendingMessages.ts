// Messages the server has not acknowledged yet, kept in localStorage so that a reload, a closed
// tab or a switch to another pillar does not lose them: the next ChatSocket of the same
// endpoint sends them again with their original client_message_id, which the server accepts
// once however often it arrives.
//
// One storage key per message, not one list per conversation: every browser tab has its own
// copy of localStorage that the browser syncs in the background, so a tab rewriting a whole
// list would drop the entries another tab added meanwhile. Adding or removing one key cannot.

export type PendingStorage = Pick<Storage, "getItem" | "setItem" | "removeItem" | "key" | "length">;

/** A message waiting for `message_accepted`, as stored. */
export interface PendingMessage {
  clientMessageId: string;
  message: string;
  // The session token it was typed in; null when the page had no session yet. The message is
  // sent in the endpoint's current session either way: the page only ever holds one, and
  // replaces it only when the server says the old one has ended.
  session: string | null;
  // Orders the endpoint's messages as they were typed (milliseconds, strictly increasing).
  order: number;
}

/** At most this many messages wait per conversation; another one is refused, not dropped. */
export const MAX_PENDING_PER_CONVERSATION = 50;

/**
 * A message not acknowledged within this time is shown as not sent, with Retry, and is no
 * longer sent by itself: after five minutes the user may no longer mean it, and a reply to it
 * would arrive out of the blue.
 */
export const PENDING_EXPIRY_MS = 5 * 60_000;

/**
 * The expiry this page uses: PENDING_EXPIRY_MS, or the `pending_expiry_s` query parameter
 * (whole seconds, 1 to 3600) so that tests and demonstrations need not wait five minutes.
 */
export function pendingExpiryMs(search: string): number {
  const value = new URLSearchParams(search).get("pending_expiry_s");
  if (value === null || !/^[0-9]{1,4}$/.test(value)) return PENDING_EXPIRY_MS;
  const seconds = Number(value);
  return seconds >= 1 && seconds <= 3600 ? seconds * 1000 : PENDING_EXPIRY_MS;
}

const PREFIX = "agentChat.pending.v1\n";
// The protocol's limit for client_message_id.
const MAX_ID_LENGTH = 128;

let lastOrder = 0;

/** An order value later than every one this page handed out before. */
export function nextOrder(now: number = Date.now()): number {
  lastOrder = Math.max(now, lastOrder + 1);
  return lastOrder;
}

/** Remove every stored pending message of every endpoint: the page starts afresh. */
export function forgetAllPending(storage: PendingStorage | null): void {
  try {
    if (storage === null) return;
    const keys: string[] = [];
    for (let index = 0; index < storage.length; index += 1) {
      const key = storage.key(index);
      if (key !== null && key.startsWith(PREFIX)) keys.push(key);
    }
    for (const key of keys) storage.removeItem(key);
  } catch {
    // Storage disabled: nothing was kept.
  }
}

/** How many messages of any conversation wait in storage to be sent. */
export function countPending(storage: PendingStorage | null): number {
  try {
    if (storage === null) return 0;
    let count = 0;
    for (let index = 0; index < storage.length; index += 1) {
      if (storage.key(index)?.startsWith(PREFIX)) count += 1;
    }
    return count;
  } catch {
    return 0;
  }
}

/** The stored pending messages of one endpoint (a ws:// URL without query). */
export class PendingStore {
  private readonly prefix: string;

  constructor(
    private readonly storage: PendingStorage | null,
    endpoint: string,
  ) {
    this.prefix = `${PREFIX}${endpoint}\n`;
  }

  /**
   * The endpoint's stored messages, oldest first. Entries of this endpoint that cannot be
   * read are removed; keys this store did not write are left alone.
   */
  load(): PendingMessage[] {
    const found: PendingMessage[] = [];
    const unreadable: string[] = [];
    for (const key of this.keys()) {
      const entry = this.parse(key, this.read(key));
      if (entry === null) unreadable.push(key);
      else found.push(entry);
    }
    for (const key of unreadable) this.remove(key);
    return found.sort((a, b) => a.order - b.order);
  }

  /** False when the browser would not store it (storage full or disabled). */
  save(entry: PendingMessage): boolean {
    if (this.storage === null) return false;
    try {
      this.storage.setItem(this.keyOf(entry.clientMessageId), JSON.stringify(entry));
      return true;
    } catch {
      return false;
    }
  }

  delete(clientMessageId: string): void {
    this.remove(this.keyOf(clientMessageId));
  }

  private keyOf(clientMessageId: string): string {
    return this.prefix + clientMessageId;
  }

  private keys(): string[] {
    const keys: string[] = [];
    try {
      const storage = this.storage;
      if (storage === null) return keys;
      for (let index = 0; index < storage.length; index += 1) {
        const key = storage.key(index);
        if (key !== null && key.startsWith(this.prefix)) keys.push(key);
      }
    } catch {
      // Storage disabled: nothing was kept.
    }
    return keys;
  }

  private read(key: string): string | null {
    try {
      return this.storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  }

  private remove(key: string): void {
    try {
      this.storage?.removeItem(key);
    } catch {
      // Storage disabled: there is nothing to remove.
    }
  }

  private parse(key: string, text: string | null): PendingMessage | null {
    if (text === null) return null;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return null;
    }
    if (typeof data !== "object" || data === null) return null;
    const { clientMessageId, message, session, order } = data as Record<string, unknown>;
    if (
      typeof clientMessageId !== "string" ||
      clientMessageId.length === 0 ||
      clientMessageId.length > MAX_ID_LENGTH ||
      key !== this.keyOf(clientMessageId) ||
      typeof message !== "string" ||
      message.length === 0 ||
      (session !== null && typeof session !== "string") ||
      typeof order !== "number" ||
      !Number.isFinite(order)
    ) {
      return null;
    }
    return { clientMessageId, message, session, order };
  }
}
