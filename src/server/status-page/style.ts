/**
 * The status page's stylesheet, inlined into the document (see document.ts for why assets are TypeScript strings).
 * Plain CSS with custom properties: a light and a dark scheme, one column on narrow screens, no web fonts.
 */
export const STATUS_PAGE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f4f5f7; --card: #ffffff; --ink: #1b1f24; --muted: #5b6470; --line: #dde1e6;
  --accent: #2457c5; --accent-soft: #dbe5fb; --ok: #1f7a45; --warn: #a45a00; --bad: #b42318; --target: #c2410c;
  --radius: 10px; --gap: 16px;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418; --card: #1a1f26; --ink: #e6e9ee; --muted: #9aa4b2; --line: #2c333d;
    --accent: #7aa2ff; --accent-soft: #26324d; --ok: #4ade80; --warn: #fbbf24; --bad: #f87171; --target: #fb923c;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); }
a { color: var(--accent); }
code { font: 0.88em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: var(--card); padding: 6px 10px; z-index: 1; }
header.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 20px; padding: 14px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
header.top h1 { margin: 0; font-size: 1.25rem; }
header.top nav { display: flex; gap: 14px; font-size: 0.9rem; }
.live { margin-left: auto; font-size: 0.9rem; color: var(--muted); display: flex; align-items: center; gap: 8px; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--muted); display: inline-block; }
.live[data-state="live"] .dot { background: var(--ok); }
.live[data-state="offline"] .dot { background: var(--bad); }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(320px, 2fr); gap: var(--gap); padding: var(--gap) 24px 32px; max-width: 1500px; margin: 0 auto; }
@media (max-width: 980px) { main { grid-template-columns: minmax(0, 1fr); padding: 12px; } }
.col { display: grid; gap: var(--gap); align-content: start; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 16px 18px; }
.card h2 { margin: 0 0 2px; font-size: 1.1rem; }
.card h3 { margin: 14px 0 6px; font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); }
.sub { color: var(--muted); font-size: 0.88rem; margin: 0; }
.badge { display: inline-block; font-size: 0.75rem; padding: 1px 8px; border-radius: 999px; background: var(--accent-soft); color: var(--ink); vertical-align: middle; margin-left: 6px; font-weight: 500; }
.badge.warn { background: color-mix(in srgb, var(--warn) 22%, transparent); }
.badge.bad { background: color-mix(in srgb, var(--bad) 22%, transparent); }
.badge.ok { background: color-mix(in srgb, var(--ok) 22%, transparent); }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin: 0; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; min-width: 0; }
.tile dt { font-size: 0.78rem; color: var(--muted); }
.tile dd { margin: 2px 0 0; font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.tile dd.low { color: var(--bad); }
.tile dd.words { font-size: 1rem; padding-top: 4px; }
.tile dd small, .num small { font-size: 0.78rem; font-weight: 400; color: var(--muted); }
.tile .note { display: block; font-size: 0.78rem; font-weight: 400; color: var(--muted); }
.gauge { position: relative; height: 22px; border-radius: 6px; background: var(--bg); border: 1px solid var(--line); overflow: visible; margin: 8px 0 4px; }
.gauge .fill { position: absolute; inset: 0 auto 0 0; width: var(--w, 0%); border-radius: 5px; background: var(--accent); transition: width 0.4s; }
.gauge .fill.over { background: var(--bad); }
.gauge .mark { position: absolute; top: -5px; bottom: -5px; left: var(--x, 0%); width: 3px; margin-left: -1px; background: var(--target); border-radius: 2px; }
.spark { display: block; width: 100%; height: 56px; margin-top: 6px; border-bottom: 1px solid var(--line); }
.spark path { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
.spark .realised { stroke: var(--accent); stroke-linejoin: round; }
.spark .target { stroke: var(--target); stroke-dasharray: 6 4; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 0.88rem; color: var(--muted); }
.legend b { color: var(--ink); font-variant-numeric: tabular-nums; }
.key { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: baseline; }
.key.realised { background: var(--accent); }
.key.target { background: var(--target); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px 4px 0; font-size: 0.9rem; }
thead th { font-weight: 600; color: var(--muted); font-size: 0.78rem; border-bottom: 1px solid var(--line); }
tbody th { font-weight: 600; }
td.r, th.r { text-align: right; }
.bar { position: relative; height: 14px; min-width: 60px; background: var(--bg); border-radius: 4px; }
.bar span { position: absolute; inset: 0 auto 0 0; width: var(--w, 0%); background: var(--accent); border-radius: 4px; }
table.hist td:nth-child(3) { width: 36%; }
.drop { position: relative; display: grid; place-items: center; text-align: center; gap: 6px; border: 2px dashed var(--line); border-radius: var(--radius); padding: 22px 12px; cursor: pointer; color: var(--muted); }
.drop:hover, .drop.over { border-color: var(--accent); background: var(--accent-soft); color: var(--ink); }
.drop:focus-within { outline: 3px solid var(--accent); outline-offset: 2px; }
.drop strong { color: var(--ink); font-size: 1rem; }
.drop input { position: absolute; width: 1px; height: 1px; opacity: 0; }
.form { display: flex; flex-wrap: wrap; gap: 10px 16px; margin: 10px 0; font-size: 0.9rem; }
.form label { display: grid; gap: 2px; color: var(--muted); }
.form input, .form select { font: inherit; color: var(--ink); background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; min-width: 8em; }
.result { display: grid; grid-template-columns: 72px minmax(0, 1fr); gap: 12px; align-items: center; margin-top: 14px; }
.result img { width: 72px; height: 72px; object-fit: contain; image-rendering: pixelated; background: #000; border-radius: 6px; }
.answer { font-size: 1.5rem; font-weight: 650; margin: 0; }
.why { margin: 8px 0 0; padding: 8px 10px; border-left: 4px solid var(--accent); background: var(--accent-soft); border-radius: 4px; }
.why.forced { border-left-color: var(--warn); }
details { margin-top: 8px; font-size: 0.88rem; }
summary { cursor: pointer; color: var(--muted); }
pre { max-height: 260px; overflow: auto; background: var(--bg); border-radius: 6px; padding: 8px; font: 0.8rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
tr.stop td { font-weight: 650; }
tr.stop { background: var(--accent-soft); }
.alert { color: var(--bad); font-weight: 500; }
.muted { color: var(--muted); }
footer { color: var(--muted); font-size: 0.82rem; text-align: center; padding: 0 16px 24px; }
@media (prefers-reduced-motion: reduce) { .gauge .fill { transition: none; } }
`;
