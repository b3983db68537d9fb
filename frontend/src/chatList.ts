// The chat list as the page shows it: the server's pages, with what this page just did merged
// in. The server lists chats from Temporal visibility, which lags a write by up to a second or
// so: a chat just created may be missing from the next list, a renamed one may keep its old
// title, a deleted one may still be there. The page keeps its own changes (an overlay) and
// lays them over every list it receives, until the server shows them or the lag window passes.

import type { Pillar } from "./protocol";

export interface ChatSummary {
  chat_id: string;
  title: string;
  // ISO 8601.
  last_activity: string;
  pillars: Pillar[];
  preview: string;
}

export interface ChatPage {
  chats: ChatSummary[];
  next_cursor: string | null;
}

/** How long the page trusts its own change over a list that does not show it yet. */
export const VISIBILITY_LAG_MS = 30_000;

interface Change<T> {
  value: T;
  at: number;
}

/** What this page created, renamed and deleted, with when. */
export interface Overlay {
  created: ReadonlyMap<string, Change<ChatSummary>>;
  renamed: ReadonlyMap<string, Change<string>>;
  // A deleted chat never comes back, so deletions are kept for as long as the page lives.
  deleted: ReadonlySet<string>;
}

export const EMPTY_OVERLAY: Overlay = {
  created: new Map(),
  renamed: new Map(),
  deleted: new Set(),
};

export function withCreated(overlay: Overlay, chat: ChatSummary, now: number): Overlay {
  const created = new Map(overlay.created);
  created.set(chat.chat_id, { value: chat, at: now });
  return { ...overlay, created };
}

export function withRenamed(overlay: Overlay, chatId: string, title: string, now: number): Overlay {
  const renamed = new Map(overlay.renamed);
  renamed.set(chatId, { value: title, at: now });
  return { ...overlay, renamed };
}

export function withDeleted(overlay: Overlay, chatId: string): Overlay {
  const deleted = new Set(overlay.deleted);
  deleted.add(chatId);
  const created = new Map(overlay.created);
  created.delete(chatId);
  return { ...overlay, created, deleted };
}

/**
 * The overlay after the server's list `chats`: a creation the list shows, or a rename it
 * agrees with, is the server's now; one older than the lag window is dropped (the list is
 * right by then, e.g. another device renamed the chat again).
 */
export function settle(overlay: Overlay, chats: readonly ChatSummary[], now: number): Overlay {
  const listed = new Map(chats.map((chat) => [chat.chat_id, chat]));
  const fresh = <T>(change: Change<T>) => now - change.at < VISIBILITY_LAG_MS;
  const created = new Map(
    [...overlay.created].filter(([id, change]) => !listed.has(id) && fresh(change)),
  );
  const renamed = new Map(
    [...overlay.renamed].filter(
      ([id, change]) => listed.get(id)?.title !== change.value && fresh(change),
    ),
  );
  return { created, renamed, deleted: overlay.deleted };
}

/**
 * The list to show: the server's chats without the deleted ones, with this page's titles, and
 * the chats created here that the server does not list yet, newest activity first. With a
 * search `query`, created chats are shown only if their title matches it.
 */
export function visibleChats(
  chats: readonly ChatSummary[],
  overlay: Overlay,
  query = "",
): ChatSummary[] {
  const listed = new Set(chats.map((chat) => chat.chat_id));
  const created = [...overlay.created.values()]
    .map((change) => change.value)
    .filter((chat) => !listed.has(chat.chat_id) && titleMatches(chat.title, query));
  return [...created, ...chats]
    .filter((chat) => !overlay.deleted.has(chat.chat_id))
    .map((chat) => {
      const title = overlay.renamed.get(chat.chat_id)?.value;
      return title === undefined ? chat : { ...chat, title };
    })
    .sort(byNewestActivity);
}

/**
 * The chats after loading the page after `loaded` ("more"): appended, without repeating a
 * chat that moved between pages while the reader paged.
 */
export function appendPage(loaded: readonly ChatSummary[], page: ChatPage): ChatSummary[] {
  const seen = new Set(loaded.map((chat) => chat.chat_id));
  return [...loaded, ...page.chats.filter((chat) => !seen.has(chat.chat_id))];
}

/**
 * The chats after a refresh of the first page: the first page as the server has it now, then
 * the older chats loaded before that it does not repeat. A chat that was on the first page
 * before and is gone from it now was deleted (or it dropped to a later page, where "more" will
 * find it again).
 */
export function refreshFirstPage(
  loaded: readonly ChatSummary[],
  previousFirst: readonly ChatSummary[],
  page: ChatPage,
): ChatSummary[] {
  const first = new Set(page.chats.map((chat) => chat.chat_id));
  const wasFirst = new Set(previousFirst.map((chat) => chat.chat_id));
  return [
    ...page.chats,
    ...loaded.filter((chat) => !first.has(chat.chat_id) && !wasFirst.has(chat.chat_id)),
  ];
}

/** Whether `title` holds every word of `query`, ignoring case. */
export function titleMatches(title: string, query: string): boolean {
  const lower = title.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/u)
    .every((word) => lower.includes(word));
}

function byNewestActivity(a: ChatSummary, b: ChatSummary): number {
  return Date.parse(b.last_activity) - Date.parse(a.last_activity);
}
