import sharp from 'sharp';

export interface SharpSettings {
  /** libvips threads per image (sharp.concurrency); 0 means one per core. Default 1: the caller runs images in parallel. */
  threads?: number;
  /** libvips' operation cache in MB; default 0 (off), since every request brings new bytes and a cache only holds memory. */
  cacheMemoryMb?: number;
  /** Allow only the buffer loaders of the formats we accept (defence in depth behind the magic-byte check). Default true. */
  restrictLoaders?: boolean;
}

export interface SharpState {
  threads: number;
  simd: boolean;
  versions: { sharp: string; vips: string };
}

/** The libvips loaders of the accepted formats (AVIF is read by the HEIF loader, GIF by libnsgif). */
const ALLOWED_LOADERS = [
  'VipsForeignLoadJpegBuffer',
  'VipsForeignLoadPngBuffer',
  'VipsForeignLoadWebpBuffer',
  'VipsForeignLoadNsgifBuffer',
  'VipsForeignLoadTiffBuffer',
  'VipsForeignLoadHeifBuffer',
];

/**
 * Sets sharp's process-wide settings. Call once at start-up (nothing is set at
 * import). How many images decode at once is the caller's to bound; libuv's
 * UV_THREADPOOL_SIZE (default 4) caps it as well.
 */
export function configureSharp(settings: SharpSettings = {}): SharpState {
  const { threads = 1, cacheMemoryMb = 0, restrictLoaders = true } = settings;
  if (!Number.isInteger(threads) || threads < 0) throw new RangeError(`threads must be a non-negative integer, not ${threads}.`);
  sharp.concurrency(threads);
  sharp.cache(cacheMemoryMb > 0 ? { memory: cacheMemoryMb, files: 0, items: 100 } : false);
  if (restrictLoaders) {
    sharp.block({ operation: ['VipsForeignLoad'] });
    sharp.unblock({ operation: ALLOWED_LOADERS });
  } else {
    sharp.unblock({ operation: ['VipsForeignLoad'] });
  }
  return sharpState();
}

/** What sharp is running with now, for start-up logs and /v1/models-style reports. */
export function sharpState(): SharpState {
  return {
    threads: sharp.concurrency(),
    simd: sharp.simd(),
    versions: { sharp: sharp.versions.sharp, vips: sharp.versions.vips },
  };
}

/** sharp's task counters (queued for a libuv thread, in progress), for a queue-depth gauge. @internal For the tests. */
export function sharpCounters(): { queued: number; processing: number } {
  const { queue, process } = sharp.counters();
  return { queued: queue, processing: process };
}
