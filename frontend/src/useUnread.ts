// React's side of src/unread.ts: which conversations are on screen, and how many finished
// replies each has that the user has not seen.

import { useState, useSyncExternalStore } from "react";

import type { ConversationState } from "./conversation";
import { nextSeen, type Seen, unreadCount } from "./unread";

/**
 * Unread replies per conversation. Adjusted while rendering (not in an effect), so a mark
 * never shows, even for a frame, on a conversation that is on screen.
 */
export function useUnread<K extends string>(
  conversations: Record<K, ConversationState>,
  onScreen: Record<K, boolean>,
): Record<K, number> {
  const keys = Object.keys(conversations) as K[];
  const [seen, setSeen] = useState<Partial<Record<K, Seen>>>({});
  let next = seen;
  for (const key of keys) {
    const before = seen[key] ?? null;
    const after = nextSeen(before, conversations[key], onScreen[key]);
    if (after !== before) next = { ...next, [key]: after };
  }
  if (next !== seen) setSeen(next);
  const counts = {} as Record<K, number>;
  for (const key of keys) counts[key] = unreadCount(next[key] ?? null, conversations[key]);
  return counts;
}

// The width below which the Guide opens over the pillars (src/styles.css).
const PHONE = "(max-width: 760px)";

function subscribeToWidth(listener: () => void): () => void {
  const query = window.matchMedia(PHONE);
  query.addEventListener("change", listener);
  return () => query.removeEventListener("change", listener);
}

/** True on a phone-sized screen, where the Guide and the pillars take turns on screen. */
export function usePhoneScreen(): boolean {
  return useSyncExternalStore(subscribeToWidth, () => window.matchMedia(PHONE).matches);
}
