/**
 * Every routing option, declared once (config/options.ts says what a
 * declaration holds). The HTTP query and form fields, the v2 and gRPC
 * `parameters`, the CLI flags and their help, the policy and serve files and
 * the options tables in docs/ are all derived from this list; adding an
 * option is one entry here plus its use where it acts.
 */
import { DEFAULTS, type OptionSpec } from '../../config';
import { DEFAULT_SCORING, SCORE_KINDS } from '../../router';

const ALL = ['query', 'v2', 'flag', 'policy', 'serve'] as const;
const REQUEST = ['query', 'v2', 'flag'] as const;

export const ROUTING_OPTIONS: readonly OptionSpec[] = Object.freeze([
  {
    key: 'budget',
    kind: 'budget',
    short: 'b',
    doc: "average cost per image: a fraction of the full model or MACs; a request's budget may only be the model's limit B or less",
    example: '0.5',
    default: String(DEFAULTS.budgetFraction),
    surfaces: ALL,
  },
  {
    key: 'score',
    kind: 'choice',
    choices: () => SCORE_KINDS,
    doc: 'the confidence score each exit is judged by',
    example: 'margin',
    default: DEFAULT_SCORING.score,
    surfaces: ALL,
  },
  {
    key: 'beta',
    kind: 'number',
    // Below 1e-6 the exponential weights overflow (R / beta for R up to 1).
    range: { min: 1e-6, max: 100 },
    doc: "EERO's exponential-weights temperature (not the softmax temperature)",
    example: '0.04',
    default: String(DEFAULTS.beta),
    surfaces: ALL,
  },
  {
    key: 'accuracyTarget',
    kind: 'number',
    range: { above: 0, max: 1 },
    valueName: 'fraction',
    doc: 'instead of EERO: exit where an exit agrees with the final one on this share of calibration images',
    example: '0.99',
    surfaces: ALL,
  },
  {
    key: 'agreement',
    kind: 'number',
    range: { above: 0, below: 1 },
    valueName: 'fraction',
    doc: 'certified: agreement with the full model at least this, with probability 1 - delta',
    example: '0.99',
    surfaces: ALL,
    names: { policy: 'guarantee.agreement' },
  },
  {
    key: 'accuracyDrop',
    kind: 'number',
    range: { above: 0, below: 1 },
    valueName: 'fraction',
    doc: "certified: accuracy at least the full model's minus this, with probability 1 - delta",
    example: '0.005',
    surfaces: ALL,
    names: { policy: 'guarantee.accuracyDrop' },
  },
  {
    key: 'delta',
    kind: 'number',
    range: { above: 0, max: 0.5 },
    doc: 'risk of the certified guarantee failing',
    example: '0.05',
    default: '0.05',
    surfaces: ALL,
    names: { policy: 'guarantee.delta' },
  },
  {
    key: 'allowUncertified',
    kind: 'boolean',
    doc: 'a certified answer the ledger or a deadline would force early is returned with certified: false instead of refused (CERTIFICATE_UNAVAILABLE)',
    example: 'true',
    default: 'false',
    surfaces: ALL,
  },
  {
    key: 'deadlineMs',
    kind: 'number',
    range: { above: 0, max: 3_600_000 },
    valueName: 'ms',
    doc: 'answer each image within this many milliseconds of its arrival (caps its exit)',
    example: '250',
    surfaces: [...REQUEST, 'serve'],
  },
]);

/** Per-request answer options: what the answer shows, not how the image is routed. */
export const ANSWER_OPTIONS: readonly OptionSpec[] = Object.freeze([
  {
    key: 'topk',
    kind: 'integer',
    range: { min: 1, max: 1000 },
    short: 'k',
    doc: 'classes listed per image',
    example: '5',
    default: String(DEFAULTS.topk),
    surfaces: REQUEST,
  },
  {
    key: 'trace',
    kind: 'boolean',
    doc: 'add the score, label and probability at every exit the image passed',
    example: '1',
    default: 'false',
    surfaces: ['query', 'v2'],
  },
]);
