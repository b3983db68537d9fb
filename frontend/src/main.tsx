import "./styles.css";

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { SessionRoot } from "./SessionRoot";
import { SharedView, shareIdOf } from "./SharedView";

const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root element");

// Stop buttons, on unless the build says VITE_ENABLE_CANCEL=false (a server without `cancel`
// answers it with `unknown_type`, which the page also copes with).
const enableCancel = import.meta.env.VITE_ENABLE_CANCEL !== "false";
// `/share/{share_id}`: a read-only conversation, with no session of its own.
const shareId = shareIdOf(window.location.pathname);

createRoot(root).render(
  <StrictMode>
    {shareId === null ? (
      <SessionRoot enableCancel={enableCancel} />
    ) : (
      <SharedView shareId={shareId} />
    )}
  </StrictMode>,
);
