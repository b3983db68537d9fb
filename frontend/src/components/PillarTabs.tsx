import { type KeyboardEvent, useRef } from "react";

import { type Pillar, PILLAR_NAMES, PILLARS } from "../protocol";
import { UnreadMark } from "./UnreadMark";

interface PillarTabsProps {
  active: Pillar;
  onSelect(pillar: Pillar): void;
  // Replies that finished in each pillar while its tab was not shown.
  unread: Record<Pillar, number>;
}

export function tabId(pillar: Pillar): string {
  return `tab-${pillar}`;
}

export function panelId(pillar: Pillar): string {
  return `panel-${pillar}`;
}

/**
 * The pillar tabs, with the arrow-key navigation of the WAI-ARIA tabs pattern, and a mark on
 * each tab whose liaison replied while it was not shown.
 */
export function PillarTabs({ active, onSelect, unread }: PillarTabsProps) {
  const buttons = useRef(new Map<Pillar, HTMLButtonElement>());

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const index = PILLARS.indexOf(active);
    const next: Record<string, number> = {
      ArrowRight: (index + 1) % PILLARS.length,
      ArrowLeft: (index - 1 + PILLARS.length) % PILLARS.length,
      Home: 0,
      End: PILLARS.length - 1,
    };
    const target = next[event.key];
    if (target === undefined) return;
    event.preventDefault();
    onSelect(PILLARS[target]);
    buttons.current.get(PILLARS[target])?.focus();
  }

  return (
    <div className="tabs" role="tablist" aria-label="Pillars" onKeyDown={onKeyDown}>
      {PILLARS.map((pillar) => (
        <button
          key={pillar}
          ref={(element) => {
            if (element) buttons.current.set(pillar, element);
          }}
          type="button"
          role="tab"
          id={tabId(pillar)}
          aria-selected={pillar === active}
          aria-controls={panelId(pillar)}
          tabIndex={pillar === active ? 0 : -1}
          onClick={() => onSelect(pillar)}
        >
          {PILLAR_NAMES[pillar]}
          <UnreadMark count={unread[pillar]} />
        </button>
      ))}
    </div>
  );
}
