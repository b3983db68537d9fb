// "New conversation": close the session on the server and let every conversation start over
// in a new one.

import { identity } from "./identity";
import { forgetAllPending, type PendingStorage } from "./pendingMessages";
import { browserStorage, type SessionTokens, sessionTokens } from "./sessionTokens";

export type CloseOutcome = "closed" | "not_closed";

/**
 * Forget the session (its token and the messages not sent yet; the sockets reconnect to a new
 * session), then close it with `POST /api/chat/session/close`. The old session is forgotten
 * first so that no socket of it starts a session of its own when the server ends it. "not
 * closed" means the server could not be told: the old session then ends when it expires.
 */
export async function startAfresh(
  tokens: SessionTokens = sessionTokens,
  storage: PendingStorage | null = browserStorage(),
  request: typeof fetch = (input, init) => identity.fetch(String(input), init),
): Promise<CloseOutcome> {
  const old = tokens.startAfresh();
  forgetAllPending(storage);
  if (old === null) return "closed";
  try {
    const response = await request("/api/chat/session/close", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_token: old }),
    });
    // 401: the token had stopped working already, so the session is over anyway.
    return response.ok || response.status === 401 ? "closed" : "not_closed";
  } catch {
    return "not_closed";
  }
}
