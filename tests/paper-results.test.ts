/**
 * The committed results/paper/ agree with themselves and with the README: the tables and
 * the comparison are what the summary gives, and the README quotes the comparison.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparisonDocument } from '../src/paper/compare.js';
import type { Summary } from '../src/summary.js';
import { markdownTables } from '../src/tables.js';
import { root } from './helpers.js';

const dir = join(root, 'results', 'paper');
const read = (f: string) => readFileSync(join(dir, f), 'utf8');
const summary = JSON.parse(read('summary.json')) as Summary;

describe('committed paper results', () => {
  it('hold the tables and the comparison their summary gives', () => {
    expect(read('table.md')).toBe(markdownTables(summary));
    expect(read('comparison.md')).toBe(comparisonDocument(summary));
  });

  it('are what the README quotes', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /<!-- paper-table[^>]*-->\n([\s\S]*?)\n<!-- \/paper-table -->/.exec(readme);
    expect(block).not.toBeNull();
    const rows = (block as RegExpExecArray)[1].split('\n').filter((l) => l.startsWith('|'));
    expect(rows.length).toBeGreaterThan(8); // header, rule, eight methods
    const comparison = read('comparison.md').split('\n');
    for (const row of rows) expect(comparison).toContain(row);
  });
});
