/**
 * The one error hierarchy. Every failure a user can cause or meet carries a
 * stable `code`; HTTP status and CLI exit code are derived from it in
 * `server/error-response.ts` and `cli/exit-codes.ts`.
 */
export const ERROR_CODES = {
  EMPTY_INPUT: 400,
  BAD_REQUEST: 400,
  NOT_AN_IMAGE: 400,
  CORRUPT_IMAGE: 400,
  UNSUPPORTED_FORMAT: 415,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_PIXELS: 413,
  EXTREME_ASPECT_RATIO: 422,
  BODY_TOO_LARGE: 413,
  TOO_MANY_FILES: 413,
  BAD_PARAMETER: 422,
  BUDGET_INFEASIBLE: 422,
  BUDGET_ABOVE_LIMIT: 422,
  GUARANTEE_INFEASIBLE: 422,
  UNAUTHORIZED: 401,
  METHOD_NOT_ALLOWED: 405,
  UNKNOWN_MODEL: 404,
  NOT_FOUND: 404,
  OVERLOADED: 503,
  CERTIFICATE_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  TIMEOUT: 503,
  MODEL_INVALID: 500,
  MODEL_FILE_MISSING: 500,
  CHECKSUM_MISMATCH: 500,
  CONFIG_INVALID: 500,
  IO_ERROR: 500,
  ADDRESS_IN_USE: 500,
  RESULTS_LOCKED: 409,
  RESULTS_MISMATCH: 409,
  MERGE_CONFLICT: 409,
  MERGE_INCOMPLETE: 409,
  ABORTED: 499,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface EeroErrorOptions {
  cause?: unknown;
  /** Extra machine-readable facts (e.g. the cheapest feasible budget). */
  details?: Record<string, unknown>;
}

export class EeroError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: EeroErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EeroError';
    this.code = code;
    this.details = options.details;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code];
  }
}

export function isEeroError(e: unknown): e is EeroError {
  return e instanceof EeroError;
}

/** Wrap anything thrown into an EeroError, keeping ours as they are. */
export function toEeroError(e: unknown, fallback: ErrorCode = 'INTERNAL'): EeroError {
  if (e instanceof EeroError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new EeroError(fallback, message, { cause: e });
}
