import { useCallback, useEffect, useState } from "react";

import type { ConversationState } from "./conversation";

import { ChatPanel } from "./components/ChatPanel";
import { ConnectionBadge } from "./components/ConnectionBadge";
import { NewConversation } from "./components/NewConversation";
import { panelId, PillarTabs, tabId } from "./components/PillarTabs";
import { useGuideAgent } from "./GuideAgentProvider";
import { AGENT_NAMES, isPillar, liaisonOf, type Pillar, PILLAR_NAMES, PILLARS } from "./protocol";
import { nextSeen, type Seen, unreadCount } from "./unread";
import { type Chat, useLiaisonChat } from "./useChat";
import { useUploads } from "./useUploads";

// The pillars whose liaisons work on the session's files (docs/protocol.md, uploads).
const PILLARS_WITH_FILES: readonly Pillar[] = ["content", "insights"];
const PAGE_TITLE = "Agent chat";

interface AppProps {
  // Render Stop buttons while a reply is in progress (the server's `cancel` frame).
  enableCancel?: boolean;
  // "New conversation" was confirmed: end this session and start another.
  onStartAfresh?: () => void;
  // Shown in the top bar: what became of the last "New conversation".
  afreshNotice?: string | null;
}

/**
 * The Guide panel beside the four pillar tabs, each tab with its own liaison thread. Every
 * conversation stays connected, shown or not, so replies keep arriving in the background.
 */
export function App({ enableCancel = true, onStartAfresh, afreshNotice = null }: AppProps) {
  const [pillar, setPillar] = usePillarInLocation();
  const [guideOpen, setGuideOpen] = useState(false);
  const guide = useGuideAgent();
  const chats = useLiaisonChats();
  const liaison = chats[pillar];
  const unread = useUnread(chats, pillar);
  const uploads = useUploads(liaison.connection.status === "connected");
  const connections = [guide.connection, ...PILLARS.map((each) => chats[each].connection)];
  const totalUnread = PILLARS.reduce((sum, each) => sum + unread[each], 0);

  // The browser tab says so too, for a reader who is on another site.
  useEffect(() => {
    document.title = totalUnread > 0 ? `(${totalUnread}) ${PAGE_TITLE}` : PAGE_TITLE;
  }, [totalUnread]);

  const switchTo = useCallback(
    (next: Pillar) => {
      setPillar(next);
      setGuideOpen(false);
    },
    [setPillar],
  );

  return (
    <div className={guideOpen ? "app guide-open" : "app"}>
      <header className="topbar">
        <h1>Agent chat</h1>
        <ConnectionBadge
          connections={connections}
          onRetry={() => {
            guide.reconnectNow();
            for (const each of PILLARS) chats[each].reconnectNow();
          }}
        />
        {afreshNotice !== null && (
          <p className="afresh-notice" role="alert">
            {afreshNotice}
          </p>
        )}
        {onStartAfresh !== undefined && <NewConversation onConfirm={onStartAfresh} />}
        <button
          type="button"
          className="guide-toggle"
          aria-expanded={guideOpen}
          aria-controls="guide-panel"
          onClick={() => setGuideOpen((open) => !open)}
        >
          Guide
        </button>
      </header>
      <main className="pillars">
        <PillarTabs active={pillar} onSelect={setPillar} unread={unread} />
        <p className="visually-hidden" aria-live="polite">
          {unreadSummary(unread)}
        </p>
        {PILLARS.map((each) => (
          <section
            key={each}
            id={panelId(each)}
            role="tabpanel"
            aria-labelledby={tabId(each)}
            hidden={each !== pillar}
            className="panel"
          >
            {each === pillar && (
              <ChatPanel
                chat={liaison}
                title={`${AGENT_NAMES[liaisonOf(each)]} conversation`}
                inputLabel={`Message the ${AGENT_NAMES[liaisonOf(each)]}`}
                emptyText={`Ask the ${AGENT_NAMES[liaisonOf(each)]} about ${PILLAR_NAMES[each]}.`}
                enableCancel={enableCancel}
                uploads={PILLARS_WITH_FILES.includes(each) ? uploads : undefined}
              />
            )}
          </section>
        ))}
      </main>
      <aside id="guide-panel" className="guide" aria-labelledby="guide-title">
        <h2 id="guide-title">Guide</h2>
        <ChatPanel
          chat={guide}
          title="Guide conversation"
          inputLabel="Message the Guide"
          emptyText="Not sure where to start? Ask the Guide."
          enableCancel={enableCancel}
          onSwitchPillar={switchTo}
        />
      </aside>
    </div>
  );
}

/**
 * The four liaison conversations, all connected. Four sockets plus the Guide's make five per
 * page: a session's limit of 20 (docs/protocol.md, 4011) leaves room for four tabs of it.
 */
function useLiaisonChats(): Record<Pillar, Chat> {
  const content = useLiaisonChat("content");
  const insights = useLiaisonChat("insights");
  const operations = useLiaisonChat("operations");
  const businessOutcomes = useLiaisonChat("business_outcomes");
  return { content, insights, operations, business_outcomes: businessOutcomes };
}

/** Replies finished in each pillar while its tab was not shown; opening the tab reads them. */
function useUnread(chats: Record<Pillar, Chat>, active: Pillar): Record<Pillar, number> {
  const [seen, setSeen] = useState<Record<Pillar, Seen>>(NOTHING_SEEN);
  const conversations = (each: Pillar): ConversationState => chats[each].conversation;
  // Adjusted while rendering (not in an effect), so a mark never shows for a reply on screen.
  let next = seen;
  for (const each of PILLARS) {
    const after = nextSeen(seen[each], conversations(each), each === active);
    if (after !== seen[each]) next = { ...next, [each]: after };
  }
  if (next !== seen) setSeen(next);
  const counts = {} as Record<Pillar, number>;
  for (const each of PILLARS) counts[each] = unreadCount(next[each], conversations(each));
  return counts;
}

const NOTHING_SEEN: Record<Pillar, Seen> = {
  content: null,
  insights: null,
  operations: null,
  business_outcomes: null,
};

/** For screen readers, said when it changes: which pillars have replies not read yet. */
function unreadSummary(unread: Record<Pillar, number>): string {
  return PILLARS.filter((each) => unread[each] > 0)
    .map((each) => `${PILLAR_NAMES[each]}: ${unread[each]} unread`)
    .join("; ");
}

/** The active pillar, kept in the URL's fragment so that a reload (or a link) keeps it. */
function usePillarInLocation(): [Pillar, (pillar: Pillar) => void] {
  const [pillar, setPillarState] = useState<Pillar>(() => pillarFromHash() ?? "content");
  useEffect(() => {
    const onHashChange = () => setPillarState(pillarFromHash() ?? "content");
    window.addEventListener("hashchange", onHashChange);
    return () => window.removeEventListener("hashchange", onHashChange);
  }, []);
  const setPillar = useCallback((next: Pillar) => {
    setPillarState(next);
    window.history.replaceState(null, "", `#${next}`);
  }, []);
  return [pillar, setPillar];
}

function pillarFromHash(): Pillar | null {
  const value = window.location.hash.slice(1);
  return isPillar(value) ? value : null;
}
