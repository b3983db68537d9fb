// The frames of a turn that asks before it acts: questions, steps, feedback, edits and
// regenerations (docs/protocol.md). Each carries the fields every server frame has.

import type { AgentType, Pillar } from "./server-events";

interface FrameBase {
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
}

export type QuestionKind = "approval" | "choice" | "text" | "file";
export type QuestionOutcome = "approved" | "edited" | "rejected" | "answered" | "expired";

/** A question the liaison asks before it goes on with a turn. */
export interface QuestionAsked extends FrameBase {
  type: "question_asked";
  question_id: string;
  kind: QuestionKind;
  in_reply_to: string;
  prompt: string;
  capability?: string | null;
  inputs?: Record<string, unknown> | null;
  choices?: string[] | null;
  deadline: string;
}

/** The first answer to a question, or its expiry; every tab sees it. */
export interface QuestionResolved extends FrameBase {
  type: "question_resolved";
  question_id: string;
  outcome: QuestionOutcome;
  answer?: Record<string, unknown> | null;
}

export interface StepStarted extends FrameBase {
  type: "step_started";
  message_id: string;
  step_id: string;
  name: string;
  summary: string;
}

export interface StepFinished extends FrameBase {
  type: "step_finished";
  message_id: string;
  step_id: string;
  outcome: "done" | "failed" | "cancelled";
  reason?: string | null;
  duration_ms: number;
}

export interface FeedbackRecorded extends FrameBase {
  type: "feedback_recorded";
  message_id: string;
  rating: "up" | "down";
}

/** A user message was edited: `new_message_id` holds the new text, and is answered. */
export interface MessageEdited extends FrameBase {
  type: "message_edited";
  message_id: string;
  new_message_id: string;
  message: string;
}

export type TurnFrame =
  QuestionAsked | QuestionResolved | StepStarted | StepFinished | FeedbackRecorded | MessageEdited;
