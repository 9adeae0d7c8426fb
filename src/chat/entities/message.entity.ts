import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import type { PendingToolCall, StoredToolCall, StoredUsage, TranscriptMessage } from '../../agent/agent-turn';
import { ConversationEntity } from './conversation.entity';

/** The jsonb columns hold the agent's records of a turn, as it returned them. */
export type { StoredToolCall, StoredUsage, TranscriptMessage };

/** `messages.paused_turn`: the rounds used so far and every call of the round the turn paused on. */
export interface PausedTurnState {
  tool_rounds: number;
  pending: PendingToolCall[];
}

export type MessageRole = 'user' | 'assistant';
/** `pending` while its turn runs; `failed` with an `error_code` when the turn failed. */
export const MESSAGE_STATUSES = ['pending', 'completed', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Constraint names are spelled out so the entity and the migrations agree on them. */
@Entity({ name: 'messages' })
@Unique('UQ_messages_conversation_id_seq', ['conversationId', 'seq'])
@Index('IDX_messages_pending', ['conversationId'], { where: `status = 'pending'` })
@Check('CHK_messages_role', `role IN ('user', 'assistant')`)
@Check('CHK_messages_status', `status IN ('pending', 'completed', 'failed')`)
@Check('CHK_messages_seq_positive', 'seq > 0')
export class MessageEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_messages' })
  id: string;

  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  /** Declared for the foreign key; queries go through `conversationId`. */
  @ManyToOne(() => ConversationEntity, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'conversation_id', foreignKeyConstraintName: 'FK_messages_conversation_id' })
  conversation?: ConversationEntity;

  /** Copied from the conversation so that ownership is part of every message query. */
  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  /** Position in the conversation, from 1; the keyset of history pagination. */
  @Column({ type: 'integer' })
  seq: number;

  @Column({ type: 'text' })
  role: MessageRole;

  @Column({ type: 'text' })
  content: string;

  @Column({ name: 'tool_calls', type: 'jsonb', default: () => "'[]'" })
  toolCalls: StoredToolCall[];

  @Column({ type: 'text', default: 'completed' })
  status: MessageStatus;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode: string | null;

  @Column({ type: 'text', nullable: true })
  model: string | null;

  @Column({ name: 'stop_reason', type: 'text', nullable: true })
  stopReason: string | null;

  @Column({ type: 'jsonb', nullable: true })
  usage: StoredUsage | null;

  /** Assistant only: the turn's Anthropic messages (all rounds), replayed as context in later turns. */
  @Column({ type: 'jsonb', nullable: true })
  transcript: TranscriptMessage[] | null;

  /** Assistant only, while its turn waits for approval: what the resume needs beyond the transcript. */
  @Column({ name: 'paused_turn', type: 'jsonb', nullable: true })
  pausedTurn: PausedTurnState | null;

  /** User messages: the id of the turn's terminal event, kept after its event log expired. */
  @Column({ name: 'last_event_id', type: 'integer', nullable: true })
  lastEventId: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
