/**
 * The files under a folder, recursively, as raw bytes relative to it.
 * Symlinks are followed (a folder reached twice, e.g. by a loop, is walked
 * once); what cannot be read (a folder without permission, a broken link)
 * becomes an entry with its error, so the run goes on and reports it.
 */
import { promises as fs, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { EeroError } from '../../errors';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.bmp']);

export interface WalkOptions {
  /** Every non-hidden file, not only image extensions (non-images become error rows). */
  allFiles?: boolean;
  /** Absolute paths never to list (the output file itself). */
  exclude?: Set<string>;
}

export interface WalkEntry {
  /** Path relative to the root, as bytes. */
  rel: Buffer;
  /** Set when the entry could not be read (then it is an error row). */
  error?: EeroError;
}

const SEP = Buffer.from(path.sep);
const join = (dir: Buffer, name: Buffer): Buffer => (dir.length === 0 ? name : Buffer.concat([dir, SEP, name]));

export async function listFiles(root: string, opts: WalkOptions = {}): Promise<WalkEntry[]> {
  const stat = await fs.stat(root).catch((e: unknown) => {
    throw new EeroError('IO_ERROR', `cannot read folder ${root}: ${(e as Error).message}`, { cause: e });
  });
  if (!stat.isDirectory()) throw new EeroError('BAD_PARAMETER', `${root} is not a folder`);
  const rootBytes = Buffer.from(root);
  const out: WalkEntry[] = [];
  const seen = new Set<string>([`${stat.dev}:${stat.ino}`]);
  const fail = (rel: Buffer, what: string, e: unknown): void => {
    out.push({ rel, error: new EeroError('IO_ERROR', `${what}: ${(e as Error).message}`, { cause: e }) });
  };
  const wanted = (name: Buffer): boolean => opts.allFiles === true || IMAGE_EXTENSIONS.has(path.extname(name.toString('latin1')).toLowerCase());

  const walk = async (rel: Buffer): Promise<void> => {
    let entries: Array<Dirent<Buffer>>;
    try {
      entries = await fs.readdir(join(rootBytes, rel), { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      return fail(rel, 'cannot read folder', e);
    }
    entries.sort((a, b) => Buffer.compare(a.name, b.name));
    for (const e of entries) {
      if (e.name[0] === 0x2e) continue; // hidden: ".name"
      const childRel = join(rel, e.name);
      const full = join(rootBytes, childRel);
      if (opts.exclude?.has(path.resolve(full.toString()))) continue;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          const target = await fs.stat(full);
          isDir = target.isDirectory();
          isFile = target.isFile();
          if (isDir && seen.has(`${target.dev}:${target.ino}`)) continue; // a loop, or a folder already walked
          if (isDir) seen.add(`${target.dev}:${target.ino}`);
        } catch (err) {
          if (wanted(e.name)) fail(childRel, 'broken symbolic link', err);
          continue;
        }
      } else if (isDir) {
        const s = await fs.stat(full).catch(() => undefined);
        if (s) seen.add(`${s.dev}:${s.ino}`);
      }
      if (isDir) await walk(childRel);
      else if (isFile && wanted(e.name)) out.push({ rel: childRel });
    }
  };
  await walk(Buffer.alloc(0));
  return out;
}
