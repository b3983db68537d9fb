import { describe, expect, it } from "vitest";

import { type ConversationState, EMPTY_CONVERSATION, type ThreadMessage } from "./conversation";
import { nextSeen, unreadCount } from "./unread";

function reply(key: string, state: ThreadMessage["state"] = "complete"): ThreadMessage {
  return {
    kind: "message",
    key,
    role: "assistant",
    author: "insights_liaison",
    content: "x",
    state,
  };
}

function thread(...items: ThreadMessage[]): ConversationState {
  return { items, notice: null, restored: true };
}

describe("unread replies", () => {
  it("counts nothing before the history arrived, and the history itself as read", () => {
    expect(nextSeen(null, EMPTY_CONVERSATION, false)).toBeNull();
    const history = thread(reply("r-1"), reply("r-2"));
    const seen = nextSeen(null, history, false);
    expect(unreadCount(seen, history)).toBe(0);
  });

  it("counts replies that finish while the tab is not shown, not while they stream", () => {
    const seen = nextSeen(null, thread(reply("r-1")), false);
    const streaming = thread(reply("r-1"), reply("r-2", "streaming"));
    expect(nextSeen(seen, streaming, false)).toBe(seen);
    expect(unreadCount(seen, streaming)).toBe(0);
    const finished = thread(reply("r-1"), reply("r-2"), reply("r-3", "cancelled"));
    expect(unreadCount(nextSeen(seen, finished, false), finished)).toBe(2);
  });

  it("counts a failed reply, shown on its question", () => {
    const seen = nextSeen(null, thread(), false);
    const question: ThreadMessage = {
      ...reply("m-1"),
      role: "user",
      state: "accepted",
      error: { code: "reply_failed", message: "failed", advice: "retry", retryable: true },
    };
    expect(unreadCount(seen, thread(question))).toBe(1);
  });

  it("reads everything once the tab is shown, and keeps the same set when nothing is new", () => {
    const seen = nextSeen(null, thread(), false);
    const later = thread(reply("r-1"), reply("r-2"));
    const read = nextSeen(seen, later, true);
    expect(unreadCount(read, later)).toBe(0);
    expect(nextSeen(read, later, true)).toBe(read);
    expect(nextSeen(read, later, false)).toBe(read);
  });
});
