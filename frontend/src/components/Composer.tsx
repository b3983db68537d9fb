import { type FormEvent, type KeyboardEvent, useId, useState } from "react";

// The server's default limit (docs/protocol.md); it answers `message_too_long` past its own.
const MAX_MESSAGE_CHARS = 8000;

interface ComposerProps {
  label: string;
  onSend(message: string): void;
  // Shown while a reply is in progress and stopping is available.
  onStop?: () => void;
}

/** The message box: Enter sends, Shift+Enter adds a line. */
export function Composer({ label, onSend, onStop }: ComposerProps) {
  const [text, setText] = useState("");
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

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={`${id}-text`} className="visually-hidden">
        {label}
      </label>
      <textarea
        id={`${id}-text`}
        value={text}
        rows={2}
        placeholder={`${label}…`}
        aria-describedby={`${id}-hint`}
        aria-invalid={tooLong}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="composer-actions">
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
          : "Enter sends, Shift+Enter adds a line."}
      </p>
    </form>
  );
}
