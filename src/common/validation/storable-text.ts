import { ValidateBy, type ValidationOptions } from 'class-validator';

/** PostgreSQL text cannot hold NUL, and JSON cannot hold unpaired UTF-16 surrogates. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && value.isWellFormed();
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
        defaultMessage: (args) => `${args?.property} must not contain NUL characters or unpaired surrogates`,
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
