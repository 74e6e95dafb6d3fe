import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DEFAULT_BUCKETS, METRIC_NAMES as N } from './names';
import type { MetricsOptions } from './types';

/** The prom-client objects behind EeroMetrics; private to this module. */
export interface Instruments {
  images: Counter<'model' | 'exit'>;
  forcedExits: Counter<'model' | 'reason'>;
  macsSpent: Counter<'model'>;
  budgetTargetRatio: Gauge<'model'>;
  requestedBudget: Histogram<'model'>;
  modelFullCost: Gauge<'model'>;
  ledgerCredit: Gauge<'model'>;
  ledgerReserved: Counter<'model'>;
  ledgerUsed: Counter<'model'>;
  thresholdsVersion: Gauge<'model'>;
  monitorSamples: Counter<'model' | 'exit'>;
  monitorAgreements: Counter<'model' | 'exit'>;
  monitorMacs: Counter<'model'>;
  monitorAgreement: Gauge<'model' | 'exit'>;
  monitorAgreementLower: Gauge<'model' | 'exit'>;
  monitorAgreementUpper: Gauge<'model' | 'exit'>;
  monitorAgreementTarget: Gauge<'model'>;
  requests: Counter<'route' | 'status' | 'protocol'>;
  requestDuration: Histogram<'route' | 'protocol'>;
  errors: Counter<'code'>;
  phaseDuration: Histogram<'model' | 'phase'>;
  stageDuration: Histogram<'model' | 'stage'>;
  batchSize: Histogram<'model'>;
  inferenceExecutions: Counter<'model' | 'path'>;
  inferenceImages: Counter<'model'>;
  queueDepth: Gauge<'model'>;
  ruleDerivations: Counter<'model' | 'result'>;
  deadlineOutcomes: Counter<'model' | 'result'>;
}

/** Scrape-time gauge bodies, attached by createMetrics. */
export interface Collectors {
  ledgerCredit(gauge: Gauge<'model'>): void;
  thresholdsVersion(gauge: Gauge<'model'>): void;
  agreement(which: 'ratio' | 'lower' | 'upper', gauge: Gauge<'model' | 'exit'>): void;
  queueDepth(gauge: Gauge<'model'>): void;
}

export function createInstruments(registry: Registry, options: MetricsOptions, collectors: Collectors): Instruments {
  const registers = [registry];
  const agreementGauge = (name: string, help: string, which: 'ratio' | 'lower' | 'upper'): Gauge<'model' | 'exit'> =>
    new Gauge({
      name,
      help: `${help}, read at scrape time`,
      labelNames: ['model', 'exit'],
      registers,
      collect() {
        collectors.agreement(which, this);
      },
    });
  const b = { ...DEFAULT_BUCKETS, ...options.buckets };
  return {
    images: new Counter({ name: N.images, help: 'Images classified, by the exit they left at', labelNames: ['model', 'exit'], registers }),
    forcedExits: new Counter({
      name: N.forcedExits,
      help: 'Images made to exit early by the budget ledger or a deadline rather than by confidence',
      labelNames: ['model', 'reason'],
      registers,
    }),
    macsSpent: new Counter({
      name: N.macsSpent,
      help: 'Multiply-accumulate operations actually spent on classified images',
      labelNames: ['model'],
      registers,
    }),
    budgetTargetRatio: new Gauge({
      name: N.budgetTargetRatio,
      help: "The model's budget B: target average cost per image as a fraction of the full model",
      labelNames: ['model'],
      registers,
    }),
    requestedBudget: new Histogram({
      name: N.requestedBudget,
      help: 'Budgets requests asked for, as a fraction of the full model (at most the model budget)',
      labelNames: ['model'],
      buckets: [...b.ratio],
      registers,
    }),
    modelFullCost: new Gauge({
      name: N.modelFullCost,
      help: "Full model's cost per image in MACs (cost of the last exit)",
      labelNames: ['model'],
      registers,
    }),
    ledgerCredit: new Gauge({
      name: N.ledgerCredit,
      help: 'Budget ledger credit in MACs (B x images - spent, never negative), read at scrape time',
      labelNames: ['model'],
      registers,
      collect() {
        collectors.ledgerCredit(this);
      },
    }),
    ledgerReserved: new Counter({
      name: N.ledgerReserved,
      help: 'MACs the ledger reserved for batches before they ran',
      labelNames: ['model'],
      registers,
    }),
    ledgerUsed: new Counter({
      name: N.ledgerUsed,
      help: 'MACs those batches really spent (reserved minus used returned to the ledger)',
      labelNames: ['model'],
      registers,
    }),
    thresholdsVersion: new Gauge({
      name: N.thresholdsVersion,
      help: 'Version of the exit thresholds in use (1 at load, +1 per recalibration), read at scrape time',
      labelNames: ['model'],
      registers,
      collect() {
        collectors.thresholdsVersion(this);
      },
    }),
    monitorSamples: new Counter({
      name: N.monitorSamples,
      help: 'Answered images the live monitor continued to the final exit, by the exit they had left at',
      labelNames: ['model', 'exit'],
      registers,
    }),
    monitorAgreements: new Counter({
      name: N.monitorAgreements,
      help: "Monitored images whose answer agreed with the final exit's, by the exit they had left at",
      labelNames: ['model', 'exit'],
      registers,
    }),
    monitorMacs: new Counter({
      name: N.monitorMacs,
      help: 'MACs the live monitor spent in the background (not charged to the ledger)',
      labelNames: ['model'],
      registers,
    }),
    monitorAgreement: agreementGauge(
      N.monitorAgreement,
      'Agreement of answers with the full model (exit="all": every answer), from monitored samples',
      'ratio',
    ),
    monitorAgreementLower: agreementGauge(N.monitorAgreementLower, 'Wilson 95% lower bound of eero_monitor_agreement_ratio', 'lower'),
    monitorAgreementUpper: agreementGauge(N.monitorAgreementUpper, 'Wilson 95% upper bound of eero_monitor_agreement_ratio', 'upper'),
    monitorAgreementTarget: new Gauge({
      name: N.monitorAgreementTarget,
      help: 'Agreement with the full model the model promises (its certified guarantee or monitor.agreementTarget)',
      labelNames: ['model'],
      registers,
    }),
    requests: new Counter({
      name: N.requests,
      help: 'Requests answered, by route pattern (or gRPC method), HTTP status code and protocol (rest, grpc)',
      labelNames: ['route', 'status', 'protocol'],
      registers,
    }),
    requestDuration: new Histogram({
      name: N.requestDuration,
      help: 'Request duration in seconds, by route pattern (or gRPC method) and protocol (rest, grpc)',
      labelNames: ['route', 'protocol'],
      buckets: [...b.request],
      registers,
    }),
    errors: new Counter({ name: N.errors, help: 'Errors by EeroError code', labelNames: ['code'], registers }),
    phaseDuration: new Histogram({
      name: N.phaseDuration,
      help: 'Time in each phase, in seconds: queue and preprocess per image, inference per engine run',
      labelNames: ['model', 'phase'],
      buckets: [...b.phase],
      registers,
    }),
    stageDuration: new Histogram({
      name: N.stageDuration,
      help: 'Duration of one engine stage run over a batch, in seconds',
      labelNames: ['model', 'stage'],
      buckets: [...b.stage],
      registers,
    }),
    batchSize: new Histogram({
      name: N.batchSize,
      help: 'Images per engine execution',
      labelNames: ['model'],
      buckets: [...b.batch],
      registers,
    }),
    inferenceExecutions: new Counter({
      name: N.inferenceExecutions,
      help: 'Engine executions (batches run), by engine path: graph, stages, full, failed',
      labelNames: ['model', 'path'],
      registers,
    }),
    inferenceImages: new Counter({
      name: N.inferenceImages,
      help: 'Images run through the engine (average batch = images / executions)',
      labelNames: ['model'],
      registers,
    }),
    queueDepth: new Gauge({
      name: N.queueDepth,
      help: 'Images waiting in the batcher queue, read at scrape time',
      labelNames: ['model'],
      registers,
      collect() {
        collectors.queueDepth(this);
      },
    }),
    ruleDerivations: new Counter({
      name: N.ruleDerivations,
      help: 'Expensive routing rules (certificates, agreement targets) clients asked for that had to be computed: computed, refused by the per-client limit, or kept over a recalibration',
      labelNames: ['model', 'result'],
      registers,
    }),
    deadlineOutcomes: new Counter({
      name: N.deadlineOutcomes,
      help: 'Images asked with a deadline (deadline_ms), by whether the answer was ready by it: met or missed',
      labelNames: ['model', 'result'],
      registers,
    }),
  };
}
