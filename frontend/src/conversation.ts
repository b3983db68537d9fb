// A conversation's thread as the page shows it, built from server frames by one pure reducer.
// Messages are keyed by message_id so that no frame, however often it arrives, shows one twice
// (docs/protocol.md, "How a client shows messages without ever showing one twice").

import {
  adviceFor,
  type AgentType,
  type ConversationRestoredFrame,
  type Pillar,
  type QuestionAsked,
  type Rating,
  type RecordedMessage,
  RETRYABLE_SEND_ERRORS,
  type ServerFrame,
} from "./protocol";
import {
  applyRegenerated,
  applyTurnFrame,
  type QuestionItem,
  restoreTurns,
  type Step,
} from "./turnItems";

export interface InlineError {
  code: string;
  message: string;
  advice: string;
}

export type MessageState =
  // user messages
  | "sending"
  | "accepted"
  | "failed"
  // replies
  | "streaming"
  | "complete"
  | "cancelled";

export interface ThreadMessage {
  kind: "message";
  // message_id once the server named it; "local:<client_message_id>" until then.
  key: string;
  role: "user" | "assistant";
  author: AgentType;
  content: string;
  state: MessageState;
  clientMessageId?: string;
  seq?: number;
  inReplyTo?: string;
  // A user message accepted while this page watched, whose reply has not arrived yet.
  awaitingReply?: boolean;
  error?: InlineError & { retryable: boolean };
  // A reply's capability runs, in order.
  steps?: Step[];
  // The rating the server recorded for this reply.
  feedback?: Rating;
  // Earlier versions (an edited message's texts, a regenerated reply's), oldest first, and their ids.
  earlier?: string[];
  earlierIds?: string[];
  // A regeneration of this reply was asked for and has not answered yet.
  regenerating?: boolean;
}

export interface HandoffNotice {
  kind: "handoff";
  key: string;
  from: AgentType;
  to: AgentType;
  toPillar: Pillar;
  reason: string;
  inReplyTo: string;
}

export type ThreadItem = ThreadMessage | HandoffNotice | QuestionItem;

export interface ConversationState {
  items: ThreadItem[];
  // An error that belongs to no message.
  notice: InlineError | null;
  // True once the history arrived at least once.
  restored: boolean;
}

export type ConversationAction =
  | { type: "frame"; frame: ServerFrame }
  | { type: "sending"; clientMessageId: string; message: string; author: AgentType }
  // The message is not sent by itself: the page could not queue it (too many wait already),
  // or it waited too long for the server. The user may retry.
  | { type: "not_queued"; clientMessageId: string; error: InlineError }
  | { type: "notice"; notice: InlineError | null }
  // The page asked for a new version of a reply (cleared by the reply, or by a refusal).
  | { type: "regenerating"; messageId: string; active: boolean }
  // A question the server lists as open; shown where its turn is in this conversation.
  | { type: "open_question"; frame: QuestionAsked }
  | { type: "reset" };

export const EMPTY_CONVERSATION: ConversationState = { items: [], notice: null, restored: false };

export function conversationReducer(
  state: ConversationState,
  action: ConversationAction,
): ConversationState {
  switch (action.type) {
    case "reset":
      return EMPTY_CONVERSATION;
    case "notice":
      return { ...state, notice: action.notice };
    case "sending":
      return sending(state, action.clientMessageId, action.message, action.author);
    case "not_queued": {
      const target = findByClientId(state, action.clientMessageId);
      if (target === undefined) return state;
      return update(state, target.key, (item) => ({
        ...item,
        state: "failed",
        error: { ...action.error, retryable: true },
      }));
    }
    case "regenerating":
      return update(state, action.messageId, (item) => ({ ...item, regenerating: action.active }));
    case "open_question":
      if (findMessage(state, action.frame.in_reply_to) === undefined) return state;
      return applyTurnFrame(state, action.frame);
    case "frame":
      return applyFrame(state, action.frame);
  }
}

function sending(
  state: ConversationState,
  clientMessageId: string,
  message: string,
  author: AgentType,
): ConversationState {
  const key = localKey(clientMessageId);
  const existing = findByClientId(state, clientMessageId);
  if (existing !== undefined) {
    // A retry (or a message the page was already showing): same id, same place.
    return update(state, existing.key, (item) => ({ ...item, state: "sending", error: undefined }));
  }
  const item: ThreadMessage = {
    kind: "message",
    key,
    role: "user",
    author,
    content: message,
    state: "sending",
    clientMessageId,
  };
  return { ...state, items: [...state.items, item] };
}

function applyFrame(state: ConversationState, frame: ServerFrame): ConversationState {
  switch (frame.type) {
    case "conversation_restored":
      return restore(state, frame);
    case "message_accepted": {
      const byId = findMessage(state, frame.message_id);
      const local = frame.client_message_id
        ? state.items.find(
            (item): item is ThreadMessage =>
              item.kind === "message" && item.key === localKey(frame.client_message_id ?? ""),
          )
        : undefined;
      if (byId !== undefined) {
        // Known already (restored history, or another tab's copy): drop the local copy.
        const items = state.items.filter((item) => item !== local);
        return update({ ...state, items }, byId.key, (item) => ({
          ...item,
          state: item.state === "sending" || item.state === "failed" ? "accepted" : item.state,
          seq: frame.seq,
          clientMessageId: frame.client_message_id ?? item.clientMessageId,
          awaitingReply: item.awaitingReply ?? local !== undefined,
          error: undefined,
        }));
      }
      if (local !== undefined) {
        return update(state, local.key, (item) => ({
          ...item,
          key: frame.message_id,
          state: "accepted",
          seq: frame.seq,
          awaitingReply: true,
          error: undefined,
        }));
      }
      if (frame.message === undefined) return state;
      // Sent from another tab.
      return append(state, {
        kind: "message",
        key: frame.message_id,
        role: "user",
        author: frame.agent_type,
        content: frame.message,
        state: "accepted",
        clientMessageId: frame.client_message_id ?? undefined,
        seq: frame.seq,
        awaitingReply: true,
      });
    }
    case "chat_chunk": {
      const reply = findMessage(state, frame.message_id);
      if (reply === undefined) {
        return append(state, {
          kind: "message",
          key: frame.message_id,
          role: "assistant",
          author: frame.agent_type,
          content: frame.delta,
          state: "streaming",
        });
      }
      if (reply.state !== "streaming") return state; // already complete
      return update(state, reply.key, (item) => ({ ...item, content: item.content + frame.delta }));
    }
    case "chat_response": {
      const finished: Partial<ThreadMessage> = {
        content: frame.message,
        state: frame.cancelled ? "cancelled" : "complete",
        author: frame.agent_type,
        seq: frame.seq,
        inReplyTo: frame.in_reply_to,
      };
      const reply = findMessage(state, frame.message_id);
      const answered = answer(state, frame.in_reply_to);
      const done =
        reply === undefined
          ? append(answered, {
              kind: "message",
              key: frame.message_id,
              role: "assistant",
              author: frame.agent_type,
              content: frame.message,
              state: "complete",
              ...finished,
            })
          : update(answered, reply.key, (item) => ({ ...item, ...finished }));
      return { ...done, items: applyRegenerated(done.items, frame) };
    }
    case "reply_restarted": {
      const reply = findMessage(state, frame.message_id);
      if (reply === undefined || reply.state !== "streaming") return state;
      return update(state, reply.key, (item) => ({ ...item, content: "" }));
    }
    case "handoff": {
      const key = `handoff:${frame.in_reply_to}`;
      if (state.items.some((item) => item.key === key)) return state;
      return append(state, {
        kind: "handoff",
        key,
        from: frame.from,
        to: frame.to,
        toPillar: frame.to_pillar,
        reason: frame.reason,
        inReplyTo: frame.in_reply_to,
      });
    }
    case "error": {
      const error = {
        code: frame.code,
        message: frame.message,
        advice: adviceFor(frame.code),
      };
      const clientMessageId = frame.client_message_id;
      if (clientMessageId) {
        const target = findByClientId(state, clientMessageId);
        // A refused resend of a message the server already has changes nothing.
        if (target?.state === "accepted") return state;
        if (target !== undefined && RETRYABLE_SEND_ERRORS.has(frame.code)) {
          // Not taken yet: ChatSocket sends it again by itself, so it is still being sent.
          return update(state, target.key, (item) => ({
            ...item,
            state: "sending",
            error: { ...error, advice: "It will be sent again shortly.", retryable: true },
          }));
        }
        if (target !== undefined) {
          return update(state, target.key, (item) => ({
            ...item,
            state: "failed",
            error: { ...error, retryable: false },
          }));
        }
      }
      if (frame.in_reply_to) {
        const question = findMessage(state, frame.in_reply_to);
        if (question !== undefined) {
          // The reply failed: drop its partial text, keep the question with what to do.
          const items = state.items.filter(
            (item) =>
              !(item.kind === "message" && item.role === "assistant" && item.state === "streaming"),
          );
          return update({ ...state, items }, question.key, (item) => ({
            ...item,
            awaitingReply: false,
            error: { ...error, retryable: true },
          }));
        }
      }
      return { ...state, notice: error };
    }
    case "question_asked":
    case "question_resolved":
    case "step_started":
    case "step_finished":
    case "feedback_recorded":
    case "message_edited":
      return applyTurnFrame(state, frame);
    case "session_created":
    case "gap":
    case "pong":
      return state;
  }
}

function restore(state: ConversationState, frame: ConversationRestoredFrame): ConversationState {
  const recorded = new Set(frame.messages.map((message) => message.message_id));
  // A message whose acknowledgement was lost is in the history under its client_message_id:
  // the history's copy replaces the one still shown as sending (or as not sent).
  const recordedClientIds = new Set(
    frame.messages.flatMap((message) =>
      message.client_message_id ? [message.client_message_id] : [],
    ),
  );
  const answered = new Set(frame.messages.map((message) => message.in_reply_to));
  const previous = new Map<string, ThreadMessage>();
  for (const item of state.items) if (item.kind === "message") previous.set(item.key, item);
  // A reply that failed is recorded as a notice in its place: it shows on the question.
  const failed = new Map<string, RecordedMessage>();
  for (const message of frame.messages) {
    if (message.role === "error" && message.in_reply_to) failed.set(message.in_reply_to, message);
  }
  const unacknowledged = new Set<string>();
  for (const item of state.items) {
    if (
      item.kind === "message" &&
      item.clientMessageId !== undefined &&
      item.key.startsWith("local:")
    ) {
      unacknowledged.add(item.clientMessageId);
    }
  }
  const items: ThreadItem[] = [...frame.messages]
    .filter((message) => message.role !== "error")
    .sort((a, b) => a.seq - b.seq)
    .map((message) => ({
      kind: "message",
      key: message.message_id,
      role: message.role === "user" ? "user" : "assistant",
      author: message.agent_type,
      content: message.content,
      state: message.role === "user" ? "accepted" : message.cancelled ? "cancelled" : "complete",
      seq: message.seq,
      inReplyTo: message.in_reply_to,
      awaitingReply:
        !answered.has(message.message_id) &&
        (previous.get(message.message_id)?.awaitingReply ??
          unacknowledged.has(message.client_message_id ?? "")),
      clientMessageId:
        message.client_message_id ?? previous.get(message.message_id)?.clientMessageId,
      error: failedReply(failed.get(message.message_id)) ?? previous.get(message.message_id)?.error,
    }));
  // What the history cannot have yet: replies still streaming, messages not yet accepted.
  for (const item of state.items) {
    if (item.kind !== "message" || recorded.has(item.key)) continue;
    if (item.clientMessageId !== undefined && recordedClientIds.has(item.clientMessageId)) continue;
    if (item.state === "streaming" || item.state === "sending" || item.state === "failed") {
      items.push(item);
    }
  }
  // Handoff notices are not part of the history: keep them after the message they answer.
  for (const item of state.items) {
    if (item.kind !== "handoff") continue;
    const at = items.findIndex((other) => other.key === item.inReplyTo);
    items.splice(at === -1 ? items.length : at + 1, 0, item);
  }
  return { ...state, items: restoreTurns(state.items, items, frame.messages), restored: true };
}

function failedReply(notice: RecordedMessage | undefined): ThreadMessage["error"] {
  if (notice === undefined) return undefined;
  const code = notice.code ?? "reply_failed";
  return { code, message: notice.content, advice: adviceFor(code), retryable: true };
}

function answer(state: ConversationState, questionId: string): ConversationState {
  const question = findMessage(state, questionId);
  if (question === undefined || (question.error === undefined && !question.awaitingReply)) {
    return state;
  }
  return update(state, question.key, (item) => ({
    ...item,
    error: undefined,
    awaitingReply: false,
  }));
}

function findByClientId(
  state: ConversationState,
  clientMessageId: string,
): ThreadMessage | undefined {
  return state.items.find(
    (item): item is ThreadMessage =>
      item.kind === "message" && item.clientMessageId === clientMessageId,
  );
}

function findMessage(state: ConversationState, key: string): ThreadMessage | undefined {
  return state.items.find(
    (item): item is ThreadMessage => item.kind === "message" && item.key === key,
  );
}

function update(
  state: ConversationState,
  key: string,
  change: (item: ThreadMessage) => ThreadMessage,
): ConversationState {
  return {
    ...state,
    items: state.items.map((item) =>
      item.kind === "message" && item.key === key ? change(item) : item,
    ),
  };
}

function append(state: ConversationState, item: ThreadItem): ConversationState {
  return { ...state, items: [...state.items, item] };
}

function localKey(clientMessageId: string): string {
  return `local:${clientMessageId}`;
}

/**
 * The reply to wait for, if any: a reply still streaming, or the latest user message that has
 * no reply yet. Its id is what `cancel` names.
 */
export function replyInProgress(state: ConversationState): string | null {
  for (let index = state.items.length - 1; index >= 0; index -= 1) {
    const item = state.items[index];
    if (item.kind !== "message") continue;
    if (item.role === "assistant") return item.state === "streaming" ? item.key : null;
    if (item.awaitingReply) return item.key;
  }
  return null;
}
