/**
 * The page's number formats. They follow the reader's locale, so the separators are matched loosely: the
 * digits, the rounding, the prefixes and the units are what is checked.
 */
import { fmt, messageOf } from '../../../../src/server/status-page/client/format';

const sep = (s: string): RegExp => new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/_/g, '[.,]')}$`);

describe('fmt', () => {
  test('si: a prefix from k to T with two decimals; a one-letter unit takes the prefix without a space', () => {
    expect(fmt.si(34755264, 'MACs')).toMatch(sep('34_76 M MACs'));
    expect(fmt.si(262144, 'B')).toMatch(sep('262_14 kB'));
    expect(fmt.si(2.5e12, 'MACs')).toMatch(sep('2_50 T MACs'));
    expect(fmt.si(999, 'B')).toBe('999 B');
  });

  test('pct: a percentage with one decimal by default, a dash for no value', () => {
    expect(fmt.pct(0.1234)).toMatch(sep('12_3%'));
    expect(fmt.pct(0.5, 0)).toBe('50%');
    expect(fmt.pct(null)).toBe('—');
    expect(fmt.pct(undefined)).toBe('—');
  });

  test('seconds: seconds from 1 s, whole milliseconds from 10 ms, a decimal below', () => {
    expect(fmt.seconds(2)).toMatch(sep('2_00 s'));
    expect(fmt.seconds(0.0421)).toBe('42 ms');
    expect(fmt.seconds(0.0042)).toMatch(sep('4_2 ms'));
  });

  test('rate and ms: fewer decimals as the number grows', () => {
    expect(fmt.rate(3.14159)).toMatch(sep('3_14'));
    expect(fmt.rate(31.4159)).toMatch(sep('31_4'));
    expect(fmt.rate(314.159)).toBe('314');
    expect(fmt.ms(3.14)).toMatch(sep('3_1 ms'));
    expect(fmt.ms(31.4)).toBe('31 ms');
  });
});

test('messageOf: the non-empty message of whatever was thrown, else undefined', () => {
  expect(messageOf(new TypeError('Failed to fetch'))).toBe('Failed to fetch');
  expect(messageOf({ message: 'plain object' })).toBe('plain object');
  expect(messageOf(new Error(''))).toBeUndefined();
  expect(messageOf('a string')).toBeUndefined();
  expect(messageOf(null)).toBeUndefined();
});
