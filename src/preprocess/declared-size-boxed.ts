/**
 * Declared sizes of the two accepted formats whose size sits behind offsets
 * rather than at a fixed place: TIFF (the first IFD's ImageWidth and
 * ImageLength) and AVIF (the ISO-BMFF `ispe` property boxes). Every offset is
 * bounds-checked; a header that cannot be followed gives `undefined`, one of
 * thousands of boxes side by side CORRUPT_IMAGE.
 */
import type { DeclaredSize } from './declared-size';
import { MAX_HEADER_PARTS, tooManyHeaderParts } from './image-limits';

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

const TIFF_WIDTH = 256;
const TIFF_LENGTH = 257;
const TIFF_SHORT = 3;
const TIFF_LONG = 4;
const TIFF_LONG8 = 16;

/** TIFF and BigTIFF: tags 256 and 257 of the first IFD (the page libvips decodes). */
export function declaredTiffSize(b: Uint8Array): DeclaredSize | undefined {
  if (b.length < 16) return undefined;
  const v = view(b);
  const le = b[0] === 0x49;
  const big = v.getUint16(2, le) === 43;
  const ifd = big ? Number(v.getBigUint64(8, le)) : v.getUint32(4, le);
  const entrySize = big ? 20 : 12;
  const headerSize = big ? 8 : 2;
  if (!Number.isSafeInteger(ifd) || ifd + headerSize > b.length) return undefined;
  const count = big ? Number(v.getBigUint64(ifd, le)) : v.getUint16(ifd, le);
  let width: number | undefined;
  let height: number | undefined;
  for (let i = 0; i < count; i++) {
    const at = ifd + headerSize + i * entrySize;
    if (at + entrySize > b.length) break;
    const tag = v.getUint16(at, le);
    if (tag !== TIFF_WIDTH && tag !== TIFF_LENGTH) continue;
    const type = v.getUint16(at + 2, le);
    const value = at + (big ? 12 : 8);
    let n: number | undefined;
    if (type === TIFF_SHORT) n = v.getUint16(value, le);
    else if (type === TIFF_LONG) n = v.getUint32(value, le);
    else if (type === TIFF_LONG8 && big) n = Number(v.getBigUint64(value, le));
    if (tag === TIFF_WIDTH) width = n;
    else height = n;
  }
  const valid = (n: number | undefined): n is number => n !== undefined && Number.isSafeInteger(n) && n > 0;
  return valid(width) && valid(height) ? { width, height } : undefined;
}

interface Box {
  type: string;
  /** Where the box's content starts and ends. */
  start: number;
  end: number;
}

/** The boxes laid one after another in [from, to); stops at the first that does not fit; CORRUPT_IMAGE past MAX_HEADER_PARTS. */
function boxes(b: Uint8Array, from: number, to: number): Box[] {
  const v = view(b);
  const out: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    if (out.length === MAX_HEADER_PARTS) throw tooManyHeaderParts('image', 'boxes side by side');
    let size = v.getUint32(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > to) break;
      size = Number(v.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (!Number.isSafeInteger(size) || size < header || at + size > to) break;
    out.push({ type: String.fromCharCode(...b.subarray(at + 4, at + 8)), start: at + header, end: at + size });
    at += size;
  }
  return out;
}

const child = (b: Uint8Array, parent: Box | undefined, type: string, skip = 0): Box | undefined =>
  parent === undefined ? undefined : boxes(b, parent.start + skip, parent.end).find((x) => x.type === type);

/**
 * AVIF: meta (a full box) > iprp > ipco > ispe. A file has one `ispe` per
 * image item (the primary image, its alpha, grid tiles, thumbnails); the
 * largest is taken, an upper bound of what any item decodes to.
 */
export function declaredIsoSize(b: Uint8Array): DeclaredSize | undefined {
  const meta = boxes(b, 0, b.length).find((x) => x.type === 'meta');
  const ipco = child(b, child(b, meta, 'iprp', 4), 'ipco');
  if (ipco === undefined) return undefined;
  const v = view(b);
  let best: DeclaredSize | undefined;
  for (const box of boxes(b, ipco.start, ipco.end)) {
    if (box.type !== 'ispe' || box.end - box.start < 12) continue;
    const size = { width: v.getUint32(box.start + 4), height: v.getUint32(box.start + 8) };
    if (best === undefined || size.width * size.height > best.width * best.height) best = size;
  }
  return best !== undefined && best.width > 0 && best.height > 0 ? best : undefined;
}
