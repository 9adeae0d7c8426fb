import { ApiProperty } from '@nestjs/swagger';
import { ERROR_CODE_NAMES } from '../errors/error-code';

export class FieldErrorDto {
  /** The body field, query or path parameter, e.g. `message` or `limit`. */
  field: string;
  message: string;
}

/** RFC 9457 problem details, as every error of this service is sent (`application/problem+json`). */
export class ProblemDto {
  /** A URI reference naming the problem type: `/problems/<code>`. */
  type: string;
  title: string;
  /** The HTTP status of the response. */
  @ApiProperty({ type: 'integer', format: 'int32', minimum: 400, maximum: 599 })
  status: number;
  /** What went wrong with this request, and what to do about it. */
  detail: string;
  /** The path of the request. */
  instance: string;
  /** A stable snake_case code: clients branch on it, never on `title` or `detail`. */
  @ApiProperty({ enum: ERROR_CODE_NAMES, enumName: 'ErrorCode' })
  code: string;
  /** Also sent as the `x-request-id` header; quote it when reporting a problem. */
  request_id: string;
  /** One entry per bad field, on validation errors. */
  errors?: FieldErrorDto[];
  /** On a failed turn: the turn (its user message id). */
  @ApiProperty({ format: 'uuid', required: false })
  turn_id?: string;
  /** On a failed turn: the conversation its message is stored in (new when the request named none). */
  @ApiProperty({ format: 'uuid', required: false })
  conversation_id?: string;
  /** On a failed turn: the user's message, stored and marked `failed`. */
  @ApiProperty({ format: 'uuid', required: false })
  user_message_id?: string;
}
