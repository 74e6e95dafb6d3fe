/**
 * Jest runs each test file in its own vm realm, whose Float32Array is not the
 * one onnxruntime-node's native binding creates, so ORT's `instanceof` checks
 * fail ("A float32 tensor's data must be type of Float32Array"). This
 * environment hands the test realm the outer realm's typed arrays. Use it with
 * a `@jest-environment ./test/engine/ort-environment.js` docblock.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Uint8Array', 'Uint8ClampedArray', 'Int8Array',
  'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array',
  'BigInt64Array', 'BigUint64Array',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
