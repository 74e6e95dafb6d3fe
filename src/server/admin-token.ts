/**
 * The admin token guards recalibration, which changes the rules live traffic
 * is routed by. The docs show example values; a service started with one of
 * them has an admin route whose password is published, so it is refused (a
 * warning in a start-up log nobody reads would leave the route open).
 */
import { EeroError } from '../errors';

/** The placeholders our docs and READMEs show. */
const EXAMPLE_TOKENS = ['change-me', 's3cret'];

export function checkAdminToken(token: string | undefined): void {
  if (token === undefined) return;
  if (!EXAMPLE_TOKENS.includes(token.trim().toLowerCase())) return;
  throw new EeroError(
    'CONFIG_INVALID',
    `adminToken is "${token}", the example from the docs: anyone who read them could recalibrate this service; ` +
      'set a secret of your own (e.g. `openssl rand -hex 24`) or remove adminToken to disable the admin route',
    { details: { field: 'adminToken' } },
  );
}
