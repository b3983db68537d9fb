import { describe, expect, it } from "vitest";

import {
  type ConversationAction,
  type ConversationState,
  conversationReducer,
  EMPTY_CONVERSATION,
  replyInProgress,
  type ThreadMessage,
} from "./conversation";
import type { RecordedMessage, ServerFrame } from "./protocol";

type FrameFields = Partial<ServerFrame> & { type: ServerFrame["type"] };

function frame(fields: FrameFields): ConversationAction {
  return {
    type: "frame",
    frame: { event_id: null, agent_type: "guide", pillar: null, ...fields } as ServerFrame,
  };
}

function run(...actions: ConversationAction[]): ConversationState {
  return actions.reduce(conversationReducer, EMPTY_CONVERSATION);
}

function restored(messages: RecordedMessage[], latest = "9-0"): ConversationAction {
  return frame({
    type: "conversation_restored",
    event_id: latest,
    latest_event_id: latest,
    session_id: "s1",
    messages,
    message_count: messages.length,
  });
}

function recorded(
  id: string,
  role: "user" | "assistant",
  content: string,
  seq: number,
): RecordedMessage {
  return {
    message_id: id,
    role,
    content,
    seq,
    timestamp: "2026-01-01T00:00:00Z",
    agent_type: "guide",
    event_id: `${seq}-0`,
    ...(role === "assistant" ? { in_reply_to: "m-1" } : {}),
  };
}

const sending: ConversationAction = {
  type: "sending",
  clientMessageId: "c1",
  message: "hi",
  author: "guide",
};
const accepted = frame({
  type: "message_accepted",
  message_id: "m-1",
  client_message_id: "c1",
  message: "hi",
  seq: 1,
});
const chunk = (delta: string) => frame({ type: "chat_chunk", message_id: "r-1", delta });
const response = frame({
  type: "chat_response",
  message_id: "r-1",
  in_reply_to: "m-1",
  message: "Hello there",
  session_id: "s1",
  seq: 2,
  timestamp: "t",
});

function messages(
  state: ConversationState,
): Array<Pick<ThreadMessage, "role" | "content" | "state">> {
  return state.items.flatMap((item) =>
    item.kind === "message" ? [{ role: item.role, content: item.content, state: item.state }] : [],
  );
}

describe("conversation", () => {
  it("shows a sent message, its acceptance and the streamed reply once each", () => {
    const state = run(restored([]), sending, accepted, chunk("Hello "), chunk("there"), response);
    expect(messages(state)).toEqual([
      { role: "user", content: "hi", state: "accepted" },
      { role: "assistant", content: "Hello there", state: "complete" },
    ]);
    expect(replyInProgress(state)).toBeNull();
  });

  it("shows a reply failure recorded in the history on its question after a reload", () => {
    const failure: RecordedMessage = {
      ...recorded("r-1", "assistant", "The agent could not answer right now.", 2),
      role: "error",
      code: "reply_failed",
    };
    const state = run(restored([recorded("m-1", "user", "hi", 1), failure]));
    expect(messages(state)).toEqual([{ role: "user", content: "hi", state: "accepted" }]);
    const question = state.items[0] as ThreadMessage;
    expect(question.error?.code).toBe("reply_failed");
    expect(question.error?.message).toBe("The agent could not answer right now.");
    expect(replyInProgress(state)).toBeNull();
  });

  it("waits for the reply between acceptance and the last chunk", () => {
    expect(replyInProgress(run(restored([]), sending, accepted))).toBe("m-1");
    expect(replyInProgress(run(restored([]), sending, accepted, chunk("He")))).toBe("r-1");
  });

  it("replaces streamed text with the recorded reply and ignores chunks after it", () => {
    const state = run(sending, accepted, chunk("Hel"), response, chunk("lo"));
    expect(messages(state)[1]).toEqual({
      role: "assistant",
      content: "Hello there",
      state: "complete",
    });
  });

  it("restores history without duplicating what the page already shows", () => {
    const state = run(
      sending,
      accepted,
      chunk("Hello "),
      restored([recorded("m-1", "user", "hi", 1)]),
      chunk("there"),
    );
    expect(messages(state)).toEqual([
      { role: "user", content: "hi", state: "accepted" },
      { role: "assistant", content: "Hello there", state: "streaming" },
    ]);
  });

  it("merges a message it is still sending with the restored copy when the resend is acknowledged", () => {
    const state = run(
      sending,
      restored([recorded("m-1", "user", "hi", 1), recorded("r-1", "assistant", "Hello there", 2)]),
      frame({
        type: "message_accepted",
        message_id: "m-1",
        client_message_id: "c1",
        seq: 1,
        duplicate: true,
      }),
    );
    expect(messages(state)).toEqual([
      { role: "user", content: "hi", state: "accepted" },
      { role: "assistant", content: "Hello there", state: "complete" },
    ]);
    expect(replyInProgress(state)).toBeNull();
  });

  it("restores a reply that was stopped as stopped", () => {
    const stopped = { ...recorded("r-1", "assistant", "Half a", 2), cancelled: true };
    const state = run(restored([recorded("m-1", "user", "hi", 1), stopped]));
    expect(messages(state)[1]).toEqual({
      role: "assistant",
      content: "Half a",
      state: "cancelled",
    });
  });

  it("starts a restarted reply over", () => {
    const state = run(
      sending,
      accepted,
      chunk("Wrong "),
      frame({ type: "reply_restarted", message_id: "r-1" }),
      chunk("Right"),
    );
    expect(messages(state)[1].content).toBe("Right");
  });

  it("shows a message sent from another tab", () => {
    const state = run(
      restored([]),
      frame({
        type: "message_accepted",
        message_id: "m-9",
        client_message_id: "other",
        message: "from tab 2",
        seq: 1,
      }),
    );
    expect(messages(state)).toEqual([{ role: "user", content: "from tab 2", state: "accepted" }]);
  });

  it("marks a refused message failed, with what to do", () => {
    const refused = run(
      sending,
      frame({
        type: "error",
        code: "content_policy",
        message: "Blocked term.",
        client_message_id: "c1",
      }),
    );
    const item = refused.items[0] as ThreadMessage;
    expect(item.state).toBe("failed");
    expect(item.error).toMatchObject({
      message: "Blocked term.",
      advice: "Rephrase the message.",
      retryable: false,
    });
  });

  it("keeps sending a message the server could not take yet, and says why", () => {
    const limited = run(
      sending,
      frame({
        type: "error",
        code: "rate_limited",
        message: "Slow down.",
        client_message_id: "c1",
      }),
    );
    const item = limited.items[0] as ThreadMessage;
    expect(item.state).toBe("sending");
    expect(item.error).toMatchObject({ message: "Slow down.", retryable: true });
    // Then the automatic resend is accepted.
    const sent = conversationReducer(limited, accepted);
    expect(messages(sent)).toEqual([{ role: "user", content: "hi", state: "accepted" }]);
    expect((sent.items[0] as ThreadMessage).error).toBeUndefined();
  });

  it("marks a message the page could not queue failed, retryable, in its place", () => {
    const error = { code: "too_many_pending", message: "50 wait.", advice: "Retry later." };
    const refused = run(sending, { type: "not_queued", clientMessageId: "c1", error });
    expect(messages(refused)).toEqual([{ role: "user", content: "hi", state: "failed" }]);
    expect((refused.items[0] as ThreadMessage).error).toEqual({ ...error, retryable: true });
    const retried = conversationReducer(refused, sending);
    expect(messages(retried)).toEqual([{ role: "user", content: "hi", state: "sending" }]);
    expect((retried.items[0] as ThreadMessage).error).toBeUndefined();
  });

  it("shows a message still waiting from before a reload as sending after the history", () => {
    const state = run(
      sending,
      restored([recorded("m-0", "user", "earlier", 1), recorded("r-0", "assistant", "yes", 2)]),
    );
    expect(messages(state)).toEqual([
      { role: "user", content: "earlier", state: "accepted" },
      { role: "assistant", content: "yes", state: "complete" },
      { role: "user", content: "hi", state: "sending" },
    ]);
  });

  it("keeps the question and drops the partial reply when the reply fails", () => {
    const state = run(
      sending,
      accepted,
      chunk("Hal"),
      frame({
        type: "error",
        event_id: "5-0",
        code: "reply_failed",
        message: "The agent failed.",
        in_reply_to: "m-1",
      }),
    );
    expect(messages(state)).toEqual([{ role: "user", content: "hi", state: "accepted" }]);
    expect((state.items[0] as ThreadMessage).error?.advice).toBe(
      "Resend the message, or ask differently.",
    );
    expect(replyInProgress(state)).toBeNull();
  });

  it("shows an error about no message as a notice", () => {
    const state = run(frame({ type: "error", code: "invalid_frame", message: "message: missing" }));
    expect(state.notice).toMatchObject({ code: "invalid_frame", message: "message: missing" });
  });

  it("shows a handoff once, and keeps it across a restore", () => {
    const handoff = frame({
      type: "handoff",
      from: "guide",
      to: "content_liaison",
      to_pillar: "content",
      reason: "This is about files.",
      in_reply_to: "m-1",
    });
    const state = run(
      sending,
      accepted,
      handoff,
      handoff,
      restored([recorded("m-1", "user", "hi", 1)]),
    );
    const handoffs = state.items.filter((item) => item.kind === "handoff");
    expect(handoffs).toHaveLength(1);
    expect(state.items.map((item) => item.key)).toEqual(["m-1", "handoff:m-1"]);
  });

  it("attributes a reply written by a liaison on the guide's thread to that liaison", () => {
    const state = run(
      sending,
      accepted,
      frame({
        type: "chat_chunk",
        agent_type: "content_liaison",
        pillar: "content",
        message_id: "r-1",
        delta: "Content",
      }),
    );
    expect((state.items[1] as ThreadMessage).author).toBe("content_liaison");
  });

  it("shows a message once when its acknowledgement was lost and the history has it", () => {
    const state = run(
      sending,
      restored([{ ...recorded("m-1", "user", "hi", 1), client_message_id: "c1" }]),
    );
    const messages = state.items as ThreadMessage[];
    expect(messages.map((item) => [item.key, item.state])).toEqual([["m-1", "accepted"]]);
    // Still waiting for its reply: the Stop button and the typing sign know.
    expect(replyInProgress(state)).toBe("m-1");
    // The answer to the resend changes nothing.
    const after = conversationReducer(
      state,
      frame({
        type: "message_accepted",
        event_id: "1-0",
        message_id: "m-1",
        client_message_id: "c1",
        seq: 1,
        duplicate: true,
      }),
    );
    expect(after.items).toHaveLength(1);
  });
});
