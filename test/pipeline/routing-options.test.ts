/**
 * One declaration per routing option: a test-only option declared once
 * reaches every surface (HTTP query, v2 parameters, CLI flag and help, policy
 * file, serve config, docs table), is validated by the same rule there, and
 * its error reads the same apart from the name the surface gives it.
 */
import { parseCommand, helpText, type CommandSpec } from '../../src/cli/args';
import { optionFlags } from '../../src/cli/commands/routing-flags';
import { optionsTable, surfacesTable } from '../../src/cli/report/generated-docs';
import { parseBudgetPolicy, parseServeConfig, parseSurface, type OptionSpec } from '../../src/config';
import { EeroError } from '../../src/errors';
import { ROUTING_OPTIONS, routingFrom } from '../../src/pipeline';
import { parseParams } from '../../src/server/params';

const knob: OptionSpec = {
  key: 'testKnob',
  kind: 'number',
  range: { min: 0, max: 1 },
  doc: 'a knob that exists only in this test',
  example: '0.5',
  surfaces: ['query', 'v2', 'flag', 'policy', 'serve'],
};
const specs = [...ROUTING_OPTIONS, knob];
const RULE = 'must be a number >= 0 and <= 1 (e.g. 0.5), got';

function failure(run: () => unknown): EeroError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(EeroError);
    return e as EeroError;
  }
  throw new Error('expected a failure');
}

describe('a routing option declared once', () => {
  it('is read and checked from the HTTP query and the v2 parameters, under their names', () => {
    expect(parseParams([{ test_knob: '0.25' }], 'query', { routing: specs }).values.testKnob).toBe(0.25);
    expect(parseParams([{ test_knob: 0.75 }], 'v2', { routing: specs }).values.testKnob).toBe(0.75);
    const q = failure(() => parseParams([{ test_knob: '2' }], 'query', { routing: specs }));
    expect(q.code).toBe('BAD_PARAMETER');
    expect(q.message).toBe(`test_knob ${RULE} "2"`);
    expect(failure(() => parseParams([{ test_knob: 'x' }], 'v2', { routing: specs })).message).toBe(`test_knob ${RULE} "x"`);
    // Not declared on the server's default list: an unknown name is ignored, as clients add their own.
    expect(parseParams([{ test_knob: '2' }], 'query').values.testKnob).toBeUndefined();
  });

  it('becomes a CLI flag with its help line, checked by the same rule', () => {
    const spec: CommandSpec = { name: 't', summary: 's', usage: 'u', flags: optionFlags(specs) };
    expect(helpText(spec)).toMatch(/--test-knob <value>\s+a knob that exists only in this test \(a number >= 0 and <= 1\)/);
    const parsed = parseCommand(spec, ['--test-knob', '0.5']);
    expect(parseSurface(specs, 'flag', parsed.flags).testKnob).toBe(0.5);
    const bad = parseCommand(spec, ['--test-knob=1.5']);
    expect(failure(() => parseSurface(specs, 'flag', bad.flags)).message).toBe(`--test-knob ${RULE} "1.5"`);
  });

  it('is a policy-file field, checked by the same rule and named with the file', () => {
    const doc = { name: 'p', model: 'm', budget: 0.5, testKnob: 0.3 };
    expect(parseBudgetPolicy(doc, 'p.yaml', specs).routing.testKnob).toBe(0.3);
    const e = failure(() => parseBudgetPolicy({ ...doc, testKnob: 3 }, 'p.yaml', specs));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toBe(`p.yaml: testKnob: ${RULE} 3`);
    // Without the declaration the same field is a typo.
    expect(failure(() => parseBudgetPolicy(doc, 'p.yaml', ROUTING_OPTIONS)).message).toMatch(/^p\.yaml: testKnob: unknown field/);
  });

  it('is a serve-config model field, checked by the same rule', () => {
    const config = parseServeConfig({ models: [{ path: 'x', testKnob: 1 }] }, 'serve.yaml', specs);
    expect(config.models[0]?.routing).toEqual({ testKnob: 1 });
    const e = failure(() => parseServeConfig({ models: [{ path: 'x', testKnob: -1 }] }, 'serve.yaml', specs));
    expect(e.message).toBe(`serve.yaml: models[0].testKnob: ${RULE} -1`);
  });

  it('appears in the docs tables of every surface', () => {
    for (const surface of ['query', 'v2', 'flag', 'policy', 'serve'] as const) {
      expect(optionsTable(surface, specs)).toContain('a knob that exists only in this test');
    }
    expect(surfacesTable(specs)).toContain('| testKnob | `test_knob` | `test_knob` | `--test-knob` | `testKnob` | `testKnob` |');
  });
});

describe('the routing options', () => {
  it('refuse numbers a user does not mean on every surface (hex, underscores, Infinity, empty)', () => {
    for (const raw of ['0x10', '1_000', 'Infinity', '', ' ']) {
      expect(failure(() => routingFrom('query', { deadline_ms: raw })).message).toMatch(/^deadline_ms must be a number > 0/);
      expect(failure(() => routingFrom('flag', { 'deadline-ms': raw })).message).toMatch(/^--deadline-ms must be a number > 0/);
    }
    expect(routingFrom('query', { deadline_ms: '1e2' }).deadlineMs).toBe(100);
  });

  it('take a score from the registry and name the registered ones when refusing', () => {
    expect(routingFrom('v2', { score: 'entropy' }).score).toBe('entropy');
    expect(failure(() => routingFrom('v2', { score: 'sharpness' })).message).toBe(
      'score must be one of margin, maxprob, entropy, learned (e.g. margin), got "sharpness"',
    );
  });

  it('check the rules between options, naming the fields as the surface does', () => {
    expect(failure(() => routingFrom('query', { agreement: '0.99', accuracy_drop: '0.01' })).message).toBe(
      'give agreement or accuracy_drop, not both',
    );
    expect(failure(() => routingFrom('flag', { delta: '0.1' })).message).toBe('--delta needs --agreement or --accuracy-drop');
    expect(routingFrom('flag', { agreement: '0.99' }).guarantee).toEqual({ agreement: 0.99, delta: 0.05 });
  });
});
