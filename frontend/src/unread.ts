// Which replies of a conversation the user has not seen: the ones that finished while its
// tab was not shown. What the page found in the history when it loaded counts as seen.

import type { ConversationState } from "./conversation";

/** The replies of a thread that are done: complete, stopped, or failed (on their question). */
export function finishedReplies(state: ConversationState): string[] {
  const keys: string[] = [];
  for (const item of state.items) {
    if (item.kind !== "message") continue;
    if (item.role === "assistant" && item.state !== "streaming") keys.push(item.key);
    // A reply that could not be produced shows on its question: that, too, is news.
    else if (item.role === "user" && item.state === "accepted" && item.error !== undefined) {
      keys.push(`failed:${item.key}`);
    }
  }
  return keys;
}

/** The finished replies the user has seen; null until the conversation's history arrived. */
export type Seen = ReadonlySet<string> | null;

/**
 * What the user has seen after this render: everything, while the conversation is on screen
 * or when its history first arrives; otherwise what they had seen before. The same object
 * when nothing changed, so that a caller can keep it in state.
 */
export function nextSeen(seen: Seen, state: ConversationState, onScreen: boolean): Seen {
  if (!state.restored || (!onScreen && seen !== null)) return seen;
  const finished = finishedReplies(state);
  if (seen !== null && finished.every((key) => seen.has(key))) return seen;
  return new Set(seen === null ? finished : [...seen, ...finished]);
}

/** How many finished replies the user has not seen. */
export function unreadCount(seen: Seen, state: ConversationState): number {
  if (seen === null) return 0;
  return finishedReplies(state).filter((key) => !seen.has(key)).length;
}
