import { cgroupCpuQuota, usableCoresFrom } from '../../src/config';

/** A file system of the given files; every other path is unreadable. */
const files =
  (entries: Record<string, string>) =>
  (file: string): string | undefined =>
    entries[file];

describe('the CPU quota of the process cgroup', () => {
  test('cgroup v2: cpu.max of the process own cgroup, in cores', () => {
    const read = files({ '/proc/self/cgroup': '0::/kubepods/pod1/eero\n', '/sys/fs/cgroup/kubepods/pod1/eero/cpu.max': '250000 100000\n' });
    expect(cgroupCpuQuota(read)).toBe(2.5);
  });

  test('cgroup v2 inside a cgroup namespace: the mount root holds the container own cpu.max', () => {
    const read = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '200000 100000\n' });
    expect(cgroupCpuQuota(read)).toBe(2);
  });

  test('cgroup v2 "max" is no quota', () => {
    const read = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' });
    expect(cgroupCpuQuota(read)).toBeUndefined();
  });

  test('cgroup v1: cfs quota over period of the cpu controller path, -1 being no quota', () => {
    const proc = '12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n';
    const limited = files({
      '/proc/self/cgroup': proc,
      '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us': '150000\n',
      '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuQuota(limited)).toBe(1.5);
    const unlimited = files({
      '/proc/self/cgroup': proc,
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuQuota(unlimited)).toBeUndefined();
  });

  test('no cgroup files (not Linux, or hidden): no quota', () => {
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': 'garbage' }))).toBeUndefined();
  });
});

describe('usable cores', () => {
  test('the available CPUs capped by the quota, rounded up, at least one', () => {
    expect(usableCoresFrom(64, 2)).toBe(2);
    expect(usableCoresFrom(64, 2.5)).toBe(3);
    expect(usableCoresFrom(64, 0.5)).toBe(1);
    expect(usableCoresFrom(2, 8)).toBe(2);
    expect(usableCoresFrom(16, undefined)).toBe(16);
  });
});
