/** Reading and writing YAML files: the only place the `yaml` package is used. */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseDocument, stringify } from 'yaml';
import { EeroError, type ErrorCode } from '../errors';

/**
 * Read and parse one YAML file. A missing file gives `missingCode`; a syntax
 * error (or a duplicate key) gives `code` with the file and line.
 */
export async function readYamlFile(file: string, code: ErrorCode, missingCode: ErrorCode = code): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'cannot be read';
    throw new EeroError(missingCode, `${file}: ${why}`, { cause: e, details: { file } });
  }
  return parseYamlText(text, file, code);
}

export function parseYamlText(text: string, file: string, code: ErrorCode): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const where = first.linePos ? `line ${first.linePos[0].line}` : 'YAML';
    const summary = first.message.split('\n')[0] ?? first.message;
    throw new EeroError(code, `${file}: ${where}: invalid YAML: ${summary}`, {
      cause: first,
      details: { file },
    });
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/** Write `value` as YAML, atomically (temporary file, then rename). */
export async function writeYamlFile(file: string, value: unknown, header?: string): Promise<void> {
  const body = stringify(value, { lineWidth: 0 });
  const text = header ? `${header.replace(/^/gm, '# ')}\n${body}` : body;
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, 'utf8');
  await rename(temporary, file);
}

/**
 * Set one top-level key of a YAML file to a flow-style value on one line (written as the toolkit writes it, so a recompose keeps the bytes), keeping every other line of
 * the document (its comments and layout) as it is: the line is replaced, or appended when absent.
 */
export async function setYamlKey(file: string, key: string, value: unknown, code: ErrorCode): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new EeroError(code, `${file}: cannot be read`, { cause: e, details: { file } });
  }
  const line = `${key}: ${stringify(value, { lineWidth: 0, collectionStyle: 'flow', flowCollectionPadding: false }).trim()}`;
  const pattern = new RegExp(`^${key}:.*$`, 'm');
  const next = pattern.test(text) ? text.replace(pattern, line) : `${text.replace(/\n*$/, '\n')}${line}\n`;
  // The result must still be one document with the key as given.
  const parsed = parseDocument(next, { uniqueKeys: true });
  if (parsed.errors.length > 0 || JSON.stringify((parsed.toJS() as Record<string, unknown>)[key]) !== JSON.stringify(value)) {
    throw new EeroError(code, `${file}: cannot set ${key} without rewriting the file`, { details: { file } });
  }
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, next, 'utf8');
  await rename(temporary, file);
}
