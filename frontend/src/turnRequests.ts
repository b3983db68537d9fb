// The REST routes of a turn's questions and feedback (docs/protocol.md), under the page's
// identity like every REST call. Answers and ratings go
// over REST rather than the socket: the response says at once whether it counted, and a
// question can be answered while the socket reconnects.

import { identity } from "./identity";
import { adviceFor, type Feedback, type QuestionAnswer } from "./protocol";

/** A refusal, in words for the person who asked. */
export class RequestRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function answerQuestion(
  token: string,
  questionId: string,
  answer: QuestionAnswer,
): Promise<void> {
  const path = `/api/chat/questions/${encodeURIComponent(questionId)}/answer?${query(token)}`;
  const response = await identity.fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(answer),
  });
  if (!response.ok) throw await refused(response);
}

export async function sendFeedback(token: string, feedback: Feedback): Promise<void> {
  const response = await identity.fetch(`/api/chat/feedback?${query(token)}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(feedback),
  });
  if (!response.ok) throw await refused(response);
}

function query(token: string): URLSearchParams {
  return new URLSearchParams({ session_token: token });
}

// The server's error body (`ErrorBody`): `{"code", "detail"}`.
async function refused(response: Response): Promise<RequestRefused> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: the status says enough.
  }
  const { code, detail } = (typeof body === "object" && body !== null ? body : {}) as {
    code?: unknown;
    detail?: unknown;
  };
  if (typeof code === "string") {
    const said = typeof detail === "string" ? detail : code;
    return new RequestRefused(code, `${said} ${adviceFor(code)}`);
  }
  return new RequestRefused(`http_${response.status}`, `The server answered ${response.status}.`);
}
