import * as path from 'node:path';

/** The shipped bundles the tests run on (real ONNX graphs, real calibration outputs). */
const root = path.resolve(__dirname, '..', '..');
export const RESNET_BUNDLE = path.join(root, 'models', 'resnet18-fmnist');
export const CONVNEXT_BUNDLE = path.join(root, 'models', 'convnext-fmnist');
