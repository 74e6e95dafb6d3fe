/** Types of a bundle's manifest.yaml (models/FORMAT.md). Validated by `loadBundle`. */

export interface TensorSpec {
  name: string;
  /** -1 marks the dynamic batch axis. */
  shape: number[];
}

export interface StageSpec {
  file: string;
  sha256: string;
  bytes: number;
  input: TensorSpec;
  /** Absent on the last stage. */
  features?: TensorSpec;
  logits: TensorSpec;
}

export interface ExitSpec {
  exit: number;
  /** Cumulative multiply-adds per image up to and including this exit's head. */
  macs: number;
  calibrationAccuracy: number;
  testAccuracy: number;
}

export type ResizeFit = 'fill' | 'contain' | 'cover';
export type ColorSpace = 'gray' | 'srgb';

export interface InputSpec {
  channels: 1 | 3;
  colorSpace: ColorSpace;
  height: number;
  width: number;
  resize: { width: number; height: number; fit: ResizeFit };
  /** top, right, bottom, left */
  pad: [number, number, number, number];
  /** 0..255 RGB: alpha is flattened onto it; padding and `contain` bars use it. */
  background: [number, number, number];
  scale: number;
  mean: number[];
  std: number[];
}

export interface OutputsRef {
  file: string;
  sha256: string;
  images: number;
}

/** The network without early exits as one graph (models/FORMAT.md `reference`): benchmarks' speed reference. */
export interface ReferenceSpec {
  file: string;
  sha256: string;
  bytes: number;
  input: TensorSpec;
  logits: TensorSpec;
}

export interface Manifest {
  format: 1;
  name: string;
  architecture: Record<string, unknown>;
  labels: string[];
  input: InputSpec;
  stages: StageSpec[];
  exits: ExitSpec[];
  outputs: { calibration: OutputsRef; test: OutputsRef };
  fixtures?: { folder: string; logits: string };
  reference?: ReferenceSpec;
  training?: Record<string, unknown>;
}
