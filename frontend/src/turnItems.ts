// What a turn shows besides its text, folded from the frames of docs/protocol.md: the questions
// the liaison asks (approvals included), the steps inside a reply, the feedback given on it, and
// the earlier versions of edited messages and regenerated replies. Pure, like the reducer that
// calls it (conversation.ts), so that every tab folds the same frames into the same thread.

import type { ConversationState, ThreadItem, ThreadMessage } from "./conversation";
import type {
  ChatResponseFrame,
  FeedbackRecorded,
  MessageEdited,
  QuestionAsked,
  QuestionKind,
  QuestionOutcome,
  QuestionResolved,
  RecordedMessage,
  StepFinished,
  StepStarted,
} from "./protocol";

type TurnFrame =
  QuestionAsked | QuestionResolved | StepStarted | StepFinished | FeedbackRecorded | MessageEdited;

export interface Step {
  stepId: string;
  name: string;
  // The step's inputs, in short.
  summary: string;
  // Absent while it runs.
  outcome?: "done" | "failed" | "cancelled";
  reason?: string;
  durationMs?: number;
}

export interface QuestionItem {
  kind: "question";
  key: string;
  questionId: string;
  questionKind: QuestionKind;
  // The user message whose turn waits for the answer.
  inReplyTo: string;
  prompt: string;
  capability?: string;
  inputs?: Record<string, unknown>;
  choices?: string[];
  deadline: string;
  resolution?: { outcome: QuestionOutcome; answer?: Record<string, unknown> };
}

export function questionKey(questionId: string): string {
  return `question:${questionId}`;
}

export function applyTurnFrame(state: ConversationState, frame: TurnFrame): ConversationState {
  switch (frame.type) {
    case "question_asked":
      return withItems(state, askQuestion(state.items, frame));
    case "question_resolved": {
      const key = questionKey(frame.question_id);
      return withItems(
        state,
        state.items.map((item) =>
          item.kind === "question" && item.key === key && item.resolution === undefined
            ? {
                ...item,
                resolution: { outcome: frame.outcome, answer: frame.answer ?? undefined },
              }
            : item,
        ),
      );
    }
    case "step_started": {
      const step: Step = { stepId: frame.step_id, name: frame.name, summary: frame.summary };
      const items = ensureReply(state.items, frame.message_id, frame.agent_type);
      return withItems(
        state,
        mapMessage(items, frame.message_id, (reply) => {
          const steps = reply.steps ?? [];
          if (steps.some((each) => each.stepId === step.stepId)) return reply;
          return { ...reply, steps: [...steps, step] };
        }),
      );
    }
    case "step_finished": {
      const finished: Partial<Step> = {
        outcome: frame.outcome,
        reason: frame.reason ?? undefined,
        durationMs: frame.duration_ms,
      };
      const items = ensureReply(state.items, frame.message_id, frame.agent_type);
      return withItems(
        state,
        mapMessage(items, frame.message_id, (reply) => {
          const steps = reply.steps ?? [];
          const known = steps.some((each) => each.stepId === frame.step_id);
          return {
            ...reply,
            steps: known
              ? steps.map((each) =>
                  each.stepId === frame.step_id ? { ...each, ...finished } : each,
                )
              : [...steps, { stepId: frame.step_id, name: "", summary: "", ...finished }],
          };
        }),
      );
    }
    case "feedback_recorded":
      return withItems(
        state,
        mapMessage(state.items, frame.message_id, (reply) => ({
          ...reply,
          feedback: frame.rating,
        })),
      );
    case "message_edited":
      return withItems(
        state,
        editMessage(state.items, frame.message_id, frame.new_message_id, frame.message),
      );
  }
}

/** A regenerated reply takes the place of the one it replaces, which becomes its earlier version. */
export function applyRegenerated(
  items: ThreadItem[],
  frame: Pick<ChatResponseFrame, "message_id" | "regenerates">,
): ThreadItem[] {
  const oldId = frame.regenerates;
  if (!oldId || oldId === frame.message_id) return items;
  const old = findIn(items, oldId);
  const fresh = findIn(items, frame.message_id);
  if (old === undefined || fresh === undefined) {
    return fresh === undefined
      ? items
      : mapMessage(items, frame.message_id, (reply) => ({
          ...reply,
          earlierIds: [...(reply.earlierIds ?? []), oldId].filter(unique),
        }));
  }
  const merged: ThreadMessage = {
    ...fresh,
    earlier: [...(old.earlier ?? []), old.content, ...(fresh.earlier ?? [])],
    earlierIds: [...(old.earlierIds ?? []), oldId, ...(fresh.earlierIds ?? [])].filter(unique),
    // The feedback was on the earlier text.
    feedback: fresh.feedback,
  };
  // In the old one's place: a regenerated reply answers the same message.
  return items.filter((item) => item !== fresh).map((item) => (item === old ? merged : item));
}

/** The user message `oldId` now reads `message` under `newId`; its earlier text stays at hand. */
export function editMessage(
  items: ThreadItem[],
  oldId: string,
  newId: string,
  message: string,
): ThreadItem[] {
  const old = findIn(items, oldId);
  if (old === undefined) return items;
  const fresh = findIn(items, newId);
  const merged: ThreadMessage = {
    ...old,
    ...(fresh ?? {}),
    key: newId,
    role: "user",
    content: message,
    state: "accepted",
    earlier: [...(old.earlier ?? []), old.content],
    earlierIds: [...(old.earlierIds ?? []), oldId].filter(unique),
    awaitingReply: fresh?.awaitingReply ?? true,
    error: undefined,
  };
  return items.filter((item) => item !== fresh).map((item) => (item === old ? merged : item));
}

/**
 * The history's copy of the thread, completed with what the page knew and the history does
 * not say (yet): steps, feedback, earlier versions and questions, by message id.
 */
export function restoreTurns(
  previous: ThreadItem[],
  restored: ThreadItem[],
  recorded: readonly RecordedMessage[],
): ThreadItem[] {
  const known = new Map<string, ThreadMessage>();
  for (const item of previous) if (item.kind === "message") known.set(item.key, item);
  const byId = new Map(recorded.map((message) => [message.message_id, message]));
  let items: ThreadItem[] = restored.map((item) => {
    if (item.kind !== "message") return item;
    const before = known.get(item.key);
    const record = byId.get(item.key);
    return {
      ...item,
      steps: recordedSteps(record) ?? before?.steps,
      feedback: before?.feedback,
      earlier: before?.earlier,
      earlierIds: before?.earlierIds,
    };
  });
  for (const message of [...recorded].sort((a, b) => a.seq - b.seq)) {
    if (message.regenerates) {
      items = applyRegenerated(
        items,
        message as Pick<ChatResponseFrame, "message_id" | "regenerates">,
      );
    }
    if (message.edits && message.role === "user") {
      items = editMessage(items, message.edits, message.message_id, message.content);
    }
  }
  // Versions the page folded live, which the history lists as separate messages.
  const superseded = new Set(
    items.flatMap((item) => (item.kind === "message" ? (item.earlierIds ?? []) : [])),
  );
  items = items.filter(
    (item) => !(item.kind === "message" && item.role === "assistant" && superseded.has(item.key)),
  );
  items = items.filter(
    (item) => !(item.kind === "message" && item.role === "user" && superseded.has(item.key)),
  );
  for (const item of previous) {
    if (item.kind === "question" && !items.some((other) => other.key === item.key)) {
      items = insertAfterTurn(items, item);
    }
  }
  return items;
}

function askQuestion(items: ThreadItem[], frame: QuestionAsked): ThreadItem[] {
  const key = questionKey(frame.question_id);
  if (items.some((item) => item.key === key)) return items;
  const question: QuestionItem = {
    kind: "question",
    key,
    questionId: frame.question_id,
    questionKind: frame.kind,
    inReplyTo: frame.in_reply_to,
    prompt: frame.prompt,
    capability: frame.capability ?? undefined,
    inputs: frame.inputs ?? undefined,
    choices: frame.choices ?? undefined,
    deadline: frame.deadline,
  };
  return insertAfterTurn(items, question);
}

// After the message it asks about (and earlier questions of its turn), before the reply that
// the answer lets go on.
function insertAfterTurn(items: ThreadItem[], question: QuestionItem): ThreadItem[] {
  const turn = question.inReplyTo;
  let at = -1;
  items.forEach((item, index) => {
    const belongs =
      item.key === turn ||
      (item.kind === "message" && item.earlierIds?.includes(turn)) ||
      (item.kind === "question" && item.inReplyTo === turn);
    if (belongs) at = index;
  });
  const index = at === -1 ? items.length : at + 1;
  return [...items.slice(0, index), question, ...items.slice(index)];
}

/** A reply that shows steps before its first words. */
function ensureReply(
  items: ThreadItem[],
  messageId: string,
  author: ThreadMessage["author"],
): ThreadItem[] {
  if (findIn(items, messageId) !== undefined) return items;
  return [
    ...items,
    { kind: "message", key: messageId, role: "assistant", author, content: "", state: "streaming" },
  ];
}

function recordedSteps(record: RecordedMessage | undefined): Step[] | undefined {
  if (!record?.steps?.length) return undefined;
  return record.steps.map((step) => ({
    stepId: step.step_id,
    name: step.name,
    summary: step.summary,
    outcome: step.outcome ?? undefined,
    reason: step.reason ?? undefined,
    durationMs: step.duration_ms ?? undefined,
  }));
}

function findIn(items: ThreadItem[], key: string): ThreadMessage | undefined {
  return items.find((item): item is ThreadMessage => item.kind === "message" && item.key === key);
}

function mapMessage(
  items: ThreadItem[],
  key: string,
  change: (item: ThreadMessage) => ThreadMessage,
): ThreadItem[] {
  return items.map((item) => (item.kind === "message" && item.key === key ? change(item) : item));
}

function withItems(state: ConversationState, items: ThreadItem[]): ConversationState {
  return items === state.items ? state : { ...state, items };
}

function unique<T>(value: T, index: number, all: T[]): boolean {
  return all.indexOf(value) === index;
}

/** The question of a turn still waiting for the person, if any. */
export function openQuestions(items: ThreadItem[]): QuestionItem[] {
  return items.filter(
    (item): item is QuestionItem => item.kind === "question" && item.resolution === undefined,
  );
}
