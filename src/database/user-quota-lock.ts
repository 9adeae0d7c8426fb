import { PreparedStatement, type TransactionStatements } from './prepared-statements';

/** The first key of each quota's advisory lock, so the quotas of one user never wait on each other. */
const QUOTA_LOCK_CLASSES = { tasks: 0x7461736b, conversations: 0x636f6e76 } as const;

export type UserQuota = keyof typeof QUOTA_LOCK_CLASSES;

const LOCK_USER_QUOTA = new PreparedStatement(
  'database_lock_user_quota',
  'SELECT pg_advisory_xact_lock($1::int, hashtext($2))',
);

/**
 * Take it before the counting statement: in READ COMMITTED a statement sees only rows committed before it
 * started. Transaction-scoped, so it is safe behind a transaction-mode pooler.
 */
export async function lockUserQuota(
  transaction: TransactionStatements,
  quota: UserQuota,
  userId: string,
): Promise<void> {
  await transaction.rows(LOCK_USER_QUOTA, [QUOTA_LOCK_CLASSES[quota], userId]);
}
