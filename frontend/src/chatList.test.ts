import { describe, expect, it } from "vitest";

import {
  appendPage,
  type ChatSummary,
  EMPTY_OVERLAY,
  refreshFirstPage,
  settle,
  titleMatches,
  visibleChats,
  VISIBILITY_LAG_MS,
  withCreated,
  withDeleted,
  withRenamed,
} from "./chatList";

function chat(id: string, minute: number, title = `Chat ${id}`): ChatSummary {
  return {
    chat_id: id,
    title,
    last_activity: new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString(),
    pillars: [],
    preview: "",
  };
}

const ids = (chats: ChatSummary[]) => chats.map((each) => each.chat_id);

describe("the overlay hides visibility lag", () => {
  it("shows a chat created here before the server lists it, newest first", () => {
    const overlay = withCreated(EMPTY_OVERLAY, chat("new", 30), 0);
    expect(ids(visibleChats([chat("a", 10), chat("b", 5)], overlay))).toEqual(["new", "a", "b"]);
  });

  it("shows a created chat once when the server lists it too, and forgets it then", () => {
    const overlay = withCreated(EMPTY_OVERLAY, chat("new", 30), 0);
    const server = [chat("new", 31, "First words"), chat("a", 10)];
    expect(visibleChats(server, overlay).map((each) => each.title)).toEqual([
      "First words",
      "Chat a",
    ]);
    expect(settle(overlay, server, 1).created.size).toBe(0);
  });

  it("keeps the new title over a list that still has the old one", () => {
    const overlay = withRenamed(EMPTY_OVERLAY, "a", "Budget", 0);
    const stale = [chat("a", 10, "Old title")];
    expect(visibleChats(stale, settle(overlay, stale, 1000))[0].title).toBe("Budget");
  });

  it("lets the server's title win once the lag window has passed", () => {
    const overlay = withRenamed(EMPTY_OVERLAY, "a", "Budget", 0);
    const later = [chat("a", 10, "Renamed elsewhere")];
    const settled = settle(overlay, later, VISIBILITY_LAG_MS + 1);
    expect(visibleChats(later, settled)[0].title).toBe("Renamed elsewhere");
  });

  it("never shows a deleted chat again, even one created here", () => {
    let overlay = withCreated(EMPTY_OVERLAY, chat("new", 30), 0);
    overlay = withDeleted(withDeleted(overlay, "new"), "a");
    const server = [chat("a", 10), chat("b", 5)];
    expect(ids(visibleChats(server, settle(overlay, server, VISIBILITY_LAG_MS * 10)))).toEqual([
      "b",
    ]);
  });

  it("shows a created chat in search results only if its title matches", () => {
    const overlay = withCreated(EMPTY_OVERLAY, chat("new", 30, "Quarterly budget"), 0);
    expect(ids(visibleChats([], overlay, "budget"))).toEqual(["new"]);
    expect(ids(visibleChats([], overlay, "hiring"))).toEqual([]);
  });
});

describe("paging", () => {
  it("appends the next page without repeating a chat that moved between pages", () => {
    const loaded = [chat("a", 10), chat("b", 9)];
    const next = { chats: [chat("b", 9), chat("c", 8)], next_cursor: null };
    expect(ids(appendPage(loaded, next))).toEqual(["a", "b", "c"]);
  });

  it("refreshes the first page and keeps the older pages loaded", () => {
    const first = [chat("a", 10), chat("b", 9)];
    const loaded = [...first, chat("c", 8), chat("d", 7)];
    // "b" was deleted elsewhere, "e" is new, "d" became active again.
    const page = { chats: [chat("d", 20), chat("e", 15), chat("a", 10)], next_cursor: "x" };
    expect(ids(refreshFirstPage(loaded, first, page))).toEqual(["d", "e", "a", "c"]);
  });
});

describe("titleMatches", () => {
  it("matches every word, ignoring case", () => {
    expect(titleMatches("Quarterly Budget review", "budget QUARTER")).toBe(true);
    expect(titleMatches("Quarterly Budget review", "budget hiring")).toBe(false);
    expect(titleMatches("Anything", "  ")).toBe(true);
  });
});
