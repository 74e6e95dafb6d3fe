/**
 * What this CPU can do at best: a large MatMul through onnxruntime (measured)
 * and the FMA peak from lscpu's flags (theoretical, with its assumptions).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../src/engine';
import { DATA_DIR, REPO_ROOT } from './support/options';
import { matmulBundle } from './support/synthetic-bundle';

export interface Peak {
  /** Measured MatMul MACs/s, or NaN when the graph could not be made. */
  measuredMacsPerSecond: number;
  matmul: string;
  theoreticalMacsPerSecond: number;
  theory: string;
}

/** Cores x GHz x SIMD float32 lanes x FMA units per core (2 assumed: Xeon server cores have two 512-bit FMA ports). */
export function theoreticalPeak(): { macsPerSecond: number; explanation: string } {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '').split(/\s+/));
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1] ?? NaN);
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown CPU';
  const lanes = flags.has('avx512f') ? 16 : flags.has('avx2') || flags.has('avx') ? 8 : 4;
  const fmaUnits = flags.has('fma') || flags.has('avx512f') ? 2 : 1;
  const cores = availableParallelism();
  const macsPerSecond = cores * (mhz * 1e6) * lanes * fmaUnits;
  const isa = flags.has('avx512f') ? 'AVX-512' : flags.has('avx2') ? 'AVX2' : 'SSE';
  return {
    macsPerSecond,
    explanation: `${model}: ${cores} cores × ${(mhz / 1000).toFixed(2)} GHz (/proc/cpuinfo, nominal; turbo and AVX-512 clock offsets unknown under the hypervisor) × ${lanes} float32 lanes (${isa}) × ${fmaUnits} FMA units per core (assumed)`,
  };
}

/** MatMul [rows x k] @ [k x n] through createEngine, all cores; MACs/s of the fastest run (a peak). */
export async function measuredPeak(quick: boolean, threads: number): Promise<{ macsPerSecond: number; note: string }> {
  const k = 1024;
  const n = 1024;
  const rows = quick ? 64 : 512;
  const file = path.join(DATA_DIR, `matmul-${k}x${n}.onnx`);
  if (!existsSync(file)) {
    mkdirSync(DATA_DIR, { recursive: true });
    execFileSync('/usr/bin/python3', [path.join(REPO_ROOT, 'benchmarks', 'support', 'matmul_onnx.py'), file, String(k), String(n)]);
  }
  const engine = await createEngine(matmulBundle(file, k, n), { intraOpThreads: threads });
  try {
    const input = Float32Array.from({ length: rows * k }, (_, i) => Math.sin(i));
    const stay = (): void => undefined;
    await engine.run(input, rows, stay);
    const seconds: number[] = [];
    for (let r = 0; r < (quick ? 3 : 20); r++) {
      const t0 = performance.now();
      await engine.run(input, rows, stay);
      seconds.push((performance.now() - t0) / 1000);
    }
    return {
      macsPerSecond: (rows * k * n) / Math.min(...seconds),
      note: `MatMul ${rows}×${k} @ ${k}×${n} float32, ${threads} threads, fastest of ${seconds.length} runs`,
    };
  } finally {
    await engine.dispose();
  }
}

export async function cpuPeak(quick: boolean, threads = availableParallelism()): Promise<Peak> {
  const t = theoreticalPeak();
  let measured = { macsPerSecond: NaN, note: '' };
  try {
    measured = await measuredPeak(quick, threads);
  } catch (e) {
    measured.note = `not measured: ${(e as Error).message.split('\n')[0]}`;
  }
  return {
    measuredMacsPerSecond: measured.macsPerSecond,
    matmul: measured.note,
    theoreticalMacsPerSecond: t.macsPerSecond,
    theory: t.explanation,
  };
}
