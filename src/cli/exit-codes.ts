import type { ErrorCode } from '../errors';

/** CLI exit status per error code: the one place they are mapped. */
export const EXIT_OK = 0;
export const EXIT_UNEXPECTED = 1;

const EXIT_BY_CODE: Partial<Record<ErrorCode, number>> = {
  BAD_PARAMETER: 2,
  CONFIG_INVALID: 3,
  MODEL_INVALID: 4,
  MODEL_FILE_MISSING: 4,
  CHECKSUM_MISMATCH: 4,
  UNKNOWN_MODEL: 4,
  BUDGET_INFEASIBLE: 5,
  BUDGET_ABOVE_LIMIT: 5,
  GUARANTEE_INFEASIBLE: 5,
  /** A certified answer the ledger or a deadline would have forced early (an error row in a folder run). */
  CERTIFICATE_UNAVAILABLE: 5,
  IO_ERROR: 6,
  EMPTY_INPUT: 7,
  NOT_AN_IMAGE: 7,
  CORRUPT_IMAGE: 7,
  UNSUPPORTED_FORMAT: 7,
  TOO_MANY_PIXELS: 7,
  EXTREME_ASPECT_RATIO: 7,
  MERGE_CONFLICT: 8,
  MERGE_INCOMPLETE: 9,
  /** Another run writes the results file: try again later. */
  RESULTS_LOCKED: 10,
  /** The results file holds rows of another model, budget, rule, score or cost unit: same flags, or --fresh. */
  RESULTS_MISMATCH: 11,
  ADDRESS_IN_USE: 12,
  ABORTED: 130,
};

export function exitCodeFor(code: ErrorCode): number {
  return EXIT_BY_CODE[code] ?? EXIT_UNEXPECTED;
}
