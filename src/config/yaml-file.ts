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
