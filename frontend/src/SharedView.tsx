// The read-only page of a share link, `/share/{share_id}`: one conversation as the chat shows
// it, with no way to write to it. No identity is needed: the link is the permission.

import { useEffect, useState } from "react";

import { ApiError, ChatsApi, type SharedConversation } from "./chatsApi";
import { Message } from "./components/ChatPanel";
import type { ThreadMessage } from "./conversation";
import { AGENT_NAMES } from "./protocol";

const api = new ChatsApi((input, init) => fetch(input, init));

type Loaded =
  | { state: "loading" }
  | { state: "shown"; shared: SharedConversation }
  | { state: "gone" }
  | { state: "failed" };

/** The share id of a `/share/{share_id}` path, or null for any other page. */
export function shareIdOf(pathname: string): string | null {
  const match = /^\/share\/([^/]+)\/?$/u.exec(pathname);
  return match === null ? null : decodeURIComponent(match[1]);
}

export function SharedView({ shareId }: { shareId: string }) {
  const [loaded, setLoaded] = useState<Loaded>({ state: "loading" });

  useEffect(() => {
    let current = true;
    api
      .shared(shareId)
      .then((shared) => current && setLoaded({ state: "shown", shared }))
      .catch((failure: unknown) => {
        if (!current) return;
        const gone = failure instanceof ApiError && failure.status === 404;
        setLoaded({ state: gone ? "gone" : "failed" });
      });
    return () => {
      current = false;
    };
  }, [shareId]);

  useEffect(() => {
    if (loaded.state === "shown") document.title = `${loaded.shared.title} - Agent chat`;
  }, [loaded]);

  return (
    <div className="shared">
      <header className="topbar">
        <h1>
          {loaded.state === "shown"
            ? loaded.shared.title || "Shared conversation"
            : "Shared conversation"}
        </h1>
        {loaded.state === "shown" && (
          <p className="meta">
            Read-only · {AGENT_NAMES[loaded.shared.conversation] ?? loaded.shared.conversation} ·
            link expires{" "}
            <time dateTime={loaded.shared.expires_at}>{expiryText(loaded.shared.expires_at)}</time>
          </p>
        )}
      </header>
      <main className="shared-body">
        {loaded.state === "loading" && <p className="meta">Loading the conversation…</p>}
        {loaded.state === "gone" && (
          <div className="notice" role="alert">
            <p>
              This link no longer works: it was revoked, it expired, or the chat was deleted.{" "}
              <strong>Ask its owner for a new link.</strong>
            </p>
          </div>
        )}
        {loaded.state === "failed" && (
          <div className="notice" role="alert">
            <p>
              The conversation could not be loaded. <strong>Reload the page to try again.</strong>
            </p>
          </div>
        )}
        {loaded.state === "shown" && (
          <div
            className="thread"
            role="log"
            aria-label={`${AGENT_NAMES[loaded.shared.conversation] ?? "Shared"} conversation`}
            tabIndex={0}
          >
            <ol className="thread-items">
              {loaded.shared.messages.length === 0 && (
                <li className="empty">This conversation has no messages.</li>
              )}
              {threadOf(loaded.shared).map((message) => (
                <Message key={message.key} message={message} onRetry={() => undefined} />
              ))}
            </ol>
          </div>
        )}
      </main>
    </div>
  );
}

/** The shared history as the chat's thread shows it (replies that failed are left out). */
export function threadOf(shared: SharedConversation): ThreadMessage[] {
  return [...shared.messages]
    .filter((message) => message.role !== "error")
    .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))
    .map((message, index) => ({
      kind: "message",
      key: message.message_id ?? `shared-${index}`,
      role: message.role === "user" ? "user" : "assistant",
      author: message.agent_type ?? shared.conversation,
      content: message.content,
      state: message.role === "user" ? "accepted" : message.cancelled ? "cancelled" : "complete",
    }));
}

function expiryText(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
