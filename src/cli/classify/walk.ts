import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { EeroError } from '../../errors';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.bmp']);

export interface WalkOptions {
  /** Every non-hidden file, not only image extensions (non-images become error rows). */
  allFiles?: boolean;
  /** Absolute paths never to list (the output file itself). */
  exclude?: Set<string>;
}

/** Files under `root`, recursively, as paths relative to root, sorted for a stable order across runs. */
export async function listFiles(root: string, opts: WalkOptions = {}): Promise<string[]> {
  const stat = await fs.stat(root).catch((e: unknown) => {
    throw new EeroError('IO_ERROR', `cannot read folder ${root}: ${(e as Error).message}`, { cause: e });
  });
  if (!stat.isDirectory()) throw new EeroError('BAD_PARAMETER', `${root} is not a folder`);
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (opts.exclude?.has(path.resolve(full))) continue;
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && (opts.allFiles || IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))) {
        out.push(path.relative(root, full));
      }
    }
  };
  await walk(root);
  return out.sort();
}
