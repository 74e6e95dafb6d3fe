/** The fleet summary `eero merge` prints: images, errors, realised budget, accuracy, exits per head, and each shard's share. */
import { markdownTable } from '../report/tables';
import type { MergeResult } from './merge-shards';
import { listSome } from './merge-shards';

export interface SummaryContext {
  out: string;
  /** The shards' model's number of exits (so empty exits show too). */
  exits?: number;
  /** The folder checked against (--folder). */
  folder?: string;
}

const pct = (x: number): string => (100 * x).toFixed(2);

export function mergeSummaryText(r: MergeResult, c: SummaryContext): string {
  const t = r.tally;
  const ok = t.images - t.errors;
  const lines = [`${t.images} images (${t.errors} errors) from ${t.shards.length} shards, merged into ${c.out}`];
  if (r.model === undefined || r.budget === undefined) return lines.concat('every shard is empty', '').join('\n');
  const realised = ok ? t.costFractionSum / ok : 0;
  // Rows keep cost_fraction to 6 places, so a mean exactly at the budget may read a hair above it.
  const verdict = realised <= r.budget + 1e-6 ? 'within the budget' : 'ABOVE the budget';
  const avgMacs = ok ? Math.round(t.macsSum / ok).toLocaleString('en-US') : '0';
  lines.push(
    `model ${r.model}; realised average cost ${pct(realised)}% of the full model over ${ok} answered images ` +
      `(${avgMacs} MACs on average); budget ${pct(r.budget)}%: ${verdict}`,
  );
  if (t.labelled > 0) lines.push(`accuracy ${pct(t.correct / t.labelled)}% on ${t.labelled} images labelled by their folder`);
  if (c.folder !== undefined) {
    lines.push(`every file under ${c.folder} is in exactly one shard`);
    if (r.unexpected.length > 0)
      lines.push(`${r.unexpected.length} files in the shards are not under ${c.folder} (removed since?): ${listSome(r.unexpected)}`);
  }
  const counts = [...t.exitCounts];
  while (counts.length < (c.exits ?? 0)) counts.push(0);
  lines.push(
    '',
    markdownTable(
      ['exit', 'images', 'share %'],
      counts.map((n, i) => [i + 1, n, ok ? +((100 * n) / ok).toFixed(2) : 0]),
    ),
  );
  const shardRows = t.shards.map((s) => {
    const good = s.images - s.errors;
    return [s.file, s.images, s.errors, good ? +pct(s.costFractionSum / good) : 0];
  });
  lines.push(markdownTable(['shard', 'images', 'errors', 'realised cost %'], shardRows));
  return lines.join('\n');
}
