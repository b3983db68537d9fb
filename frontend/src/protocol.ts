// The WebSocket frames of docs/protocol.md, as types. The server is the source of truth; these
// types say what the page relies on.

export type Pillar = "content" | "insights" | "operations" | "business_outcomes";

export type AgentType =
  | "guide"
  | "content_liaison"
  | "insights_liaison"
  | "operations_liaison"
  | "business_outcomes_liaison";

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
  | { type: "cancel"; message_id: string };

// --- server frames ---------------------------------------------------------------------------

interface FrameBase {
  // The conversation event's id ("<milliseconds>-<n>"); null on frames that are not events.
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
}

export interface RecordedMessage {
  message_id: string;
  // "error": the notice, recorded in the reply's place, that the reply could not be produced.
  role: "user" | "assistant" | "error";
  code?: string;
  content: string;
  timestamp: string;
  agent_type: AgentType;
  seq: number;
  event_id: string;
  in_reply_to?: string;
  // The id a user message was sent with (absent when it was sent without one).
  client_message_id?: string | null;
  // A reply stopped part way.
  cancelled?: boolean;
}

export interface SessionCreatedFrame extends FrameBase {
  type: "session_created";
  session_token: string;
  session_id: string;
  expires_at: number;
}

export interface ConversationRestoredFrame extends FrameBase {
  type: "conversation_restored";
  session_id: string;
  messages: RecordedMessage[];
  message_count: number;
  latest_event_id: string;
}

export interface MessageAcceptedFrame extends FrameBase {
  type: "message_accepted";
  message_id: string;
  client_message_id: string | null;
  // Absent on the direct answer to a resend (`duplicate: true`).
  message?: string;
  seq: number;
  timestamp?: string;
  duplicate?: boolean;
}

export interface ChatChunkFrame extends FrameBase {
  type: "chat_chunk";
  message_id: string;
  delta: string;
}

export interface ChatResponseFrame extends FrameBase {
  type: "chat_response";
  message_id: string;
  in_reply_to: string;
  message: string;
  session_id: string;
  seq: number;
  timestamp: string;
  cancelled?: boolean;
}

export interface ReplyRestartedFrame extends FrameBase {
  type: "reply_restarted";
  message_id: string;
}

export interface HandoffFrame extends FrameBase {
  type: "handoff";
  from: AgentType;
  to: AgentType;
  to_pillar: Pillar;
  reason: string;
  in_reply_to: string;
}

export type ErrorCode =
  | "invalid_json"
  | "invalid_frame"
  | "unknown_type"
  | "empty_message"
  | "message_too_long"
  | "rate_limited"
  | "content_policy"
  | "session_invalid"
  | "session_closed"
  | "unavailable"
  | "reply_failed";

export interface ErrorFrame extends FrameBase {
  type: "error";
  // A code this page does not know yet is still shown, with the server's message.
  code: ErrorCode | (string & {});
  message: string;
  client_message_id?: string | null;
  in_reply_to?: string;
  // Seconds to wait before trying again, when waiting helps.
  retry_after?: number;
}

export interface GapFrame extends FrameBase {
  type: "gap";
  last_event_id: string;
  message: string;
}

export interface PongFrame extends FrameBase {
  type: "pong";
}

export type ServerFrame =
  | SessionCreatedFrame
  | ConversationRestoredFrame
  | MessageAcceptedFrame
  | ChatChunkFrame
  | ChatResponseFrame
  | ReplyRestartedFrame
  | HandoffFrame
  | ErrorFrame
  | GapFrame
  | PongFrame;

const SERVER_FRAME_TYPES: ReadonlySet<string> = new Set<ServerFrame["type"]>([
  "session_created",
  "conversation_restored",
  "message_accepted",
  "chat_chunk",
  "chat_response",
  "reply_restarted",
  "handoff",
  "error",
  "gap",
  "pong",
]);

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
  if (typeof type !== "string" || !SERVER_FRAME_TYPES.has(type)) return null;
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
  session_invalid: "Start a new session.",
  session_closed: "Start a new session.",
  unavailable: "Retry in a moment.",
  reply_failed: "Resend the message, or ask differently.",
};

export function adviceFor(code: string): string {
  return (ERROR_ADVICE as Record<string, string>)[code] ?? "Try again.";
}

/** Errors where sending the same message again (same client_message_id) can succeed. */
export const RETRYABLE_SEND_ERRORS: ReadonlySet<string> = new Set(["rate_limited", "unavailable"]);
