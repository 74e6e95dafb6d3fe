/**
 * The status page as one HTML document: markup, the inlined stylesheet and script, and the boot data.
 *
 * The script is the bundle of client/ (client-asset.ts reads it at start-up); the stylesheet is a TypeScript
 * string, so it travels with the compiled code. Inlining makes `/` the page's only route; the
 * Content-Security-Policy allows exactly this script and this stylesheet by their hashes, and the page may
 * only fetch from the service. Trusted Types refuse every HTML-string sink (innerHTML and the like): the
 * page renders with textContent and createElement only, and the browser enforces it.
 */
import { createHash } from 'node:crypto';
import { STATUS_PAGE_CSS } from './style';
import type { ModelDescription } from '../server-types';

/** What the page starts from; everything live comes from /metrics. */
export interface StatusPageBoot {
  defaultModel: string;
  models: Array<ModelDescription & { ready: boolean }>;
  /** Default poll interval (the page's ?poll=ms overrides it, 250 ms to 60 s). */
  pollMs: number;
  /** The service's body limit, so an oversized file is refused before it is sent. */
  bodyBytes: number;
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page's Content-Security-Policy for this script: nothing but it, the stylesheet and the service itself. */
export const statusPageCsp = (script: string): string =>
  [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(STATUS_PAGE_CSS)}`,
    // data: for the empty favicon (no /favicon.ico request, no 404), blob: for the dropped image's preview.
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');

/** JSON inside <script type="application/json">: "<" escaped so no value can close the element. */
const jsonForScript = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

export function renderStatusPage(boot: StatusPageBoot, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>EERO-serve status</title>
<link rel="icon" href="data:,">
<style>${STATUS_PAGE_CSS}</style>
</head>
<body data-polls="0">
<a class="skip" href="#classify">Skip to classify an image</a>
<header class="top">
  <h1>EERO-serve</h1>
  <nav aria-label="Service API"><a href="v1/models">/v1/models</a><a href="metrics">/metrics</a><a href="readyz">/readyz</a></nav>
  <p class="live" id="live" data-state="connecting"><span class="dot" aria-hidden="true"></span><span id="live-state" role="status">Connecting…</span><span id="live-ago"></span></p>
</header>
<main>
  <div class="col" id="models" aria-label="Models">
    <noscript><section class="card"><p>This page needs JavaScript to read /metrics. The raw numbers are at <a href="metrics">/metrics</a>.</p></section></noscript>
  </div>
  <div class="col">
    <section class="card" id="classify" aria-labelledby="classify-h">
      <h2 id="classify-h">Classify an image</h2>
      <p class="sub">Sent to <code>POST /v1/classify?trace=1</code>: the score at each exit it passed, where it stopped and why.</p>
      <div class="form">
        <label>Model <select id="c-model"></select></label>
        <label>Budget, fraction of the full model <input id="c-budget" type="number" step="0.01" inputmode="decimal"></label>
      </div>
      <label class="drop" id="drop" for="c-file">
        <strong>Drop an image here</strong>
        <span>or press to choose a file (PNG, JPEG, WebP, GIF, TIFF)</span>
        <input id="c-file" type="file" accept="image/*">
      </label>
      <p id="c-status" class="sub" role="status" aria-live="polite"></p>
      <div id="result" data-state="idle" hidden>
        <div class="result">
          <img id="r-img" alt="">
          <div>
            <p class="answer"><span id="r-label"></span> <span class="num"><small id="r-prob"></small></span></p>
            <p class="sub">Exit <b id="r-exit"></b> of <span id="r-exits"></span> · cost <b id="r-cost"></b> of the full model · <span id="r-budget"></span></p>
          </div>
        </div>
        <p class="why" id="r-why"></p>
        <table id="trace">
          <caption class="vh">Score and prediction at each exit the image passed</caption>
          <thead><tr><th scope="col">Exit</th><th scope="col" class="r">Score</th><th scope="col"><span class="vh">Score bar</span></th><th scope="col">Prediction</th><th scope="col" class="r">Probability</th></tr></thead>
          <tbody></tbody>
        </table>
        <p class="sub" id="r-rest"></p>
        <p class="sub" id="r-timings"></p>
        <details><summary>The JSON answer</summary><pre id="r-json"></pre></details>
      </div>
    </section>
    <section class="card" id="service" aria-labelledby="service-h">
      <h2 id="service-h">Classify requests</h2>
      <p class="sub">All models, <code>/v1/classify</code> and <code>/v2</code> infer, over the last <span id="s-window">two polls</span>. Percentiles are interpolated within the latency histogram's buckets.</p>
      <dl class="tiles">
        <div class="tile"><dt>Latency p50</dt><dd data-field="p50">—</dd></div>
        <div class="tile"><dt>Latency p99</dt><dd data-field="p99">—</dd></div>
        <div class="tile"><dt>Requests</dt><dd data-field="rps">—</dd></div>
        <div class="tile"><dt>Errors</dt><dd data-field="errors">—</dd></div>
      </dl>
    </section>
  </div>
</main>
<footer>Numbers from <a href="metrics">/metrics</a>, read by this page; realised budget = MACs spent ÷ images ÷ the full model's MACs.</footer>
<script type="application/json" id="boot">${jsonForScript(boot)}</script>
<script>${script}</script>
</body>
</html>
`;
}
