/**
 * The cores this process may use: the CPUs it may run on, capped by its cgroup's CPU quota.
 *
 * Why: in a container with a CPU limit (Kubernetes `limits.cpu`) Node's `availableParallelism()` still
 * counts the node's cores (libuv reads the affinity mask, not the quota). Threads and decode slots sized
 * by it run more work at once than the quota pays for: CFS throttles the whole process, and a client's
 * small image waits behind another client's bombs (issue 20's victim went from 14 ms to 3.3 s).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Reads a file's text, or undefined when it cannot be read (no cgroup file, no permission). */
export type ReadText = (file: string) => string | undefined;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The process's cgroup paths: v2 under '' and v1 by controller ('cpu', 'cpu,cpuacct', ...). From /proc/self/cgroup. */
function cgroupPaths(procSelfCgroup: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of procSelfCgroup.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, controllers = '', path = '/'] = match;
    if (controllers === '') paths.set('', path);
    for (const c of controllers.split(',')) if (c === 'cpu') paths.set('cpu', path);
  }
  return paths;
}

/** Quota / period in cores, or undefined when unlimited or unreadable. */
function quotaCores(quota: number, period: number): number | undefined {
  return Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0 ? quota / period : undefined;
}

/**
 * The CPU quota of the process's cgroup in cores (2.5 for `cpu.max` "250000 100000"), or undefined when
 * there is none. cgroup v2 (`cpu.max`) first, then v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`); the
 * process's own cgroup first, then the mount's root (inside a container's cgroup namespace they are one).
 */
export function cgroupCpuQuota(read: ReadText = readText): number | undefined {
  const paths = cgroupPaths(read('/proc/self/cgroup') ?? '');
  for (const dir of ownThenRoot('/sys/fs/cgroup', paths.get(''))) {
    const text = read(`${dir}/cpu.max`);
    if (text === undefined) continue;
    const [quota = 'max', period = '100000'] = text.trim().split(/\s+/);
    return quota === 'max' ? undefined : quotaCores(Number(quota), Number(period));
  }
  for (const dir of ownThenRoot('/sys/fs/cgroup/cpu', paths.get('cpu'))) {
    const quota = read(`${dir}/cpu.cfs_quota_us`);
    const period = read(`${dir}/cpu.cfs_period_us`);
    if (quota === undefined || period === undefined) continue;
    return quotaCores(Number(quota.trim()), Number(period.trim()));
  }
  return undefined;
}

/** The process's own cgroup folder under a mount, then the mount's root (one folder when they are the same). */
function ownThenRoot(mount: string, own: string | undefined): string[] {
  const dirs = [own === undefined ? mount : `${mount}${own}`, mount].map((d) => d.replace(/\/+$/, ''));
  return dirs[0] === dirs[1] ? [mount] : dirs;
}

/** Cores to size threads and decode slots by: `min(available CPUs, ceil(quota))`, at least 1. */
export function usableCoresFrom(available: number, quota: number | undefined): number {
  const capped = quota === undefined ? available : Math.min(available, Math.ceil(quota - 1e-9));
  return Math.max(1, capped);
}

let cached: number | undefined;

/** `usableCoresFrom(availableParallelism(), cgroupCpuQuota())`, read once per process. */
export function usableCores(): number {
  cached ??= usableCoresFrom(availableParallelism(), cgroupCpuQuota());
  return cached;
}
