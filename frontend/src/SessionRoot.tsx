// The page for one chat at a time, with the reader's chats beside it. Opening another chat
// (or a new one) switches every conversation's socket to its session; everything under the
// GuideAgentProvider (every socket, thread and file list) starts over with it.

import { useCallback, useEffect, useState, useSyncExternalStore } from "react";

import { App } from "./App";
import { ChatsApi } from "./chatsApi";
import { ChatActions } from "./components/ChatActions";
import { ChatSidebar } from "./components/ChatSidebar";
import { GuideAgentProvider } from "./GuideAgentProvider";
import { identity } from "./identity";
import { ChatOpener } from "./openChat";
import { countPending } from "./pendingMessages";
import { browserStorage, sessionTokens } from "./sessionTokens";
import { startAfresh } from "./startAfresh";
import { useChatList } from "./useChatList";

const subscribe = (listener: () => void) => sessionTokens.subscribe(listener);
const generation = () => sessionTokens.generation;

const api = new ChatsApi((input, init) => identity.fetch(input, init));
const opener = new ChatOpener(api);

const NOT_CLOSED =
  "A new conversation started, but the previous session could not be closed now; it ends by itself when it expires.";

// "choosing": which chat to show is being decided, and no socket may create a session yet.
// "chats": the chat list works. "single": a server without it; one session, as before.
type Phase = "choosing" | "chats" | "single";

export function SessionRoot({ enableCancel }: { enableCancel: boolean }) {
  const session = useSyncExternalStore(subscribe, generation);
  const [notice, setNotice] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>("choosing");
  const [currentChatId, setCurrentChatId] = useState<string | null>(() => sessionTokens.chatId);
  const [busy, setBusy] = useState(false);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const list = useChatList(api, phase !== "single");

  // The chat to show first: the one this browser had open, else the newest, else a new one.
  useEffect(() => {
    let current = true;
    void chooseChat().then((chosen) => {
      if (!current) return;
      if (chosen === null) {
        setPhase("single");
        return;
      }
      if (chosen.created) list.created(chosen.created);
      setCurrentChatId(chosen.chatId);
      setPhase("chats");
    });
    return () => {
      current = false;
    };
    // Once per page: the list's callbacks are stable.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const run = useCallback(async (step: () => Promise<string>, failure: string) => {
    setBusy(true);
    setNotice(null);
    try {
      setCurrentChatId(await step());
      setSidebarOpen(false);
    } catch (error) {
      setNotice(`${failure}: ${error instanceof Error ? error.message : "try again."}`);
    } finally {
      setBusy(false);
    }
  }, []);

  const newChat = useCallback(() => {
    if (!leaveUnsent()) return;
    void run(async () => {
      const chat = await opener.create();
      list.created(chat);
      return chat.chat_id;
    }, "No new chat");
  }, [list, run]);

  const openChat = useCallback(
    (chatId: string) => {
      if (chatId === currentChatId) {
        setSidebarOpen(false);
        return;
      }
      if (!leaveUnsent()) return;
      void run(async () => {
        await opener.open(chatId);
        return chatId;
      }, "That chat could not be opened");
    },
    [currentChatId, run],
  );

  const deleteChat = useCallback(
    (chatId: string) => {
      void list.remove(chatId).then((deleted) => {
        if (!deleted || chatId !== currentChatId) return;
        // The chat on screen is gone: show the next one, or a new one.
        const next = list.chats.find((each) => each.chat_id !== chatId);
        void run(async () => {
          if (next !== undefined) {
            await opener.open(next.chat_id);
            return next.chat_id;
          }
          const chat = await opener.create();
          list.created(chat);
          return chat.chat_id;
        }, "The chat was deleted, but no other could be opened");
      });
    },
    [currentChatId, list, run],
  );

  const onStartAfresh = useCallback(() => {
    setNotice(null);
    void startAfresh().then((outcome) => setNotice(outcome === "closed" ? null : NOT_CLOSED));
  }, []);

  if (phase === "choosing") {
    return (
      <p className="opening" role="status">
        Opening your chats…
      </p>
    );
  }

  const withChats = phase === "chats";
  // A chat a kept token opened is named by its socket's first answer.
  const shownChatId = currentChatId ?? sessionTokens.chatId;
  return (
    <div className={withChats ? "shell" : "shell shell-single"}>
      {withChats && (
        <ChatSidebar
          list={list}
          currentChatId={shownChatId}
          open={sidebarOpen}
          onOpen={openChat}
          onNewChat={newChat}
          onDelete={deleteChat}
          onClose={() => setSidebarOpen(false)}
          busy={busy}
        />
      )}
      <GuideAgentProvider key={session}>
        <App
          enableCancel={enableCancel}
          onStartAfresh={withChats ? undefined : onStartAfresh}
          onNewChat={withChats ? newChat : undefined}
          afreshNotice={notice}
          sidebarToggle={
            withChats && (
              <button
                type="button"
                className="sidebar-toggle"
                aria-expanded={sidebarOpen}
                aria-controls="chat-sidebar"
                onClick={() => setSidebarOpen((open) => !open)}
              >
                Chats
              </button>
            )
          }
          chatActions={
            withChats && shownChatId !== null
              ? (conversation) => (
                  <ChatActions api={api} chatId={shownChatId} conversation={conversation} />
                )
              : undefined
          }
        />
      </GuideAgentProvider>
    </div>
  );
}

/**
 * The chat to open when the page loads, opened; null where the server has no chat list.
 */
async function chooseChat(): Promise<{
  chatId: string | null;
  created?: Awaited<ReturnType<ChatOpener["create"]>>;
} | null> {
  try {
    const page = await api.list({ limit: 20 });
    // A kept token (this browser's chat, or one a link or a test handed over) is simply
    // reconnected to; its chat is the one the server named for it, if it has yet.
    if (sessionTokens.current !== null) return { chatId: sessionTokens.chatId };
    const newest = page.chats[0];
    if (newest !== undefined) {
      await opener.open(newest.chat_id);
      return { chatId: newest.chat_id };
    }
    const created = await opener.create();
    return { chatId: created.chat_id, created };
  } catch {
    // A server that predates the chat list (404), or one not reachable now: the page works
    // with one session, as before, and the conversations' sockets say what is wrong.
    return null;
  }
}

/** Whether it is fine to leave the messages of this chat that are not sent yet. */
function leaveUnsent(): boolean {
  const unsent = countPending(browserStorage());
  if (unsent === 0) return true;
  return window.confirm(
    `${unsent} message${unsent === 1 ? " is" : "s are"} not sent yet and will be dropped if you leave this chat. Leave anyway?`,
  );
}
