import { useEffect, useId, useRef, useState } from "react";

import type { HandoffNotice, ThreadMessage } from "../conversation";
import { AGENT_NAMES, type Pillar, PILLAR_NAMES } from "../protocol";
import type { Chat } from "../useChat";
import type { Uploads } from "../useUploads";
import { Composer } from "./Composer";
import { CopyButton } from "./CopyButton";
import { Feedback } from "./Feedback";
import { Markdown } from "./Markdown";
import { QuestionCard } from "./QuestionCard";
import { Steps } from "./Steps";

interface ChatPanelProps {
  chat: Chat;
  // What the thread is called, for screen readers: "Guide conversation".
  title: string;
  inputLabel: string;
  emptyText: string;
  // Render the Stop button while a reply is in progress.
  enableCancel: boolean;
  onSwitchPillar?: (pillar: Pillar) => void;
  // The session's files, where this conversation can work on them.
  uploads?: Uploads;
}

/** One conversation: its thread, its errors and its message box. */
export function ChatPanel({
  chat,
  title,
  inputLabel,
  emptyText,
  enableCancel,
  onSwitchPillar,
  uploads,
}: ChatPanelProps) {
  const { conversation } = chat;
  const thread = useRef<HTMLDivElement>(null);
  const stuckToBottom = useRef(true);

  // Follow the newest text unless the reader scrolled up to read something older.
  useEffect(() => {
    const element = thread.current;
    if (element !== null && stuckToBottom.current) element.scrollTop = element.scrollHeight;
  }, [conversation.items]);

  const streaming = conversation.items.some(
    (item) => item.kind === "message" && item.state === "streaming",
  );
  const waitingForYou = conversation.items.some(
    (item) => item.kind === "question" && item.resolution === undefined,
  );
  // A turn that waits for the person has nothing running to stop.
  const canStop =
    enableCancel && chat.cancelSupported && chat.replyInProgress !== null && !waitingForYou;
  // Messages since edited: their replies answer a text the thread no longer shows.
  const earlierIds = new Set(
    conversation.items.flatMap((item) =>
      item.kind === "message" && item.role === "user" ? (item.earlierIds ?? []) : [],
    ),
  );
  const latestReply = [...conversation.items]
    .reverse()
    .find((item) => item.kind === "message" && item.role === "assistant");

  return (
    <div className="chat">
      {/* The log scrolls; the list inside keeps its list semantics (a role on the <ol> itself
          would hide them from screen readers). */}
      <div
        ref={thread}
        className="thread"
        role="log"
        aria-live="polite"
        aria-label={title}
        aria-busy={!conversation.restored}
        tabIndex={0}
        onScroll={(event) => {
          const element = event.currentTarget;
          stuckToBottom.current =
            element.scrollHeight - element.scrollTop - element.clientHeight < 40;
        }}
      >
        <ol className="thread-items">
          {conversation.restored && conversation.items.length === 0 && (
            <li className="empty">{emptyText}</li>
          )}
          {conversation.items.map((item) =>
            item.kind === "handoff" ? (
              <Handoff key={item.key} notice={item} onSwitchPillar={onSwitchPillar} />
            ) : item.kind === "question" ? (
              <QuestionCard
                key={item.key}
                question={item}
                onAnswer={chat.answer}
                uploads={uploads}
              />
            ) : (
              <Message
                key={item.key}
                message={item}
                chat={chat}
                latest={item === latestReply}
                toEarlierVersion={item.inReplyTo !== undefined && earlierIds.has(item.inReplyTo)}
                onRetry={() => chat.retry(item)}
              />
            ),
          )}
        </ol>
      </div>
      {chat.replyInProgress !== null && !streaming && !waitingForYou && (
        <p className="typing" aria-hidden="true">
          {AGENT_NAMES[chat.agentType]} is replying…
        </p>
      )}
      {conversation.notice !== null && (
        <div className="notice" role="alert">
          <p>
            {conversation.notice.message} <strong>{conversation.notice.advice}</strong>
          </p>
          <button type="button" className="link-button" onClick={chat.dismissNotice}>
            Dismiss
          </button>
        </div>
      )}
      <Composer
        label={inputLabel}
        onSend={chat.send}
        onStop={canStop ? chat.stop : undefined}
        uploads={uploads}
      />
    </div>
  );
}

// What an error on a message means, by the message's state: refused, not taken yet (it is sent
// again by itself), or accepted but not answered.
const ERROR_LEAD: Partial<Record<ThreadMessage["state"], string>> = {
  failed: "Not sent: ",
  sending: "Not taken yet: ",
};
const RETRY_LABEL: Partial<Record<ThreadMessage["state"], string>> = {
  failed: "Retry",
  sending: "Send now",
};

export function Message({
  message,
  chat,
  latest = false,
  toEarlierVersion = false,
  onRetry,
}: {
  message: ThreadMessage;
  // Absent in a read-only view (a shared link): no edit, feedback or regenerate there.
  chat?: Chat;
  // The latest reply of the conversation: the one that can be regenerated.
  latest?: boolean;
  // A reply to a message that was edited since.
  toEarlierVersion?: boolean;
  onRetry(): void;
}) {
  const author = message.role === "user" ? "You" : AGENT_NAMES[message.author];
  const [editing, setEditing] = useState(false);
  const finished = message.state === "complete" || message.state === "cancelled";
  return (
    <li
      className={`message message-${message.role} message-${message.state}`}
      data-role={message.role}
      data-state={message.state}
      data-message-id={message.key}
      aria-busy={message.state === "streaming"}
    >
      <div className="message-head">
        <p className="author">{author}</p>
        {message.role === "assistant" && message.state !== "streaming" && (
          <CopyButton label={`Copy ${author}'s reply`} text={() => message.content} />
        )}
      </div>
      {message.steps !== undefined && message.steps.length > 0 && (
        <Steps steps={message.steps} running={message.state === "streaming"} />
      )}
      {/* What people type stays as typed; replies are markdown. The source rides along so
          that the page's text can be compared with the server's record. */}
      {editing ? (
        <EditForm
          text={message.content}
          onCancel={() => setEditing(false)}
          onSave={(text) => {
            setEditing(false);
            if (text !== message.content) chat?.edit(message.key, text);
          }}
        />
      ) : message.role === "user" ? (
        <div className="content">{message.content}</div>
      ) : (
        <div className="content markdown" data-source={message.content}>
          <Markdown text={message.content} streaming={message.state === "streaming"} />
        </div>
      )}
      {message.earlier !== undefined && message.earlier.length > 0 && (
        <details className="earlier">
          <summary>
            {message.role === "user" ? "Edited" : "Regenerated"}: see the earlier version
            {message.earlier.length > 1 ? "s" : ""}
          </summary>
          <ol className="earlier-list">
            {message.earlier.map((text, index) => (
              <li key={index} className="earlier-version">
                {text}
              </li>
            ))}
          </ol>
        </details>
      )}
      {message.state === "sending" && <p className="meta">Sending…</p>}
      {message.state === "cancelled" && <p className="meta">Stopped.</p>}
      {toEarlierVersion && (
        <p className="meta">This answered the earlier version of your message.</p>
      )}
      {chat !== undefined &&
        message.role === "user" &&
        message.state === "accepted" &&
        !editing && (
          <div className="message-actions">
            <button type="button" className="link-button" onClick={() => setEditing(true)}>
              Edit
            </button>
          </div>
        )}
      {chat !== undefined && message.role === "assistant" && finished && (
        <div className="message-actions">
          <Feedback replyId={message.key} recorded={message.feedback} onRate={chat.rate} />
          {latest && (
            <button
              type="button"
              className="link-button"
              disabled={message.regenerating === true || chat.replyInProgress !== null}
              onClick={() => chat.regenerate(message.key)}
            >
              {message.regenerating ? "Regenerating…" : "Regenerate"}
            </button>
          )}
        </div>
      )}
      {message.error !== undefined && (
        <div className="message-error" role="alert">
          <p>
            {ERROR_LEAD[message.state] ?? "No reply: "}
            {message.error.message} <strong>{message.error.advice}</strong>
          </p>
          {message.error.retryable && (
            <button type="button" className="link-button" onClick={onRetry}>
              {RETRY_LABEL[message.state] ?? "Ask again"}
            </button>
          )}
        </div>
      )}
    </li>
  );
}

function EditForm({
  text,
  onSave,
  onCancel,
}: {
  text: string;
  onSave(text: string): void;
  onCancel(): void;
}) {
  const [draft, setDraft] = useState(text);
  const id = useId();
  return (
    <form
      className="edit-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (draft.trim()) onSave(draft.trim());
      }}
    >
      <label htmlFor={id}>Edit your message</label>
      <textarea
        id={id}
        rows={3}
        value={draft}
        autoFocus
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") onCancel();
        }}
      />
      <div className="question-actions">
        <button type="submit" disabled={!draft.trim()}>
          Save and resend
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Handoff({
  notice,
  onSwitchPillar,
}: {
  notice: HandoffNotice;
  onSwitchPillar?: (pillar: Pillar) => void;
}) {
  return (
    <li className="handoff" data-role="handoff">
      <p className="handoff-route">
        {AGENT_NAMES[notice.from]} -&gt; {AGENT_NAMES[notice.to]}
      </p>
      {notice.reason && <p className="handoff-reason">{notice.reason}</p>}
      {onSwitchPillar !== undefined && (
        <button type="button" onClick={() => onSwitchPillar(notice.toPillar)}>
          Switch to {PILLAR_NAMES[notice.toPillar]}
        </button>
      )}
    </li>
  );
}
