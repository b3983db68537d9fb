import { useCallback, useRef, useState } from "react";

import { type ChatsApi, type ExportFormat, type Share } from "../chatsApi";
import { AGENT_NAMES, type AgentType } from "../protocol";

const CONVERSATIONS: readonly AgentType[] = [
  "guide",
  "content_liaison",
  "insights_liaison",
  "operations_liaison",
  "business_outcomes_liaison",
];

const EXPIRIES: ReadonlyArray<{ seconds: number; label: string }> = [
  { seconds: 3600, label: "1 hour" },
  { seconds: 86_400, label: "1 day" },
  { seconds: 7 * 86_400, label: "7 days" },
  { seconds: 30 * 86_400, label: "30 days" },
];

interface ChatActionsProps {
  api: ChatsApi;
  chatId: string;
  // The conversation on screen, offered first.
  conversation: AgentType;
}

/** "Export and share": downloads of the chat or one conversation, and read-only links. */
export function ChatActions({ api, chatId, conversation }: ChatActionsProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [chosen, setChosen] = useState<AgentType>(conversation);
  const [expiry, setExpiry] = useState(EXPIRIES[1].seconds);
  const [shares, setShares] = useState<Share[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [working, setWorking] = useState(false);

  const loadShares = useCallback(() => {
    api
      .shares(chatId)
      .then(setShares)
      .catch(() => setMessage("The chat's links could not be listed."));
  }, [api, chatId]);

  const download = (format: ExportFormat, only?: AgentType) => {
    setMessage(null);
    api
      .export(chatId, format, only)
      .then(({ blob, filename }) => saveFile(blob, filename))
      .catch((failure: unknown) =>
        setMessage(`Not exported: ${failure instanceof Error ? failure.message : "try again."}`),
      );
  };

  const createLink = () => {
    setWorking(true);
    setMessage(null);
    api
      .share(chatId, chosen, expiry)
      .then((share) => {
        setShares((previous) => [share, ...(previous ?? [])]);
        setMessage("Link created: anyone with it can read the conversation until it expires.");
      })
      .catch((failure: unknown) =>
        setMessage(`No link: ${failure instanceof Error ? failure.message : "try again."}`),
      )
      .finally(() => setWorking(false));
  };

  const revoke = (share: Share) => {
    api
      .revoke(share.share_id)
      .then(() => {
        setShares((previous) =>
          (previous ?? []).filter((each) => each.share_id !== share.share_id),
        );
        setMessage("Link revoked: it no longer opens the conversation.");
      })
      .catch(() => setMessage("The link could not be revoked; try again."));
  };

  return (
    <>
      <button
        type="button"
        onClick={() => {
          setChosen(conversation);
          setMessage(null);
          loadShares();
          dialog.current?.showModal();
        }}
      >
        Export and share
      </button>
      <dialog ref={dialog} className="confirm-dialog share-dialog" aria-labelledby="share-title">
        <h2 id="share-title">Export and share</h2>
        <label className="field">
          Conversation{" "}
          <select value={chosen} onChange={(event) => setChosen(event.target.value as AgentType)}>
            {CONVERSATIONS.map((each) => (
              <option key={each} value={each}>
                {AGENT_NAMES[each]}
              </option>
            ))}
          </select>
        </label>
        <section aria-labelledby="export-title">
          <h3 id="export-title">Download</h3>
          <div className="actions wrap">
            <button type="button" onClick={() => download("markdown", chosen)}>
              Conversation as Markdown
            </button>
            <button type="button" onClick={() => download("json", chosen)}>
              Conversation as JSON
            </button>
            <button type="button" onClick={() => download("markdown")}>
              Whole chat as Markdown
            </button>
            <button type="button" onClick={() => download("json")}>
              Whole chat as JSON
            </button>
          </div>
        </section>
        <section aria-labelledby="links-title">
          <h3 id="links-title">Read-only links</h3>
          <div className="actions wrap">
            <label className="field">
              Expires after{" "}
              <select value={expiry} onChange={(event) => setExpiry(Number(event.target.value))}>
                {EXPIRIES.map((each) => (
                  <option key={each.seconds} value={each.seconds}>
                    {each.label}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" onClick={createLink} disabled={working}>
              Create link
            </button>
          </div>
          <ul className="share-list" aria-label="Links to this chat">
            {shares !== null && shares.length === 0 && <li className="meta">No links.</li>}
            {(shares ?? []).map((share) => (
              <li key={share.share_id}>
                <a href={shareUrl(share)} target="_blank" rel="noreferrer">
                  {share.conversation ? AGENT_NAMES[share.conversation] : "Conversation"}
                </a>{" "}
                <span className="meta">
                  until <time dateTime={share.expires_at}>{when(share.expires_at)}</time>
                </span>{" "}
                <button
                  type="button"
                  className="link-button"
                  aria-label={`Revoke the link to ${share.conversation ? AGENT_NAMES[share.conversation] : "the conversation"}`}
                  onClick={() => revoke(share)}
                >
                  Revoke
                </button>
              </li>
            ))}
          </ul>
        </section>
        <p role="status" className="meta">
          {message}
        </p>
        <form method="dialog" className="actions">
          <button type="submit">Close</button>
        </form>
      </dialog>
    </>
  );
}

/** The page's own address for a share: the server may answer a path or a whole URL. */
function shareUrl(share: Share): string {
  return new URL(share.url || `/share/${share.share_id}`, window.location.origin).href;
}

function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy by now.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
