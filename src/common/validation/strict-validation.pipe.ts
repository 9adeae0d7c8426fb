import { ValidationError, ValidationPipe, type ArgumentMetadata, type Type } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { AppError } from '../errors/app-error';

/** Deeper than any of our DTOs, far shallower than what overflows class-transformer's recursion. */
const MAX_INPUT_DEPTH = 32;
/** class-transformer skips these, so the whitelist never sees them: refused here, not silently dropped. */
const PROTOTYPE_KEYS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** Undeclared fields are errors, not silently dropped; each bad field is reported by its path. */
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
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

  /** DTO classes that declare no field at all (NoQueryDto), found once per class. */
  private readonly declaresNothing = new WeakMap<Type, boolean>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') assertPlainInput(value);
    // An empty input against a DTO with no fields cannot fail: skip both passes.
    if (metadata.metatype && this.toValidate(metadata) && isEmptyObject(value) && this.isFieldless(metadata.metatype)) {
      return new metadata.metatype();
    }
    return super.transform(value, metadata);
  }

  private isFieldless(metatype: Type): boolean {
    let fieldless = this.declaresNothing.get(metatype);
    if (fieldless === undefined) {
      fieldless = getMetadataStorage().getTargetValidationMetadatas(metatype, '', false, false).length === 0;
      this.declaresNothing.set(metatype, fieldless);
    }
    return fieldless;
  }
}

function isEmptyObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  for (const _key in value) return false;
  return true;
}

/** Walks the input without recursion, so hostile nesting cannot exhaust the stack. */
function assertPlainInput(input: unknown): void {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value: input, path: '', depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path, depth } = next;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_INPUT_DEPTH) {
      throw invalid(path || 'body', `nests deeper than ${MAX_INPUT_DEPTH} levels`);
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (PROTOTYPE_KEYS.has(key)) throw invalid(childPath, `property ${key} should not exist`);
      pending.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
}

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `Invalid request: check ${field}.`, { errors: [{ field, message }] });
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
