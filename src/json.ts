/** JSON files read with errors that say where: file, line and column, and what was wrong. */
import { readFileSync } from 'node:fs';
import { type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { UserError } from './errors.js';

/** Line and column of a character offset. */
function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `line ${line}, column ${pos - before.lastIndexOf('\n')}`;
}

/** Parses `text`, read from `file`; a syntax error is a UserError naming the line and column. */
export function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse does not always say where; jsonc-parser does, in strict mode.
    const errors: ParseError[] = [];
    parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    const where = first ? `${lineCol(text, first.offset)}: ` : '';
    const what = first ? printParseErrorCode(first.error) : 'not valid JSON';
    throw new UserError(`${file}: ${where}invalid JSON: ${what}`);
  }
}

/** Reads and parses a JSON file; `what` names it in errors ("the config"). */
export function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseJson(file, text);
}
