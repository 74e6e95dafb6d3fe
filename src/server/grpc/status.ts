/**
 * The one place where errors become gRPC statuses (HTTP statuses are
 * error-response.ts's): every EeroError code has its status here, so a new
 * code cannot ship without one. Details are "CODE: message", as v2 REST's
 * error string; the code is also in the `eero-error-code` trailer, and the
 * seconds to wait, for what REST answers 503, in `retry-after`.
 */
import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js';
import type { ErrorCode, EeroError } from '../../errors';

const STATUS: Record<ErrorCode, status> = {
  EMPTY_INPUT: status.INVALID_ARGUMENT,
  BAD_REQUEST: status.INVALID_ARGUMENT,
  NOT_AN_IMAGE: status.INVALID_ARGUMENT,
  CORRUPT_IMAGE: status.INVALID_ARGUMENT,
  UNSUPPORTED_FORMAT: status.INVALID_ARGUMENT,
  UNSUPPORTED_MEDIA_TYPE: status.INVALID_ARGUMENT,
  TOO_MANY_PIXELS: status.INVALID_ARGUMENT,
  EXTREME_ASPECT_RATIO: status.INVALID_ARGUMENT,
  TOO_MANY_FILES: status.INVALID_ARGUMENT,
  BAD_PARAMETER: status.INVALID_ARGUMENT,
  BUDGET_INFEASIBLE: status.INVALID_ARGUMENT,
  BUDGET_ABOVE_LIMIT: status.INVALID_ARGUMENT,
  GUARANTEE_INFEASIBLE: status.INVALID_ARGUMENT,
  // As grpc-js itself answers a message over the size limit.
  BODY_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  UNAUTHORIZED: status.UNAUTHENTICATED,
  METHOD_NOT_ALLOWED: status.UNIMPLEMENTED,
  UNKNOWN_MODEL: status.NOT_FOUND,
  NOT_FOUND: status.NOT_FOUND,
  // The queue is full: retry later, with backoff.
  OVERLOADED: status.RESOURCE_EXHAUSTED,
  // The ledger cannot pay for a certified answer now: retry later (or elsewhere).
  CERTIFICATE_UNAVAILABLE: status.UNAVAILABLE,
  // This replica is going away: retry, on another one.
  SHUTTING_DOWN: status.UNAVAILABLE,
  TIMEOUT: status.DEADLINE_EXCEEDED,
  ABORTED: status.CANCELLED,
  MODEL_INVALID: status.INTERNAL,
  MODEL_FILE_MISSING: status.INTERNAL,
  CHECKSUM_MISMATCH: status.INTERNAL,
  CONFIG_INVALID: status.INTERNAL,
  IO_ERROR: status.INTERNAL,
  ADDRESS_IN_USE: status.INTERNAL,
  RESULTS_LOCKED: status.FAILED_PRECONDITION,
  RESULTS_MISMATCH: status.FAILED_PRECONDITION,
  MERGE_CONFLICT: status.FAILED_PRECONDITION,
  MERGE_INCOMPLETE: status.FAILED_PRECONDITION,
  INTERNAL: status.INTERNAL,
};

export function grpcStatus(error: EeroError): status {
  return STATUS[error.code];
}

export function grpcError(error: EeroError): ServerErrorResponse {
  const metadata = new Metadata();
  metadata.set('eero-error-code', error.code);
  const retry = error.details?.retryAfterSeconds;
  if (error.httpStatus === 503) {
    metadata.set('retry-after', String(typeof retry === 'number' && retry > 0 ? Math.ceil(retry) : 1));
  }
  const details = `${error.code}: ${error.message}`;
  return Object.assign(new Error(details), { name: 'EeroError', code: grpcStatus(error), details, metadata });
}
