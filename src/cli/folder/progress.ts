/** Progress on stderr: a throttled bar on a terminal, plain periodic lines otherwise. */

export interface ProgressState {
  done: number;
  total: number;
  errors: number;
}

export interface ProgressRenderer {
  update(state: ProgressState): void;
  finish(state: ProgressState): void;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h > 0 ? `${h}:` : ''}${String(m).padStart(h > 0 ? 2 : 1, '0')}:${String(r).padStart(2, '0')}`;
}

export function describeRate(state: ProgressState, seconds: number): { rate: number; eta: number } {
  const rate = seconds > 0 ? state.done / seconds : 0;
  return { rate, eta: rate > 0 ? (state.total - state.done) / rate : Infinity };
}

export function createProgress(stream: NodeJS.WriteStream, now: () => number = () => performance.now()): ProgressRenderer {
  const start = now();
  let last = -Infinity;
  const tty = stream.isTTY === true;
  const line = (s: ProgressState): string => {
    const secs = (now() - start) / 1000;
    const { rate, eta } = describeRate(s, secs);
    const pct = s.total > 0 ? s.done / s.total : 1;
    const stats = `${s.done}/${s.total} images  ${rate.toFixed(1)} img/s  ETA ${formatDuration(eta)}${s.errors ? `  ${s.errors} errors` : ''}`;
    if (!tty) return `classify: ${(pct * 100).toFixed(1)}%  ${stats}`;
    const width = 28;
    const filled = Math.round(pct * width);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(pct * 100).toFixed(1).padStart(5)}%  ${stats}`;
  };
  return {
    update(s) {
      const t = now();
      if (t - last < (tty ? 100 : 5000)) return;
      last = t;
      stream.write(tty ? `\r\x1b[2K${line(s)}` : `${line(s)}\n`);
    },
    finish(s) {
      stream.write(tty ? `\r\x1b[2K${line(s)}\n` : `${line(s)}\n`);
    },
  };
}
