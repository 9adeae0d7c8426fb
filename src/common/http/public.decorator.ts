import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { PUBLIC_OPERATION_EXTENSION } from './openapi-security';

export const IS_PUBLIC_KEY = 'isPublic';

/** Opts a route out of the global JWT guard; the same mark gives it `security: []` in the API document. */
export const Public = () =>
  applyDecorators(SetMetadata(IS_PUBLIC_KEY, true), ApiExtension(PUBLIC_OPERATION_EXTENSION, true));
