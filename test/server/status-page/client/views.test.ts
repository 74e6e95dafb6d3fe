/** What the status page derives from /metrics: a model card's view and the classify requests' view. */
import { snapshot } from '../../../../src/server/status-page/client/prometheus';
import { modelView, requestView } from '../../../../src/server/status-page/client/views';

const desc = { name: 'm', fullMacs: 100, budget: { limit: 0.5 }, exits: [{ exit: 1 }, { exit: 2 }] };

const text = [
  '# HELP eero_images_total Images',
  '# TYPE eero_images_total counter',
  'eero_images_total{model="m",exit="1"} 3',
  'eero_images_total{model="m",exit="2"} 1',
  'eero_images_total{model="other",exit="1"} 100',
  'eero_macs_spent_total{model="m"} 250',
  'eero_model_full_cost_macs{model="m"} 100',
  'eero_forced_exits_total{model="m",reason="ledger"} 2 1700000000000',
  'eero_forced_exits_total{model="m",reason="deadline"} 1',
  'eero_monitor_agreement_ratio{model="m",exit="all"} 0.75',
  'eero_monitor_agreement_lower_ratio{model="m",exit="all"} 0.3',
  'eero_monitor_agreement_upper_ratio{model="m",exit="all"} 0.95',
  'eero_monitor_agreement_ratio{model="m",exit="1"} 0.5',
  'eero_monitor_agreement_ratio{model="m",exit="2"} NaN',
  'eero_monitor_samples_total{model="m",exit="1"} 2',
  'eero_monitor_samples_total{model="m",exit="2"} 2',
  'eero_inference_images_total{model="m"} 4',
  'eero_inference_executions_total{model="m"} 2',
  'eero_requests_total{route="/v1/classify",status="200"} 4',
  'eero_requests_total{route="/metrics",status="200"} 9',
  'eero_requests_total{route="/v2/models/:name/infer",status="422"} 1',
].join('\n');

describe('modelView', () => {
  test("counts the model's own series only: images by exit, realised budget, forced exits by reason, batch size", () => {
    const v = modelView(snapshot(text, 1000), null, desc);
    expect(v).toMatchObject({ images: 4, realised: 250 / 4 / 100, byExit: { '1': 3, '2': 1 }, forced: 3, target: 0.5, avgBatch: 2 });
    expect(v.forcedByReason).toEqual({ ledger: 2, deadline: 1 });
    expect(v.window).toBeNull();
  });

  test('agreement over every answer and per exit; an exit with no finite ratio has none', () => {
    const v = modelView(snapshot(text, 1000), null, desc);
    expect(v.agreement).toEqual({ ratio: 0.75, lower: 0.3, upper: 0.95, samples: 4 });
    expect(v.agreementByExit).toEqual({ '1': { ratio: 0.5, lower: undefined, upper: undefined, samples: 2 }, '2': null });
  });

  test('no agreement to show without monitor series or before the first sample', () => {
    expect(modelView(snapshot('eero_images_total{model="m",exit="1"} 3', 0), null, desc).agreement).toBeNull();
    const unsampled = 'eero_monitor_agreement_ratio{model="m",exit="all"} 1\neero_monitor_samples_total{model="m",exit="1"} 0';
    expect(modelView(snapshot(unsampled, 0), null, desc).agreement).toBeNull();
  });

  test("before any image: no realised ratio, and the target falls back to the model's limit", () => {
    const v = modelView(snapshot('', 0), null, desc);
    expect(v).toMatchObject({ images: 0, realised: null, target: 0.5, full: 100, thresholdsVersion: undefined });
  });

  test('over the window: images per second and the realised ratio of the images that came in it', () => {
    const before = snapshot('eero_images_total{model="m",exit="1"} 2\neero_macs_spent_total{model="m"} 50', 0);
    const v = modelView(snapshot(text, 2000), before, desc);
    expect(v.window).toEqual({ seconds: 2, imagesPerSecond: 1, images: 2, realised: 200 / 2 / 100 });
  });
});

describe('requestView', () => {
  test('classify routes only (v1 and v2 infer, not /metrics): requests, errors and the rate over the window', () => {
    const before = snapshot('eero_requests_total{route="/v1/classify",status="200"} 1', 0);
    expect(requestView(snapshot(text, 2000), before)).toMatchObject({ seconds: 2, requests: 4, errors: 1, perSecond: 2 });
  });

  test('latency percentiles come from the increase of the classify buckets', () => {
    const buckets = (n: number): string =>
      [
        `eero_request_duration_seconds_bucket{route="/v1/classify",le="0.1"} ${n}`,
        `eero_request_duration_seconds_bucket{route="/v1/classify",le="+Inf"} ${n}`,
        `eero_request_duration_seconds_bucket{route="/metrics",le="+Inf"} ${10 * n}`,
      ].join('\n');
    const v = requestView(snapshot(buckets(10), 1000), snapshot(buckets(0), 0));
    expect(v?.p50?.seconds).toBeCloseTo(0.05, 12);
    expect(v?.p99).toMatchObject({ above: false });
  });

  test('nothing before the second poll', () => {
    expect(requestView(snapshot(text, 0), null)).toBeNull();
  });
});
