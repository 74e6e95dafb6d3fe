import type { Bundle } from '../../config';
import { createEngine, profileStages } from '../../engine';

/** Cumulative seconds per image per exit, measured on this machine at `batch`. */
export async function profileBundleSeconds(bundle: Bundle, batch: number): Promise<number[]> {
  const engine = await createEngine(bundle);
  try {
    return (await profileStages(engine, batch)).exitSeconds;
  } finally {
    await engine.dispose();
  }
}
