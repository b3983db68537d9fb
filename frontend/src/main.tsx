import "./styles.css";

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App";
import { GuideAgentProvider } from "./GuideAgentProvider";

const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root element");

// Stop buttons: on for a build with VITE_ENABLE_CANCEL=true, or for one page with `?cancel`.
const enableCancel =
  import.meta.env.VITE_ENABLE_CANCEL === "true" ||
  new URLSearchParams(window.location.search).has("cancel");

createRoot(root).render(
  <StrictMode>
    <GuideAgentProvider>
      <App enableCancel={enableCancel} />
    </GuideAgentProvider>
  </StrictMode>,
);
