import { useEffect, useState } from "react";

type CopyState = "idle" | "copied" | "failed";

const SHOWN_FOR_MS = 2000;

/** A button that copies text to the clipboard and says, for a moment, whether it worked. */
export function CopyButton({ label, text }: { label: string; text: () => string }) {
  const [state, setState] = useState<CopyState>("idle");

  useEffect(() => {
    if (state === "idle") return;
    const timer = window.setTimeout(() => setState("idle"), SHOWN_FOR_MS);
    return () => window.clearTimeout(timer);
  }, [state]);

  async function copy() {
    try {
      // The clipboard exists only in secure contexts (https or localhost).
      if (navigator.clipboard === undefined) throw new Error("no clipboard");
      await navigator.clipboard.writeText(text());
      setState("copied");
    } catch {
      setState("failed");
    }
  }

  return (
    <button type="button" className="copy-button" aria-label={label} onClick={() => void copy()}>
      <span aria-live="polite">
        {state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : "Copy"}
      </span>
    </button>
  );
}
