// Opening a chat of the list: every conversation of the page switches to its session.

import type { ChatSummary } from "./chatList";
import { type ChatsApi } from "./chatsApi";
import { forgetAllPending, type PendingStorage } from "./pendingMessages";
import { browserStorage, type SessionTokens, sessionTokens } from "./sessionTokens";

export class ChatOpener {
  constructor(
    private readonly api: ChatsApi,
    private readonly tokens: SessionTokens = sessionTokens,
    private readonly storage: PendingStorage | null = browserStorage(),
  ) {}

  /**
   * Switch to `chatId` with a token of its own (another device's chat of the same user works
   * the same way). The messages of the chat left that are not sent yet are dropped: they
   * were typed there, and the page keeps one chat's outbox.
   */
  async open(chatId: string): Promise<void> {
    const opened = await this.api.open(chatId);
    this.switch(chatId, opened.session_token);
  }

  /** A new chat beside the old ones, opened. */
  async create(): Promise<ChatSummary> {
    const created = await this.api.create();
    this.switch(created.chat.chat_id, created.session_token);
    return created.chat;
  }

  private switch(chatId: string, token: string): void {
    forgetAllPending(this.storage);
    this.tokens.switchTo(token, chatId);
  }
}
