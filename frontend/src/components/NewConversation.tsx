import { useRef } from "react";

interface NewConversationProps {
  onConfirm(): void;
}

/** "New conversation", asked for twice: it ends the session and every thread with it. */
export function NewConversation({ onConfirm }: NewConversationProps) {
  const dialog = useRef<HTMLDialogElement>(null);

  return (
    <>
      <button type="button" onClick={() => dialog.current?.showModal()}>
        New conversation
      </button>
      <dialog
        ref={dialog}
        className="confirm-dialog"
        aria-labelledby="new-conversation-title"
        aria-describedby="new-conversation-text"
      >
        <h2 id="new-conversation-title">Start a new conversation?</h2>
        <p id="new-conversation-text">
          This ends the current session: the Guide and every pillar start with an empty thread, the
          session&apos;s files are deleted, and messages not sent yet are dropped.
        </p>
        <form method="dialog" className="actions">
          <button type="submit" value="cancel" autoFocus>
            Cancel
          </button>
          <button
            type="submit"
            value="confirm"
            onClick={() => {
              dialog.current?.close();
              onConfirm();
            }}
          >
            Start afresh
          </button>
        </form>
      </dialog>
    </>
  );
}
