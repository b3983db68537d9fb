// Files of the session, sent to `POST /api/uploads` (docs/protocol.md). The page refuses what
// the server would refuse before sending a byte, and shows the server's reason for the rest.

import { identity } from "./identity";

// The server's limits (docs/protocol.md); it answers 413 and 409 past its own.
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const MAX_UPLOADS = 20;
const MAX_NAME_CHARS = 200;
const BAD_NAME = /[/\\\u0000-\u001f]/;

export type FileKind = "csv" | "json" | "text" | "binary";

/** A file the server holds for the session (its metadata, as `GET /api/uploads` lists it). */
export interface UploadedFile {
  name: string;
  size_bytes: number;
  kind: FileKind;
  media_type: string;
}

/** Why a file was not taken, in words for the person who chose it. */
export function refusal(
  file: { name: string; size: number },
  held: readonly string[],
): string | null {
  if (file.size > MAX_UPLOAD_BYTES) {
    return `Too big: ${formatSize(file.size)}, the limit is ${formatSize(MAX_UPLOAD_BYTES)}.`;
  }
  if (file.size === 0) return "Empty: the file has no content.";
  if (file.name.length > MAX_NAME_CHARS) {
    return `Bad name: ${file.name.length} characters, the limit is ${MAX_NAME_CHARS}. Rename the file.`;
  }
  if (BAD_NAME.test(file.name) || file.name === "." || file.name === "..") {
    return "Bad name: use a plain file name, without folders or control characters.";
  }
  // A file under a name the session already holds replaces it, so it needs no new place.
  if (!held.includes(file.name) && held.length >= MAX_UPLOADS) {
    return `Too many: the session already holds ${MAX_UPLOADS} files. Replace one by uploading a file with its name.`;
  }
  return null;
}

/** What a refused upload's response means (status and FastAPI's `detail`). */
export function refusalFromResponse(status: number, body: unknown): string {
  const detail =
    typeof body === "object" && body !== null && "detail" in body ? body.detail : undefined;
  const said = typeof detail === "string" ? detail : null;
  switch (status) {
    case 413:
      return `Too big: ${said ?? `the limit is ${formatSize(MAX_UPLOAD_BYTES)}.`}`;
    case 409:
      return `Too many: ${said ?? `the session holds ${MAX_UPLOADS} files already.`}`;
    case 422:
      return said !== null && said.includes("empty")
        ? `Empty: ${said}`
        : `Bad name: ${said ?? "use a plain file name of at most 200 characters."}`;
    case 401:
      return "Your session has ended: reload the page to start a new one.";
    default:
      return `Not uploaded: the server answered ${status}. Try again.`;
  }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The session's files, oldest first. */
export async function listUploads(token: string): Promise<UploadedFile[]> {
  const response = await identity.fetch(
    `/api/uploads?${new URLSearchParams({ session_token: token })}`,
  );
  if (!response.ok) throw new Error(refusalFromResponse(response.status, null));
  return (await response.json()) as UploadedFile[];
}

export class UploadRefused extends Error {}

/**
 * Send one file, reporting the bytes sent so far. XMLHttpRequest rather than fetch: only it
 * reports upload progress in every browser.
 */
export function uploadFile(
  token: string,
  file: File,
  onProgress: (sent: number, total: number) => void,
  signal?: AbortSignal,
): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    const query = new URLSearchParams({ session_token: token, filename: file.name });
    request.open("POST", `/api/uploads?${query}`);
    request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    request.responseType = "json";
    request.upload.onprogress = (event) => {
      onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    };
    request.onload = () => {
      if (request.status === 201) resolve(request.response as UploadedFile);
      else reject(new UploadRefused(refusalFromResponse(request.status, request.response)));
    };
    request.onerror = () =>
      reject(new UploadRefused("Not uploaded: the connection failed. Try again."));
    request.onabort = () => reject(new UploadRefused("Cancelled."));
    signal?.addEventListener("abort", () => request.abort());
    identity.credential().then(
      (credential) => {
        request.setRequestHeader("Authorization", `Bearer ${credential}`);
        request.send(file);
      },
      () => reject(new UploadRefused("Not uploaded: the connection failed. Try again.")),
    );
  });
}
