import { EeroError, isEeroError } from '../../src/errors';

/** The EeroError a promise rejects with; fails the test if it resolves or throws something else. */
export async function eeroFailure(p: Promise<unknown>): Promise<EeroError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EeroError);
    return e as EeroError;
  }
  throw new Error('expected a failure');
}

/** The EeroError code `f` throws, or undefined if it throws none. */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isEeroError(e) ? e.code : undefined;
  }
  return undefined;
}
