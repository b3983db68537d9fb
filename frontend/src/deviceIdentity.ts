// Who the page is to the REST routes: in anonymous mode a device identity the API issues
// (`POST /api/auth/device`), kept in localStorage so that the chat list outlives the tab, and
// sent as `Authorization: Bearer` (docs/privacy.md, "Identity").

import { browserStorage, type TokenStorage } from "./sessionTokens";

const STORAGE_KEY = "agentChat.deviceIdentity";

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** The server issues no identities (a release before them). */
export class NoIdentities extends Error {}

export class DeviceIdentity {
  private issuing: Promise<string> | null = null;
  // Where storage is disabled or full, the identity lives as long as the tab.
  private memory: string | null = null;
  constructor(
    private readonly storage: TokenStorage | null,
    private readonly request: Fetch,
  ) {}

  /** The kept device token, or a new one (one request however many callers wait). */
  token(): Promise<string> {
    const kept = read(this.storage) ?? this.memory;
    if (kept !== null) return Promise.resolve(kept);
    this.issuing ??= this.issue().finally(() => {
      this.issuing = null;
    });
    return this.issuing;
  }

  /**
   * `fetch` with the identity. A 401 means the server no longer knows the device (its secret
   * was rotated): the page gets a new identity and tries once more.
   */
  async fetch(input: string, init?: RequestInit): Promise<Response> {
    let token: string;
    try {
      token = await this.token();
    } catch (error) {
      // A server without identities: the request goes as it did before them.
      if (error instanceof NoIdentities) return this.request(input, init);
      throw error;
    }
    const response = await this.request(input, withBearer(init, token));
    if (response.status !== 401) return response;
    this.forget(token);
    return this.request(input, withBearer(init, await this.token()));
  }

  /**
   * A single-use WebSocket ticket (`POST /api/auth/ws-ticket`); null where the server has no
   * identities (a release before them), so the socket connects as before.
   */
  async ticket(): Promise<string | null> {
    const response = await this.fetch("/api/auth/ws-ticket", { method: "POST" });
    if (response.status === 404 || response.status === 405) return null;
    if (!response.ok)
      throw new Error(`no WebSocket ticket (the server answered ${response.status})`);
    return ((await response.json()) as { ticket: string }).ticket;
  }

  private async issue(): Promise<string> {
    const response = await this.request("/api/auth/device", { method: "POST" });
    if (response.status === 404 || response.status === 405) throw new NoIdentities();
    if (!response.ok)
      throw new Error(`no device identity (the server answered ${response.status})`);
    const body = (await response.json()) as { token: string };
    try {
      this.storage?.setItem(STORAGE_KEY, body.token);
    } catch {
      // Storage full or disabled: see `memory`.
    }
    this.memory = body.token;
    return body.token;
  }

  private forget(token: string): void {
    if (this.memory === token) this.memory = null;
    try {
      if (this.storage?.getItem(STORAGE_KEY) === token) this.storage.removeItem(STORAGE_KEY);
    } catch {
      // See issue().
    }
  }
}

function read(storage: TokenStorage | null): string | null {
  try {
    return storage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

function withBearer(init: RequestInit | undefined, token: string): RequestInit {
  const headers = new Headers(init?.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return { ...init, headers };
}

/** The page's one device identity. */
export const deviceIdentity = new DeviceIdentity(browserStorage(), (input, init) =>
  fetch(input, init),
);
