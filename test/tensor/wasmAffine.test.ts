/**
 * @file The WebAssembly `affine` kernel (src/tensor/wasm/matmul.ts): `x·w + bias` equals the same
 * backend's matmul followed by its `add` of the bias repeated over the rows (`composedAffine`) bit
 * for bit, on one thread and on the threaded backend, in both dtypes; it never writes to its inputs;
 * mixed dtypes, k = 0 and small products take the composition.
 */
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import type { DType } from '../../src/index.js'
import { nodeWorkers } from '../../src/node.js'
import { composedAffine } from '../../src/tensor/affine.js'
import { loadThreadedWasmKernels } from '../../src/tensor/wasm/threads.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'
import { DTYPES, expectSame, filled, sizeArb } from './wasmMatmulCases.js'

const everywhere = { binary: 0, math: 0, sum: 0, matmul: 0 }
const single = loadWasmKernels({ minSize: everywhere })
const threaded = await loadThreadedWasmKernels({ createWorker: nodeWorkers, minSize: everywhere, minParallelSize: 0, chunksPerThread: 3 })
afterAll(() => threaded.close())

const operands = (dtype: DType, m: number, k: number, n: number, seed: number) =>
  ({ x: filled(dtype, m * k, seed), w: filled(dtype, k * n, seed + 1), bias: filled(dtype, n, seed + 2) })

describe.each(DTYPES)('wasm affine, %s', (dtype) => {
  it('equals its matmul then add of the repeated bias, bit for bit, on one thread and on two', () => {
    fc.assert(fc.property(sizeArb, sizeArb, sizeArb, fc.nat(1000), (m, k, n, seed) => {
      const { x, w, bias } = operands(dtype, m, k, n, seed)
      for (const kernels of [single, threaded]) {
        expectSame(kernels.affine!(x, w, bias, m, k, n), composedAffine(kernels, x, w, bias, m, k, n), `${kernels.name} [${m}, ${k}] · [${k}, ${n}]`)
      }
    }), { numRuns: 40 })
  })

  it('adds the bias to every row of a product split between threads', () => {
    const [m, k, n] = [300, 70, 130]
    const { x, w, bias } = operands(dtype, m, k, n, 7)
    const out = threaded.affine!(x, w, bias, m, k, n)
    const product = threaded.matmul(x, new Int32Array(1), w, new Int32Array(1), m, k, n, false, false)
    for (const row of [0, 1, m >> 1, m - 1]) {
      for (const column of [0, 5, n - 1]) {
        const i = row * n + column
        expect(out[i], `row ${row}, column ${column}`).toBe(dtype === 'float32' ? Math.fround(product[i] + bias[column]) : product[i] + bias[column])
      }
    }
  })

  it('leaves its inputs as they were and returns a fresh array of its dtype', () => {
    const { x, w, bias } = operands(dtype, 9, 17, 33, 3)
    const copies = [x, w, bias].map((a) => a.slice())
    const out = single.affine!(x, w, bias, 9, 17, 33)
    expect(out.constructor).toBe(x.constructor)
    expect(out.length).toBe(9 * 33)
    ;[x, w, bias].forEach((a, i) => expectSame(a, copies[i], `input ${i}`))
    const snapshot = out.slice()
    const other = operands(dtype, 9, 17, 33, 4)
    single.affine!(other.x, other.w, other.bias, 9, 17, 33)
    expectSame(out, snapshot, 'an earlier result after another call')
  })
})

describe('wasm affine falls back to the composition', () => {
  it('for mixed dtypes, k = 0 and (with the default thresholds) small products', () => {
    const x = filled('float32', 3 * 4, 1)
    const w = filled('float64', 4 * 2, 2)
    const bias = filled('float64', 2, 3)
    const out = single.affine!(x, w, bias, 3, 4, 2)
    expectSame(out, composedAffine(single, x, w, bias, 3, 4, 2), 'mixed dtypes')
    const empty = single.affine!(new Float64Array(0), new Float64Array(0), bias, 3, 0, 2)
    expectSame(empty, Float64Array.from([bias[0], bias[1], bias[0], bias[1], bias[0], bias[1]]), 'k = 0: the bias alone')
    const defaults = loadWasmKernels()
    const small = operands('float64', 2, 3, 4, 5)
    expectSame(defaults.affine!(small.x, small.w, small.bias, 2, 3, 4), composedAffine(defaults, small.x, small.w, small.bias, 2, 3, 4), 'small')
  })
})
