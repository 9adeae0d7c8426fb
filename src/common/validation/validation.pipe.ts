import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError } from '../errors/app-error';

/**
 * Strict validation for every body, query and param DTO: undeclared fields are errors (not silently
 * dropped), and each bad field is reported by its path.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (validationErrors) => {
      const errors = flattenValidationErrors(validationErrors);
      const summary = errors.map((error) => error.field).join(', ');
      return new AppError('validation_failed', `Invalid request: check ${summary}.`, { errors });
    },
  });
}

export function flattenValidationErrors(
  validationErrors: ValidationError[],
  parentPath = '',
): { field: string; message: string }[] {
  return validationErrors.flatMap((error) => {
    const field = parentPath ? `${parentPath}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}
