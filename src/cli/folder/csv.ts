/** CSV as RFC 4180 writes it: cells with a comma, quote or line break are quoted, quotes doubled. */

export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(cells: readonly unknown[]): string {
  return cells.map(csvCell).join(',') + '\n';
}

export interface CsvRecord {
  cells: string[];
  /** Offset just past the record's line break. */
  end: number;
}

/**
 * The complete records of `text` (a quoted cell may hold line breaks). A last
 * record without its line break is torn (an interrupted write) and left out.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n') {
      cells.push(cell.endsWith('\r') ? cell.slice(0, -1) : cell);
      records.push({ cells, end: i + 1 });
      cells = [];
      cell = '';
    } else cell += c;
  }
  return records;
}
