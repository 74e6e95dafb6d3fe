/**
 * Every metric this service exports, by name. The dashboard and the alert
 * rules in deploy/ are checked against this table (test/deploy), so a
 * renamed metric breaks a test rather than a panel.
 */
export const METRIC_NAMES = {
  images: 'eero_images_total',
  forcedExits: 'eero_forced_exits_total',
  macsSpent: 'eero_macs_spent_total',
  budgetTargetRatio: 'eero_budget_target_ratio',
  requestedBudget: 'eero_requested_budget_ratio',
  modelFullCost: 'eero_model_full_cost_macs',
  ledgerCredit: 'eero_ledger_credit_macs',
  ledgerReserved: 'eero_ledger_reserved_macs_total',
  ledgerUsed: 'eero_ledger_used_macs_total',
  thresholdsVersion: 'eero_thresholds_version',
  monitorSamples: 'eero_monitor_samples_total',
  monitorAgreements: 'eero_monitor_agreements_total',
  monitorMacs: 'eero_monitor_macs_total',
  monitorAgreement: 'eero_monitor_agreement_ratio',
  monitorAgreementLower: 'eero_monitor_agreement_lower_ratio',
  monitorAgreementUpper: 'eero_monitor_agreement_upper_ratio',
  monitorAgreementTarget: 'eero_monitor_agreement_target_ratio',
  requests: 'eero_requests_total',
  requestDuration: 'eero_request_duration_seconds',
  errors: 'eero_errors_total',
  phaseDuration: 'eero_phase_duration_seconds',
  stageDuration: 'eero_stage_duration_seconds',
  batchSize: 'eero_batch_size',
  inferenceExecutions: 'eero_inference_executions_total',
  inferenceImages: 'eero_inference_images_total',
  queueDepth: 'eero_queue_depth',
  ruleDerivations: 'eero_rule_derivations_total',
  deadlineOutcomes: 'eero_deadline_outcomes_total',
} as const;

/** The only label names used; each has a small, bounded set of values. */
export const LABEL_NAMES = ['model', 'exit', 'reason', 'stage', 'route', 'status', 'code', 'phase', 'path', 'result', 'protocol'] as const;
export type LabelName = (typeof LABEL_NAMES)[number];

export const PHASES = ['queue', 'preprocess', 'inference'] as const;
export type Phase = (typeof PHASES)[number];

/** Buckets in seconds (base unit), and images per batch. */
export const DEFAULT_BUCKETS = {
  request: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  phase: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  stage: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  batch: [1, 2, 4, 8, 16, 32, 64, 128],
  ratio: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
} as const;

/**
 * The realised budget ratio over 5 minutes: MACs spent per image divided by
 * the full model's MACs per image. Recorded as `eero:budget_realised_ratio:5m`
 * in deploy/prometheus/rules.yml (kept equal by a test).
 * @internal For the tests.
 */
export const REALISED_BUDGET_RATIO_PROMQL =
  'sum by (model) (rate(eero_macs_spent_total[5m]))' +
  ' / sum by (model) (rate(eero_images_total[5m]))' +
  ' / max by (model) (eero_model_full_cost_macs)';

/** @internal For the tests. */
export const RECORDING_RULES = {
  realisedRatio: 'eero:budget_realised_ratio:5m',
  targetRatio: 'eero:budget_target_ratio',
} as const;
