/**
 * The PNG fast path gives bit for bit the tensor the sharp path gives, for
 * every image it takes, and leaves every other image to sharp (same tensor,
 * same error code). Whether it took an image is seen from the decode pool:
 * the fast path never queues, the sharp path always does.
 */
import fc from 'fast-check';
import type { InputSpec } from '../../src/config';
import { isEeroError } from '../../src/errors';
import { createDecodePool, createPreprocessor, type DecodePool } from '../../src/preprocess';
import { readHeader, readPngHeader } from '../../src/preprocess/read-header';
import { FMNIST } from './fashion-mnist';
import { encodePng, fromRaw, noiseBytes, rawImage, type PngParts } from './images';

/** Colour model with uneven padding and a coloured background (its gray value differs per channel). */
const COLOUR: InputSpec = {
  channels: 3,
  colorSpace: 'srgb',
  height: 28 + 1 + 3,
  width: 28 + 2 + 4,
  resize: { width: 28, height: 28, fit: 'contain' },
  pad: [1, 2, 3, 4],
  background: [200, 30, 90],
  scale: 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};
const GRAY_ON_COLOUR: InputSpec = { ...FMNIST, background: [200, 30, 90], pad: [0, 3, 1, 0], width: 31, height: 29 };
const SPECS: Array<[string, InputSpec]> = [
  ['Fashion-MNIST (gray, padded)', FMNIST],
  ['colour, uneven padding', COLOUR],
  ['gray on a coloured background', GRAY_ON_COLOUR],
];

type Outcome = { tensor: Float32Array } | { code: string };

/** Preprocesses `bytes` with or without the fast path; `queued` counts the jobs that reached the decode pool. */
async function outcome(bytes: Uint8Array, spec: InputSpec, fastPath: boolean, pool: DecodePool): Promise<Outcome> {
  const p = createPreprocessor(spec);
  try {
    return { tensor: (await p.preprocess(bytes, { limitInputPixels: 1_000_000, fastPath, pool })).data };
  } catch (e) {
    if (isEeroError(e)) return { code: e.code };
    throw e;
  }
}

function countingPool(): { pool: DecodePool; queued: () => number } {
  const pool = createDecodePool({ slots: 2 });
  let n = 0;
  const run = pool.run.bind(pool);
  pool.run = (job, task) => (n++, run(job, task));
  return { pool, queued: () => n };
}

/** Both paths' outcomes and whether the fast one took the image (queued nothing). */
async function bothPaths(bytes: Uint8Array, spec: InputSpec): Promise<{ fast: Outcome; sharp: Outcome; taken: boolean }> {
  const watch = countingPool();
  const fast = await outcome(bytes, spec, true, watch.pool);
  const taken = watch.queued() === 0;
  const sharp = await outcome(bytes, spec, false, countingPool().pool);
  return { fast, sharp, taken };
}

const W = 28;
const gray = (seed: number): Uint8Array => noiseBytes(W * W, seed);
const rgb = (seed: number): Uint8Array => noiseBytes(W * W * 3, seed);
const smooth = (channels: number): Uint8Array => Uint8Array.from({ length: W * W * channels }, (_, i) => (i * 7 + (i >> 5)) & 0xff);
const chunkData = (hex: string): Buffer => Buffer.from(hex, 'hex');

describe('the PNG fast path takes plain 8-bit PNGs at the model size, with the sharp path tensor', () => {
  const taken: Array<[string, PngParts]> = [
    ['gray, no filter', { width: W, height: W, colourType: 0, samples: gray(1) }],
    ['gray, every filter type row by row', { width: W, height: W, colourType: 0, samples: smooth(1), filters: [0, 1, 2, 3, 4] }],
    ['gray, Paeth only', { width: W, height: W, colourType: 0, samples: gray(2), filters: [4] }],
    ['RGB, every filter type', { width: W, height: W, colourType: 2, samples: rgb(3), filters: [4, 3, 2, 1, 0] }],
    ['RGB, average and up', { width: W, height: W, colourType: 2, samples: smooth(3), filters: [3, 2] }],
    ['gray, IDAT in five chunks', { width: W, height: W, colourType: 0, samples: gray(4), filters: [1], idatChunks: 5 }],
    [
      'gray with a pHYs chunk',
      { width: W, height: W, colourType: 0, samples: gray(5), before: [['pHYs', chunkData('00000b1300000b1301')]] },
    ],
  ];
  it.each(SPECS.flatMap(([s, spec]) => taken.map(([name, parts]) => [`${name} (${s})`, parts, spec] as const)))(
    '%s',
    async (_name, parts, spec) => {
      const { fast, sharp, taken: wasTaken } = await bothPaths(encodePng(parts), spec);
      expect(wasTaken).toBe(true);
      expect('tensor' in sharp).toBe(true);
      expect(fast).toEqual(sharp);
    },
  );

  it('takes a PNG written by libvips (adaptive filters) and gives the same tensor', async () => {
    const png = await fromRaw(rawImage(W, W, 3, (x, y, c) => (x * 9 + y * 5 + c * 70) & 0xff))
      .png({ adaptiveFiltering: true, compressionLevel: 9 })
      .toBuffer();
    for (const [, spec] of SPECS) {
      const { fast, sharp, taken: wasTaken } = await bothPaths(png, spec);
      expect(wasTaken).toBe(true);
      expect(fast).toEqual(sharp);
    }
  });
});

describe('everything else goes to sharp, with the same tensor or the same error code', () => {
  const base: PngParts = { width: W, height: W, colourType: 0, samples: gray(9), filters: [2] };
  const declined: Array<[string, Uint8Array | (() => Promise<Uint8Array>)]> = [
    ['a size that needs a resize (29x28)', encodePng({ ...base, width: 29, samples: noiseBytes(29 * W, 3) })],
    ['gray + alpha', encodePng({ ...base, colourType: 4, samples: noiseBytes(W * W * 2, 4) })],
    ['RGBA', encodePng({ ...base, colourType: 6, samples: noiseBytes(W * W * 4, 5) })],
    ['a transparent colour (tRNS)', encodePng({ ...base, before: [['tRNS', chunkData('0080')]] })],
    ['a gamma (gAMA)', encodePng({ ...base, before: [['gAMA', chunkData('0000b18f')]] })],
    ['sRGB intent', encodePng({ ...base, before: [['sRGB', chunkData('00')]] })],
    ['an unknown ancillary chunk', encodePng({ ...base, before: [['teSt', chunkData('010203')]] })],
    ['a pHYs with a bad unit', encodePng({ ...base, before: [['pHYs', chunkData('00000b1300000b1307')]] })],
    ['bytes after IEND', encodePng({ ...base, trailing: Buffer.from('trailing') })],
    // libpng writes 8 KiB IDAT chunks: no encoder writes 5,000 chunks for 28 x 28 (walked on the event loop, a flood of them had stalled it).
    ['more chunks than the walk reads (5,000 IDAT chunks)', encodePng({ ...base, idatChunks: 5000 })],
    [
      '16-bit gray',
      () =>
        fromRaw(rawImage(W, W, 1, (x, y) => x * 9 + y))
          .toColourspace('grey16')
          .png()
          .toBuffer(),
    ],
    [
      'a palette',
      () =>
        fromRaw(rawImage(W, W, 3, (x) => (x % 4) * 60))
          .png({ palette: true })
          .toBuffer(),
    ],
    [
      'interlaced (Adam7)',
      () =>
        fromRaw(rawImage(W, W, 1, (x, y) => x * 9 + y))
          .toColourspace('b-w')
          .png({ progressive: true })
          .toBuffer(),
    ],
    [
      'EXIF orientation 6',
      () =>
        fromRaw(rawImage(W, W, 1, (x, y) => x * 9 + y))
          .toColourspace('b-w')
          .withMetadata({ orientation: 6 })
          .png()
          .toBuffer(),
    ],
  ];
  it.each(declined)('%s', async (_name, make) => {
    const bytes = typeof make === 'function' ? await make() : make;
    const { fast, sharp, taken } = await bothPaths(bytes, FMNIST);
    expect(taken).toBe(false);
    expect(fast).toEqual(sharp);
  });

  it('a PNG cut short, a wrong CRC, a damaged zlib stream: the same outcome either way (fast-check)', async () => {
    const png = encodePng({ ...base, filters: [0, 1, 2, 3, 4] });
    const damage = fc.oneof(
      fc.record({ cut: fc.integer({ min: 8, max: png.length - 1 }) }),
      fc.record({ at: fc.integer({ min: 8, max: png.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
    );
    await fc.assert(
      fc.asyncProperty(damage, async (d) => {
        const bytes = 'cut' in d ? png.subarray(0, d.cut) : Buffer.from(png);
        if ('at' in d) bytes[d.at] = d.value;
        const { fast, sharp } = await bothPaths(bytes, FMNIST);
        expect(fast).toEqual(sharp);
      }),
      { seed: 20250603, numRuns: 150 },
    );
    // A truncated PNG in particular is CORRUPT_IMAGE either way.
    const { fast, sharp } = await bothPaths(png.subarray(0, png.length - 20), FMNIST);
    expect([fast, sharp]).toEqual([{ code: 'CORRUPT_IMAGE' }, { code: 'CORRUPT_IMAGE' }]);
  });
});

describe('PNG headers without libvips', () => {
  const variants: Array<[string, () => Promise<Buffer> | Buffer]> = [
    ['gray', () => encodePng({ width: 5, height: 3, colourType: 0, samples: noiseBytes(15, 1) })],
    ['gray + alpha', () => encodePng({ width: 5, height: 3, colourType: 4, samples: noiseBytes(30, 1) })],
    ['RGB', () => encodePng({ width: 5, height: 3, colourType: 2, samples: noiseBytes(45, 1) })],
    ['RGBA', () => encodePng({ width: 5, height: 3, colourType: 6, samples: noiseBytes(60, 1) })],
    [
      'gray + tRNS',
      () => encodePng({ width: 5, height: 3, colourType: 0, samples: noiseBytes(15, 1), before: [['tRNS', chunkData('0010')]] }),
    ],
    [
      'RGB + tRNS',
      () => encodePng({ width: 5, height: 3, colourType: 2, samples: noiseBytes(45, 1), before: [['tRNS', chunkData('001000200030')]] }),
    ],
    [
      'palette',
      () =>
        fromRaw(rawImage(5, 3, 3, (x) => x * 50))
          .png({ palette: true })
          .toBuffer(),
    ],
    [
      'palette + tRNS',
      () =>
        fromRaw(rawImage(5, 3, 4, (x, _y, c) => (c === 3 ? (x ? 255 : 0) : x * 50)))
          .png({ palette: true })
          .toBuffer(),
    ],
    [
      '16-bit gray',
      () =>
        fromRaw(rawImage(5, 3, 1, (x) => x * 50))
          .toColourspace('grey16')
          .png()
          .toBuffer(),
    ],
    [
      '16-bit RGBA',
      () =>
        fromRaw(rawImage(5, 3, 4, (x) => x * 50))
          .toColourspace('rgb16')
          .png()
          .toBuffer(),
    ],
    [
      'interlaced',
      () =>
        fromRaw(rawImage(5, 3, 3, (x) => x * 50))
          .png({ progressive: true })
          .toBuffer(),
    ],
  ];
  it.each(variants)('%s: what libvips reads from it', async (_name, make) => {
    const bytes = await make();
    const limits = { limitInputPixels: 1000, maxSide: 1000, maxAspectRatio: 100 };
    expect(readPngHeader(bytes)).toEqual(await readHeader(bytes, limits));
  });

  it('leaves EXIF, animation and damaged chunks to libvips', async () => {
    const exif = await fromRaw(rawImage(5, 3, 1, () => 9))
      .withMetadata({ orientation: 6 })
      .png()
      .toBuffer();
    expect(readPngHeader(exif)).toBeUndefined();
    const plain = encodePng({ width: 5, height: 3, colourType: 0, samples: noiseBytes(15, 1) });
    expect(readPngHeader(plain.subarray(0, plain.length - 3))).toBeUndefined();
  });
});
