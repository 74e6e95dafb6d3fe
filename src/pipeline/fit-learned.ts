/**
 * Fitting a bundle's learned exit score (docs/eero.md "The learned score")
 * on its calibration outputs, without labels, and writing it into the bundle
 * as the learned-score file its manifest names. `eero calibrate --fit-learned`.
 */
import { loadBundle, readBundleOutputs, writeLearnedScoreFile } from '../config';
import { prepareLearned, type LearnedParams } from '../router';

export interface FittedLearned {
  params: LearnedParams;
  /** The file written. */
  file: string;
}

export async function fitLearnedScore(dir: string): Promise<FittedLearned> {
  const bundle = await loadBundle(dir);
  const calibration = await readBundleOutputs(bundle, 'calibration');
  const { params } = prepareLearned(calibration);
  return { params, file: await writeLearnedScoreFile(bundle, params) };
}
