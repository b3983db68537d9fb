import { useEffect, useRef, useState } from "react";

import type { ChatSummary } from "../chatList";
import { PILLAR_NAMES } from "../protocol";
import type { ChatList } from "../useChatList";

interface ChatSidebarProps {
  list: ChatList;
  currentChatId: string | null;
  // Where a phone shows the sidebar over the page; elsewhere it is always there.
  open: boolean;
  onOpen(chatId: string): void;
  onNewChat(): void;
  onDelete(chatId: string): void;
  // Hide it again (on a narrow screen).
  onClose(): void;
  // Opening or creating a chat is under way.
  busy: boolean;
}

/** The reader's chats: new, search, open, rename in place, delete with confirmation. */
export function ChatSidebar({
  list,
  currentChatId,
  open,
  onOpen,
  onNewChat,
  onDelete,
  onClose,
  busy,
}: ChatSidebarProps) {
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ChatSummary | null>(null);
  const closeButton = useRef<HTMLButtonElement>(null);

  // Shown over the page on a narrow screen: the keyboard goes there too.
  useEffect(() => {
    if (open) closeButton.current?.focus();
  }, [open]);

  return (
    <nav
      id="chat-sidebar"
      className={open ? "sidebar sidebar-open" : "sidebar"}
      aria-label="Chats"
      onKeyDown={(event) => {
        if (event.key === "Escape" && open && editing === null) onClose();
      }}
    >
      <div className="sidebar-head">
        <h2>Chats</h2>
        <button
          ref={closeButton}
          type="button"
          className="sidebar-close link-button"
          onClick={onClose}
        >
          Close
        </button>
        <button type="button" onClick={onNewChat} disabled={busy || list.status !== "ready"}>
          New chat
        </button>
      </div>
      <input
        type="search"
        className="chat-search"
        aria-label="Search chats by title"
        placeholder="Search by title"
        value={list.query}
        onChange={(event) => list.setQuery(event.target.value)}
      />
      {list.error !== null && (
        <div className="notice" role="alert">
          <p>{list.error}</p>
          <button type="button" className="link-button" onClick={list.dismissError}>
            Dismiss
          </button>
        </div>
      )}
      {list.status === "loading" && <p className="meta">Loading chats…</p>}
      {list.status === "unavailable" && <p className="meta">The chat list is not available.</p>}
      <ul className="chat-list" aria-label="Your chats" aria-busy={list.status === "loading"}>
        {list.status === "ready" && list.chats.length === 0 && (
          <li className="empty">{list.query ? "No chat has that title." : "No chats yet."}</li>
        )}
        {list.chats.map((chat) =>
          editing === chat.chat_id ? (
            <li key={chat.chat_id} className="chat-item">
              <RenameForm
                chat={chat}
                onDone={async (title) => {
                  if (title !== null && title !== chat.title) {
                    if (!(await list.rename(chat.chat_id, title))) return;
                  }
                  setEditing(null);
                }}
              />
            </li>
          ) : (
            <li
              key={chat.chat_id}
              className="chat-item"
              data-chat-id={chat.chat_id}
              data-current={chat.chat_id === currentChatId}
            >
              <button
                type="button"
                className="chat-open"
                aria-current={chat.chat_id === currentChatId ? "page" : undefined}
                disabled={busy}
                onClick={() => onOpen(chat.chat_id)}
              >
                <span className="chat-title">{chat.title || "Untitled chat"}</span>
                <span className="chat-meta">
                  <time dateTime={chat.last_activity}>{activityText(chat.last_activity)}</time>
                  {chat.pillars.length > 0 &&
                    ` · ${chat.pillars.map((each) => PILLAR_NAMES[each] ?? each).join(", ")}`}
                </span>
                {chat.preview && <span className="chat-preview">{chat.preview}</span>}
              </button>
              <div className="chat-item-actions">
                <button
                  type="button"
                  className="link-button"
                  aria-label={`Rename ${chat.title || "Untitled chat"}`}
                  onClick={() => setEditing(chat.chat_id)}
                >
                  Rename
                </button>
                <button
                  type="button"
                  className="link-button danger"
                  aria-label={`Delete ${chat.title || "Untitled chat"}`}
                  onClick={() => setDeleting(chat)}
                >
                  Delete
                </button>
              </div>
            </li>
          ),
        )}
      </ul>
      {list.hasMore && (
        <button type="button" onClick={list.more} disabled={list.loadingMore}>
          {list.loadingMore ? "Loading…" : "More chats"}
        </button>
      )}
      <DeleteDialog
        chat={deleting}
        onCancel={() => setDeleting(null)}
        onConfirm={(chat) => {
          setDeleting(null);
          onDelete(chat.chat_id);
        }}
      />
    </nav>
  );
}

/** The title as an input in its place: Enter keeps it, Escape (or leaving it empty) does not. */
function RenameForm({
  chat,
  onDone,
}: {
  chat: ChatSummary;
  onDone(title: string | null): Promise<void>;
}) {
  const [title, setTitle] = useState(chat.title);
  const [saving, setSaving] = useState(false);
  return (
    <form
      className="rename-form"
      onSubmit={(event) => {
        event.preventDefault();
        const trimmed = title.trim();
        setSaving(true);
        void onDone(trimmed === "" ? null : trimmed).finally(() => setSaving(false));
      }}
    >
      <input
        aria-label={`New title for ${chat.title || "Untitled chat"}`}
        value={title}
        maxLength={200}
        autoFocus
        disabled={saving}
        onChange={(event) => setTitle(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") void onDone(null);
        }}
      />
      <button type="submit" disabled={saving}>
        Save
      </button>
      <button type="button" className="link-button" onClick={() => void onDone(null)}>
        Cancel
      </button>
    </form>
  );
}

function DeleteDialog({
  chat,
  onCancel,
  onConfirm,
}: {
  chat: ChatSummary | null;
  onCancel(): void;
  onConfirm(chat: ChatSummary): void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element === null) return;
    if (chat !== null && !element.open) element.showModal();
    if (chat === null && element.open) element.close();
  }, [chat]);

  return (
    <dialog
      ref={dialog}
      className="confirm-dialog"
      aria-labelledby="delete-chat-title"
      aria-describedby="delete-chat-text"
      onClose={onCancel}
    >
      <h2 id="delete-chat-title">Delete “{chat?.title || "Untitled chat"}”?</h2>
      <p id="delete-chat-text">
        Every conversation of this chat, its files and its share links are deleted for good. This
        cannot be undone.
      </p>
      <div className="actions">
        <button type="button" autoFocus onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => {
            if (chat !== null) onConfirm(chat);
          }}
        >
          Delete chat
        </button>
      </div>
    </dialog>
  );
}

/** "14:05" today, "3 Dec" this year, else the date. */
function activityText(iso: string): string {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  const now = new Date();
  if (when.toDateString() === now.toDateString()) {
    return when.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  }
  return when.toLocaleDateString(undefined, {
    day: "numeric",
    month: "short",
    year: when.getFullYear() === now.getFullYear() ? undefined : "numeric",
  });
}
