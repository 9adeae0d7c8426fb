import { PreparedStatement } from '../../database/prepared-statements';

export const CLAIM_KEY = new PreparedStatement<{ key: string }>(
  'idempotency_claim_key',
  `INSERT INTO idempotency_keys (user_id, key, fingerprint, locked_until)
   VALUES ($1, $2, $3, now() + make_interval(secs => $4 / 1000.0))
   ON CONFLICT (user_id, key) DO NOTHING RETURNING key`,
);

export const FIND_KEY = new PreparedStatement<{
  fingerprint: string;
  state: 'in_flight' | 'completed';
  response: string | null;
  expired: boolean;
}>(
  'idempotency_find_key',
  `SELECT fingerprint, state, response, locked_until < now() AS expired
   FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
);

export const TAKE_OVER_KEY = new PreparedStatement(
  'idempotency_take_over_key',
  `UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $4 / 1000.0)
   WHERE user_id = $1 AND key = $2 AND fingerprint = $3 AND state = 'in_flight' AND locked_until < now()`,
);

export const COMPLETE_KEY = new PreparedStatement(
  'idempotency_complete_key',
  `UPDATE idempotency_keys SET state = 'completed', response = $3, locked_until = NULL
   WHERE user_id = $1 AND key = $2`,
);

export const RELEASE_KEY = new PreparedStatement(
  'idempotency_release_key',
  `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND state = 'in_flight'`,
);

export const PURGE_KEYS_OLDER_THAN = new PreparedStatement(
  'idempotency_purge_keys_older_than',
  `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`,
);
