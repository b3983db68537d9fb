import type { ConnectionStatus } from "../ChatSocket";
import type { Connection } from "../useChat";

const LABELS: Record<ConnectionStatus, string> = {
  connected: "Connected",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

// The worst state wins: one dead socket is enough to say so.
const SEVERITY: ConnectionStatus[] = ["connected", "connecting", "reconnecting", "offline"];

interface ConnectionBadgeProps {
  connections: Connection[];
  onRetry(): void;
}

/** Connected / reconnecting / offline, over every socket of the page. */
export function ConnectionBadge({ connections, onRetry }: ConnectionBadgeProps) {
  const worst = connections.reduce<Connection>(
    (a, b) => (SEVERITY.indexOf(b.status) > SEVERITY.indexOf(a.status) ? b : a),
    connections[0],
  );
  const reason = connections.find((connection) => connection.closedReason)?.closedReason;
  return (
    <div className="connection">
      <p className={`badge badge-${worst.status}`} role="status" data-status={worst.status}>
        <span className="dot" aria-hidden="true" />
        {LABELS[worst.status]}
      </p>
      {worst.status !== "connected" && reason && (
        <span className="connection-reason">{reason}</span>
      )}
      {worst.status === "offline" && (
        <>
          <button type="button" className="link-button" onClick={onRetry}>
            Retry now
          </button>
        </>
      )}
    </div>
  );
}
