/** A tiny reader of the Prometheus text exposition format and counter arithmetic over two polls (no DOM). */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One poll: its time (ms, monotonic) and its samples grouped by name. */
export interface Snapshot {
  t: number;
  byName: Map<string, Sample[]>;
}

/** Label values to match; undefined means "this label must be absent". */
export type LabelFilter = Record<string, string | undefined>;

// Text exposition format 0.0.4: name{label="value",...} value [timestamp]. Comments and blanks are skipped.
const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(v: string): string {
  return v.replace(/\\(n|\\|")/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

export function parseValue(v: string | undefined): number {
  if (v === '+Inf' || v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

/** Every sample in a /metrics body. */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.charAt(0) === '#') continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(LABEL)) labels[l[1] ?? ''] = unescapeLabel(l[2] ?? '');
    out.push({ name: m[1] ?? '', labels, value: parseValue(m[3]) });
  }
  return out;
}

export function snapshot(text: string, t: number): Snapshot {
  const byName = new Map<string, Sample[]>();
  for (const s of parsePrometheus(text)) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  return { t, byName };
}

function matches(labels: Record<string, string>, want: LabelFilter): boolean {
  for (const k in want) if (labels[k] !== want[k]) return false;
  return true;
}

export function pick(snap: Snapshot, name: string, want: LabelFilter = {}): Sample[] {
  return (snap.byName.get(name) ?? []).filter((s) => matches(s.labels, want));
}

/** Sum of the matching series; undefined when there is none (absent, not zero). */
export function sum(snap: Snapshot, name: string, want?: LabelFilter): number | undefined {
  const list = pick(snap, name, want);
  return list.length === 0 ? undefined : list.reduce((a, s) => a + s.value, 0);
}

/** A counter's increase from prev to cur; a decrease means the service restarted (Prometheus' reset rule). */
export function increase(prev: number | undefined, cur: number | undefined): number | undefined {
  if (prev === undefined || cur === undefined) return cur;
  return cur >= prev ? cur - prev : cur;
}

/**
 * Drops polls from the front of history (oldest first, the latest last) while the second oldest is at least
 * windowMs older than the latest: the oldest left is the newest poll that old, the window's start.
 */
export function trimWindow(history: Snapshot[], windowMs: number): void {
  const latest = history[history.length - 1];
  while (latest && history.length > 2 && latest.t - (history[1]?.t ?? latest.t) >= windowMs) history.shift();
}
