import { useCallback, useEffect, useState } from "react";

import { ChatPanel } from "./components/ChatPanel";
import { ConnectionBadge } from "./components/ConnectionBadge";
import { panelId, PillarTabs, tabId } from "./components/PillarTabs";
import { useGuideAgent } from "./GuideAgentProvider";
import { AGENT_NAMES, isPillar, liaisonOf, type Pillar, PILLAR_NAMES, PILLARS } from "./protocol";
import { useLiaisonChat } from "./useChat";
import { useUploads } from "./useUploads";

// The pillars whose liaisons work on the session's files (docs/protocol.md, uploads).
const PILLARS_WITH_FILES: readonly Pillar[] = ["content", "insights"];

interface AppProps {
  // Render Stop buttons while a reply is in progress (the server's `cancel` frame).
  enableCancel?: boolean;
}

/** The Guide panel beside the four pillar tabs, each tab with its own liaison thread. */
export function App({ enableCancel = true }: AppProps) {
  const [pillar, setPillar] = usePillarInLocation();
  const [guideOpen, setGuideOpen] = useState(false);
  const guide = useGuideAgent();
  const liaison = useLiaisonChat(pillar);
  const uploads = useUploads(liaison.connection.status === "connected");

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
          connections={[guide.connection, liaison.connection]}
          onRetry={() => {
            guide.reconnectNow();
            liaison.reconnectNow();
          }}
        />
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
        <PillarTabs active={pillar} onSelect={setPillar} />
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
