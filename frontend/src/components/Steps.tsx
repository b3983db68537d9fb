import type { Step } from "../turnItems";

const OUTCOME_TEXT = { done: "Done", failed: "Failed", cancelled: "Cancelled" } as const;

/** The capability runs inside a reply, collapsible; open while one runs. */
export function Steps({ steps, running }: { steps: Step[]; running: boolean }) {
  const failed = steps.filter((step) => step.outcome === "failed").length;
  return (
    <details className="steps" open={running || undefined}>
      <summary>
        {steps.length === 1 ? "1 step" : `${steps.length} steps`}
        {failed > 0 && `, ${failed} failed`}
      </summary>
      <ol className="step-list">
        {steps.map((step) => (
          <li key={step.stepId} className="step" data-outcome={step.outcome ?? "running"}>
            <span className="step-name">{step.name}</span>
            {step.summary && <span className="step-summary"> ({step.summary})</span>}
            <span className="step-outcome">
              {" "}
              {step.outcome === undefined ? "Running…" : OUTCOME_TEXT[step.outcome]}
              {step.durationMs !== undefined && `, ${formatDuration(step.durationMs)}`}
              {step.reason && `: ${step.reason}`}
            </span>
          </li>
        ))}
      </ol>
    </details>
  );
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
