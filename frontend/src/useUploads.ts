import { useCallback, useEffect, useRef, useState } from "react";

import { sessionTokens } from "./sessionTokens";
import { listUploads, refusal, UploadedFile, UploadRefused, uploadFile } from "./uploads";

/** A file on its way to the server, or one that was not taken (with the reason). */
export interface Transfer {
  id: number;
  name: string;
  size: number;
  sent: number;
  state: "uploading" | "refused";
  reason?: string;
}

export interface Uploads {
  files: UploadedFile[];
  transfers: Transfer[];
  add(files: readonly File[]): void;
  /** Upload one file; resolves with it once stored, rejects with the reason it was not. */
  upload(file: File): Promise<UploadedFile>;
  dismiss(id: number): void;
}

/** The session's files and the page's uploads; the list loads once the session is connected. */
export function useUploads(connected: boolean): Uploads {
  const [files, setFiles] = useState<UploadedFile[]>([]);
  const [transfers, setTransfers] = useState<Transfer[]>([]);
  const nextId = useRef(0);
  // Names held or on their way, read synchronously so that a drop of many files counts each.
  const names = useRef<{ held: string[]; sending: string[] }>({ held: [], sending: [] });

  useEffect(() => {
    names.current.held = files.map((file) => file.name);
  }, [files]);

  useEffect(() => {
    const token = sessionTokens.current;
    if (!connected || token === null) return;
    let current = true;
    listUploads(token).then(
      (listed) => current && setFiles(listed),
      // The list is a convenience: uploading still works, and refreshes it.
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [connected]);

  const update = useCallback((id: number, change: Partial<Transfer> | null) => {
    setTransfers((all) =>
      change === null
        ? all.filter((each) => each.id !== id)
        : all.map((each) => (each.id === id ? { ...each, ...change } : each)),
    );
  }, []);

  // One file: shown while it goes, listed once stored; the promise says which, or why not.
  const send = useCallback(
    (file: File): Promise<UploadedFile> => {
      const id = nextId.current++;
      const { held, sending } = names.current;
      const token = sessionTokens.current;
      const reason = refusal(file, [...new Set([...held, ...sending])]);
      const transfer: Omit<Transfer, "state"> = { id, name: file.name, size: file.size, sent: 0 };
      if (reason !== null || token === null) {
        const why = reason ?? "Not connected yet: try again in a moment.";
        setTransfers((all) => [...all, { ...transfer, state: "refused", reason: why }]);
        return Promise.reject(new UploadRefused(why));
      }
      setTransfers((all) => [...all, { ...transfer, state: "uploading" }]);
      sending.push(file.name);
      const done = () => sending.splice(sending.indexOf(file.name), 1);
      return uploadFile(token, file, (sent) => update(id, { sent })).then(
        (stored) => {
          done();
          update(id, null);
          // Same name: the server replaced the earlier file.
          setFiles((all) => [...all.filter((each) => each.name !== stored.name), stored]);
          return stored;
        },
        (error: unknown) => {
          done();
          const why = error instanceof UploadRefused ? error.message : "Not uploaded.";
          update(id, { state: "refused", reason: why });
          throw new UploadRefused(why);
        },
      );
    },
    [update],
  );

  const add = useCallback(
    (chosen: readonly File[]) => {
      // Each shows its own outcome in the list.
      for (const file of chosen) send(file).catch(() => undefined);
    },
    [send],
  );

  const dismiss = useCallback((id: number) => update(id, null), [update]);

  return { files, transfers, add, upload: send, dismiss };
}
