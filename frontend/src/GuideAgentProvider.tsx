// The guide conversation, opened once for the whole page and shared through context, so the
// Guide panel keeps its socket and thread while the rest of the page changes.

import { createContext, type ReactNode, useContext } from "react";

import { type Chat, useChat } from "./useChat";

const GuideContext = createContext<Chat | null>(null);

export function GuideAgentProvider({ children }: { children: ReactNode }) {
  const chat = useChat("/api/ws/guide", "guide");
  return <GuideContext.Provider value={chat}>{children}</GuideContext.Provider>;
}

/** The guide chat of the enclosing GuideAgentProvider. */
export function useGuideAgent(): Chat {
  const chat = useContext(GuideContext);
  if (chat === null) throw new Error("useGuideAgent needs a GuideAgentProvider above it");
  return chat;
}
