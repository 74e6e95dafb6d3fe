/** A dependency-free SVG line chart: accuracy against cost, one line per method. */

export interface ChartSeries {
  name: string;
  points: Array<[number, number]>;
  /** Draw markers only (e.g. single exits, the oracle). */
  markersOnly?: boolean;
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  xDomain?: [number, number];
  yDomain?: [number, number];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];

function niceTicks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);
}

function domain(values: number[], pad: number): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const d = (hi - lo) * pad || Math.abs(hi) * 0.05 || 1;
  return [lo - d, hi + d];
}

export function renderLineChart(series: ChartSeries[], opts: ChartOptions): string {
  const W = opts.width ?? 760;
  const H = opts.height ?? 480;
  const m = { left: 64, right: 200, top: 40, bottom: 52 };
  const all = series.flatMap((s) => s.points);
  const [x0, x1] =
    opts.xDomain ??
    domain(
      all.map((p) => p[0]),
      0.02,
    );
  const [y0, y1] =
    opts.yDomain ??
    domain(
      all.map((p) => p[1]),
      0.05,
    );
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const sx = (x: number): number => m.left + ((x - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number): number => m.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const f = (v: number): string => v.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.right / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`,
  ];
  for (const t of niceTicks(x0, x1)) {
    out.push(`<line x1="${f(sx(t))}" y1="${m.top}" x2="${f(sx(t))}" y2="${m.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${f(sx(t))}" y="${m.top + ph + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    out.push(`<line x1="${m.left}" y1="${f(sy(t))}" x2="${m.left + pw}" y2="${f(sy(t))}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length] ?? '#000';
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (!s.markersOnly && pts.length > 1) {
      const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${f(sx(p[0]))},${f(sy(p[1]))}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    for (const p of pts) out.push(`<circle cx="${f(sx(p[0]))}" cy="${f(sy(p[1]))}" r="${s.markersOnly ? 4 : 2.5}" fill="${colour}"/>`);
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${W - m.right + 14}" y1="${ly}" x2="${W - m.right + 38}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`);
    out.push(`<text x="${W - m.right + 44}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
