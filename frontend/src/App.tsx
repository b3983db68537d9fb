import { type ReactNode, useCallback, useEffect, useState } from "react";

import { ChatPanel } from "./components/ChatPanel";
import { ConnectionBadge } from "./components/ConnectionBadge";
import { NewConversation } from "./components/NewConversation";
import { panelId, PillarTabs, tabId } from "./components/PillarTabs";
import { UnreadMark } from "./components/UnreadMark";
import { useGuideAgent } from "./GuideAgentProvider";
import {
  AGENT_NAMES,
  type AgentType,
  isPillar,
  liaisonOf,
  type Pillar,
  PILLAR_NAMES,
  PILLARS,
} from "./protocol";
import { type Chat, useLiaisonChat } from "./useChat";
import { usePhoneScreen, useUnread } from "./useUnread";
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
  // With a chat list: "New conversation" opens a new chat beside the old ones, unasked.
  onNewChat?: () => void;
  // With a chat list: the control that shows it on a narrow screen, first in the top bar.
  sidebarToggle?: ReactNode;
  // With a chat list: export and share, offering the conversation on screen first.
  chatActions?: (conversation: AgentType) => ReactNode;
}

/**
 * The Guide panel beside the four pillar tabs, each tab with its own liaison thread. Every
 * conversation stays connected, shown or not, so replies keep arriving in the background.
 */
export function App({
  enableCancel = true,
  onStartAfresh,
  afreshNotice = null,
  onNewChat,
  sidebarToggle,
  chatActions,
}: AppProps) {
  const [pillar, setPillar] = usePillarInLocation();
  const [guideOpen, setGuideOpen] = useState(false);
  const guide = useGuideAgent();
  const chats = useLiaisonChats();
  const liaison = chats[pillar];
  // On a phone the Guide opens over the pillars: then it is on screen and they are not.
  const phone = usePhoneScreen();
  const pillarShown = (each: Pillar) => each === pillar && !(phone && guideOpen);
  const unread = useUnread(
    {
      guide: guide.conversation,
      content: chats.content.conversation,
      insights: chats.insights.conversation,
      operations: chats.operations.conversation,
      business_outcomes: chats.business_outcomes.conversation,
    },
    {
      guide: !phone || guideOpen,
      content: pillarShown("content"),
      insights: pillarShown("insights"),
      operations: pillarShown("operations"),
      business_outcomes: pillarShown("business_outcomes"),
    },
  );
  const uploads = useUploads(liaison.connection.status === "connected");
  const connections = [guide.connection, ...PILLARS.map((each) => chats[each].connection)];
  const totalUnread = PILLARS.reduce((sum, each) => sum + unread[each], unread.guide);

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
        {sidebarToggle}
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
        {chatActions?.(phone && guideOpen ? "guide" : liaisonOf(pillar))}
        {onNewChat !== undefined && (
          <button type="button" onClick={onNewChat}>
            New conversation
          </button>
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
          <UnreadMark count={unread.guide} />
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

/** For screen readers, said when it changes: which conversations have replies not read yet. */
function unreadSummary(unread: Record<Pillar | "guide", number>): string {
  return [...PILLARS, "guide" as const]
    .filter((each) => unread[each] > 0)
    .map((each) => `${each === "guide" ? "Guide" : PILLAR_NAMES[each]}: ${unread[each]} unread`)
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
