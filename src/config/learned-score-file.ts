/**
 * A bundle's learned-score file (models/FORMAT.md `learnedScore`): JSON of
 * the learned exit score's fitted params, named and checksummed by the
 * manifest. Read here as JSON; its fields are checked against the bundle by
 * the router's validator, which names the field (pipeline/loaded-model.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EeroError } from '../errors';
import { checkFile, sha256File, type Bundle } from './bundle';
import { setYamlKey } from './yaml-file';

export const LEARNED_SCORE_FILE = 'learned-score.json';

/** The bundle's learned-score JSON, or undefined when its manifest names none. */
export async function readLearnedScoreFile(
  bundle: Bundle,
  options: { verify?: boolean } = {},
): Promise<{ file: string; params: unknown } | undefined> {
  const ref = bundle.manifest.learnedScore;
  if (ref === undefined) return undefined;
  const file = join(bundle.dir, ref.file);
  await checkFile(file, ref.bytes, ref.sha256, options.verify ?? true);
  try {
    return { file, params: JSON.parse(await readFile(file, 'utf8')) as unknown };
  } catch (e) {
    throw new EeroError('MODEL_INVALID', `${file}: not JSON: ${(e as Error).message}`, { cause: e, details: { file } });
  }
}

/**
 * Write `params` as the bundle's learned-score file and name it in the manifest (size and sha256),
 * leaving every other manifest field as it is.
 */
export async function writeLearnedScoreFile(bundle: Bundle, params: unknown): Promise<string> {
  const file = join(bundle.dir, LEARNED_SCORE_FILE);
  const text = `${JSON.stringify(params, null, 1)}\n`;
  try {
    await writeFile(file, text);
    const ref = { file: LEARNED_SCORE_FILE, sha256: await sha256File(file), bytes: Buffer.byteLength(text) };
    await setYamlKey(join(bundle.dir, 'manifest.yaml'), 'learnedScore', ref, 'IO_ERROR');
  } catch (e) {
    throw new EeroError('IO_ERROR', `${file}: cannot be written: ${(e as Error).message}`, { cause: e, details: { file } });
  }
  return file;
}
