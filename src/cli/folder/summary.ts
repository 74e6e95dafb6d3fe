/** The summary `eero classify` prints: throughput, realised cost against the budget, accuracy, exits per head. */
import type { LoadedModel } from '../../pipeline';
import { markdownTable } from '../report/tables';
import type { FolderSummary } from './run-folder';

export function summaryText(s: FolderSummary, model: LoadedModel, skipped: number): string {
  const ok = s.images - s.errors;
  const budget = model.routing.limitFraction;
  const { fullMacs, unit } = model.costs;
  const avgMacs = ok ? s.macsSum / ok : 0;
  const realised = (100 * (ok ? s.costFractionSum / ok : 0)).toFixed(2);
  const costLine =
    unit === 'macs'
      ? `realised average cost ${realised}% of the full model (${Math.round(avgMacs).toLocaleString('en-US')} MACs of ${fullMacs.toLocaleString('en-US')}); budget ${(100 * budget).toFixed(2)}%`
      : `realised average cost ${realised}% of the full model's measured time (budget ${(100 * budget).toFixed(2)}%); ${((100 * avgMacs) / fullMacs).toFixed(2)}% of its MACs`;
  const lines = [
    `${s.stoppedEarly ? 'stopped early: ' : ''}${s.images} images (${s.errors} errors${skipped ? `, ${skipped} already done` : ''}) in ${s.seconds.toFixed(1)} s: ${(s.images / Math.max(s.seconds, 1e-9)).toFixed(1)} images/s`,
    `${costLine}; ${s.forced} exits forced (ledger or deadline)`,
  ];
  if (s.labelled > 0)
    lines.push(`accuracy ${((100 * s.correct) / s.labelled).toFixed(2)}% on ${s.labelled} images labelled by their folder`);
  lines.push(
    `time: read ${s.phase.read.toFixed(1)} s, preprocess ${s.phase.preprocess.toFixed(1)} s, engine ${s.phase.inference.toFixed(1)} s (overlapped)`,
  );
  lines.push(
    '',
    markdownTable(
      ['exit', 'images', 'share %'],
      s.exitCounts.map((c, i) => [i + 1, c, ok ? +((100 * c) / ok).toFixed(2) : 0]),
    ),
  );
  return lines.join('\n');
}
