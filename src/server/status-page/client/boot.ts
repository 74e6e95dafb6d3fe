/**
 * The boot data the server writes into the page (<script type="application/json" id="boot">): what the
 * page starts from; everything live comes from /metrics. Declared here, not imported from the server, so
 * the browser code depends on nothing but the DOM; a test checks the server's boot fits this shape.
 */
export interface BootModel {
  name: string;
  architecture: string | null;
  costUnit: string;
  exits: ReadonlyArray<{ exit: number; fraction: number }>;
  fullMacs: number;
  budget: { limit: number; ledger: boolean; rule: string };
  feasibleBudget: { min: number; max: number };
  ready: boolean;
}

export interface StatusPageBoot {
  defaultModel: string;
  models: BootModel[];
  /** Default poll interval (the page's ?poll=ms overrides it, 250 ms to 60 s). */
  pollMs: number;
  /** The service's body limit, so an oversized file is refused before it is sent. */
  bodyBytes: number;
}
