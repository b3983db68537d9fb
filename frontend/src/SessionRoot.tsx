// The page for one session at a time: "New conversation" starts another, and everything under
// here (every socket, thread and file list) starts over with it.

import { useCallback, useState, useSyncExternalStore } from "react";

import { App } from "./App";
import { GuideAgentProvider } from "./GuideAgentProvider";
import { sessionTokens } from "./sessionTokens";
import { startAfresh } from "./startAfresh";

const subscribe = (listener: () => void) => sessionTokens.subscribe(listener);
const generation = () => sessionTokens.generation;

const NOT_CLOSED =
  "A new conversation started, but the previous session could not be closed now; it ends by itself when it expires.";

export function SessionRoot({ enableCancel }: { enableCancel: boolean }) {
  const session = useSyncExternalStore(subscribe, generation);
  const [notice, setNotice] = useState<string | null>(null);

  const onStartAfresh = useCallback(() => {
    setNotice(null);
    void startAfresh().then((outcome) => setNotice(outcome === "closed" ? null : NOT_CLOSED));
  }, []);

  return (
    <GuideAgentProvider key={session}>
      <App enableCancel={enableCancel} onStartAfresh={onStartAfresh} afreshNotice={notice} />
    </GuideAgentProvider>
  );
}
