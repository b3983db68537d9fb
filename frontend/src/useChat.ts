// React's view of one conversation: a ChatSocket feeding the conversation reducer.

import { type Dispatch, useCallback, useEffect, useReducer, useRef, useState } from "react";

import { ChatSocket, type ConnectionStatus } from "./ChatSocket";
import { identity } from "./identity";
import {
  type ConversationAction,
  type ConversationState,
  conversationReducer,
  EMPTY_CONVERSATION,
  type InlineError,
  replyInProgress,
  type ThreadMessage,
} from "./conversation";
import { MAX_PENDING_PER_CONVERSATION, pendingExpiryMs } from "./pendingMessages";
import {
  type AgentType,
  type Feedback,
  liaisonOf,
  type Pillar,
  type QuestionAnswer,
  type ServerFrame,
} from "./protocol";
import { sessionTokens } from "./sessionTokens";
import { answerQuestion, RequestRefused, sendFeedback } from "./turnRequests";

export interface Connection {
  status: ConnectionStatus;
  retryAt: number | null;
  closedReason: string | null;
}

export interface Chat {
  agentType: AgentType;
  conversation: ConversationState;
  connection: Connection;
  /** The reply being waited for (streaming, or not started yet), if any. */
  replyInProgress: string | null;
  /** False once the server said it cannot cancel replies. */
  cancelSupported: boolean;
  send(message: string): void;
  /**
   * Send a message again: one not sent yet with its original client_message_id, one whose
   * reply failed as a new message.
   */
  retry(message: ThreadMessage): void;
  /** Ask the server to stop the reply in progress. */
  stop(): void;
  dismissNotice(): void;
  reconnectNow(): void;
  /** Answer a question of the liaison; rejects with the reason when it did not count. */
  answer(questionId: string, answer: QuestionAnswer): Promise<void>;
  /** Rate a reply; rejects with the reason when it was not recorded. */
  rate(feedback: Feedback): Promise<void>;
  /** Ask for a new version of the latest reply; a repeat while it is asked for sends nothing. */
  regenerate(replyId: string): void;
  /** Replace a sent message with new text: its reply stops if running, the new text is answered. */
  edit(messageId: string, message: string): void;
}

const STARTING: Connection = { status: "connecting", retryAt: null, closedReason: null };

const QUEUE_FULL: InlineError = {
  code: "too_many_pending",
  message: `${MAX_PENDING_PER_CONVERSATION} messages are already waiting to be sent.`,
  advice: "Retry once they have gone.",
};

function expiredError(expiryMs: number): InlineError {
  const wait =
    expiryMs >= 60_000 ? `${Math.round(expiryMs / 60_000)} minutes` : `${expiryMs / 1000} seconds`;
  return {
    code: "not_sent",
    message: `the server did not take it within ${wait}.`,
    advice: "Retry to send it again.",
  };
}

/** The conversation behind a WebSocket endpoint of docs/protocol.md, e.g. `/api/ws/guide`. */
export function useChat(path: string, agentType: AgentType): Chat {
  const [conversation, dispatch] = useReducer(conversationReducer, EMPTY_CONVERSATION);
  const [connection, setConnection] = useState<Connection>(STARTING);
  // The path the state belongs to: right after a switch, the old thread must not show.
  const [statePath, setStatePath] = useState(path);
  const [cancelSupported, setCancelSupported] = useState(true);
  const socketRef = useRef<ChatSocket | null>(null);
  const cancelSentRef = useRef(false);
  // Reply id -> the client_message_id its regeneration was asked with, until it answers.
  const regeneratingRef = useRef(new Map<string, string>());

  useEffect(() => {
    dispatch({ type: "reset" });
    setConnection(STARTING);
    setStatePath(path);
    const expiryMs = pendingExpiryMs(window.location.search);
    const socket = new ChatSocket({
      url: socketUrl(path),
      pendingExpiryMs: expiryMs,
      protocols: () => identity.socketProtocols(),
    });
    socketRef.current = socket;
    // Messages an earlier page (or this tab before a switch) sent and the server has not
    // acknowledged: the socket sends them again, the thread shows them as sending meanwhile.
    const showPending = () => {
      for (const { clientMessageId, message } of socket.pendingMessages) {
        dispatch({ type: "sending", clientMessageId, message, author: agentType });
      }
    };
    const unsubscribe = socket.subscribe((event) => {
      switch (event.kind) {
        case "status":
          setConnection({
            status: event.status,
            retryAt: event.retryAt,
            closedReason: event.closedReason,
          });
          return;
        case "session_reset":
          dispatch({ type: "reset" });
          dispatch({
            type: "notice",
            notice: {
              code: "session_invalid",
              message: "Your previous session has ended, so a new one was started.",
              advice: "Earlier messages are no longer available; carry on here.",
            },
          });
          // Not lost with the old session: they go to the new one.
          showPending();
          return;
        case "expired":
          for (const { clientMessageId, message } of event.messages) {
            dispatch({ type: "sending", clientMessageId, message, author: agentType });
            dispatch({ type: "not_queued", clientMessageId, error: expiredError(expiryMs) });
          }
          return;
        case "frame": {
          const frame = event.frame;
          if (frame.type === "error" && frame.code === "unknown_type" && cancelSentRef.current) {
            // This server cannot stop replies yet: hide the button and say so, once.
            cancelSentRef.current = false;
            setCancelSupported(false);
            dispatch({
              type: "notice",
              notice: {
                code: "cancel_unsupported",
                message: "This server cannot stop a reply yet.",
                advice: "The reply will finish on its own.",
              },
            });
            return;
          }
          dispatch({ type: "frame", frame });
          settleRegeneration(regeneratingRef.current, frame, dispatch);
        }
      }
    });
    socket.start();
    showPending();
    return () => {
      unsubscribe();
      socket.stop();
      if (socketRef.current === socket) socketRef.current = null;
    };
  }, [path, agentType]);

  const send = useCallback(
    (message: string) => {
      const socket = socketRef.current;
      if (socket !== null) submit(socket, dispatch, agentType, message);
    },
    [agentType],
  );

  const retry = useCallback(
    (message: ThreadMessage) => {
      const socket = socketRef.current;
      if (socket === null) return;
      const notAccepted = message.state === "failed" || message.state === "sending";
      // Not accepted yet: the same message, same id. Accepted, but its reply failed: ask
      // again, as a new message.
      const clientMessageId = notAccepted ? message.clientMessageId : undefined;
      submit(socket, dispatch, agentType, message.content, clientMessageId);
    },
    [agentType],
  );

  const current = statePath === path ? conversation : EMPTY_CONVERSATION;
  const inProgress = replyInProgress(current);
  const stop = useCallback(() => {
    if (inProgress === null) return;
    if (socketRef.current?.cancel(inProgress)) cancelSentRef.current = true;
  }, [inProgress]);

  const answer = useCallback(async (questionId: string, body: QuestionAnswer) => {
    await answerQuestion(requireToken(), questionId, body);
  }, []);

  const rate = useCallback(async (feedback: Feedback) => {
    await sendFeedback(requireToken(), feedback);
  }, []);

  const regenerate = useCallback((replyId: string) => {
    const asked = regeneratingRef.current;
    // A double click: the first click's request stands.
    if (asked.has(replyId)) return;
    const clientMessageId = crypto.randomUUID();
    const frame = {
      type: "regenerate" as const,
      message_id: replyId,
      client_message_id: clientMessageId,
    };
    if (socketRef.current?.request(frame)) {
      asked.set(replyId, clientMessageId);
      dispatch({ type: "regenerating", messageId: replyId, active: true });
    } else {
      dispatch({ type: "notice", notice: NOT_CONNECTED });
    }
  }, []);

  const edit = useCallback((messageId: string, message: string) => {
    const sent = socketRef.current?.request({
      type: "edit_message",
      message_id: messageId,
      message,
      client_message_id: crypto.randomUUID(),
    });
    if (!sent) dispatch({ type: "notice", notice: NOT_CONNECTED });
  }, []);

  const dismissNotice = useCallback(() => dispatch({ type: "notice", notice: null }), []);
  const reconnectNow = useCallback(() => socketRef.current?.retryNow(), []);

  return {
    agentType,
    conversation: current,
    connection: statePath === path ? connection : STARTING,
    replyInProgress: inProgress,
    cancelSupported,
    send,
    retry,
    stop,
    dismissNotice,
    reconnectNow,
    answer,
    rate,
    regenerate,
    edit,
  };
}

const NOT_CONNECTED: InlineError = {
  code: "not_connected",
  message: "Not connected to the server.",
  advice: "Try again once the badge says connected.",
};

function requireToken(): string {
  const token = sessionTokens.current;
  if (token === null) throw new RequestRefused("not_connected", NOT_CONNECTED.message);
  return token;
}

/** A regeneration is over once its reply arrives, or the server refuses it. */
function settleRegeneration(
  asked: Map<string, string>,
  frame: ServerFrame,
  dispatch: Dispatch<ConversationAction>,
): void {
  if (frame.type === "chat_response" && frame.regenerates) {
    asked.delete(frame.regenerates);
    return;
  }
  if (frame.type !== "error" || !frame.client_message_id) return;
  for (const [replyId, clientMessageId] of asked) {
    if (clientMessageId !== frame.client_message_id) continue;
    asked.delete(replyId);
    dispatch({ type: "regenerating", messageId: replyId, active: false });
  }
}

/** Hand a message to the socket and show it as sending, or as refused when it cannot wait. */
function submit(
  socket: ChatSocket,
  dispatch: Dispatch<ConversationAction>,
  author: AgentType,
  message: string,
  clientMessageId?: string,
): void {
  const result = socket.send(message, clientMessageId);
  dispatch({ type: "sending", clientMessageId: result.clientMessageId, message, author });
  if (!result.queued) {
    dispatch({ type: "not_queued", clientMessageId: result.clientMessageId, error: QUEUE_FULL });
  }
}

/** The chat with a pillar's liaison agent, on `/api/ws/liaison/{pillar}`. */
export function useLiaisonChat(pillar: Pillar): Chat {
  return useChat(`/api/ws/liaison/${pillar}`, liaisonOf(pillar));
}

function socketUrl(path: string): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}${path}`;
}
