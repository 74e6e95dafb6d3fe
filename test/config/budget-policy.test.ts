import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBudgetPolicy, writeBudgetPolicy, type BudgetPolicy } from '../../src/config';
import { ROUTING_OPTIONS, routingFromPolicy } from '../../src/pipeline';
import { EeroError } from '../../src/errors';
import { makeTempDir, removeDir } from './fake-bundle';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeDir(dir));

async function write(text: string): Promise<string> {
  const file = join(dir, 'policy.yaml');
  await writeFile(file, text);
  return file;
}

async function failure(file: string): Promise<EeroError> {
  try {
    // What loading a policy for a model does: the file, then the rules between its routing options.
    routingFromPolicy(await loadBudgetPolicy(file, ROUTING_OPTIONS), file);
  } catch (e) {
    expect(e).toBeInstanceOf(EeroError);
    return e as EeroError;
  }
  throw new Error('expected loadBudgetPolicy to fail');
}

describe('loadBudgetPolicy', () => {
  test('a minimal policy gets the file defaults; routing options it leaves out stay unset (the model decides)', async () => {
    const p = await loadBudgetPolicy(await write('name: half\nmodel: resnet18-fmnist\nbudget: 0.5\n'), ROUTING_OPTIONS);
    expect(p).toEqual({
      name: 'half',
      model: 'resnet18-fmnist',
      costUnit: 'macs',
      ledger: { enabled: true },
      routing: { budget: { fraction: 0.5 } },
    });
  });

  test('a guarantee nests its fields; budgets read as everywhere else (50%, 6M)', async () => {
    const p = await loadBudgetPolicy(
      await write('name: g\nmodel: m\nbudget: 50%\nguarantee: {agreement: 0.99, delta: 0.1}\n'),
      ROUTING_OPTIONS,
    );
    expect(p.routing).toEqual({ budget: { fraction: 0.5 }, agreement: 0.99, delta: 0.1 });
    const q = await loadBudgetPolicy(await write('name: g\nmodel: m\nbudget: 6M\n'), ROUTING_OPTIONS);
    expect(q.routing).toEqual({ budget: { macs: 6e6 } });
  });

  test('a full policy loads as written', async () => {
    const p = await loadBudgetPolicy(
      await write(
        [
          'name: cheap',
          'model: convnext-fmnist',
          'budgetMacs: 2.5e6',
          'score: entropy',
          'beta: 0.1',
          'costUnit: seconds',
          'ledger: {enabled: false}',
          'thresholds: [0.9, 0.5, .inf, -.inf]',
        ].join('\n'),
      ),
      ROUTING_OPTIONS,
    );
    expect(p.routing).toEqual({ budget: { macs: 2.5e6 }, score: 'entropy', beta: 0.1 });
    expect(p.ledger).toEqual({ enabled: false });
    expect(p.thresholds).toEqual([0.9, 0.5, Infinity, -Infinity]);
  });

  test.each([
    ['budget: 0', 'budget', /in \(0, 1\]/],
    ['budget: 0.5\nbudgetMacs: 100', 'budgetMacs', /exactly one/],
    ['', 'budget', /exactly one/],
    ['budget: 0.5\nscore: confidence', 'score', /one of margin, maxprob, entropy, learned/],
    ['budget: 0.5\nbeta: -1', 'beta', />= 0.000001 and <= 100/],
    ['budget: 0.5\nguarantee: {agreement: 1}', 'guarantee.agreement', /< 1/],
    ['budget: 0.5\nguarantee: {agreement: 0.9, bogus: 1}', 'guarantee.bogus', /unknown field/],
    ['budget: 0.5\ncostUnit: flops', 'costUnit', /"macs"/],
    ['budget: 0.5\nledger: {enabled: yes}', 'ledger.enabled', /true or false/],
    // The ledger is strict: an overdraft is a field it cannot honour, so the file is refused, naming it.
    ['budget: 0.5\nledger: {overdraft: 0.1}', 'ledger.overdraft', /unknown field/],
    ['budget: 0.5\nguarantee: {delta: 0.1}', 'guarantee.delta', /needs .*guarantee.agreement/],
    ['budget: 0.5\nguarantee: {agreement: 0.9, accuracyDrop: 0.01}', 'give', /not both/],
    ['budget: 0.5\naccuracyTarget: 0.9\nthresholds: [1, 2]', 'thresholds', /at most one/],
    ['budget: 0.5\naccuracyTarget: 1.5', 'accuracyTarget', /<= 1/],
    ['budget: 0.5\nthresholds: [0.1, x]', 'thresholds[1]', /"x"/],
    ['budget: 0.5\nbugdet: 0.4', 'bugdet', /unknown field/],
  ])('%j → CONFIG_INVALID at %s', async (extra, field, why) => {
    const file = await write(`name: p\nmodel: m\n${extra}\n`);
    const e = await failure(file);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message.startsWith(`${file}: ${field}`)).toBe(true);
    expect(e.message).toMatch(why);
  });

  test('a missing model field is named', async () => {
    const file = await write('name: p\nbudget: 0.5\n');
    expect((await failure(file)).message).toBe(`${file}: model: expected a string, got nothing`);
  });

  test('not a mapping', async () => {
    const file = await write('- 1\n- 2\n');
    expect((await failure(file)).message).toBe(`${file}: (root): expected a mapping, got a list`);
  });
});

describe('writeBudgetPolicy', () => {
  test('round-trips, including infinite thresholds', async () => {
    const policy: BudgetPolicy = {
      name: 'p',
      model: 'm',
      costUnit: 'seconds',
      ledger: { enabled: true },
      thresholds: [0.8, 0.6, Infinity],
      routing: { budget: { fraction: 0.42 }, score: 'maxprob', beta: 0.04 },
    };
    const file = join(dir, 'out.yaml');
    await writeBudgetPolicy(file, policy, ROUTING_OPTIONS);
    expect(await readFile(file, 'utf8')).toMatch(/^# /);
    expect(await loadBudgetPolicy(file, ROUTING_OPTIONS)).toEqual(policy);
  });

  test('a guarantee and a budget in MACs round-trip in the file layout', async () => {
    const policy: BudgetPolicy = {
      name: 'g',
      model: 'm',
      costUnit: 'macs',
      ledger: { enabled: true },
      routing: { budget: { macs: 6e6 }, agreement: 0.99, delta: 0.05 },
    };
    const file = join(dir, 'g.yaml');
    await writeBudgetPolicy(file, policy, ROUTING_OPTIONS);
    expect(await readFile(file, 'utf8')).toMatch(/guarantee:\n {2}agreement: 0.99\n {2}delta: 0.05/);
    expect(await loadBudgetPolicy(file, ROUTING_OPTIONS)).toEqual(policy);
  });

  test('refuses an invalid policy and writes nothing', async () => {
    const file = join(dir, 'bad.yaml');
    const bad: BudgetPolicy = { name: 'p', model: 'm', costUnit: 'macs', ledger: { enabled: true }, routing: { budget: { fraction: -1 } } };
    await expect(writeBudgetPolicy(file, bad, ROUTING_OPTIONS)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(readFile(file)).rejects.toThrow();
  });
});
