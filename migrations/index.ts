import { InitialSchema1795700442727 } from './1795700442727-InitialSchema';
import { MessageTranscript1795702000000 } from './1795702000000-MessageTranscript';
import { Tasks1795703000000 } from './1795703000000-Tasks';
import { IdempotencyKeys1795704000000 } from './1795704000000-IdempotencyKeys';
import { PendingMessagesIndex1795705000000 } from './1795705000000-PendingMessagesIndex';
import { LeaseExpiryIndex1795706000000 } from './1795706000000-LeaseExpiryIndex';
import { TurnEvents1795707000000 } from './1795707000000-TurnEvents';
import { Approvals1795708000000 } from './1795708000000-Approvals';

/**
 * Every migration, oldest first. Listed by hand rather than globbed so the same list loads under
 * Jest (SWC), ts-node and from dist/. A new migration is not applied until it is added here.
 */
export const ALL_MIGRATIONS = [
  InitialSchema1795700442727,
  MessageTranscript1795702000000,
  Tasks1795703000000,
  IdempotencyKeys1795704000000,
  PendingMessagesIndex1795705000000,
  LeaseExpiryIndex1795706000000,
  TurnEvents1795707000000,
  Approvals1795708000000,
];
