import type { Gauge, Registry } from 'prom-client';
import { createInstruments } from './instruments';
import { createLabelGuard } from './label-guard';
import { METRIC_NAMES } from './names';
import type { EeroMetrics, LedgerSource, MetricsOptions, QueueDepthSource } from './types';

const DEFAULT_LABEL_VALUE_LIMIT = 64;

/**
 * Registers the eero_* metrics on `registry` (never the global one) and
 * returns methods to feed them. Call once per registry: a second call on
 * the same registry throws, as prom-client refuses duplicate names.
 */
export function createMetrics(registry: Registry, options: MetricsOptions = {}): EeroMetrics {
  const guard = createLabelGuard(options.labelValueLimit ?? DEFAULT_LABEL_VALUE_LIMIT, options.onLabelOverflow);
  const g = guard.bound;
  let ledgerSource: LedgerSource | undefined;
  let queueDepthSource: QueueDepthSource | undefined;

  const m = createInstruments(registry, options, {
    ledgerBalance(gauge) {
      fillGauge(gauge, METRIC_NAMES.ledgerBalance, options, () => {
        if (ledgerSource === undefined) return;
        for (const r of ledgerSource()) {
          if (Number.isFinite(r.balanceMacs)) gauge.set({ model: g('model', r.model), policy: g('policy', r.policy) }, r.balanceMacs);
        }
      });
    },
    queueDepth(gauge) {
      fillGauge(gauge, METRIC_NAMES.queueDepth, options, () => {
        if (queueDepthSource === undefined) return;
        for (const r of queueDepthSource()) {
          if (Number.isFinite(r.depth)) gauge.set({ model: g('model', r.model) }, r.depth);
        }
      });
    },
  });

  return {
    recordImage({ model, policy, exit, macs, forced }) {
      positiveInteger('exit', exit);
      nonNegative('macs', macs);
      const mp = { model: g('model', model), policy: g('policy', policy) };
      m.images.inc({ ...mp, exit: g('exit', String(exit)) });
      m.macsSpent.inc(mp, macs);
      // Created at zero even when not forced, so that rate() sees the series from the first image.
      m.forcedExits.inc(mp, forced ? 1 : 0);
    },
    setBudget(model, policy, ratio, fullMacs) {
      nonNegative('ratio', ratio);
      nonNegative('fullMacs', fullMacs);
      const mp = { model: g('model', model), policy: g('policy', policy) };
      m.budgetTargetRatio.set(mp, ratio);
      m.modelFullCost.set({ model: mp.model }, fullMacs);
      m.macsSpent.inc(mp, 0);
      m.forcedExits.inc(mp, 0);
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
    observeBatch(model, size) {
      positiveInteger('batch size', size);
      const labels = { model: g('model', model) };
      m.batchSize.observe(labels, size);
      m.inferenceExecutions.inc(labels);
      m.inferenceImages.inc(labels, size);
    },
    recordRequest(route, status, seconds) {
      positiveInteger('status', status);
      nonNegative('seconds', seconds);
      const r = g('route', route);
      m.requests.inc({ route: r, status: g('status', String(status)) });
      m.requestDuration.observe({ route: r }, seconds);
    },
    recordError(code) {
      m.errors.inc({ code: g('code', code) });
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
