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
  status: number;
  /** What went wrong with this request, and what to do about it. */
  detail: string;
  /** The path of the request. */
  instance: string;
  /** A stable snake_case code, e.g. `conversation_not_found`. */
  code: string;
  /** Also sent as the `x-request-id` header; quote it when reporting a problem. */
  request_id: string;
  /** One entry per bad field, on validation errors. */
  errors?: FieldErrorDto[];
}
