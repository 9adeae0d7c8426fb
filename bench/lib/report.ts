import type { DbKind } from './database';

/** A target from the issue: a measured ratio against its bound. */
export interface Verdict {
  name: string;
  value: number;
  bound: number;
  /** `min`: value must be ≥ bound; `max`: ≤ bound. */
  kind: 'min' | 'max';
}

export interface ScenarioReport {
  id: string;
  title: string;
  db: DbKind;
  headers: string[];
  rows: string[][];
  verdicts: Verdict[];
  notes: string[];
  /** Raw numbers for --json. */
  data: Record<string, unknown>;
  error?: string;
  seconds: number;
}

export function passes(verdict: Verdict): boolean {
  return verdict.kind === 'min' ? verdict.value >= verdict.bound : verdict.value <= verdict.bound;
}

/** A plain-text table with right-aligned numbers; also valid Markdown. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => /^[-–0-9.,×%+ ]*$/.test(row[i] ?? '')));
  const cell = (text: string, i: number): string => (numeric[i] ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (cells: string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `|${widths.map((width, i) => (numeric[i] ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export function formatReport(report: ScenarioReport): string {
  const lines = [`\n### ${report.id} ${report.title} — ${report.db} (${report.seconds.toFixed(0)} s)\n`];
  if (report.rows.length > 0) lines.push(formatTable(report.headers, report.rows), '');
  for (const verdict of report.verdicts) {
    const held = report.db === 'postgres' ? (passes(verdict) ? 'PASS' : 'FAIL') : 'reported only (embedded)';
    const op = verdict.kind === 'min' ? '≥' : '≤';
    lines.push(`- ${verdict.name}: ${verdict.value.toFixed(2)} (target ${op} ${verdict.bound}) → ${held}`);
  }
  for (const note of report.notes) lines.push(`- ${note}`);
  if (report.error) lines.push(`- **did not complete**: ${report.error}`);
  return lines.join('\n');
}
