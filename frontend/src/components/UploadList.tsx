import { formatSize } from "../uploads";
import type { Uploads } from "../useUploads";

const KIND_NAMES = { csv: "CSV table", json: "JSON", text: "Text", binary: "Binary" } as const;

/** Files on their way (with progress), refused ones (with the reason), and the session's files. */
export function UploadList({
  uploads,
  onRefer,
}: {
  uploads: Uploads;
  onRefer(name: string): void;
}) {
  const { files, transfers, dismiss } = uploads;
  return (
    <div className="uploads">
      {transfers.length > 0 && (
        <ul className="transfers" aria-label="Uploads">
          {transfers.map((transfer) =>
            transfer.state === "uploading" ? (
              <li key={transfer.id} className="transfer" data-state="uploading">
                <span className="file-name">{transfer.name}</span>
                <progress
                  max={transfer.size}
                  value={transfer.sent}
                  aria-label={`Uploading ${transfer.name}`}
                />
                <span className="file-meta">
                  {formatSize(transfer.sent)} of {formatSize(transfer.size)}
                </span>
              </li>
            ) : (
              // The alert inside the item: a list holds only items.
              <li key={transfer.id} className="transfer refused" data-state="refused">
                <div className="refusal" role="alert">
                  <span className="file-name">{transfer.name}</span>
                  <span className="reason">{transfer.reason}</span>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => dismiss(transfer.id)}
                  >
                    Dismiss
                  </button>
                </div>
              </li>
            ),
          )}
        </ul>
      )}
      {files.length > 0 && (
        <ul className="files" aria-label="Files of this session">
          {files.map((file) => (
            <li key={file.name} className="file">
              <span className="file-name">{file.name}</span>
              <span className="file-meta">
                {formatSize(file.size_bytes)} · {KIND_NAMES[file.kind] ?? file.kind}
              </span>
              <button
                type="button"
                className="link-button"
                // Starts with the visible text, so speaking "Insert reference" finds it.
                aria-label={`Insert reference to ${file.name}`}
                onClick={() => onRefer(file.name)}
              >
                Insert reference
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
