/**
 * @file The threaded backend on the relaxed-SIMD build (fused multiply-adds), which Node 20 compiles
 * only with --experimental-wasm-relaxed-simd (turned on here with `enableRelaxedSimd`, for this
 * file's own process, before the first load): it picks the shared-memory relaxed build and equals the single-threaded relaxed
 * backend bit for bit.
 */
import { describe, expect, it } from 'vitest'
import { enableRelaxedSimd, nodeWorkers } from '../../src/node.js'
import { loadThreadedWasmKernels } from '../../src/tensor/wasm/threads.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'
import { DTYPES, expectSame, filled } from './wasmMatmulCases.js'

enableRelaxedSimd()

describe('threaded wasm kernels with relaxed SIMD', () => {
  it('load the relaxed shared-memory build and equal the single-threaded relaxed backend', async () => {
    const threaded = await loadThreadedWasmKernels({ createWorker: nodeWorkers, minParallelSize: 0, minSize: { matmul: 0 } })
    const single = loadWasmKernels({ minSize: { matmul: 0 } })
    try {
      expect(threaded.name).toBe('wasm-relaxed-simd-threads2')
      expect(single.name).toBe('wasm-relaxed-simd')
      const one = new Int32Array(1)
      for (const dtype of DTYPES) {
        for (const [m, k, n] of [[97, 300, 65], [40, 64, 200], [256, 256, 256]]) {
          const a = filled(dtype, m * k, m)
          const b = filled(dtype, k * n, n)
          expectSame(threaded.matmul(a, one, b, one, m, k, n, false, true), single.matmul(a, one, b, one, m, k, n, false, true), `${dtype} [${m}, ${k}, ${n}]`)
        }
      }
    } finally {
      threaded.close()
    }
  })
})
