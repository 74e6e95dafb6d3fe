/** The status page's Prometheus text reader and counter arithmetic, in Node: the modules compile without the DOM lib. */
import { increase, parsePrometheus, snapshot, sum, trimWindow, type Snapshot } from '../../../../src/server/status-page/client/prometheus';

describe('parsePrometheus', () => {
  test('reads names, labels and values, and skips comments, blanks and lines that are not samples', () => {
    const text = [
      '# HELP eero_images_total Images',
      '# TYPE eero_images_total counter',
      '',
      'eero_images_total{model="m",exit="1"} 3',
      'eero_up 1 1700000000000',
      'eero_request_duration_seconds_bucket{le="+Inf",route="/v1/classify"} 7',
      'eero_ratio{model="m"} NaN',
      'not a sample',
    ].join('\n');
    const samples = parsePrometheus(text);
    expect(samples.map((s) => [s.name, s.labels, s.value])).toEqual([
      ['eero_images_total', { model: 'm', exit: '1' }, 3],
      ['eero_up', {}, 1],
      ['eero_request_duration_seconds_bucket', { le: '+Inf', route: '/v1/classify' }, 7],
      ['eero_ratio', { model: 'm' }, NaN],
    ]);
  });

  test('unescapes label values: \\n, \\\\ and \\" (a comma or brace inside quotes stays in the value)', () => {
    const [s] = parsePrometheus('x{a="line\\nbreak",b="back\\\\slash",c="say \\"hi\\"",d="{1,2}"} -Inf');
    expect(s?.labels).toEqual({ a: 'line\nbreak', b: 'back\\slash', c: 'say "hi"', d: '{1,2}' });
    expect(s?.value).toBe(-Infinity);
  });
});

describe('sums over a snapshot', () => {
  const snap = snapshot('a{model="m",exit="1"} 2\na{model="m",exit="2"} 3\na{model="n",exit="1"} 10\nb 1', 0);

  test('sum adds the series carrying every wanted label; undefined when none matches (absent, not zero)', () => {
    expect(sum(snap, 'a', { model: 'm' })).toBe(5);
    expect(sum(snap, 'a')).toBe(15);
    expect(sum(snap, 'a', { model: 'x' })).toBeUndefined();
    expect(sum(snap, 'missing')).toBeUndefined();
  });

  test('a wanted label set to undefined matches only series without that label', () => {
    expect(sum(snap, 'b', { exit: undefined })).toBe(1);
    expect(sum(snap, 'a', { exit: undefined })).toBeUndefined();
  });

  test('increase is the difference, the new value after a reset (a drop), and the current value without a previous one', () => {
    expect(increase(3, 10)).toBe(7);
    expect(increase(10, 4)).toBe(4);
    expect(increase(undefined, 4)).toBe(4);
    expect(increase(4, undefined)).toBeUndefined();
  });
});

describe('trimWindow', () => {
  const polls = (...ts: number[]): Snapshot[] => ts.map((t) => ({ t, byName: new Map() }));
  const times = (h: Snapshot[]): number[] => h.map((s) => s.t);

  test('keeps as the start the newest poll at least the window older than the latest', () => {
    const h = polls(0, 10, 20, 25, 40);
    trimWindow(h, 20);
    expect(times(h)).toEqual([20, 25, 40]);
  });

  test('keeps every poll while the window is not yet covered, and always the latest two', () => {
    const young = polls(0, 5, 9);
    trimWindow(young, 20);
    expect(times(young)).toEqual([0, 5, 9]);
    const two = polls(0, 100);
    trimWindow(two, 20);
    expect(times(two)).toEqual([0, 100]);
  });
});
