/**
 * How often each client may make a model compute a new expensive routing
 * rule (a certificate, an agreement target: each holds the event loop for
 * tens of milliseconds).
 * Limits are per client, so one client asking for new values in a loop
 * cannot use up what the others may ask for. Clock injected: no wall time
 * decides anything here.
 */
export interface DerivationLimiter {
  /** True when `client` may derive a new rule now (and counts it). */
  tryDerive(client: string): boolean;
}

export interface DerivationLimits {
  /** New rules one client may make the model compute per window. */
  perClient: number;
  windowMs: number;
  /** Clients remembered at once; the least recently seen are forgotten first. */
  maxClients: number;
}

export const DEFAULT_DERIVATION_LIMITS: Readonly<DerivationLimits> = Object.freeze({ perClient: 4, windowMs: 10_000, maxClients: 10_000 });

/** The client a request counts against when its surface names none (the CLI, tests). */
export const LOCAL_CLIENT = 'local';

export function createDerivationLimiter(clock: () => number, limits: Partial<DerivationLimits> = {}): DerivationLimiter {
  const { perClient, windowMs, maxClients } = { ...DEFAULT_DERIVATION_LIMITS, ...limits };
  // Per client, the times of its derivations in the window; a Map iterates oldest-seen first.
  const seen = new Map<string, number[]>();
  return {
    tryDerive(client) {
      const now = clock();
      const times = (seen.get(client) ?? []).filter((t) => now - t < windowMs);
      seen.delete(client);
      if (seen.size >= maxClients) seen.delete(seen.keys().next().value as string);
      seen.set(client, times);
      if (times.length >= perClient) return false;
      times.push(now);
      return true;
    },
  };
}
