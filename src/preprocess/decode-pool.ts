/**
 * Where decodes wait for a thread. A bounded number run at once (each holds
 * one libuv thread while libvips works); the rest wait in one queue per
 * client, and a free slot goes to the next client in turn (round-robin), so
 * a client with many expensive images delays its own queue, not another
 * client's. A client's turns go round its connections the same way: the
 * service passes the address as the client, so one address's connections
 * share its turns. Large images (declared above `largePixels`) may hold every
 * slot but one: a small image finds a slot free however many large ones are
 * in flight, from however many clients. Within a client's queue, a job already
 * past its due time (a deadline) waits behind the jobs still in time, as in
 * the batcher's queue (src/batching/due-queue.ts): late whatever happens, it
 * would make them late too. Pure scheduling: the clock is given, no I/O.
 */
import { DEFAULTS, usableCores } from '../config';
import { EeroError } from '../errors';

export interface DecodePoolOptions {
  /** Decodes running at once; default `defaultDecodeSlots()`. */
  slots?: number;
  /** Declared pixels above which an image counts as large; default DEFAULTS.largeImagePixels. */
  largePixels?: number;
  /** Milliseconds clock the jobs' due times are read on; without it due times are not looked at. */
  now?: () => number;
}

export interface DecodeJob {
  /** Whose queue the job waits in: the client's address for HTTP and gRPC, one key for a CLI run. */
  client: string;
  /** The connection it came on: a client's turns go round its connections; default one for all. */
  connection?: string;
  /** Declared width x height (0 when unknown: counted as small, the size limits still apply once the header is read). */
  pixels: number;
  /** Aborting it while the job waits takes the job out of the queue (ABORTED); a running job is bounded by the decode timeout. */
  signal?: AbortSignal;
  /** Clock time the answer is due (a deadline); once past, the job yields to its client's jobs still in time. */
  dueAt?: number;
}

interface Waiting {
  large: boolean;
  dueAt: number | undefined;
  start: () => void;
  cancel: (reason: unknown) => void;
}

export interface DecodePoolState {
  slots: number;
  running: number;
  runningLarge: number;
  waiting: number;
  clients: number;
}

/**
 * Slots by default: one per usable core (the CPU quota counts), but at most the libuv thread pool less one
 * (UV_THREADPOOL_SIZE, 4 unless set) so that file reads and sharp's header
 * reads always find a thread while decodes hold theirs.
 */
export function defaultDecodeSlots(cores = usableCores(), uvThreadpoolSize = process.env.UV_THREADPOOL_SIZE): number {
  const uv = Number(uvThreadpoolSize ?? 4);
  const threads = Number.isInteger(uv) && uv > 1 ? uv : 4;
  // Two at least where the thread pool allows: with one slot a large image would hold the only one.
  return Math.max(Math.min(2, threads - 1), Math.min(cores, threads - 1));
}

export class DecodePool {
  readonly slots: number;
  readonly largeSlots: number;
  private readonly largePixels: number;
  /**
   * The clients with jobs waiting, each with its connections' queues, both in the order they are served
   * next (a Map keeps insertion order).
   */
  private readonly queues = new Map<string, Map<string, Waiting[]>>();
  private running = 0;
  private runningLarge = 0;
  private readonly now: (() => number) | undefined;

  constructor(options: DecodePoolOptions = {}) {
    const { slots = defaultDecodeSlots(), largePixels = DEFAULTS.largeImagePixels } = options;
    this.now = options.now;
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive integer, not ${slots}.`);
    if (!(largePixels > 0)) throw new RangeError(`largePixels must be positive, not ${largePixels}.`);
    this.slots = slots;
    this.largeSlots = Math.max(1, slots - 1);
    this.largePixels = largePixels;
  }

  /** Runs `task` when the job's turn comes and a slot is free; its result or error is passed on. */
  run<T>(job: DecodeJob, task: () => Promise<T>): Promise<T> {
    const { signal } = job;
    if (signal?.aborted) return Promise.reject(aborted(signal.reason));
    return new Promise<T>((resolve, reject) => {
      const connection = job.connection ?? '';
      const onAbort = (): void => this.remove(job.client, connection, waiting, signal?.reason);
      const waiting: Waiting = {
        large: job.pixels > this.largePixels,
        dueAt: job.dueAt,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.running++;
          if (waiting.large) this.runningLarge++;
          const finish = (): void => {
            this.running--;
            if (waiting.large) this.runningLarge--;
            this.dispatch();
          };
          // A task that throws synchronously is a failed job, like one that rejects.
          new Promise<T>((r) => r(task())).then(
            (v) => (finish(), resolve(v)),
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the task's own error, passed on as it is
            (e: unknown) => (finish(), reject(e)),
          );
        },
        cancel: (reason) => reject(aborted(reason)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let connections = this.queues.get(job.client);
      if (!connections) {
        connections = new Map<string, Waiting[]>();
        this.queues.set(job.client, connections);
      }
      const queue = connections.get(connection);
      if (queue) queue.push(waiting);
      else connections.set(connection, [waiting]);
      this.dispatch();
    });
  }

  state(): DecodePoolState {
    let waiting = 0;
    for (const connections of this.queues.values()) for (const q of connections.values()) waiting += q.length;
    return { slots: this.slots, running: this.running, runningLarge: this.runningLarge, waiting, clients: this.queues.size };
  }

  /** Starts waiting jobs while slots are free: the clients in turn, each its first job that may run now. */
  private dispatch(): void {
    while (this.running < this.slots) {
      const next = this.next();
      if (next === undefined) return;
      next.start();
    }
  }

  /**
   * The next job to start, taken out of its queue: the clients in turn, and a client's connections in
   * turn, each its first job that may run now, in time before late (a client's jobs still in time on
   * any connection go first); the client and the connection go to the back of their turns (or leave
   * them when done).
   */
  private next(): Waiting | undefined {
    const now = this.now?.();
    const mayRun = (w: Waiting): boolean => !w.large || this.runningLarge < this.largeSlots;
    const inTime = (w: Waiting): boolean => now === undefined || w.dueAt === undefined || w.dueAt > now;
    for (const [client, connections] of this.queues) {
      for (const pick of [(w: Waiting) => mayRun(w) && inTime(w), mayRun]) {
        for (const [connection, queue] of connections) {
          const at = queue.findIndex(pick);
          if (at < 0) continue;
          const [job] = queue.splice(at, 1) as [Waiting];
          connections.delete(connection);
          if (queue.length > 0) connections.set(connection, queue);
          this.queues.delete(client);
          if (connections.size > 0) this.queues.set(client, connections);
          return job;
        }
      }
    }
    return undefined;
  }

  private remove(client: string, connection: string, waiting: Waiting, reason: unknown): void {
    const connections = this.queues.get(client);
    const queue = connections?.get(connection);
    const at = queue?.indexOf(waiting) ?? -1;
    if (connections === undefined || queue === undefined || at < 0) return;
    queue.splice(at, 1);
    if (queue.length === 0) connections.delete(connection);
    if (connections.size === 0) this.queues.delete(client);
    waiting.cancel(reason);
  }
}

export function createDecodePool(options: DecodePoolOptions = {}): DecodePool {
  return new DecodePool(options);
}

function aborted(reason: unknown): EeroError {
  return new EeroError('ABORTED', 'Preprocessing was aborted.', { cause: reason });
}
