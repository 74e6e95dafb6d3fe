/**
 * How often each client may make a model compute a new expensive routing
 * rule (a certificate, an agreement target, a learned-score budget: each holds
 * the event loop for about 10 ms).
 * Limits are per client, so one client asking for new values in a loop
 * cannot use up what the others may ask for. A client is its API key when it
 * brings one, and any string is a key: so each address has a limit too, a
 * few clients' worth, or one sender making up a new key per request would
 * make the service derive without end. Clock injected: no wall time decides
 * anything here.
 */
export interface DerivationLimiter {
  /** True when `client` (from `address`, when known) may derive a new rule now (and counts it against both). */
  tryDerive(client: string, address?: string): boolean;
}

/** Who asks for a new rule: a client (an API key or an address) and the address it comes from, when known. */
export interface RuleAsker {
  client: string;
  address?: string | undefined;
}

export interface DerivationLimits {
  /** New rules one client may make the model compute per window. */
  perClient: number;
  /** New rules the clients of one address may make the model compute per window, together. */
  perAddress: number;
  windowMs: number;
  /** Clients and addresses remembered at once; the least recently seen are forgotten first. */
  maxClients: number;
}

export const DEFAULT_DERIVATION_LIMITS: Readonly<DerivationLimits> = Object.freeze({
  perClient: 4,
  perAddress: 16,
  windowMs: 10_000,
  maxClients: 10_000,
});

/** The client a request counts against when its surface names none (the CLI, tests): the operator's own process, not limited. */
export const LOCAL_CLIENT = 'local';

export function createDerivationLimiter(clock: () => number, limits: Partial<DerivationLimits> = {}): DerivationLimiter {
  const { perClient, perAddress, windowMs, maxClients } = { ...DEFAULT_DERIVATION_LIMITS, ...limits };
  // Per client and per address, the times of its derivations in the window; a Map iterates oldest-seen first.
  const seen = new Map<string, number[]>();
  const recent = (key: string, now: number): number[] => {
    const times = (seen.get(key) ?? []).filter((t) => now - t < windowMs);
    seen.delete(key);
    if (seen.size >= maxClients) seen.delete(seen.keys().next().value as string);
    seen.set(key, times);
    return times;
  };
  return {
    tryDerive(client, address) {
      if (client === LOCAL_CLIENT && address === undefined) return true;
      const now = clock();
      const mine = recent(`client ${client}`, now);
      const theirs = address === undefined ? undefined : recent(`address ${address}`, now);
      if (mine.length >= perClient || (theirs !== undefined && theirs.length >= perAddress)) return false;
      mine.push(now);
      theirs?.push(now);
      return true;
    },
  };
}
