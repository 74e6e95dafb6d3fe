import { describeDifferences, describeRun, differences, type RunSettings } from '../../src/cli/folder/run-settings';

const run: RunSettings = { model: 'm', budget: 0.5, rule: 'eero beta 0.04', score: 'margin', costUnit: 'macs' };

describe('run settings', () => {
  test('each of model, budget, rule, score and cost unit is a difference; a budget within 1e-9 is the same', () => {
    expect(differences(run, { ...run })).toEqual([]);
    expect(differences(run, { ...run, budget: 0.5 + 1e-12 })).toEqual([]);
    expect(
      differences(run, { model: 'n', budget: 0.4, rule: 'certified agreement 0.99 delta 0.05', score: 'entropy', costUnit: 'seconds' }),
    ).toEqual(['model', 'budget', 'rule', 'score', 'costUnit']);
  });

  test('says what differs and how, and shows a value not recorded (an older file) as (none)', () => {
    expect(describeDifferences(run, { ...run, score: 'entropy' })).toBe('score margin (the other: entropy)');
    expect(describeRun({ ...run, rule: '', score: '', costUnit: '' })).toBe(
      'model m at budget 0.5, rule (none), score (none), cost unit (none)',
    );
  });
});
