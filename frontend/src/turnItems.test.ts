import { describe, expect, it } from "vitest";

import {
  type ConversationAction,
  type ConversationState,
  conversationReducer,
  EMPTY_CONVERSATION,
  type ThreadMessage,
} from "./conversation";
import type { RecordedMessage, ServerFrame } from "./protocol";
import type { QuestionItem } from "./turnItems";

function frame(
  fields: Record<string, unknown> & { type: ServerFrame["type"] },
): ConversationAction {
  return {
    type: "frame",
    frame: {
      event_id: null,
      agent_type: "operations_liaison",
      pillar: "operations",
      ...fields,
    } as ServerFrame,
  };
}

function run(...actions: ConversationAction[]): ConversationState {
  return actions.reduce(conversationReducer, EMPTY_CONVERSATION);
}

function record(
  id: string,
  role: "user" | "assistant",
  content: string,
  seq: number,
  extra: Partial<RecordedMessage> = {},
): RecordedMessage {
  return {
    message_id: id,
    role,
    content,
    seq,
    timestamp: "2026-01-01T00:00:00Z",
    agent_type: "operations_liaison",
    event_id: `${seq}-0`,
    ...(role === "assistant" ? { in_reply_to: "m-1" } : {}),
    ...extra,
  } as RecordedMessage;
}

function restored(messages: RecordedMessage[]): ConversationAction {
  return frame({
    type: "conversation_restored",
    latest_event_id: "9-0",
    session_id: "s1",
    messages,
    message_count: messages.length,
  });
}

const accepted = frame({
  type: "message_accepted",
  message_id: "m-1",
  client_message_id: "c1",
  message: "Draft my SOP",
  seq: 1,
});

const approval = frame({
  type: "question_asked",
  question_id: "q1",
  kind: "approval",
  in_reply_to: "m-1",
  prompt: "Draft an SOP?",
  capability: "draft_sop",
  inputs: { steps: "wash, dry" },
  deadline: "2099-01-01T00:00:00Z",
});

function messages(state: ConversationState): ThreadMessage[] {
  return state.items.filter((item): item is ThreadMessage => item.kind === "message");
}

function questions(state: ConversationState): QuestionItem[] {
  return state.items.filter((item): item is QuestionItem => item.kind === "question");
}

function reply(id: string, text: string, extra: Record<string, unknown> = {}): ConversationAction {
  return frame({
    type: "chat_response",
    message_id: id,
    in_reply_to: "m-1",
    message: text,
    session_id: "s1",
    timestamp: "2026-01-01T00:00:00Z",
    seq: 2,
    ...extra,
  });
}

describe("questions", () => {
  it("shows a question after the message it asks about, once however often it arrives", () => {
    const state = run(accepted, approval, approval);
    expect(state.items.map((item) => item.key)).toEqual(["m-1", "question:q1"]);
    expect(questions(state)[0]).toMatchObject({
      questionKind: "approval",
      capability: "draft_sop",
      inputs: { steps: "wash, dry" },
    });
    // The turn waits for the person, not for the liaison.
    expect(questions(state)[0].resolution).toBeUndefined();
  });

  it("keeps the first resolution: another tab's answer wins, a late one changes nothing", () => {
    const state = run(
      accepted,
      approval,
      frame({ type: "question_resolved", question_id: "q1", outcome: "rejected" }),
      frame({ type: "question_resolved", question_id: "q1", outcome: "approved" }),
    );
    expect(questions(state)[0].resolution).toEqual({ outcome: "rejected", answer: undefined });
  });

  it("shows an expiry as the resolution", () => {
    const state = run(
      accepted,
      approval,
      frame({ type: "question_resolved", question_id: "q1", outcome: "expired" }),
    );
    expect(questions(state)[0].resolution?.outcome).toBe("expired");
  });

  it("keeps questions, answered or not, when the history is restored again", () => {
    const state = run(
      accepted,
      approval,
      frame({
        type: "question_resolved",
        question_id: "q1",
        outcome: "edited",
        answer: { inputs: { steps: "wash" } },
      }),
      restored([record("m-1", "user", "Draft my SOP", 1), record("r-1", "assistant", "Done", 2)]),
    );
    expect(state.items.map((item) => item.key)).toEqual(["m-1", "question:q1", "r-1"]);
    expect(questions(state)[0].resolution?.answer).toEqual({ inputs: { steps: "wash" } });
  });

  it("shows open questions the server lists only where their turn is in this conversation", () => {
    const listed = {
      type: "question_asked" as const,
      event_id: null,
      agent_type: "operations_liaison" as const,
      pillar: "operations" as const,
      question_id: "q2",
      kind: "file" as const,
      in_reply_to: "m-1",
      prompt: "Upload the process file",
      deadline: "2099-01-01T00:00:00Z",
    };
    const here = run(restored([record("m-1", "user", "Parse it", 1)]), {
      type: "open_question",
      frame: listed,
    });
    expect(questions(here).map((question) => question.questionKind)).toEqual(["file"]);
    const elsewhere = run(restored([record("m-9", "user", "Other", 1)]), {
      type: "open_question",
      frame: listed,
    });
    expect(questions(elsewhere)).toEqual([]);
  });
});

describe("questions of an edited message", () => {
  it("stay with the message under its new id", () => {
    const state = run(
      accepted,
      frame({
        type: "message_edited",
        message_id: "m-1",
        new_message_id: "m-2",
        message: "Draft my SOP: 1. a 2. b",
      }),
      frame({
        type: "question_asked",
        question_id: "q3",
        kind: "approval",
        in_reply_to: "m-2",
        prompt: "Draft it?",
        deadline: "2099-01-01T00:00:00Z",
      }),
      approval,
    );
    expect(state.items.map((item) => item.key)).toEqual(["m-2", "question:q1", "question:q3"]);
  });
});

describe("steps", () => {
  const started = frame({
    type: "step_started",
    message_id: "r-1",
    step_id: "s1",
    name: "draft_sop",
    summary: "3 steps",
  });
  const finished = frame({
    type: "step_finished",
    message_id: "r-1",
    step_id: "s1",
    outcome: "failed",
    reason: "no steps given",
    duration_ms: 1200,
  });

  it("show inside the reply, before its first words, with outcome and duration", () => {
    const state = run(accepted, started, started, finished);
    const [, answer] = messages(state);
    expect(answer).toMatchObject({
      key: "r-1",
      role: "assistant",
      state: "streaming",
      content: "",
    });
    expect(answer.steps).toEqual([
      {
        stepId: "s1",
        name: "draft_sop",
        summary: "3 steps",
        outcome: "failed",
        reason: "no steps given",
        durationMs: 1200,
      },
    ]);
  });

  it("stay with the reply as its text streams and completes", () => {
    const state = run(
      accepted,
      started,
      frame({ type: "chat_chunk", message_id: "r-1", delta: "Here" }),
      finished,
      reply("r-1", "Here it is"),
    );
    const [, answer] = messages(state);
    expect(answer.content).toBe("Here it is");
    expect(answer.state).toBe("complete");
    expect(answer.steps).toHaveLength(1);
  });

  it("keep their place when the reply restarts, and show a stopped step as cancelled", () => {
    const state = run(
      accepted,
      started,
      frame({ type: "chat_chunk", message_id: "r-1", delta: "Par" }),
      frame({ type: "reply_restarted", message_id: "r-1" }),
      frame({
        type: "step_finished",
        message_id: "r-1",
        step_id: "s1",
        outcome: "cancelled",
        duration_ms: 5,
      }),
    );
    const [, answer] = messages(state);
    expect(answer.content).toBe("");
    expect(answer.steps?.map((step) => [step.name, step.outcome])).toEqual([
      ["draft_sop", "cancelled"],
    ]);
  });

  it("are restored from the history", () => {
    const state = run(
      restored([
        record("m-1", "user", "Draft my SOP", 1),
        record("r-1", "assistant", "Here it is", 2, {
          steps: [
            {
              step_id: "s1",
              name: "draft_sop",
              summary: "3 steps",
              outcome: "done",
              duration_ms: 40,
            },
          ],
        }),
      ]),
    );
    expect(messages(state)[1].steps).toEqual([
      {
        stepId: "s1",
        name: "draft_sop",
        summary: "3 steps",
        outcome: "done",
        reason: undefined,
        durationMs: 40,
      },
    ]);
  });
});

describe("feedback", () => {
  it("shows the rating the server recorded, the latest one", () => {
    const state = run(
      accepted,
      reply("r-1", "Here"),
      frame({ type: "feedback_recorded", message_id: "r-1", rating: "up" }),
      frame({ type: "feedback_recorded", message_id: "r-1", rating: "down" }),
    );
    expect(messages(state)[1].feedback).toBe("down");
  });
});

describe("regenerate", () => {
  it("puts the new reply in the old one's place, the old text as its earlier version", () => {
    const state = run(
      accepted,
      reply("r-1", "First try"),
      { type: "regenerating", messageId: "r-1", active: true },
      frame({ type: "chat_chunk", message_id: "r-2", delta: "Sec" }),
      reply("r-2", "Second try", { regenerates: "r-1" }),
    );
    expect(messages(state).map((message) => [message.key, message.content])).toEqual([
      ["m-1", "Draft my SOP"],
      ["r-2", "Second try"],
    ]);
    expect(messages(state)[1]).toMatchObject({ earlier: ["First try"], earlierIds: ["r-1"] });
  });

  it("is folded the same way when the history holds both replies", () => {
    const state = run(
      restored([
        record("m-1", "user", "Draft my SOP", 1),
        record("r-1", "assistant", "First try", 2),
        record("r-2", "assistant", "Second try", 3, { regenerates: "r-1" }),
      ]),
    );
    expect(messages(state).map((message) => message.key)).toEqual(["m-1", "r-2"]);
    expect(messages(state)[1].earlier).toEqual(["First try"]);
  });
});

describe("edit and resend", () => {
  const edited = frame({
    type: "message_edited",
    message_id: "m-1",
    new_message_id: "m-2",
    message: "Draft my SOP for onboarding",
  });

  it("shows the latest text in the message's place, the earlier one at hand", () => {
    const state = run(
      accepted,
      frame({ type: "chat_chunk", message_id: "r-1", delta: "Half" }),
      edited,
      edited,
      reply("r-1", "Half", { cancelled: true }),
    );
    const [message] = messages(state);
    expect(message).toMatchObject({
      key: "m-2",
      content: "Draft my SOP for onboarding",
      earlier: ["Draft my SOP"],
      earlierIds: ["m-1"],
      awaitingReply: true,
    });
    expect(messages(state)[1]).toMatchObject({ key: "r-1", state: "cancelled" });
  });

  it("merges with the new message when its acceptance arrived first (another tab)", () => {
    const state = run(
      accepted,
      frame({
        type: "message_accepted",
        message_id: "m-2",
        client_message_id: "c2",
        message: "Draft my SOP for onboarding",
        seq: 3,
      }),
      edited,
    );
    expect(messages(state).map((message) => [message.key, message.earlier])).toEqual([
      ["m-2", ["Draft my SOP"]],
    ]);
  });

  it("is folded from the history, which keeps both versions", () => {
    const state = run(
      restored([
        record("m-1", "user", "Draft my SOP", 1),
        record("r-1", "assistant", "Half", 2, { cancelled: true }),
        record("m-2", "user", "Draft my SOP for onboarding", 3, { edits: "m-1" }),
        record("r-2", "assistant", "Here", 4, { in_reply_to: "m-2" }),
      ]),
    );
    expect(messages(state).map((message) => message.key)).toEqual(["m-2", "r-1", "r-2"]);
    expect(messages(state)[0].earlier).toEqual(["Draft my SOP"]);
  });
});
