/** What the page reads of a /v1/classify?trace=1 answer (src/server/result-json.ts writes it). */
export interface TraceRow {
  exit: number;
  score: number;
  label: string;
  probability: number;
}

export interface ClassifyJson {
  label: string;
  probability: number;
  exit: number;
  exits: number;
  cost: { fraction: number };
  forced: boolean;
  stoppedBy: string;
  budget: { requested: number; limit: number; rule: string; thresholdsVersion: number };
  timings: { queueMs: number; preprocessMs: number; inferenceMs: number; batchSize: number };
  trace?: TraceRow[];
}

/** An error answer's body. */
export interface ErrorJson {
  error?: { code: string; message: string };
}
