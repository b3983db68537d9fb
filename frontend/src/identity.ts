// Who this browser is (docs/privacy.md): a device identity the API issues, kept in
// localStorage and sent as `Authorization: Bearer` on every REST call, and a fresh single-use
// ticket for every WebSocket, offered as a subprotocol so that no credential is in a URL.

import { browserStorage, type TokenStorage } from "./sessionTokens";

const STORAGE_KEY = "agentChat.deviceIdentity";
/** The subprotocol the server accepts a socket with; the ticket is offered beside it. */
export const WEBSOCKET_SUBPROTOCOL = "chat.v1";

type Request = typeof fetch;

export class Identity {
  private token: string | null;
  private minting: Promise<string> | null = null;

  constructor(
    private readonly storage: TokenStorage | null,
    private readonly request: Request = (input, init) => fetch(input, init),
  ) {
    this.token = read(storage);
  }

  /** The device identity, minted by the API the first time this browser needs one. */
  async credential(): Promise<string> {
    if (this.token !== null) return this.token;
    this.minting ??= this.mint().finally(() => {
      this.minting = null;
    });
    return this.minting;
  }

  /** `fetch` with the identity in `Authorization`; a refused identity is minted afresh once. */
  async fetch(input: string, init: RequestInit = {}): Promise<Response> {
    const send = async () =>
      this.request(input, {
        ...init,
        headers: { ...(init.headers ?? {}), Authorization: `Bearer ${await this.credential()}` },
      });
    const response = await send();
    if (response.status !== 401) return response;
    // A 401 also answers a session token that expired: only an identity refused as such
    // (its secret changed, say) is replaced.
    const body = (await response
      .clone()
      .json()
      .catch(() => null)) as { code?: string } | null;
    if (body?.code !== "unauthenticated") return response;
    this.forget();
    return send();
  }

  /** The subprotocols a new socket offers: a fresh ticket each time (one handshake each). */
  async socketProtocols(): Promise<string[]> {
    const response = await this.fetch("/api/auth/ws-ticket", { method: "POST" });
    if (!response.ok) throw new Error(`no WebSocket ticket (${response.status})`);
    const { ticket } = (await response.json()) as { ticket: string };
    return [WEBSOCKET_SUBPROTOCOL, `ticket.${ticket}`];
  }

  private async mint(): Promise<string> {
    const response = await this.request("/api/auth/device", { method: "POST" });
    if (!response.ok) throw new Error(`no device identity (${response.status})`);
    const { token } = (await response.json()) as { token: string };
    this.token = token;
    try {
      this.storage?.setItem(STORAGE_KEY, token);
    } catch {
      // Storage full or disabled: the identity still works for this page.
    }
    return token;
  }

  private forget(): void {
    this.token = null;
    try {
      this.storage?.removeItem(STORAGE_KEY);
    } catch {
      // See mint().
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

/** The page's one identity. */
export const identity = new Identity(browserStorage());
