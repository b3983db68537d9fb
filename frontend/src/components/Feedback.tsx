import { useId, useState } from "react";

import type { Feedback as FeedbackBody, Rating } from "../protocol";

// Why a reply was good or not: tags (as the server takes them) the routing evaluation can group
// by, and what the page calls them.
const REASONS: Record<Rating, Record<string, string>> = {
  up: { accurate: "Accurate", helpful: "Helpful", clear: "Clear" },
  down: {
    wrong: "Wrong",
    not_helpful: "Not helpful",
    unclear: "Unclear",
    wrong_agent: "Wrong agent",
  },
};

interface FeedbackProps {
  replyId: string;
  // What the server recorded, from any tab.
  recorded?: Rating;
  onRate(feedback: FeedbackBody): Promise<void>;
}

/** Thumbs up or down on a reply, then optional reasons and a comment; changeable. */
export function Feedback({ replyId, recorded, onRate }: FeedbackProps) {
  const [chosen, setChosen] = useState<Rating | null>(null);
  const [reasons, setReasons] = useState<string[]>([]);
  const [comment, setComment] = useState("");
  const [detailsOpen, setDetailsOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const commentId = useId();
  const rating = chosen ?? recorded ?? null;

  const send = async (body: FeedbackBody) => {
    setError(null);
    setSaved(false);
    try {
      await onRate(body);
      setSaved(true);
    } catch (refused) {
      setError(refused instanceof Error ? refused.message : "Not recorded. Try again.");
    }
  };

  const rate = (value: Rating) => {
    if (value !== rating) setReasons([]);
    setChosen(value);
    setDetailsOpen(true);
    void send({ message_id: replyId, rating: value });
  };

  return (
    <div className="feedback" data-rating={recorded ?? "none"}>
      <div className="feedback-thumbs" role="group" aria-label="Rate this reply">
        <button
          type="button"
          className="icon-button"
          aria-pressed={rating === "up"}
          aria-label="Good reply"
          onClick={() => rate("up")}
        >
          <Thumb />
        </button>
        <button
          type="button"
          className="icon-button"
          aria-pressed={rating === "down"}
          aria-label="Bad reply"
          onClick={() => rate("down")}
        >
          <Thumb down />
        </button>
        {recorded !== undefined && (
          <span className="meta feedback-recorded">
            Feedback recorded: {recorded === "up" ? "good" : "bad"}.
          </span>
        )}
      </div>
      {rating !== null && detailsOpen && (
        <form
          className="feedback-details"
          aria-label="Tell us more"
          onSubmit={(event) => {
            event.preventDefault();
            const text = comment.trim();
            void send({
              message_id: replyId,
              rating,
              reasons,
              ...(text ? { comment: text } : {}),
            }).then(() => setDetailsOpen(false));
          }}
        >
          <fieldset>
            <legend>Reasons (optional)</legend>
            {Object.entries(REASONS[rating]).map(([reason, label]) => (
              <label key={reason} className="feedback-reason">
                <input
                  type="checkbox"
                  checked={reasons.includes(reason)}
                  onChange={(event) =>
                    setReasons(
                      event.target.checked
                        ? [...reasons, reason]
                        : reasons.filter((each) => each !== reason),
                    )
                  }
                />{" "}
                {label}
              </label>
            ))}
          </fieldset>
          <label htmlFor={commentId}>Comment (optional)</label>
          <textarea
            id={commentId}
            rows={2}
            maxLength={2000}
            value={comment}
            onChange={(event) => setComment(event.target.value)}
          />
          <div className="question-actions">
            <button type="submit">Send feedback</button>
            <button type="button" onClick={() => setDetailsOpen(false)}>
              Close
            </button>
          </div>
        </form>
      )}
      {saved && !detailsOpen && recorded === undefined && <span className="meta">Thanks.</span>}
      {error !== null && (
        <p className="question-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

// Drawn rather than an emoji: not every system has an emoji font.
function Thumb({ down = false }: { down?: boolean }) {
  return (
    <svg
      width="16"
      height="16"
      viewBox="0 0 24 24"
      aria-hidden="true"
      focusable="false"
      style={down ? { transform: "rotate(180deg)" } : undefined}
    >
      <path
        fill="currentColor"
        d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3a1.5 1.5 0 0 0-.4-1L13.2 1 6.6 7.6A2 2 0 0 0 6 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z"
      />
    </svg>
  );
}
