// The frames of a turn's steps, feedback, edits and regenerations (docs/protocol.md), until the
// server's models generate them into server-events.ts. Each carries every server frame's fields.

import type { AgentType, Pillar, QuestionAsked, QuestionResolved } from "./server-events";

interface FrameBase {
  event_id: string | null;
  agent_type: AgentType;
  pillar: Pillar | null;
}

export type { QuestionAsked, QuestionResolved };
export type QuestionKind = QuestionAsked["kind"];
export type QuestionOutcome = QuestionResolved["outcome"];

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
