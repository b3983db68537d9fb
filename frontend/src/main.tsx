import "./styles.css";

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { SessionRoot } from "./SessionRoot";

const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root element");

// Stop buttons, on unless the build says VITE_ENABLE_CANCEL=false (a server without `cancel`
// answers it with `unknown_type`, which the page also copes with).
const enableCancel = import.meta.env.VITE_ENABLE_CANCEL !== "false";

createRoot(root).render(
  <StrictMode>
    <SessionRoot enableCancel={enableCancel} />
  </StrictMode>,
);
