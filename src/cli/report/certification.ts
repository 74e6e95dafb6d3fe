/** What `eero calibrate --agreement/--accuracy-drop` prints: the certificate and how it holds on the test split. */
import type { ExitOutputs } from '../../config';
import { calibrateCertified, evaluatePolicy, withAgreementLabels, type Guarantee, type ScoreKind } from '../../router';
import { markdownTable } from './tables';

export interface CertificationReport {
  /** The cheapest certified budget, as a fraction of the full model. */
  budgetFraction: number;
  text: string;
}

const pct = (v: number): number => +(100 * v).toFixed(2);

export function certificationReport(
  calibration: ExitOutputs,
  test: ExitOutputs,
  costs: Float64Array,
  guarantee: Guarantee,
  options: { score: ScoreKind; beta: number },
): CertificationReport {
  const policy = calibrateCertified(calibration, costs, undefined, { guarantee, score: options.score, beta: options.beta });
  const c = policy.certificate;
  // On the test split: accuracy against the labels, agreement against the final exit's answers.
  const accuracy = evaluatePolicy(policy, test, costs);
  const agreement = evaluatePolicy(policy, withAgreementLabels(test, { score: options.score }), costs);
  const what =
    guarantee.agreement !== undefined
      ? `agreement with the full model >= ${guarantee.agreement}`
      : `accuracy >= the full model's - ${guarantee.accuracyDrop}`;
  const table = markdownTable(
    ['certified budget %', 'p-value', 'hypotheses tested', 'test agreement %', 'test accuracy %', 'test cost %'],
    [
      [
        pct(c.budgetFraction),
        +c.pValue.toPrecision(3),
        c.tested,
        pct(agreement.accuracy),
        pct(accuracy.accuracy),
        pct(accuracy.costFraction),
      ],
    ],
  );
  const text = `\nCertified (Learn then Test, delta ${guarantee.delta ?? 0.05}): ${what}, from ${c.pathImages} path and ${c.testImages} test images of the calibration split.\n\n${table}`;
  return { budgetFraction: c.budgetFraction, text };
}
