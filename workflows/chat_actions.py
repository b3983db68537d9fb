"""The session workflow's handlers of what the person does besides sending a message: rename
the chat, regenerate a reply, edit a message, answer a question; and the status query.

ChatSessionWorkflow (workflows/chat_session.py) inherits them, so they are its updates like
`submit_message` (Temporal finds handlers on base classes too); they live here to keep each
file readable in one sitting. They work on the workflow's state, declared below.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.post_office import answered_message_id, regenerated_reply_id
    from agents.catalog import AgentType
    from foundations.errors import ErrorCode

from workflows.admission import admit_again
from workflows.question_payloads import AnswerQuestionInput, AnswerQuestionResult
from workflows.questions import QuestionDesk
from workflows.session_payloads import (
    LAST_ACTIVITY_ATTRIBUTE,
    MAX_PENDING_TURNS,
    TITLE_ATTRIBUTE,
    CancelReplyInput,
    ChatSessionInput,
    ConversationState,
    ConversationStatus,
    EditMessageInput,
    RegenerateInput,
    RenameChatInput,
    SessionStatus,
    SubmitMessageInput,
    SubmitMessageResult,
    Turn,
    chat_title,
)


class ChatActions:
    """Handlers of ChatSessionWorkflow; its state and the methods they call are its own."""

    _input: ChatSessionInput
    _conversations: dict[AgentType, ConversationState]
    _recent_acks: dict[str, SubmitMessageResult]
    _locks: dict[AgentType, asyncio.Lock]
    _closed: bool
    _title: str
    _last_message_at: Any
    _turns_this_run: int
    _questions: QuestionDesk

    # Defined by ChatSessionWorkflow.
    async def _accept(
        self, input: SubmitMessageInput, edits: str | None = None
    ) -> SubmitMessageResult:
        raise NotImplementedError

    def validate_submit_message(self, input: SubmitMessageInput) -> None:
        raise NotImplementedError

    def cancel_reply(self, input: CancelReplyInput) -> None:
        raise NotImplementedError

    def _conversation(self, conversation: AgentType) -> ConversationState:
        raise NotImplementedError

    def _start_turns(self, conversation: AgentType) -> None:
        raise NotImplementedError

    def _remember(self, key: str, result: SubmitMessageResult) -> None:
        raise NotImplementedError

    def _is_pending_reply(self, conversation: AgentType, reply: str) -> bool:
        raise NotImplementedError

    @workflow.query
    def get_status(self) -> SessionStatus:
        """Conversations, turn counts and last activity of this session."""
        return SessionStatus(
            session_id=self._input.session_id,
            user_id=self._input.user_id,
            closed=self._closed,
            turns_this_run=self._turns_this_run,
            conversations=[
                ConversationStatus(
                    conversation, state.turns_completed, len(state.pending), state.last_activity
                )
                for conversation, state in self._conversations.items()
            ],
        )

    # --- the chat list ---------------------------------------------------------------------

    @workflow.update
    def rename(self, input: RenameChatInput) -> None:
        """Give the chat a title of the user's; its messages no longer title it."""
        self._title = input.title
        workflow.upsert_search_attributes([TITLE_ATTRIBUTE.value_set(input.title)])

    @rename.validator
    def validate_rename(self, input: RenameChatInput) -> None:
        input.check()

    def _show_in_chat_list(self, message: str) -> None:
        """Keep the chat list's attributes: the last activity, and a title from the first
        message while the chat has none. Only in runs started to (`chat_list`): a session
        begun before, or by a release without them, replays the same commands."""
        if not self._input.chat_list:
            return
        updates: list[SearchAttributeUpdate[Any]] = [
            LAST_ACTIVITY_ATTRIBUTE.value_set(workflow.now())
        ]
        if not self._title:
            self._title = chat_title(message)
            updates.append(TITLE_ATTRIBUTE.value_set(self._title))
        workflow.upsert_search_attributes(updates)

    # --- regenerate and edit-and-resend ---------------------------------------------------

    @workflow.update
    async def regenerate_reply(self, input: RegenerateInput) -> SubmitMessageResult:
        """Answer the message of the latest reply again, under a new reply id that refers to
        the old one; the same client message id (a double click) runs it once."""
        dedupe_key = f"regenerate:{input.conversation.value}:{input.client_message_id}"
        async with self._locks.setdefault(input.conversation, asyncio.Lock()):
            new_reply = regenerated_reply_id(input.reply_id)
            original = self._recent_acks.get(dedupe_key)
            if original is None and self._is_pending_reply(input.conversation, new_reply):
                original = SubmitMessageResult(new_reply, input.seq, input.event_id)
            if original is not None:
                return SubmitMessageResult(
                    original.message_id, original.seq, original.event_id, duplicate=True
                )
            if not input.latest:
                raise ApplicationError(
                    "Only the latest reply of a conversation can be regenerated.",
                    type=ErrorCode.NOT_LATEST_REPLY,
                )
            await admit_again(self._input, input.conversation, input.message)
            message_id = answered_message_id(input.reply_id)
            self._conversation(input.conversation).pending.append(
                Turn(
                    message_id,
                    input.seq,
                    event_id=input.event_id,
                    reply_id=new_reply,
                    regenerates=input.reply_id,
                )
            )
            result = SubmitMessageResult(new_reply, input.seq, input.event_id)
            self._remember(dedupe_key, result)
            self._last_message_at = workflow.now()
            self._start_turns(input.conversation)
            return result

    @regenerate_reply.validator
    def validate_regenerate_reply(self, input: RegenerateInput) -> None:
        """Refuse a regenerate the session cannot take, before it is written to history."""
        if self._closed:
            raise ApplicationError("This chat session is closed.", type=ErrorCode.SESSION_CLOSED)
        state = self._conversations.get(input.conversation)
        if state is not None and len(state.pending) >= MAX_PENDING_TURNS:
            raise ApplicationError(
                "Too many messages are waiting for their replies; regenerate later.",
                type=ErrorCode.TOO_MANY_PENDING_MESSAGES,
            )

    @workflow.update
    async def edit_message(self, input: EditMessageInput) -> SubmitMessageResult:
        """Accept the new text as a message that refers to the old one (`message_edited` tells
        every tab), then stop the old message's reply if it is still coming. A refused edit
        (a limit, the policy) leaves the old reply alone."""
        result = await self._accept(input.submitted(), edits=input.edits)
        self.cancel_reply(CancelReplyInput(input.conversation, input.edits))
        return result

    @edit_message.validator
    def validate_edit_message(self, input: EditMessageInput) -> None:
        """The new text is refused for what any message is refused for."""
        self.validate_submit_message(input.submitted())

    # --- questions the agent asked ----------------------------------------------------------

    @workflow.update
    def answer_question(self, input: AnswerQuestionInput) -> AnswerQuestionResult:
        """Answer an open question; the first answer wins and its turn goes on."""
        return self._questions.answer(input)

    @answer_question.validator
    def validate_answer_question(self, input: AnswerQuestionInput) -> None:
        """Refuse, before history, an unknown or closed question and an answer that does not fit."""
        self._questions.check(input)

    def _resume_turn(self, conversation: AgentType, turn: Turn) -> None:
        """A turn whose question was resolved goes on, after the turns already waiting."""
        self._conversation(conversation).pending.append(turn)
        self._last_message_at = workflow.now()
        self._start_turns(conversation)
