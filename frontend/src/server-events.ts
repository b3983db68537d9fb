// Generated from server-events.schema.json (foundations/server_events.py) by npm run generate; do not edit.

export type ServerEvent =
  | SessionCreated
  | ConversationRestored
  | MessageAccepted
  | ChatChunk
  | ChatResponse
  | ReplyRestarted
  | Handoff
  | Error
  | Gap
  | Pong
  | QuestionAsked
  | QuestionResolved
  | StepStarted
  | StepFinished
  | FeedbackRecorded
  | MessageEdited;
export type AgentType =
  | "guide"
  | "content_liaison"
  | "insights_liaison"
  | "operations_liaison"
  | "business_outcomes_liaison";
export type Pillar = "content" | "insights" | "operations" | "business_outcomes";
export type ErrorCode =
  | "invalid_json"
  | "invalid_frame"
  | "unknown_type"
  | "empty_message"
  | "message_too_long"
  | "rate_limited"
  | "content_policy"
  | "too_many_pending_messages"
  | "unknown_agent"
  | "session_invalid"
  | "session_closed"
  | "origin_not_allowed"
  | "invalid_pillar"
  | "orchestrator_not_available"
  | "liaison_not_available"
  | "websocket_disabled"
  | "too_many_sockets"
  | "too_many_sessions"
  | "session_sockets_full"
  | "unavailable"
  | "reply_failed"
  | "reply_timeout"
  | "invalid_request"
  | "body_too_large"
  | "not_found"
  | "method_not_allowed"
  | "too_many_uploads"
  | "unknown_question"
  | "question_closed"
  | "invalid_answer"
  | "unknown_message"
  | "not_latest_reply";

/**
 * A new session; keep the token to come back to it.
 */
export interface SessionCreated {
  type: "session_created";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  session_token: string;
  session_id: string;
  expires_at: number;
}
/**
 * The recorded history; the events after `latest_event_id` complete it.
 */
export interface ConversationRestored {
  type: "conversation_restored";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  session_id: string;
  messages: RecordedMessage[];
  message_count: number;
  latest_event_id: string;
}
/**
 * A message of a conversation's history, as `conversation_restored` carries it.
 */
export interface RecordedMessage {
  message_id: string;
  role: "user" | "assistant" | "error";
  code?: ErrorCode;
  content: string;
  timestamp: string;
  agent_type: AgentType;
  seq: number;
  event_id: string;
  /**
   * The user message a reply or failure notice answers.
   */
  in_reply_to?: string;
  /**
   * The id a user message was sent with.
   */
  client_message_id?: string;
  /**
   * A reply the user stopped part way.
   */
  cancelled?: boolean;
  /**
   * The capability runs inside a reply.
   */
  steps?: RecordedStep[];
  /**
   * The earlier reply this regenerated reply replaces.
   */
  regenerates?: string;
  /**
   * The earlier user message this edited message replaces.
   */
  edits?: string;
  /**
   * The capability the reply's turn ran, if any.
   */
  capability?: string;
  /**
   * The reply provider that wrote the reply.
   */
  provider?: string;
}
/**
 * One capability run of a reply, as the reply's history entry keeps it.
 */
export interface RecordedStep {
  step_id: string;
  name: string;
  summary: string;
  outcome: "done" | "failed" | "cancelled";
  /**
   * Why the step failed.
   */
  reason?: string;
  duration_ms: number;
}
/**
 * A user message durably accepted; it will be answered.
 */
export interface MessageAccepted {
  type: "message_accepted";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  message_id: string;
  client_message_id: string | null;
  /**
   * The message's text.
   */
  message?: string;
  /**
   * When it was accepted (ISO 8601).
   */
  timestamp?: string;
  seq: number;
  /**
   * This answers a resend of a message accepted before.
   */
  duplicate?: boolean;
}
/**
 * The next piece of a reply: append `delta` to the reply `message_id`.
 */
export interface ChatChunk {
  type: "chat_chunk";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  message_id: string;
  delta: string;
}
/**
 * The whole reply, recorded; it replaces what the chunks built.
 */
export interface ChatResponse {
  type: "chat_response";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  message_id: string;
  in_reply_to: string;
  message: string;
  session_id: string;
  timestamp: string;
  seq: number;
  /**
   * The user stopped the reply; `message` is what had streamed.
   */
  cancelled?: boolean;
  /**
   * The earlier reply this regenerated reply replaces.
   */
  regenerates?: string;
}
/**
 * The reply is produced again: drop its partial text, new chunks follow.
 */
export interface ReplyRestarted {
  type: "reply_restarted";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  message_id: string;
}
/**
 * The guide passed the message to a liaison, which answers it in the guide's conversation.
 */
export interface Handoff {
  type: "handoff";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  from: AgentType;
  to: AgentType;
  to_pillar: Pillar;
  reason: string;
  in_reply_to: string;
}
/**
 * Something went wrong; `message` says what to do. The socket stays open.
 */
export interface Error {
  type: "error";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  code: ErrorCode;
  message: string;
  /**
   * The message this error concerns, if any.
   */
  client_message_id?: string;
  /**
   * The message whose reply failed or could not stop.
   */
  in_reply_to?: string;
  /**
   * Seconds to wait before trying again, when that helps.
   */
  retry_after?: number;
  /**
   * The failure notice's sequence number in the history.
   */
  seq?: number;
}
/**
 * Events after `last_event_id` are gone; a `conversation_restored` follows.
 */
export interface Gap {
  type: "gap";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  last_event_id: string;
  message: string;
}
/**
 * The answer to `ping`.
 */
export interface Pong {
  type: "pong";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
}
/**
 * The agent waits for the person: approve, edit or reject what it will run (`approval`),
 * or give what it lacks (`choice`, `text`, `file`). Answer with `answer_question`.
 */
export interface QuestionAsked {
  type: "question_asked";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  question_id: string;
  kind: "approval" | "choice" | "text" | "file";
  in_reply_to: string;
  prompt: string;
  /**
   * The capability the turn will run.
   */
  capability?: string;
  /**
   * An approval's inputs, by name: what the capability will run with (editable).
   */
  inputs?: {
    [k: string]: string;
  };
  /**
   * A choice question's options.
   */
  choices?: string[];
  deadline: string;
}
/**
 * A question was answered (the first answer wins) or expired; the turn goes on.
 */
export interface QuestionResolved {
  type: "question_resolved";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  question_id: string;
  outcome: "approved" | "edited" | "rejected" | "answered" | "expired";
  /**
   * The answer that counted.
   */
  answer?: {
    [k: string]: unknown;
  };
}
/**
 * A step (a capability run) of the reply `message_id` began.
 */
export interface StepStarted {
  type: "step_started";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  message_id: string;
  step_id: string;
  name: string;
  summary: string;
}
/**
 * A step of the reply `message_id` ended: done, failed (with `reason`) or cancelled.
 */
export interface StepFinished {
  type: "step_finished";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  message_id: string;
  step_id: string;
  outcome: "done" | "failed" | "cancelled";
  /**
   * Why the step failed.
   */
  reason?: string;
  duration_ms: number;
}
/**
 * The user's rating of the reply `message_id` is stored (the latest one counts).
 */
export interface FeedbackRecorded {
  type: "feedback_recorded";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  message_id: string;
  rating: "up" | "down";
}
/**
 * The user message `message_id` was edited: `new_message_id` replaces it and is answered.
 */
export interface MessageEdited {
  type: "message_edited";
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
  message_id: string;
  new_message_id: string;
  message: string;
}
