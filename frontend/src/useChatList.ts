// React's view of the chat list: pages from the server, this page's own changes laid over
// them (src/chatList.ts), refreshed while the page is shown so that chats made on another
// device appear.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import {
  appendPage,
  type ChatSummary,
  EMPTY_OVERLAY,
  type Overlay,
  refreshFirstPage,
  settle,
  visibleChats,
  withCreated,
  withDeleted,
  withRenamed,
} from "./chatList";
import { ApiError, type ChatsApi } from "./chatsApi";

/** How often a shown page asks for the list again. */
export const REFRESH_MS = 5_000;
const SEARCH_DELAY_MS = 250;

export type ListStatus = "loading" | "ready" | "unavailable";

export interface ChatList {
  chats: ChatSummary[];
  status: ListStatus;
  // What went wrong with the last change or load, for the reader.
  error: string | null;
  query: string;
  hasMore: boolean;
  loadingMore: boolean;
  setQuery(query: string): void;
  more(): void;
  refresh(): void;
  /** The server's new chat, shown at once. */
  created(chat: ChatSummary): void;
  rename(chatId: string, title: string): Promise<boolean>;
  remove(chatId: string): Promise<boolean>;
  dismissError(): void;
}

interface Loaded {
  chats: ChatSummary[];
  firstPage: ChatSummary[];
  nextCursor: string | null;
  // The search the chats answer.
  query: string;
}

const NOTHING: Loaded = { chats: [], firstPage: [], nextCursor: null, query: "" };

/** The list of `api`; `enabled` false (a server without one) asks nothing. */
export function useChatList(api: ChatsApi, enabled = true): ChatList {
  const [loaded, setLoaded] = useState<Loaded>(NOTHING);
  const [overlay, setOverlay] = useState<Overlay>(EMPTY_OVERLAY);
  const [status, setStatus] = useState<ListStatus>("loading");
  const [error, setError] = useState<string | null>(null);
  const [query, setQueryState] = useState("");
  const [loadingMore, setLoadingMore] = useState(false);
  // Answers to older requests (an older search, a refresh overtaken) are dropped.
  const latest = useRef(0);

  const loadFirst = useCallback(
    async (search: string) => {
      const request = ++latest.current;
      try {
        const page = await api.list({ query: search });
        if (request !== latest.current) return;
        setLoaded((previous) => ({
          chats:
            previous.query === search
              ? refreshFirstPage(previous.chats, previous.firstPage, page)
              : page.chats,
          firstPage: page.chats,
          nextCursor:
            previous.query === search && previous.chats.length > previous.firstPage.length
              ? previous.nextCursor
              : page.next_cursor,
          query: search,
        }));
        setOverlay((previous) => settle(previous, page.chats, Date.now()));
        setStatus("ready");
      } catch (failure) {
        if (request !== latest.current) return;
        // A server without the chat list (404 on the route itself) is not an error to show
        // on every refresh: the page works with one session, as before.
        setStatus((previous) => (previous === "ready" ? previous : "unavailable"));
        if (!(failure instanceof ApiError && failure.status === 404)) {
          setError("The chat list could not be loaded; it is tried again shortly.");
        }
      }
    },
    [api],
  );

  // The first load, each search (after a pause in typing) and a refresh while shown.
  useEffect(() => {
    if (!enabled) return;
    const timer = setTimeout(() => void loadFirst(query), query === "" ? 0 : SEARCH_DELAY_MS);
    const every = setInterval(() => {
      if (document.visibilityState === "visible") void loadFirst(query);
    }, REFRESH_MS);
    const onFocus = () => void loadFirst(query);
    window.addEventListener("focus", onFocus);
    return () => {
      clearTimeout(timer);
      clearInterval(every);
      window.removeEventListener("focus", onFocus);
    };
  }, [enabled, loadFirst, query]);

  const more = useCallback(() => {
    const cursor = loaded.nextCursor;
    if (cursor === null || loadingMore) return;
    setLoadingMore(true);
    const search = loaded.query;
    api
      .list({ cursor, query: search })
      .then((page) =>
        setLoaded((previous) =>
          previous.query !== search
            ? previous
            : {
                ...previous,
                chats: appendPage(previous.chats, page),
                nextCursor: page.next_cursor,
              },
        ),
      )
      .catch(() => setError("More chats could not be loaded; try again."))
      .finally(() => setLoadingMore(false));
  }, [api, loaded, loadingMore]);

  const rename = useCallback(
    async (chatId: string, title: string) => {
      try {
        const chat = await api.rename(chatId, title);
        setOverlay((previous) => withRenamed(previous, chatId, chat.title, Date.now()));
        return true;
      } catch (failure) {
        setError(`Not renamed: ${reason(failure)}`);
        return false;
      }
    },
    [api],
  );

  const remove = useCallback(
    async (chatId: string) => {
      try {
        await api.remove(chatId);
      } catch (failure) {
        // Already gone is what the reader wanted.
        if (!(failure instanceof ApiError && failure.status === 404)) {
          setError(`Not deleted: ${reason(failure)}`);
          return false;
        }
      }
      setOverlay((previous) => withDeleted(previous, chatId));
      return true;
    },
    [api],
  );

  const created = useCallback((chat: ChatSummary) => {
    setOverlay((previous) => withCreated(previous, chat, Date.now()));
  }, []);

  const chats = useMemo(
    () => visibleChats(loaded.chats, overlay, loaded.query),
    [loaded.chats, loaded.query, overlay],
  );

  return {
    chats,
    status,
    error,
    query,
    hasMore: loaded.nextCursor !== null,
    loadingMore,
    setQuery: setQueryState,
    more,
    refresh: useCallback(() => void loadFirst(query), [loadFirst, query]),
    created,
    rename,
    remove,
    dismissError: useCallback(() => setError(null), []),
  };
}

function reason(failure: unknown): string {
  return failure instanceof Error ? failure.message : "the server could not be reached.";
}
