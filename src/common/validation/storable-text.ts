import { ValidateBy, type ValidationOptions } from 'class-validator';

/** PostgreSQL text cannot hold NUL, and JSON cannot hold unpaired UTF-16 surrogates. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && value.isWellFormed();
}

/** For the model's text, not the client's (refused by IsStorableText): failing a turn would lose the answer. */
export function toStorableText(value: string): string {
  return value.replaceAll('\u0000', '\uFFFD').toWellFormed();
}

/** JSON that a `jsonb` column accepts, its strings and keys made storable as by {@link toStorableText}. */
export function toStorableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'string') return toStorableText(item);
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    const entries = Object.entries(item);
    if (entries.every(([key]) => isStorableText(key))) return item;
    return Object.fromEntries(entries.map(([key, entry]) => [toStorableText(key), entry]));
  });
}

/** Why a field holding a NUL or a lone surrogate is refused: it could only be stored altered. */
export function unstorableTextMessage(field: string): string {
  return `${field} must not contain NUL characters or unpaired surrogates`;
}

/** Characters that show nothing: a message made only of these is blank. */
const VISIBLE = /[^\s\u200B-\u200D\u2060\uFEFF]/;

export function hasVisibleText(value: string): boolean {
  return VISIBLE.test(value);
}

/** Rejects strings the database would refuse (NUL, lone surrogates) as a 400, not a 500 later. */
export function IsStorableText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStorableText',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || isStorableText(value),
        defaultMessage: (args) => unstorableTextMessage(args?.property ?? 'value'),
      },
    },
    options,
  );
}

export function HasVisibleText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'hasVisibleText',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || hasVisibleText(value),
        defaultMessage: (args) => `${args?.property} must not be empty or blank`,
      },
    },
    options,
  );
}
