import type { Gauge, Registry } from 'prom-client';
import { createInstruments } from './instruments';
import { createLabelGuard } from './label-guard';
import { METRIC_NAMES } from './names';
import type { AgreementSource, EeroMetrics, LedgerSource, MetricsOptions, QueueDepthSource } from './types';

const DEFAULT_LABEL_VALUE_LIMIT = 64;

/**
 * Registers the eero_* metrics on `registry` (never the global one) and
 * returns methods to feed them. Call once per registry: a second call on
 * the same registry throws, as prom-client refuses duplicate names.
 */
export function createMetrics(registry: Registry, options: MetricsOptions = {}): EeroMetrics {
  const guard = createLabelGuard(options.labelValueLimit ?? DEFAULT_LABEL_VALUE_LIMIT, options.onLabelOverflow);
  const g = (label: Parameters<typeof guard.bound>[0], value: string): string => guard.bound(label, value);
  let ledgerSource: LedgerSource | undefined;
  let agreementSource: AgreementSource | undefined;
  let queueDepthSource: QueueDepthSource | undefined;

  const m = createInstruments(registry, options, {
    ledgerCredit(gauge) {
      fillGauge(gauge, METRIC_NAMES.ledgerCredit, options, () => {
        for (const r of ledgerSource?.() ?? []) if (Number.isFinite(r.creditMacs)) gauge.set({ model: g('model', r.model) }, r.creditMacs);
      });
    },
    thresholdsVersion(gauge) {
      fillGauge(gauge, METRIC_NAMES.thresholdsVersion, options, () => {
        for (const r of ledgerSource?.() ?? []) gauge.set({ model: g('model', r.model) }, r.thresholdsVersion);
      });
    },
    agreement(which, gauge) {
      fillGauge(gauge, `${METRIC_NAMES.monitorAgreement} (${which})`, options, () => {
        for (const r of agreementSource?.() ?? [])
          if (Number.isFinite(r[which])) gauge.set({ model: g('model', r.model), exit: g('exit', r.exit) }, r[which]);
      });
    },
    queueDepth(gauge) {
      fillGauge(gauge, METRIC_NAMES.queueDepth, options, () => {
        for (const r of queueDepthSource?.() ?? []) if (Number.isFinite(r.depth)) gauge.set({ model: g('model', r.model) }, r.depth);
      });
    },
  });

  return {
    recordImage({ model, exit, macs, forced }) {
      positiveInteger('exit', exit);
      nonNegative('macs', macs);
      const labels = { model: g('model', model) };
      m.images.inc({ ...labels, exit: g('exit', String(exit)) });
      m.macsSpent.inc(labels, macs);
      if (forced) m.forcedExits.inc({ ...labels, reason: g('reason', forced) });
    },
    setBudget(model, ratio, fullMacs) {
      nonNegative('ratio', ratio);
      nonNegative('fullMacs', fullMacs);
      const labels = { model: g('model', model) };
      m.budgetTargetRatio.set(labels, ratio);
      m.modelFullCost.set(labels, fullMacs);
      // Created at zero, so that rate() sees the series from the first image.
      m.macsSpent.inc(labels, 0);
      for (const reason of ['ledger', 'deadline']) m.forcedExits.inc({ ...labels, reason }, 0);
      for (const result of ['computed', 'refused', 'kept']) m.ruleDerivations.inc({ ...labels, result }, 0);
      for (const result of ['met', 'missed']) m.deadlineOutcomes.inc({ ...labels, result }, 0);
      m.ledgerReserved.inc(labels, 0);
      m.ledgerUsed.inc(labels, 0);
    },
    countRuleDerivation(model, result) {
      m.ruleDerivations.inc({ model: g('model', model), result: g('result', result) });
    },
    recordDeadline(model, result) {
      m.deadlineOutcomes.inc({ model: g('model', model), result: g('result', result) });
    },
    observeRequestedBudget(model, ratio) {
      nonNegative('ratio', ratio);
      m.requestedBudget.observe({ model: g('model', model) }, ratio);
    },
    recordReservation(model, reservedMacs, usedMacs) {
      nonNegative('reservedMacs', reservedMacs);
      nonNegative('usedMacs', usedMacs);
      const labels = { model: g('model', model) };
      m.ledgerReserved.inc(labels, reservedMacs);
      m.ledgerUsed.inc(labels, usedMacs);
    },
    observePhase(model, phase, seconds) {
      nonNegative('seconds', seconds);
      m.phaseDuration.observe({ model: g('model', model), phase: g('phase', phase) }, seconds);
    },
    observeStage(model, stage, seconds) {
      positiveInteger('stage', stage);
      nonNegative('seconds', seconds);
      m.stageDuration.observe({ model: g('model', model), stage: g('stage', String(stage)) }, seconds);
    },
    observeBatch(model, size, path = 'stages') {
      positiveInteger('batch size', size);
      const labels = { model: g('model', model) };
      m.batchSize.observe(labels, size);
      m.inferenceExecutions.inc({ ...labels, path: g('path', path) });
      m.inferenceImages.inc(labels, size);
    },
    recordRequest(route, status, seconds, protocol = 'rest') {
      positiveInteger('status', status);
      nonNegative('seconds', seconds);
      const r = g('route', route);
      const p = g('protocol', protocol);
      m.requests.inc({ route: r, status: g('status', String(status)), protocol: p });
      m.requestDuration.observe({ route: r, protocol: p }, seconds);
    },
    recordError(code) {
      m.errors.inc({ code: g('code', code) });
    },
    recordMonitorSample(model, exit, agreed, macs) {
      positiveInteger('exit', exit);
      nonNegative('macs', macs);
      const labels = { model: g('model', model), exit: g('exit', String(exit)) };
      m.monitorSamples.inc(labels);
      m.monitorAgreements.inc(labels, agreed ? 1 : 0);
      m.monitorMacs.inc({ model: labels.model }, macs);
    },
    setAgreementTarget(model, ratio) {
      nonNegative('ratio', ratio);
      m.monitorAgreementTarget.set({ model: g('model', model) }, ratio);
      m.monitorMacs.inc({ model: g('model', model) }, 0);
    },
    setAgreementSource(source) {
      agreementSource = source;
    },
    setLedgerSource(source) {
      ledgerSource = source;
    },
    setQueueDepthSource(source) {
      queueDepthSource = source;
    },
  };
}

/** Rebuild a scrape-time gauge; a throwing source leaves it empty and is reported, never failing the scrape. */
function fillGauge<L extends string>(gauge: Gauge<L>, name: string, options: MetricsOptions, fill: () => void): void {
  gauge.reset();
  try {
    fill();
  } catch (error) {
    gauge.reset();
    options.onSourceError?.(name, error);
  }
}

function nonNegative(what: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`metrics: ${what} must be a finite number >= 0, got ${v}`);
}

function positiveInteger(what: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`metrics: ${what} must be a positive integer, got ${v}`);
}
