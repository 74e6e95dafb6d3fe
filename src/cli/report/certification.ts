/** What `eero calibrate --agreement/--accuracy-drop` prints: the certificate and how it holds on the test split. */
import type { Certification } from '../../pipeline';
import { markdownTable } from './tables';

const pct = (v: number): number => +(100 * v).toFixed(2);

export function certificationText({ guarantee, certificate: c, onTest }: Certification): string {
  const what =
    guarantee.agreement !== undefined
      ? `agreement with the full model >= ${guarantee.agreement}`
      : `accuracy >= the full model's - ${guarantee.accuracyDrop}`;
  const table = markdownTable(
    ['certified budget %', 'p-value', 'hypotheses tested', 'test agreement %', 'test accuracy %', 'test cost %'],
    [[pct(c.budgetFraction), +c.pValue.toPrecision(3), c.tested, pct(onTest.agreement), pct(onTest.accuracy), pct(onTest.costFraction)]],
  );
  return `\nCertified (Learn then Test, delta ${guarantee.delta ?? 0.05}): ${what}, from ${c.pathImages} path and ${c.testImages} test images of the calibration split.\n\n${table}`;
}
