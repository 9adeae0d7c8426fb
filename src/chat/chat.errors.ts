import { AppError } from '../common/errors/app-error';
import { isDatabaseUnavailable } from '../common/errors/database-errors';
import { describeErrorCode, isErrorCode } from '../common/errors/error-code';

/** The same answer whether the conversation does not exist or belongs to someone else. */
export function conversationNotFound(conversationId: string): AppError {
  return new AppError('conversation_not_found', `Conversation ${conversationId} was not found.`);
}

/** The same answer whether the turn does not exist or belongs to someone else. */
export function turnNotFound(turnId: string): AppError {
  return new AppError('turn_not_found', `Turn ${turnId} was not found in this conversation.`);
}

export function turnNotRunning(turnId: string): AppError {
  return new AppError('turn_not_running', `Turn ${turnId} has already ended; there is nothing to cancel.`);
}

/** 409, not 422: the user's current state refuses a valid request (422 is an Idempotency-Key reused). */
export function conversationLimitReached(max: number): AppError {
  return new AppError(
    'conversation_limit_reached',
    `You have reached the limit of ${max} conversations: delete one you no longer need to start a new one.`,
  );
}

/** Turns take seconds, so a short Retry-After fits better than the lease's (renewed) expiry. */
export function conversationBusy(): AppError {
  return new AppError('conversation_busy', 'Another message of this conversation is being answered; retry shortly.', {
    retryAfterSeconds: 2,
  });
}

export function conversationBusyForDelete(): AppError {
  return new AppError('conversation_busy', 'A turn of this conversation is running; delete it when it ends.', {
    retryAfterSeconds: 1,
  });
}

export function modelNotConfigured(): AppError {
  return new AppError('model_not_configured', 'No model is configured on this service; nothing was stored.', {
    retryAfterSeconds: 60,
  });
}

export function turnInterrupted(): AppError {
  return new AppError('turn_interrupted', 'The turn lost its hold on the conversation and was not stored.');
}

export function serviceShuttingDown(): AppError {
  return new AppError('service_shutting_down', 'This replica is shutting down; retry, another one will answer.', {
    retryAfterSeconds: 1,
  });
}

export function turnCutByShutdown(): AppError {
  return new AppError('service_shutting_down', 'The service shut down before the turn finished; retry it.');
}

export function invalidIdempotencyKey(): AppError {
  return new AppError('validation_failed', 'Idempotency-Key must be 1..255 visible ASCII characters.', {
    errors: [{ field: 'Idempotency-Key', message: 'must be 1..255 visible ASCII characters' }],
  });
}

export function idempotencyKeyReused(): AppError {
  return new AppError('idempotency_key_reused', 'This Idempotency-Key was used with another request body.');
}

export function idempotencyKeyInUse(): AppError {
  return new AppError(
    'idempotency_key_in_use',
    'A request with this Idempotency-Key is still running; retry shortly.',
    {
      retryAfterSeconds: 2,
    },
  );
}

export function toTurnFailure(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError('database_unavailable', 'The database became unavailable during the turn; try again.', {
      retryAfterSeconds: 5,
    });
  }
  return new AppError('internal_error', 'The turn failed unexpectedly; it has been logged.');
}

/** A failed turn's error names the conversation and the message it left stored, marked failed. */
export function turnFailed(
  failure: AppError,
  cause: unknown,
  turn: { conversationId: string; userMessageId: string },
): AppError {
  return new AppError(failure.code, failure.detail, {
    cause,
    retryAfterSeconds: failure.retryAfterSeconds,
    extensions: {
      turn_id: turn.userMessageId,
      conversation_id: turn.conversationId,
      user_message_id: turn.userMessageId,
    },
  });
}

/** A failure known only by the code stored on its message (its event log expired, or its replica died). */
export function storedTurnFailure(errorCode: string | null): AppError {
  const code = errorCode && isErrorCode(errorCode) ? errorCode : 'internal_error';
  return new AppError(code, `The turn failed: ${describeErrorCode(code).title.toLowerCase()}.`);
}

/** SPEC §5.3: the client decides the pending calls first; a new message would leave them unanswered. */
export function approvalPending(approvalIds: readonly string[]): AppError {
  return new AppError(
    'approval_pending',
    `The last turn of this conversation waits for your decision on approval(s) ${approvalIds.join(', ')}: ` +
      'decide them (POST .../approvals) before sending a message.',
  );
}

/** The same answer whether an approval does not exist or belongs to someone else. */
export function approvalNotFound(approvalIds: readonly string[]): AppError {
  return new AppError('approval_not_found', `Approval(s) ${approvalIds.join(', ')} not found in this conversation.`);
}

/** Decisions are single-use: already decided, expired, or closed by a cancel. */
export function approvalNotPending(approvalIds: readonly string[]): AppError {
  return new AppError('approval_not_pending', `Approval(s) ${approvalIds.join(', ')} no longer wait for a decision.`);
}

/** A turn resumes once, with every call of its paused round decided. */
export function decisionsMissing(approvalIds: readonly string[]): AppError {
  const message = `missing a decision for approval(s) ${approvalIds.join(', ')}`;
  return new AppError('validation_failed', `Decide every pending approval of the turn: ${message}.`, {
    errors: [{ field: 'decisions', message }],
  });
}
