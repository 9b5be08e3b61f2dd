/**
 * @file Setup file of the `wasm` test project (vitest.config.ts): selects the WebAssembly SIMD
 * kernels before each test file runs, so the core suites run once more on that backend.
 *
 * Every size threshold is 0: with the default thresholds the small tensors of property tests would
 * fall back to the JavaScript kernels and the "wasm run" would mostly be the JavaScript one again.
 * The relaxed-SIMD module is used where the host has it (Node ≥ 22), as it would be for a user.
 * test/backend.test.ts checks that this file took effect.
 */
import { useKernels } from '../../src/index.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'

useKernels(loadWasmKernels({ minSize: { binary: 0, math: 0, sum: 0, matmul: 0 } }))
