/**
 * The files under a folder, recursively, as raw bytes relative to it.
 * Symlinks are followed, and every folder is walked once: the real folders
 * first, then those reached only through a link (so a link to a folder
 * inside the root adds nothing, and a loop ends). What cannot be read (a
 * folder without permission, a broken link) or is not a regular file (a FIFO,
 * a socket, a device) becomes an entry with its error, so the run goes on and
 * reports it.
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

/** What a file that is neither a regular file nor a folder is (Dirent and Stats answer the same questions). */
interface FileKind {
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

function specialKind(f: FileKind): string {
  if (f.isFIFO()) return 'a named pipe (FIFO)';
  if (f.isSocket()) return 'a socket';
  if (f.isCharacterDevice()) return 'a character device';
  if (f.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** Never opened: reading a FIFO with no writer would wait forever. */
function special(f: FileKind): EeroError {
  return new EeroError('NOT_AN_IMAGE', `${specialKind(f)}, not a regular file: not read`);
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
  /** Folders reached through a link, walked after every real one. */
  const linked: Buffer[] = [];
  const fail = (rel: Buffer, what: string, e: unknown): void => {
    out.push({ rel, error: new EeroError('IO_ERROR', `${what}: ${(e as Error).message}`, { cause: e }) });
  };
  const wanted = (name: Buffer): boolean =>
    opts.allFiles === true || IMAGE_EXTENSIONS.has(path.extname(name.toString('latin1')).toLowerCase());

  /** Walks a folder unless it was walked already (same device and inode). */
  const enter = async (rel: Buffer): Promise<void> => {
    let s;
    try {
      s = await fs.stat(join(rootBytes, rel));
    } catch (e) {
      return fail(rel, 'cannot read folder', e);
    }
    const id = `${s.dev}:${s.ino}`;
    if (seen.has(id)) return; // a loop, or a folder already walked
    seen.add(id);
    await walk(rel);
  };

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
      if (e.isSymbolicLink()) {
        let target;
        try {
          target = await fs.stat(full);
        } catch (err) {
          if (wanted(e.name)) fail(childRel, 'broken symbolic link', err);
          continue;
        }
        if (target.isDirectory()) linked.push(childRel);
        else if (wanted(e.name)) out.push(target.isFile() ? { rel: childRel } : { rel: childRel, error: special(target) });
      } else if (e.isDirectory()) await enter(childRel);
      else if (wanted(e.name)) out.push(e.isFile() ? { rel: childRel } : { rel: childRel, error: special(e) });
    }
  };
  await walk(Buffer.alloc(0));
  // Walking a linked folder may find more links: the list grows as it is read.
  for (let i = 0; i < linked.length; i++) await enter(linked[i] as Buffer);
  return out;
}
