// The chat list's REST routes (docs/protocol.md, "Chats"), each under the page's identity.

import type { ChatPage, ChatSummary } from "./chatList";
import type { AgentType } from "./protocol";
import type { RecordedMessage } from "./server-events";

export type Request = (input: string, init?: RequestInit) => Promise<Response>;

export interface ChatOpened {
  session_token: string;
  expires_at: string | number;
}

export interface ChatCreated extends ChatOpened {
  chat: ChatSummary;
}

export interface Share {
  share_id: string;
  url: string;
  expires_at: string;
  conversation?: AgentType;
}

export interface SharedConversation {
  conversation: AgentType;
  title: string;
  messages: RecordedMessage[];
  expires_at: string;
}

export type ExportFormat = "markdown" | "json";

/** A refusal of the server, with what it said the user can do about it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ChatsApi {
  constructor(private readonly request: Request) {}

  list(options: { cursor?: string | null; query?: string; limit?: number }): Promise<ChatPage> {
    const params = new URLSearchParams({ limit: String(options.limit ?? 20) });
    if (options.cursor) params.set("cursor", options.cursor);
    if (options.query?.trim()) params.set("q", options.query.trim());
    return this.json(`/api/chats?${params}`);
  }

  create(): Promise<ChatCreated> {
    return this.json("/api/chats", { method: "POST" });
  }

  open(chatId: string): Promise<ChatOpened> {
    return this.json(`/api/chats/${encodeURIComponent(chatId)}/token`, { method: "POST" });
  }

  rename(chatId: string, title: string): Promise<ChatSummary> {
    return this.json(`/api/chats/${encodeURIComponent(chatId)}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title }),
    });
  }

  async remove(chatId: string): Promise<void> {
    await this.json(`/api/chats/${encodeURIComponent(chatId)}`, { method: "DELETE" });
  }

  /** The export as the server names it: the file's contents and its name. */
  async export(
    chatId: string,
    format: ExportFormat,
    conversation?: AgentType,
  ): Promise<{ blob: Blob; filename: string }> {
    const params = new URLSearchParams({ format });
    if (conversation !== undefined) params.set("conversation", conversation);
    const response = await this.send(`/api/chats/${encodeURIComponent(chatId)}/export?${params}`);
    const fallback = `chat.${format === "markdown" ? "md" : "json"}`;
    return {
      blob: await response.blob(),
      filename: attachmentName(response.headers.get("Content-Disposition")) ?? fallback,
    };
  }

  share(chatId: string, conversation: AgentType, expiresInSeconds: number): Promise<Share> {
    return this.json(`/api/chats/${encodeURIComponent(chatId)}/shares`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ conversation, expires_in_seconds: expiresInSeconds }),
    });
  }

  async shares(chatId: string): Promise<Share[]> {
    const body = await this.json<{ shares: Share[] } | Share[]>(
      `/api/chats/${encodeURIComponent(chatId)}/shares`,
    );
    return Array.isArray(body) ? body : body.shares;
  }

  async revoke(shareId: string): Promise<void> {
    await this.json(`/api/shares/${encodeURIComponent(shareId)}`, { method: "DELETE" });
  }

  shared(shareId: string): Promise<SharedConversation> {
    return this.json(`/api/shares/${encodeURIComponent(shareId)}`);
  }

  private async json<T>(url: string, init?: RequestInit): Promise<T> {
    const response = await this.send(url, init);
    return (response.status === 204 ? null : await response.json()) as T;
  }

  private async send(url: string, init?: RequestInit): Promise<Response> {
    const response = await this.request(url, init);
    if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
    return response;
  }
}

/** The filename of a `Content-Disposition: attachment` header, if it names one. */
export function attachmentName(header: string | null): string | null {
  if (header === null) return null;
  const encoded = /filename\*=UTF-8''([^;]+)/iu.exec(header);
  if (encoded !== null) {
    try {
      return decodeURIComponent(encoded[1]);
    } catch {
      // Fall back to the plain name below.
    }
  }
  const plain = /filename="?([^";]+)"?/iu.exec(header);
  return plain === null ? null : plain[1];
}

async function errorMessage(response: Response): Promise<string> {
  try {
    // The one error body (api/errors.py): `code` and `detail`.
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === "string") return body.detail;
  } catch {
    // Not JSON: say what the status says.
  }
  return response.status === 404
    ? "That chat is not there any more."
    : `The server answered ${response.status}.`;
}
