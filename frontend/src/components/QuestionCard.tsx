import { type FormEvent, useEffect, useId, useState } from "react";

import type { QuestionAnswer, QuestionKind } from "../protocol";
import { sessionTokens } from "../sessionTokens";
import type { QuestionItem } from "../turnItems";
import { refusal, type UploadedFile, uploadFile } from "../uploads";
import type { Uploads } from "../useUploads";

interface QuestionCardProps {
  question: QuestionItem;
  onAnswer(questionId: string, answer: QuestionAnswer): Promise<void>;
  // The conversation's file list, where it has one: an uploaded answer shows there too.
  uploads?: Uploads;
}

const OUTCOME_TEXT = {
  approved: "Approved.",
  edited: "Approved with edited inputs.",
  rejected: "Rejected.",
  answered: "Answered.",
  expired: "Expired: nobody answered in time, so the liaison did not go on.",
} as const;

/**
 * A question of the liaison in the thread: an approval (approve, edit the inputs, reject), a
 * choice, a short text or a file. Once answered (here or in another tab) it shows the outcome.
 */
export function QuestionCard({ question, onAnswer, uploads }: QuestionCardProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const headingId = useId();
  const resolution = question.resolution;
  const pastDeadline = usePast(question.deadline);

  // True when the answer counted.
  const submit = async (answer: QuestionAnswer): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await onAnswer(question.questionId, answer);
      return true;
    } catch (refused) {
      setError(refused instanceof Error ? refused.message : "Not sent. Try again.");
      return false;
    } finally {
      setBusy(false);
    }
  };

  return (
    <li
      className={`question question-${question.questionKind}`}
      data-role="question"
      data-question-kind={question.questionKind}
      data-outcome={resolution?.outcome ?? "open"}
    >
      <section aria-labelledby={headingId}>
        <h3 id={headingId} className="question-title">
          {question.questionKind === "approval" ? "Approval needed" : "Question"}
          {question.capability && (
            <span className="question-capability">: {question.capability}</span>
          )}
        </h3>
        <p className="question-prompt">{question.prompt}</p>
        {question.inputs !== undefined && question.questionKind === "approval" && (
          <InputList inputs={resolvedInputs(question)} />
        )}
        {resolution !== undefined ? (
          <p className={`question-outcome outcome-${resolution.outcome}`}>
            {OUTCOME_TEXT[resolution.outcome]}
            {answerText(resolution.answer, question.questionKind) &&
              ` ${answerText(resolution.answer, question.questionKind)}`}
          </p>
        ) : pastDeadline ? (
          <p className="question-outcome outcome-expired">{OUTCOME_TEXT.expired}</p>
        ) : (
          <>
            <Controls question={question} busy={busy} onSubmit={submit} uploads={uploads} />
            <p className="meta">Open until {new Date(question.deadline).toLocaleString()}.</p>
          </>
        )}
        {error !== null && (
          <p className="question-error" role="alert">
            {error}
          </p>
        )}
      </section>
    </li>
  );
}

// True once the deadline has passed; the server's expiry follows, this shows it meanwhile.
function usePast(deadline: string): boolean {
  const at = Date.parse(deadline);
  const [past, setPast] = useState(() => at <= Date.now());
  useEffect(() => {
    const wait = at - Date.now();
    if (Number.isNaN(wait) || wait <= 0) return;
    // setTimeout holds at most about 24 days.
    const timer = setTimeout(() => setPast(true), Math.min(wait, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [at]);
  return past && !Number.isNaN(at);
}

function Controls({
  question,
  busy,
  onSubmit,
  uploads,
}: {
  question: QuestionItem;
  busy: boolean;
  onSubmit(answer: QuestionAnswer): Promise<boolean>;
  uploads?: Uploads;
}) {
  switch (question.questionKind) {
    case "approval":
      return <ApprovalControls question={question} busy={busy} onSubmit={onSubmit} />;
    case "choice":
      return (
        <div className="question-actions" role="group" aria-label="Choices">
          {(question.choices ?? []).map((choice) => (
            <button key={choice} type="button" disabled={busy} onClick={() => onSubmit({ choice })}>
              {choice}
            </button>
          ))}
        </div>
      );
    case "text":
      return <TextAnswer busy={busy} onSubmit={onSubmit} />;
    case "file":
      return <FileAnswer busy={busy} onSubmit={onSubmit} uploads={uploads} />;
  }
}

function ApprovalControls({
  question,
  busy,
  onSubmit,
}: {
  question: QuestionItem;
  busy: boolean;
  onSubmit(answer: QuestionAnswer): Promise<boolean>;
}) {
  const inputs = question.inputs ?? {};
  const [editing, setEditing] = useState<Record<string, string> | null>(null);
  const formId = useId();

  if (editing !== null) {
    const save = (event: FormEvent) => {
      event.preventDefault();
      const changed = Object.fromEntries(Object.keys(inputs).map((name) => [name, editing[name]]));
      // Kept open when refused, so the edits are not lost.
      void onSubmit({ decision: "edit", inputs: changed }).then((ok) => ok && setEditing(null));
    };
    return (
      <form className="question-edit" onSubmit={save} aria-label="Edit the inputs">
        {Object.keys(inputs).map((name, index) => (
          <div key={name} className="question-field">
            <label htmlFor={`${formId}-${name}`}>{name}</label>
            <textarea
              id={`${formId}-${name}`}
              rows={2}
              // The keyboard lands where the editing starts.
              autoFocus={index === 0}
              value={editing[name]}
              onChange={(event) => setEditing({ ...editing, [name]: event.target.value })}
            />
          </div>
        ))}
        <div className="question-actions">
          <button type="submit" disabled={busy}>
            Approve with these inputs
          </button>
          <button type="button" disabled={busy} onClick={() => setEditing(null)}>
            Cancel editing
          </button>
        </div>
      </form>
    );
  }
  return (
    <div className="question-actions">
      <button
        type="button"
        className="primary"
        disabled={busy}
        onClick={() => onSubmit({ decision: "approve" })}
      >
        Approve
      </button>
      {Object.keys(inputs).length > 0 && (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            setEditing(
              Object.fromEntries(
                Object.entries(inputs).map(([name, value]) => [name, show(value)]),
              ),
            )
          }
        >
          Edit inputs
        </button>
      )}
      <button type="button" disabled={busy} onClick={() => onSubmit({ decision: "reject" })}>
        Reject
      </button>
    </div>
  );
}

function TextAnswer({
  busy,
  onSubmit,
}: {
  busy: boolean;
  onSubmit(answer: QuestionAnswer): Promise<boolean>;
}) {
  const [text, setText] = useState("");
  const inputId = useId();
  return (
    <form
      className="question-actions"
      onSubmit={(event) => {
        event.preventDefault();
        if (text.trim()) void onSubmit({ text: text.trim() });
      }}
    >
      <label htmlFor={inputId}>Your answer</label>
      <input
        id={inputId}
        value={text}
        maxLength={500}
        onChange={(event) => setText(event.target.value)}
      />
      <button type="submit" disabled={busy || !text.trim()}>
        Answer
      </button>
    </form>
  );
}

function FileAnswer({
  busy,
  onSubmit,
  uploads,
}: {
  busy: boolean;
  onSubmit(answer: QuestionAnswer): Promise<boolean>;
  uploads?: Uploads;
}) {
  const [uploading, setUploading] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const inputId = useId();

  const choose = async (file: File | undefined) => {
    if (file === undefined) return;
    setProblem(null);
    setUploading(file.name);
    try {
      const stored = await (uploads?.upload(file) ?? uploadAlone(file));
      setUploading(null);
      await onSubmit({ upload: stored.name });
    } catch (refused) {
      setUploading(null);
      setProblem(refused instanceof Error ? refused.message : "Not uploaded.");
    }
  };

  return (
    <div className="question-actions">
      <label htmlFor={inputId}>Upload the file</label>
      <input
        id={inputId}
        type="file"
        disabled={busy || uploading !== null}
        onChange={(event) => {
          void choose(event.target.files?.[0]);
          event.target.value = "";
        }}
      />
      {uploading !== null && <p className="meta">Uploading {uploading}…</p>}
      {problem !== null && (
        <p className="question-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}

// Where the conversation shows no file list (the pillars without uploads).
function uploadAlone(file: File): Promise<UploadedFile> {
  const token = sessionTokens.current;
  // A file under a name the session holds replaces it, so the held names do not matter here.
  const reason = token === null ? "Not connected yet: try again in a moment." : refusal(file, []);
  if (reason !== null || token === null) return Promise.reject(new Error(reason ?? ""));
  return uploadFile(token, file, () => undefined);
}

function InputList({ inputs }: { inputs: Record<string, unknown> }) {
  return (
    <dl className="question-inputs">
      {Object.entries(inputs).map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{show(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

// The inputs it runs with: the edited ones once edited.
function resolvedInputs(question: QuestionItem): Record<string, unknown> {
  const edited = question.resolution?.answer?.inputs;
  return typeof edited === "object" && edited !== null
    ? (edited as Record<string, unknown>)
    : (question.inputs ?? {});
}

// The answer that counted, in words; the server names it `answer` (or by the field it came in).
function answerText(answer: Record<string, unknown> | undefined, kind: QuestionKind): string {
  if (answer === undefined) return "";
  const given = ["answer", "choice", "text", "upload"]
    .map((field) => answer[field])
    .find((value): value is string => typeof value === "string" && value !== "");
  if (given === undefined) return "";
  return kind === "file" ? `File: ${given}` : `“${given}”`;
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
