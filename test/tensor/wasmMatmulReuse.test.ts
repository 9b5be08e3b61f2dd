/**
 * @file A right operand multiplied again and again (a weight in every step of a loop) is packed
 * once and kept in WebAssembly memory: every such product equals the same product on a fresh
 * backend bit for bit — on the call that packs it, the calls that reuse it, and after other work
 * laid its operands over the kept copy (a large product, a recurrent kernel's states) — on one
 * thread and two, for every transpose and both dtypes.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { Data, DType, Kernels } from '../../src/index.js'
import { nodeWorkers } from '../../src/node.js'
import { loadThreadedWasmKernels } from '../../src/tensor/wasm/threads.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'

const SINGLE = new Int32Array(1)
const everywhere = { matmul: 0 }
const threaded = await loadThreadedWasmKernels({ createWorker: nodeWorkers, minSize: everywhere, minParallelSize: 0 })
afterAll(() => threaded.close())

const filled = (dtype: DType, n: number, seed: number): Data => {
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed * 7.1 + i * 0.37) * 2
  return out
}

const backends: readonly (readonly [string, () => Kernels])[] = [
  ['wasm', () => loadWasmKernels({ minSize: everywhere, relaxedSimd: false })],
  ['wasm, 2 threads', () => threaded],
]

describe.each(backends)('on %s, a reused right operand', (_, backend) => {
  it.each(['float32', 'float64'] as const)('gives the fresh product bit for bit, with other work between (%s)', (dtype) => {
    const kernels = backend()
    const [m, k, n] = [7, 33, 45]
    const w = filled(dtype, k * n, 1)
    for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const steps = Array.from({ length: 5 }, (_, t) => filled(dtype, m * k, 10 + t))
      const fresh = (a: Data): Data => loadWasmKernels({ minSize: everywhere, relaxedSimd: false }).matmul(a, SINGLE, w, SINGLE, m, k, n, transposeA, transposeB)
      steps.forEach((a, t) => {
        if (t === 3) {
          // Work that lays its operands over the kept copy: a large product, then a recurrent pass.
          const big = filled(dtype, 900 * 900, 3)
          kernels.matmul(big, SINGLE, big, SINGLE, 900, 900, 900, false, false)
          const extent = { time: 4, batch: 3, hidden: 5, reverse: false, transposed: false }
          kernels.recurrentForward!(filled(dtype, 60, 4), filled(dtype, 15, 5), filled(dtype, 25, 6), extent, 'tanh')
        }
        const out = kernels.matmul(a, SINGLE, w, SINGLE, m, k, n, transposeA, transposeB)
        expect(Array.from(out), `transposeA ${transposeA}, transposeB ${transposeB}, step ${t}`).toEqual(Array.from(fresh(a)))
      })
    }
  })
})
