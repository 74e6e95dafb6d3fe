import { checkRow, type ManifestFacts } from '../../src/cli/merge/check-row';
import type { StoredRow } from '../../src/cli/folder/row-format';

const M: ManifestFacts = { name: 'm', macs: [100, 250, 400], labels: ['cat', 'dog'] };

const good: StoredRow = {
  file: 'a/x.png',
  line: 7,
  model: 'm',
  budget: 0.5,
  rule: 'eero beta 0.04',
  score: 'margin',
  costUnit: 'macs',
  error: false,
  text: '',
  label: 'dog',
  classIndex: 1,
  exit: 2,
  macs: 250,
  costFraction: 0.625,
};

const refusal = (row: Partial<StoredRow>): unknown => {
  try {
    checkRow('part-1.jsonl', { ...good, ...row }, M);
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('checkRow: a part row against its manifest', () => {
  test('accepts a row the manifest allows, in MACs and in seconds, and an error row with a code of ours', () => {
    expect(refusal({})).toBeUndefined();
    expect(refusal({ costUnit: 'seconds', costFraction: 0.41 })).toBeUndefined();
    expect(refusal({ costUnit: 'seconds', exit: 3, macs: 400, costFraction: 1 })).toBeUndefined();
    expect(refusal({ error: true, errorCode: 'CORRUPT_IMAGE', exit: undefined, macs: undefined, label: undefined })).toBeUndefined();
  });

  test.each([
    ['exit', { exit: 99 }, /exit 99 is not an exit of m \(1\.\.3\)/],
    ['exit', { exit: 0 }, /exit 0 is not an exit/],
    ['exit', { exit: 1.5 }, /exit 1\.5 is not an exit/],
    ['macs', { macs: -5 }, /macs -5 is not the cost of exit 2 \(250 in the manifest\)/],
    ['cost_fraction', { costFraction: 0.7 }, /cost_fraction 0\.7 is not exit 2's share of the full model's MACs \(0\.625000\)/],
    ['cost_fraction', { costFraction: 0 }, /cost_fraction 0 is not in \(0, 1\]/],
    ['cost_fraction', { costUnit: 'seconds', costFraction: 1 }, /only the last exit costs the full model/],
    ['cost_unit', { costUnit: 'joules' }, /cost unit "joules" is neither macs nor seconds/],
    ['label', { label: 'horse' }, /label "horse" is not a class of m/],
    ['class_index', { classIndex: 0 }, /class_index 0 is not the index of "dog"/],
    ['model', { model: 'other' }, /model other is not m/],
    ['error_code', { error: true, errorCode: 'OOPS' }, /error code "OOPS" is not one of eero's/],
    ['error_code', { error: true, errorCode: 'constructor' }, /error code "constructor" is not one of eero's/],
  ] as const)('refuses a bad %s, naming the part, the line and the file', (field, row, message) => {
    const e = refusal(row) as { code: string; message: string; details: Record<string, unknown> };
    expect(e.code).toBe('BAD_PARAMETER');
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^part-1\.jsonl:7: /);
    expect(e.details).toEqual({ part: 'part-1.jsonl', line: 7, file: 'a/x.png', field });
  });
});
