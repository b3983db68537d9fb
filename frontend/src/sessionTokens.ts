// The session token, shared by every socket of the page and kept across reloads.
//
// A socket that connects without a token makes the server create a session. The page opens
// several sockets at once, so only one of them may do that: the others wait for its token.

export type TokenStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

const STORAGE_KEY = "agentChat.sessionToken";
// The id of the chat the token opens: a socket with a ticket names the chat by it, so that
// the token stays out of socket URLs (docs/protocol.md).
const CHAT_ID_KEY = "agentChat.chatId";

export class SessionTokens {
  private token: string | null;
  private creating = false;
  private waiters: Array<(token: string | null) => void> = [];
  private readonly listeners = new Set<() => void>();
  // Bumped by startAfresh: every conversation reconnects, to the new session.
  private generationCount = 0;

  private chat: string | null;

  constructor(private readonly storage: TokenStorage | null) {
    this.token = read(storage);
    this.chat = this.token === null ? null : read(storage, CHAT_ID_KEY);
  }

  get current(): string | null {
    return this.token;
  }

  /** The id of the chat the current token opens, once the server has named it. */
  get chatId(): string | null {
    return this.chat;
  }

  /** The server named the chat `token` opens (`session_created`, `conversation_restored`). */
  setChatId(token: string, chatId: string): void {
    if (this.token !== token || this.chat === chatId) return;
    this.chat = chatId;
    try {
      this.storage?.setItem(CHAT_ID_KEY, chatId);
    } catch {
      // See set().
    }
  }

  /**
   * The token to connect with. Null means: connect without one, and call `set` with the token
   * from `session_created` (or `release` if that fails). Other callers wait meanwhile.
   */
  acquire(): Promise<string | null> {
    if (this.token !== null) return Promise.resolve(this.token);
    if (!this.creating) {
      this.creating = true;
      return Promise.resolve(null);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  set(token: string): void {
    if (this.token !== token) this.chat = null;
    this.token = token;
    this.creating = false;
    try {
      this.storage?.setItem(STORAGE_KEY, token);
    } catch {
      // Storage can be full or disabled; the token still works for this page.
    }
    this.wake(token);
  }

  /** The caller that was to create the session gave up; let the next one try. */
  release(): void {
    if (!this.creating) return;
    this.creating = false;
    const next = this.waiters.shift();
    if (next !== undefined) {
      this.creating = true;
      next(null);
    }
  }

  /** The server rejected `token`; forget it unless another socket already replaced it. */
  reject(token: string): void {
    if (this.token !== token) return;
    this.token = null;
    this.chat = null;
    try {
      this.storage?.removeItem(STORAGE_KEY);
      this.storage?.removeItem(CHAT_ID_KEY);
    } catch {
      // See set().
    }
  }

  /** Bumped each time the page starts afresh; the sockets of an older one are done. */
  get generation(): number {
    return this.generationCount;
  }

  /** Called after each startAfresh. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Forget the session (the caller closes it with the token returned) so that the next
   * socket creates a new one, and tell the conversations to reconnect.
   */
  startAfresh(): string | null {
    const old = this.token;
    this.token = null;
    this.chat = null;
    // The sockets creating a session or waiting for one belong to the old conversations,
    // which stop: the new ones start over (answering the waiters would make each a creator).
    this.creating = false;
    this.waiters = [];
    try {
      this.storage?.removeItem(STORAGE_KEY);
      this.storage?.removeItem(CHAT_ID_KEY);
    } catch {
      // See set().
    }
    this.generationCount += 1;
    for (const listener of [...this.listeners]) listener();
    return old;
  }

  /**
   * Switch every conversation to another session, a chat opened from the list (its token from
   * `POST /api/chats` or `POST /api/chats/{chat_id}/token`): like startAfresh, with the token
   * and the chat known, so no socket creates a session.
   */
  switchTo(token: string, chatId: string): void {
    this.creating = false;
    this.waiters = [];
    this.set(token);
    this.setChatId(token, chatId);
    this.generationCount += 1;
    for (const listener of [...this.listeners]) listener();
  }

  private wake(token: string): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(token);
  }
}

function read(storage: TokenStorage | null, key: string = STORAGE_KEY): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

/** The page's localStorage, or null where the browser disables it. */
export function browserStorage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

/** The page's one token store. */
export const sessionTokens = new SessionTokens(browserStorage());
