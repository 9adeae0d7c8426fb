import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ConversationEntity } from '../entities/conversation.entity';

/** One event of a turn's stream (SPEC §5.2), kept for CHAT_TURN_EVENTS_TTL after the turn ended. */
@Entity({ name: 'turn_events' })
@Index('IDX_turn_events_conversation_id', ['conversationId'])
@Index('IDX_turn_events_terminal_created_at', ['createdAt'], {
  where: `type IN ('turn.completed', 'turn.failed')`,
})
@Check('CHK_turn_events_seq_positive', 'seq > 0')
export class TurnEventEntity {
  /** The turn's user message id. */
  @PrimaryColumn({ name: 'turn_id', type: 'uuid', primaryKeyConstraintName: 'PK_turn_events' })
  turnId: string;

  /** The event's SSE `id:`, 1, 2, 3… within its turn. */
  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'PK_turn_events' })
  seq: number;

  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  @ManyToOne(() => ConversationEntity, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'conversation_id', foreignKeyConstraintName: 'FK_turn_events_conversation_id' })
  conversation?: ConversationEntity;

  @Column({ name: 'user_id', type: 'text' })
  userId: string;

  @Column({ type: 'text' })
  type: string;

  /** `json`, not `jsonb`: kept as written, so a replay sends the bytes the live stream sent. */
  @Column({ type: 'json' })
  data: unknown;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
