/**
 * Decompression bombs cannot stall the service: a bomb whose header is out
 * of bounds is answered 413 without being decoded, and a bomb within bounds
 * decodes only in the slots large images may take, bounded by the decode
 * time limit, while another client's normal images go through. The bombs
 * come from 127.0.0.2 and the other client from 127.0.0.1 (two remote
 * addresses, two decode queues). Asserted by counts and order, not by time.
 */
import { request } from 'node:http';
import sharp from 'sharp';
import type { Service } from '../../src/server';
import { flatPng } from '../preprocess/images';
import { fixturePngs, startTestService, type TestConfig } from './harness';

interface Reply {
  status: number;
  code: string | undefined;
  reason: unknown;
}

/** POST /v1/classify from `localAddress`, on a fresh connection. */
function postFrom(url: string, localAddress: string, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/classify`, {
      method: 'POST',
      localAddress,
      headers: { 'content-type': 'image/png', 'content-length': body.length, connection: 'close' },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string; details?: { reason?: unknown } } };
        resolve({ status: res.statusCode ?? 0, code: json.error?.code, reason: json.error?.details?.reason });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const BOMBER = '127.0.0.2';
const VICTIM = '127.0.0.1';

/** One event per answer, in the order they came. */
type Event = { who: 'bomb'; reply: Reply } | { who: 'victim'; reply: Reply };

async function withService(over: TestConfig, body: (service: Service) => Promise<void>): Promise<void> {
  const service = await startTestService(over);
  try {
    await body(service);
  } finally {
    await service.close();
  }
}

/** Sends the victim's images one after another: `count` of them, then on while `more()` says so. */
async function victim(url: string, events: Event[], count: number, more: () => boolean = () => false): Promise<number> {
  const images = fixturePngs();
  let sent = 0;
  while (sent < count || more()) {
    const reply = await postFrom(url, VICTIM, images[sent % images.length] as Buffer);
    events.push({ who: 'victim', reply });
    sent++;
  }
  return sent;
}

describe('decode bombs and another client', () => {
  it('eight 1 x 40,000,000 PNGs in flight are all answered 413 from the header while the other client is served 200', async () => {
    await withService({ limits: { inputPixels: 40_000_000, bodyBytes: 256 * 1024 } }, async (service) => {
      const bomb = flatPng(1, 40_000_000);
      const events: Event[] = [];
      let victimDone = false;
      // Eight bomb loops, each sending its next bomb as soon as one is answered, until the victim has sent 20 images.
      const bombLoops = Array.from({ length: 8 }, async () => {
        do events.push({ who: 'bomb', reply: await postFrom(service.url, BOMBER, bomb) });
        while (!victimDone);
      });
      const sent = await victim(service.url, events, 20);
      victimDone = true;
      await Promise.all(bombLoops);
      const answered = events.filter((e) => e.who === 'victim').map((e) => e.reply.status);
      const bombs = events.filter((e) => e.who === 'bomb').map((e) => `${e.reply.status} ${e.reply.code}`);
      expect(answered).toEqual(new Array<number>(sent).fill(200));
      expect(bombs.length).toBeGreaterThanOrEqual(8);
      expect(new Set(bombs)).toEqual(new Set(['413 TOO_MANY_PIXELS']));
    });
  });

  it('bombs within the header limits decode only in the large-image slots, stopped by the time limit; the other client is answered meanwhile', async () => {
    // The same bombs, allowed by their shape: each would take libvips ~10 s (longer on a busy machine); the limit
    // stops each after 2 s, time enough for the victim's first answer even on a busy machine (the order checked below).
    // Three slots: two for large images, one kept for the rest; the request limit only ends a hang.
    const limits = {
      inputPixels: 40_000_000,
      maxSide: 100_000_000,
      maxAspectRatio: 1e9,
      decodeTimeoutSeconds: 2,
      decodeConcurrency: 3,
      requestTimeoutMs: 120_000,
    };
    await withService({ limits }, async (service) => {
      const bomb = flatPng(1, 40_000_000);
      const events: Event[] = [];
      let pending = 3;
      const bombs = Array.from({ length: 3 }, async () => {
        const reply = await postFrom(service.url, BOMBER, bomb);
        pending--;
        events.push({ who: 'bomb', reply });
      });
      // Wait until a bomb holds a libvips thread (sharp's own counter; this process runs the service).
      while (sharp.counters().process === 0 && pending > 0) await new Promise((resolve) => setImmediate(resolve));
      const sent = await victim(service.url, events, 1, () => pending > 0);
      await Promise.all(bombs);
      const order = events.map((e) => e.who);
      // Every bomb refused as too large to decode in time; every victim image answered.
      expect(events.filter((e) => e.who === 'bomb').map((e) => [e.reply.status, e.reply.code, e.reply.reason])).toEqual(
        new Array(3).fill([413, 'TOO_MANY_PIXELS', 'decode-timeout']),
      );
      expect(events.filter((e) => e.who === 'victim').map((e) => e.reply.status)).toEqual(new Array<number>(sent).fill(200));
      // The victim did not wait for a bomb: its first answer came before the first bomb's (with both slots
      // held by bombs it would have come after), and it kept being answered between the bombs.
      expect(order.indexOf('victim')).toBeLessThan(order.indexOf('bomb'));
      expect(order.lastIndexOf('victim')).toBeGreaterThan(order.indexOf('bomb'));
    });
  });
});
