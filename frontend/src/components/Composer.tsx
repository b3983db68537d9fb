import {
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
  useId,
  useRef,
  useState,
} from "react";

import type { Uploads } from "../useUploads";
import { UploadList } from "./UploadList";

// The server's default limit (docs/protocol.md); it answers `message_too_long` past its own.
const MAX_MESSAGE_CHARS = 8000;

interface ComposerProps {
  label: string;
  onSend(message: string): void;
  // Shown while a reply is in progress and stopping is available.
  onStop?: () => void;
  // Files: an attach button, drag-and-drop and paste, where the conversation can use them.
  uploads?: Uploads;
}

/** The message box: Enter sends, Shift+Enter adds a line. */
export function Composer({ label, onSend, onStop, uploads }: ComposerProps) {
  const [text, setText] = useState("");
  const [dragging, setDragging] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const id = useId();
  const tooLong = text.length > MAX_MESSAGE_CHARS;
  const canSend = text.trim().length > 0 && !tooLong;

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    onSend(text);
    setText("");
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // While an input method composes a word, Enter confirms the word; it must not send.
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  function refer(name: string) {
    setText((current) => (current === "" || /\s$/.test(current) ? current : `${current} `) + name);
    box.current?.focus();
  }

  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const files = [...event.clipboardData.files];
    if (uploads === undefined || files.length === 0) return;
    event.preventDefault();
    uploads.add(files);
  }

  const dropTarget =
    uploads === undefined
      ? {}
      : {
          onDragOver(event: DragEvent) {
            if (!event.dataTransfer.types.includes("Files")) return;
            event.preventDefault();
            setDragging(true);
          },
          onDragLeave(event: DragEvent) {
            if (!event.currentTarget.contains(event.relatedTarget as Node | null)) {
              setDragging(false);
            }
          },
          onDrop(event: DragEvent) {
            event.preventDefault();
            setDragging(false);
            uploads.add([...event.dataTransfer.files]);
          },
        };

  return (
    <form className={dragging ? "composer dragging" : "composer"} onSubmit={submit} {...dropTarget}>
      {uploads !== undefined && <UploadList uploads={uploads} onRefer={refer} />}
      <label htmlFor={`${id}-text`} className="visually-hidden">
        {label}
      </label>
      <textarea
        ref={box}
        id={`${id}-text`}
        value={text}
        rows={2}
        placeholder={`${label}…`}
        aria-describedby={`${id}-hint`}
        aria-invalid={tooLong}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
      />
      <div className="composer-actions">
        {uploads !== undefined && (
          <>
            <input
              ref={picker}
              type="file"
              multiple
              hidden
              aria-label="Choose files to upload"
              onChange={(event) => {
                uploads.add([...(event.target.files ?? [])]);
                // The same file chosen again must fire again.
                event.target.value = "";
              }}
            />
            <button type="button" className="attach" onClick={() => picker.current?.click()}>
              Attach
            </button>
          </>
        )}
        {onStop !== undefined && (
          <button type="button" className="stop" onClick={onStop}>
            Stop
          </button>
        )}
        <button type="submit" className="send" disabled={!canSend}>
          Send
        </button>
      </div>
      <p id={`${id}-hint`} className={tooLong ? "hint error-text" : "hint"}>
        {tooLong
          ? `${text.length.toLocaleString()} characters: the limit is ${MAX_MESSAGE_CHARS.toLocaleString()}. Shorten or split the message.`
          : uploads !== undefined
            ? "Enter sends, Shift+Enter adds a line. Attach, drop or paste files."
            : "Enter sends, Shift+Enter adds a line."}
      </p>
    </form>
  );
}
