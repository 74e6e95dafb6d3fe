import { EeroError } from '../../src/errors';

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
