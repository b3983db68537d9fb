// The WebSocket frames of docs/protocol.md, as types. The server is the source of truth; these
// types say what the page relies on.

import type {
  AgentType,
  ChatChunk,
  ChatResponse,
  ConversationRestored,
  Error as ErrorEvent,
  ErrorCode,
  FeedbackRecorded,
  Gap,
  Handoff,
  MessageAccepted,
  MessageEdited,
  Pillar,
  Pong,
  QuestionAsked,
  QuestionResolved,
  RecordedMessage,
  ReplyRestarted,
  ServerEvent,
  SessionCreated,
  StepFinished,
  StepStarted,
} from "./server-events";

export type { AgentType, ErrorCode, Pillar, RecordedMessage };

export const PILLARS: readonly Pillar[] = [
  "content",
  "insights",
  "operations",
  "business_outcomes",
];

export const PILLAR_NAMES: Record<Pillar, string> = {
  content: "Content",
  insights: "Insights",
  operations: "Operations",
  business_outcomes: "Business Outcomes",
};

export const AGENT_NAMES: Record<AgentType, string> = {
  guide: "Guide",
  content_liaison: "Content liaison",
  insights_liaison: "Insights liaison",
  operations_liaison: "Operations liaison",
  business_outcomes_liaison: "Business Outcomes liaison",
};

export function liaisonOf(pillar: Pillar): AgentType {
  return `${pillar}_liaison`;
}

export function isPillar(value: string): value is Pillar {
  return (PILLARS as readonly string[]).includes(value);
}

// --- client frames ---------------------------------------------------------------------------

export type ClientFrame =
  | { type: "chat_message"; message: string; client_message_id?: string }
  | { type: "resume"; last_event_id: string }
  | { type: "ping" }
  | { type: "cancel"; message_id: string }
  | { type: "regenerate"; message_id: string; client_message_id: string }
  | { type: "edit_message"; message_id: string; message: string; client_message_id: string };

/** What `answer_question` (and its REST twin) carries besides its type. */
export interface QuestionAnswer {
  decision?: "approve" | "edit" | "reject";
  inputs?: Record<string, unknown>;
  text?: string;
  choice?: string;
  upload?: string;
}

export type Rating = "up" | "down";

/** What `feedback` (and `PUT /api/chat/feedback`) carries besides its type. */
export interface Feedback {
  message_id: string;
  rating: Rating;
  reasons?: string[];
  comment?: string;
}

// --- server frames ---------------------------------------------------------------------------
// Generated from the server's models (server-events.ts); the names below are the page's.

export type SessionCreatedFrame = SessionCreated;
export type ConversationRestoredFrame = ConversationRestored;
export type MessageAcceptedFrame = MessageAccepted;
export type ChatChunkFrame = ChatChunk;
export type ChatResponseFrame = ChatResponse;
export type ReplyRestartedFrame = ReplyRestarted;
export type HandoffFrame = Handoff;
export type ErrorFrame = ErrorEvent;
export type GapFrame = Gap;
export type PongFrame = Pong;
export type ServerFrame = ServerEvent;
export type {
  FeedbackRecorded,
  MessageEdited,
  QuestionAsked,
  QuestionResolved,
  StepFinished,
  StepStarted,
};
export type QuestionKind = QuestionAsked["kind"];
export type QuestionOutcome = QuestionResolved["outcome"];

// Every server frame type: a type the server adds fails to compile here until the page knows it.
const SERVER_FRAME_TYPES: Record<ServerFrame["type"], true> = {
  session_created: true,
  conversation_restored: true,
  message_accepted: true,
  chat_chunk: true,
  chat_response: true,
  reply_restarted: true,
  handoff: true,
  error: true,
  gap: true,
  pong: true,
  question_asked: true,
  question_resolved: true,
  step_started: true,
  step_finished: true,
  feedback_recorded: true,
  message_edited: true,
};

/** A server frame from a text message, or null for anything this page cannot use. */
export function parseServerFrame(text: unknown): ServerFrame | null {
  if (typeof text !== "string") return null;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== "object" || data === null) return null;
  const type = (data as { type?: unknown }).type;
  if (typeof type !== "string" || !Object.hasOwn(SERVER_FRAME_TYPES, type)) return null;
  return data as ServerFrame;
}

/** Orders event ids ("<milliseconds>-<n>") as the server's stream does. */
export function compareEventIds(a: string, b: string): number {
  const [aMs, aSeq] = splitEventId(a);
  const [bMs, bSeq] = splitEventId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

function splitEventId(id: string): [bigint, bigint] {
  const [ms, seq] = id.split("-");
  return [BigInt(ms || "0"), BigInt(seq || "0")];
}

// --- close codes ------------------------------------------------------------------------------

export const CloseCode = {
  InvalidToken: 4001,
  // No identity proven (no, a spent or an expired ticket): reconnect with a fresh ticket.
  Unauthenticated: 4401,
  OriginNotAllowed: 4003,
  InvalidPillar: 4004,
  OrchestratorNotAvailable: 4005,
  LiaisonNotAvailable: 4006,
  WebSocketDisabled: 4010,
  Flooding: 1008,
  FrameTooBig: 1009,
  TooManySockets: 4008,
  TooManySessions: 4009,
  SessionSocketsFull: 4011,
  SlowConsumer: 4012,
  // The server is restarting (a deploy): reconnect at once, another replica answers.
  ServiceRestart: 1012,
  // Redis or Temporal is unreachable: reconnect after the usual backoff.
  TryAgainLater: 1013,
} as const;

/**
 * The wait a close reason asks for (it ends with " retry_after=<seconds>") and the reason
 * without it, or null when it asks for none.
 */
export function retryHint(reason: string): { waitMs: number; text: string } | null {
  const found = / retry_after=([0-9]+)$/.exec(reason);
  if (found === null) return null;
  return { waitMs: Number(found[1]) * 1000, text: reason.slice(0, found.index) };
}

/** Close codes after which connecting again cannot help. */
export const PERMANENT_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.OriginNotAllowed,
  CloseCode.InvalidPillar,
  CloseCode.OrchestratorNotAvailable,
  CloseCode.LiaisonNotAvailable,
  CloseCode.WebSocketDisabled,
]);

// What the user can do about each error code, from the protocol's table.
export const ERROR_ADVICE: Record<ErrorCode, string> = {
  invalid_json: "The page sent a malformed frame; reload the page.",
  invalid_frame: "The page sent a frame the server cannot use; reload the page.",
  unknown_type: "This server does not support that action yet.",
  empty_message: "Type something before sending.",
  message_too_long: "Shorten the message or split it into parts.",
  rate_limited: "Wait a moment, then retry.",
  content_policy: "Rephrase the message.",
  too_many_pending_messages: "Wait for the replies, then send.",
  unknown_agent: "Reload the page.",
  session_invalid: "Start a new session.",
  session_closed: "Start a new session.",
  chat_not_found: "Open one of your chats.",
  unauthenticated: "Sign in again, or reload the page.",
  forbidden: "Sign in first.",
  origin_not_allowed: "Open the chat from its own site.",
  invalid_pillar: "Choose one of the pillars.",
  orchestrator_not_available: "This pillar is not available on this server.",
  liaison_not_available: "This pillar is not available on this server.",
  websocket_disabled: "This server answers over its REST API only.",
  too_many_sockets: "Wait a moment, then reconnect.",
  too_many_sessions: "Wait a moment, then reconnect.",
  session_sockets_full: "Close another tab of this session.",
  unavailable: "Retry in a moment.",
  reply_failed: "Resend the message, or ask differently.",
  reply_timeout: "The reply will be in the history; reload in a moment.",
  invalid_request: "Reload the page.",
  body_too_large: "Send something smaller.",
  not_found: "Reload the page.",
  method_not_allowed: "Reload the page.",
  too_many_uploads: "Remove a file before adding another.",
  unknown_message: "Reload the page; that message is no longer in this conversation.",
  not_latest_reply: "Only the latest reply can be regenerated.",
  too_many_shares: "Revoke a link of this chat before making another.",
  unknown_question: "Reload the page.",
  question_closed: "It was answered already, or it expired.",
  invalid_answer: "Check the answer, then send it again.",
};

export function adviceFor(code: string): string {
  return (ERROR_ADVICE as Record<string, string>)[code] ?? "Try again.";
}

/** Errors where sending the same message again (same client_message_id) can succeed. */
export const RETRYABLE_SEND_ERRORS: ReadonlySet<string> = new Set(["rate_limited", "unavailable"]);
