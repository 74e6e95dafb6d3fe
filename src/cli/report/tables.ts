/** Markdown and CSV tables from one row shape. */

export type Cell = string | number;

export function markdownTable(header: string[], rows: Cell[][]): string {
  const fmt = (c: Cell): string => (typeof c === 'number' ? String(c) : c.replace(/\|/g, '\\|'));
  const align = header.map((_, i) => (rows.every((r) => typeof r[i] === 'number') ? '---:' : '---'));
  return [`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`)].join('\n') + '\n';
}

export function csvTable(header: string[], rows: Cell[][]): string {
  const fmt = (c: Cell): string => {
    const s = String(c);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(fmt).join(',')).join('\n') + '\n';
}
