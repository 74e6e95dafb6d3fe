import { calibrateAccuracyTarget } from './accuracy-target-policy';
import { calibrateEero } from './eero';
import { calibrateFixedExit } from './fixed-exit-policy';
import { calibrateGeometric } from './geometric-policy';
import { calibrateGlobalThreshold } from './global-threshold-policy';
import { calibratePatience } from './patience-policy';
import type { PolicyFactory, PolicyKind } from './policy';

/** Policies a budget sweep calibrates from a budget alone (the certified one also needs a guarantee: certify/calibrate-certified.ts). */
export type SweptPolicyKind = Exclude<PolicyKind, 'certified' | 'learned'>;

/** Every swept policy's calibrate factory by name, for benchmarks and config. */
export const POLICY_FACTORIES: Readonly<Record<SweptPolicyKind, PolicyFactory>> = Object.freeze({
  eero: calibrateEero,
  'global-threshold': calibrateGlobalThreshold,
  geometric: calibrateGeometric,
  patience: calibratePatience,
  'fixed-exit': calibrateFixedExit,
  'accuracy-target': calibrateAccuracyTarget,
});

/** Whether a policy's calibration aims at the budget (accuracy-target does not). */
export const BUDGETED_POLICIES: Readonly<Record<SweptPolicyKind, boolean>> = Object.freeze({
  eero: true,
  'global-threshold': true,
  geometric: true,
  patience: true,
  'fixed-exit': true,
  'accuracy-target': false,
});
