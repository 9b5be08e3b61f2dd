/**
 * @file The threaded WebAssembly backend (threads.ts with Node's worker factory): its matmul equals
 * the single-threaded backend's bit for bit in both dtypes (rows and columns splits, all transposes,
 * batch layouts, chunk edges), so do the Elman / RNN, LSTM and GRU sequence kernels split by batch rows
 * (every activation, both layouts, reversed, transposed weight, with and without a step mask), and so do Elman, LSTM and GRU gradients; Adam and one-hot row sums on
 * its shared memory equal the JavaScript kernels; it agrees with jsKernels under the usual
 * tolerance, really uses the worker, keeps working after `close`, reports bad options and dead
 * factories, and never keeps the process alive.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { type DType, type Tensor, add, jsKernels, mul, normal, randomKey, splitKey, sum, treeLeaves, useKernels, valueAndGrad } from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { nodeWorkers } from '../../src/nodeThreads.js'
import { RECURRENCE_ARGS, encodeRecurrence } from '../../src/tensor/wasm/recurrenceRows.js'
import { loadThreadedWasmKernels } from '../../src/tensor/wasm/threads.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'
import { DTYPES, expectSame, filled, matmulSuite } from './wasmMatmulCases.js'

const everywhere = { binary: 0, math: 0, sum: 0, matmul: 0 }
// Every product split, however small, with 3 chunks per thread: many chunk edges.
const threaded = await loadThreadedWasmKernels({
  createWorker: nodeWorkers, minSize: everywhere, minParallelSize: 0, chunksPerThread: 3, relaxedSimd: false,
})
const single = loadWasmKernels({ minSize: everywhere, relaxedSimd: false })
afterAll(() => threaded.close())

const one = new Int32Array(1)

/** Sizes around the 16-wide chunk granule and the 4 × 8 register tiles. */
const extentArb = fc.oneof(fc.constantFrom(1, 15, 16, 17, 33, 48, 63, 97), fc.integer({ min: 1, max: 130 }))

describe.each(DTYPES)('threaded wasm matmul, %s', (dtype: DType) => {
  it('equals the single-threaded backend bit for bit', () => {
    fc.assert(fc.property(
      extentArb, fc.integer({ min: 1, max: 300 }), extentArb, fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 3 }), fc.nat(1000),
      (m, k, n, transposeA, transposeB, batches, seed) => {
        const a = filled(dtype, batches * m * k, seed)
        const b = filled(dtype, k * n, seed + 1)
        const aOffsets = Int32Array.from({ length: batches }, (_, i) => i * m * k)
        const bOffsets = new Int32Array(batches) // a shared B: [batch·m, k] · [k, n] when not transposing A
        const args = [m, k, n, transposeA, transposeB] as const
        expectSame(threaded.matmul(a, aOffsets, b, bOffsets, ...args), single.matmul(a, aOffsets, b, bOffsets, ...args),
          `[${m}, ${k}] · [${k}, ${n}] tA ${transposeA} tB ${transposeB} × ${batches}`)
      },
    ), { numRuns: 60, seed: 23 })
  })

  it('equals it on products crossing the depth and row blocks (k > 256, m > 128)', () => {
    for (const [m, k, n] of [[300, 520, 40], [40, 520, 300], [129, 257, 129]]) {
      const a = filled(dtype, m * k, m)
      const b = filled(dtype, k * n, n)
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          expectSame(threaded.matmul(a, one, b, one, m, k, n, transposeA, transposeB), single.matmul(a, one, b, one, m, k, n, transposeA, transposeB), `[${m}, ${k}, ${n}]`)
        }
      }
    }
  })
})

describe.each(DTYPES)('threaded wasm Elman / RNN recurrence, %s', (dtype: DType) => {
  // Batches around the 8-row minimum chunk and the 4-row rounding: one chunk, two, ragged last ones.
  const recurrenceArb = fc.record({
    time: fc.integer({ min: 1, max: 5 }),
    batch: fc.oneof(fc.constantFrom(1, 7, 8, 15, 16, 17, 33, 64), fc.integer({ min: 1, max: 70 })),
    hidden: fc.integer({ min: 1, max: 24 }),
    reverse: fc.boolean(),
    transposed: fc.boolean(),
    batchMajor: fc.boolean(),
  })

  it('splits batch rows over the threads with results equal to one thread, bit for bit', () => {
    fc.assert(fc.property(
      recurrenceArb, fc.constantFrom('tanh', 'relu', 'sigmoid' as const), fc.boolean(), fc.constantFrom('steps', 'last', 'both'), fc.nat(1000),
      (extent, activation, withWeight, which, seed) => {
        const n = extent.batch * extent.hidden
        const p = filled(dtype, extent.time * n, seed)
        // Every step's cotangents, the final state's alone, or both.
        const g = {
          steps: which === 'last' ? null : filled(dtype, extent.time * n, seed + 1),
          last: which === 'steps' ? null : filled(dtype, n, seed + 6),
        }
        const h0 = filled(dtype, n, seed + 2)
        const w = filled(dtype, extent.hidden ** 2, seed + 3).map((v) => v / 2)
        const what = JSON.stringify({ ...extent, activation, which })
        const hs = threaded.recurrentForward!(p, h0, w, extent, activation)
        const expectedHs = single.recurrentForward!(p, h0, w, extent, activation)
        expectSame(hs, expectedHs, `hs ${what}`)
        const backward = threaded.recurrentBackward!(g, expectedHs, h0, w, extent, activation, withWeight)
        const expected = single.recurrentBackward!(g, expectedHs, h0, w, extent, activation, withWeight)
        expectSame(backward.dz, expected.dz, `dz ${what}`)
        if (withWeight) expectSame(backward.dw!, expected.dw!, `dw ${what}`)
        // With the input projection inside (3 inputs), and dh0 from the row ranges' last products.
        const x = filled(dtype, extent.time * extent.batch * 3, seed + 4)
        const wIn = filled(dtype, 3 * extent.hidden, seed + 5)
        const projected = threaded.projectedRecurrentForward!(x, wIn, h0, w, extent, activation)
        expectSame(projected, single.projectedRecurrentForward!(x, wIn, h0, w, extent, activation), `projected hs ${what}`)
        const wanted = { x: true, wIn: true, h0: true, w: withWeight }
        const actual = threaded.projectedRecurrentBackward!(g, projected, x, wIn, h0, w, extent, activation, wanted)
        const reference = single.projectedRecurrentBackward!(g, projected, x, wIn, h0, w, extent, activation, wanted)
        for (const key of ['dx', 'dwIn', 'dh0', 'dw'] as const) {
          if (reference[key] === null) expect(actual[key]).toBeNull()
          else expectSame(actual[key]!, reference[key]!, `projected ${key} ${what}`)
        }
        // For the final state alone: each thread leaves its rows of the states in memory.
        const final = threaded.projectedRecurrentFinal!(x, wIn, h0, w, extent, activation)
        const lastStep = { steps: null, last: g.last ?? filled(dtype, extent.batch * extent.hidden, seed + 6) }
        expectSame(final.final, single.projectedRecurrentFinal!(x, wIn, h0, w, extent, activation).final, `final state ${what}`)
        const fromFinal = threaded.projectedRecurrentBackward!(lastStep, final, x, wIn, h0, w, extent, activation, wanted)
        const fromOutputs = single.projectedRecurrentBackward!(lastStep, projected, x, wIn, h0, w, extent, activation, wanted)
        for (const key of ['dx', 'dwIn', 'dh0', 'dw'] as const) {
          if (fromOutputs[key] === null) expect(fromFinal[key]).toBeNull()
          else expectSame(fromFinal[key]!, fromOutputs[key]!, `${key} from the final state ${what}`)
        }
      },
    ), { numRuns: 80, seed: 31 })
  })

  it('projects inputs wider than the hidden state (and past a depth block) on each thread in its own scratch', () => {
    // Each thread's x_t·wIn packs rows × min(kc, inputs) of x: its scratch slice must be sized for
    // the inputs, not the hidden width, or the threads write over each other's packed rows.
    for (const [inputs, hidden, batchMajor] of [[300, 16, true], [40, 8, false], [257, 3, true]] as const) {
      const extent = { time: 4, batch: 64, hidden, reverse: false, transposed: false, batchMajor }
      const x = filled(dtype, extent.time * extent.batch * inputs, inputs)
      const wIn = filled(dtype, inputs * hidden, hidden).map((v) => v / 8)
      const h0 = filled(dtype, extent.batch * hidden, 3)
      const w = filled(dtype, hidden * hidden, 4).map((v) => v / 2)
      const what = `inputs ${inputs}, hidden ${hidden}`
      const hs = threaded.projectedRecurrentForward!(x, wIn, h0, w, extent, 'tanh')
      expectSame(hs, single.projectedRecurrentForward!(x, wIn, h0, w, extent, 'tanh'), what)
      const p = single.matmul(x, one, wIn, one, extent.time * extent.batch, inputs, hidden, false, false)
      expectSame(hs, single.recurrentForward!(p, h0, w, extent, 'tanh'), `${what}: the product, then the recurrence`)
    }
  })

  it('encodes a job in the integers the control block reserves', () => {
    const job = {
      dtype, backward: true, activation: 'relu', time: 2, batch: 3, hidden: 4, reverse: true, hs: 1, h0: 2, w: 3,
      g: 4, dz: 5, carry: 6, zeros: 7, mask: 8, scratch: 9, scratchStride: 10, staged: true, sequenceIn: 11, statesIn: 12, withState: true,
      inputs: 13, x: 14, wIn: 15, steps: false, last: 16, withLast: true, statesReady: true, withOutputs: false, masked: true, valid: 17, pass: 18,
    } as const
    const encoded = encodeRecurrence(job)
    expect(encoded).toHaveLength(RECURRENCE_ARGS)
    expect(encoded.every(Number.isInteger)).toBe(true)
  })

  it('runs row ranges on the worker', () => {
    const extent = { time: 40, batch: 64, hidden: 64, reverse: false, transposed: false }
    const n = extent.batch * extent.hidden
    const [p, h0, w] = [filled(dtype, extent.time * n, 1), filled(dtype, n, 2), filled(dtype, extent.hidden ** 2, 3)]
    const before = threaded.chunksOnWorkers()
    // The forward pass splits no product (each row range runs its own), so any worker chunk is a row range.
    for (let i = 0; i < 50 && threaded.chunksOnWorkers() === before; i++) threaded.recurrentForward!(p, h0, w, extent, 'tanh')
    expect(threaded.chunksOnWorkers()).toBeGreaterThan(before)
  })
})

describe.each(DTYPES)('threaded wasm LSTM and GRU, %s', (dtype: DType) => {
  const lstmArb = fc.record({
    time: fc.integer({ min: 1, max: 4 }),
    batch: fc.oneof(fc.constantFrom(1, 8, 15, 16, 17, 33), fc.integer({ min: 1, max: 50 })),
    hidden: fc.integer({ min: 1, max: 20 }),
    reverse: fc.boolean(),
    transposed: fc.boolean(),
  })

  it('splits batch rows over the threads with results equal to one thread, bit for bit', () => {
    fc.assert(fc.property(lstmArb, fc.nat(1000), (extent, seed) => {
      const n = extent.batch * extent.hidden
      const p = filled(dtype, 4 * extent.time * n, seed)
      const [h0, c0] = [seed + 1, seed + 2].map((s) => filled(dtype, n, s))
      const w = filled(dtype, 4 * extent.hidden ** 2, seed + 3).map((v) => v / 2)
      const [gh, gc] = [seed + 4, seed + 5].map((s) => filled(dtype, extent.time * n, s))
      const what = JSON.stringify(extent)
      const forward = threaded.lstmForward!(p, h0, c0, w, extent)
      const expected = single.lstmForward!(p, h0, c0, w, extent)
      for (const key of ['hs', 'cs', 'saved'] as const) expectSame(forward[key], expected[key], `${key} ${what}`)
      // Each backend's own forward pass (its states left in memory), then the other's (copied in).
      const reference = single.lstmBackward!(gh, gc, expected, h0, c0, w, extent, true)
      for (const from of [forward, expected]) {
        const backward = threaded.lstmBackward!(gh, gc, from, h0, c0, w, extent, true)
        for (const key of ['dPre', 'dh0', 'dc0', 'dw'] as const) expectSame(backward[key]!, reference[key]!, `${key} ${what}`)
      }
    }), { numRuns: 40, seed: 37 })
  })

  it('splits GRU batch rows over the threads with results equal to one thread, bit for bit', () => {
    fc.assert(fc.property(lstmArb, fc.nat(1000), (extent, seed) => {
      const n = extent.batch * extent.hidden
      const p = filled(dtype, 3 * extent.time * n, seed)
      const h0 = filled(dtype, n, seed + 1)
      const w = filled(dtype, 3 * extent.hidden ** 2, seed + 2).map((v) => v / 2)
      const b = filled(dtype, 3 * extent.hidden, seed + 3)
      const g = filled(dtype, extent.time * n, seed + 4)
      const what = JSON.stringify(extent)
      const forward = threaded.gruForward!(p, h0, w, b, extent)
      const expected = single.gruForward!(p, h0, w, b, extent)
      for (const key of ['hs', 'saved'] as const) expectSame(forward[key], expected[key], `${key} ${what}`)
      // Each backend's own forward pass (its states left in memory), then the other's (copied in).
      const all = { w: true, b: true }
      const reference = single.gruBackward!(g, expected, h0, w, extent, all)
      for (const from of [forward, expected]) {
        const backward = threaded.gruBackward!(g, from, h0, w, extent, all)
        for (const key of ['dPre', 'dh0', 'dw', 'db'] as const) expectSame(backward[key]!, reference[key]!, `${key} ${what}`)
      }
    }), { numRuns: 40, seed: 41 })
  })

  it('runs row ranges on the worker', () => {
    const extent = { time: 20, batch: 64, hidden: 32, reverse: false, transposed: true }
    const n = extent.batch * extent.hidden
    const [p, h0, c0, w] = [filled(dtype, 4 * extent.time * n, 1), filled(dtype, n, 2), filled(dtype, n, 3), filled(dtype, 4 * extent.hidden ** 2, 4)]
    const before = threaded.chunksOnWorkers()
    // The LSTM splits no product (each row range runs its own), so any worker chunk is a row range.
    for (let i = 0; i < 50 && threaded.chunksOnWorkers() === before; i++) threaded.lstmForward!(p, h0, c0, w, extent)
    expect(threaded.chunksOnWorkers()).toBeGreaterThan(before)
  })
})

describe.each(DTYPES)('threaded wasm sequences with a step mask, %s', (dtype: DType) => {
  // Batches across two or more row ranges (of 8 rows at least), so padded rows fall in each.
  const maskedArb = fc.record({
    time: fc.integer({ min: 1, max: 5 }),
    batch: fc.constantFrom(9, 17, 33, 40),
    hidden: fc.integer({ min: 1, max: 12 }),
    reverse: fc.boolean(),
    transposed: fc.boolean(),
    batchMajor: fc.boolean(),
  })
  /** 1 or 0 per step and row: rows all real, all padding, padded at either end, or at random. */
  const maskFor = ({ time, batch, batchMajor }: { time: number; batch: number; batchMajor: boolean }, seed: number) => {
    const coins = filled('float64', time * batch, seed)
    const mask = dtype === 'float32' ? new Float32Array(time * batch) : new Float64Array(time * batch)
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < time; t++) {
        const kind = (b + seed) % 5
        const real = kind === 0 ? coins[t * batch + b] > 0 : kind === 1 ? false : kind === 2 ? true : kind === 3 ? t >= time / 2 : t < time / 2
        mask[batchMajor ? b * time + t : t * batch + b] = real ? 1 : 0
      }
    }
    return mask
  }

  it('Elman / RNN, LSTM and GRU: each thread masks its own rows, with results equal to one thread, bit for bit', () => {
    fc.assert(fc.property(maskedArb, fc.constantFrom('tanh', 'relu', 'sigmoid' as const), fc.nat(1000), (shape, activation, seed) => {
      const extent = { ...shape, mask: maskFor(shape, seed) }
      const n = extent.batch * extent.hidden
      const what = JSON.stringify({ ...shape, activation, seed })
      const h0 = filled(dtype, n, seed + 1)
      const g = { steps: filled(dtype, extent.time * n, seed + 2), last: filled(dtype, n, seed + 3) }
      const w = filled(dtype, extent.hidden ** 2, seed + 4).map((v) => v / 2)
      const p = filled(dtype, extent.time * n, seed + 5)
      const hs = threaded.recurrentForward!(p, h0, w, extent, activation)
      expectSame(hs, single.recurrentForward!(p, h0, w, extent, activation), `hs ${what}`)
      const backward = threaded.recurrentBackward!(g, hs, h0, w, extent, activation, true)
      const expected = single.recurrentBackward!(g, hs, h0, w, extent, activation, true)
      for (const key of ['dz', 'dw', 'dh0'] as const) expectSame(backward[key]!, expected[key]!, `${key} ${what}`)
      const x = filled(dtype, extent.time * extent.batch * 3, seed + 6)
      const wIn = filled(dtype, 3 * extent.hidden, seed + 7)
      const wanted = { x: true, wIn: true, h0: true, w: true }
      const projected = threaded.projectedRecurrentForward!(x, wIn, h0, w, extent, activation)
      expectSame(projected, single.projectedRecurrentForward!(x, wIn, h0, w, extent, activation), `projected hs ${what}`)
      const actual = threaded.projectedRecurrentBackward!(g, projected, x, wIn, h0, w, extent, activation, wanted)
      const reference = single.projectedRecurrentBackward!(g, projected, x, wIn, h0, w, extent, activation, wanted)
      for (const key of ['dx', 'dwIn', 'dh0', 'dw'] as const) expectSame(actual[key]!, reference[key]!, `projected ${key} ${what}`)
      // The LSTM and GRU kernels are time-major.
      const timeMajor = { ...shape, batchMajor: false, mask: maskFor({ ...shape, batchMajor: false }, seed) }
      const c0 = filled(dtype, n, seed + 8)
      const [p4, w4] = [filled(dtype, 4 * extent.time * n, seed + 9), filled(dtype, 4 * extent.hidden ** 2, seed + 10).map((v) => v / 2)]
      const gc = filled(dtype, extent.time * n, seed + 11)
      const lstm = threaded.lstmForward!(p4, h0, c0, w4, timeMajor)
      const lstmExpected = single.lstmForward!(p4, h0, c0, w4, timeMajor)
      for (const key of ['hs', 'cs', 'saved'] as const) expectSame(lstm[key], lstmExpected[key], `lstm ${key} ${what}`)
      const dLstm = threaded.lstmBackward!(g.steps, gc, lstm, h0, c0, w4, timeMajor, true)
      const dLstmExpected = single.lstmBackward!(g.steps, gc, lstmExpected, h0, c0, w4, timeMajor, true)
      for (const key of ['dPre', 'dh0', 'dc0', 'dw'] as const) expectSame(dLstm[key]!, dLstmExpected[key]!, `lstm ${key} ${what}`)
      const [p3, w3, b3] = [filled(dtype, 3 * extent.time * n, seed + 12), filled(dtype, 3 * extent.hidden ** 2, seed + 13).map((v) => v / 2), filled(dtype, 3 * extent.hidden, seed + 14)]
      const gru = threaded.gruForward!(p3, h0, w3, b3, timeMajor)
      const gruExpected = single.gruForward!(p3, h0, w3, b3, timeMajor)
      for (const key of ['hs', 'saved'] as const) expectSame(gru[key], gruExpected[key], `gru ${key} ${what}`)
      const all = { w: true, b: true }
      const dGru = threaded.gruBackward!(g.steps, gru, h0, w3, timeMajor, all)
      const dGruExpected = single.gruBackward!(g.steps, gruExpected, h0, w3, timeMajor, all)
      for (const key of ['dPre', 'dh0', 'dw', 'db'] as const) expectSame(dGru[key]!, dGruExpected[key]!, `gru ${key} ${what}`)
    }), { numRuns: 6, seed: 43 })
  })
})

describe.each(DTYPES)('threaded wasm backend selected, %s', (dtype: DType) => {
  it.each([
    ['elman', () => nn.elman({ inputSize: 20, hiddenSize: 48, activation: 'tanh' })],
    ['lstm', () => nn.lstm({ inputSize: 20, hiddenSize: 24 })],
    ['gru', () => nn.gru({ inputSize: 20, hiddenSize: 24 })],
  ] as const)('gives %s the same loss and gradients as the single-threaded backend, bit for bit', (_, make) => {
    const layer: nn.RecurrentLayer<any> = make()
    const [k1, k2, k3] = splitKey(randomKey(3), 3)
    const params = layer.init(k1, { dtype })
    const xs = normal(k2, [40, 5, 20], { dtype })
    const loss = (p: nn.Params): Tensor => {
      const { outputs } = layer.apply(p, xs)
      return sum(mul(outputs, normal(k3, outputs.shape, { dtype })))
    }
    const run = (kernels: typeof single) => {
      const previous = useKernels(kernels)
      try {
        return valueAndGrad(loss)(params)
      } finally {
        useKernels(previous)
      }
    }
    const [value, grads] = run(threaded)
    const [expectedValue, expectedGrads] = run(single)
    expectSame(value.data, expectedValue.data, 'loss')
    const expected = treeLeaves(expectedGrads, 'grads')
    treeLeaves(grads, 'grads').forEach((g, i) => expectSame(g.data, expected[i].data, `grads[${i}]`))
  })
})

describe.each(DTYPES)('threaded wasm backend, shared memory, %s', (dtype: DType) => {
  it('gives Adam steps and one-hot row sums bit for bit as the JavaScript kernels', () => {
    const [g, m, v] = [1, 2, 3].map((seed) => filled(dtype, 70_001, seed).map(Math.abs))
    const constants = { b1: 0.9, b2: 0.999, eps: 1e-8, correct1: 1 / (1 - 0.9 ** 3), correct2: 1 / (1 - 0.999 ** 3) }
    const actual = threaded.adam!(g, m, v, constants)
    const expected = jsKernels.adam!(g, m, v, constants)
    for (const key of ['update', 'm', 'v'] as const) expectSame(actual[key], expected[key], key)
    const x = filled(dtype, 300 * 40, 4)
    const to = Int32Array.from({ length: 300 }, (_, p) => (p * 5) % 7)
    expectSame(threaded.scatterRows!(x, to, 7, 40), jsKernels.scatterRows!(x, to, 7, 40), 'scatterRows')
  })
})

// The kernel contract and the tolerance against jsKernels, as for the single-threaded backend.
matmulSuite(threaded, 30)

describe('threaded wasm kernels', () => {
  it('compute chunks on the worker', () => {
    const size = 256
    const a = filled('float32', size * size, 5)
    const before = threaded.chunksOnWorkers()
    // A 256³ product takes milliseconds: a worker woken by the first call joins within a few.
    for (let i = 0; i < 50 && threaded.chunksOnWorkers() === before; i++) threaded.matmul(a, one, a, one, size, size, size, false, false)
    expect(threaded.chunksOnWorkers()).toBeGreaterThan(before)
  })

  it('keep working single-threaded after close', async () => {
    const kernels = await loadThreadedWasmKernels({ createWorker: nodeWorkers, minParallelSize: 0, minSize: everywhere, relaxedSimd: false })
    expect(kernels.name).toBe('wasm-threads2')
    expect(kernels.threads).toBe(2)
    kernels.close()
    kernels.close() // idempotent
    const a = filled('float64', 40 * 50, 1)
    expectSame(kernels.matmul(a, one, a, one, 40, 50, 40, false, true), single.matmul(a, one, a, one, 40, 50, 40, false, true), 'after close')
  })

  it('run with one thread (no workers) and with three', async () => {
    const a = filled('float32', 70 * 90, 2)
    for (const threads of [1, 3]) {
      const kernels = await loadThreadedWasmKernels({ createWorker: nodeWorkers, threads, minParallelSize: 0, minSize: everywhere, relaxedSimd: false })
      try {
        expectSame(kernels.matmul(a, one, a, one, 70, 90, 70, false, true), single.matmul(a, one, a, one, 70, 90, 70, false, true), `${threads} threads`)
      } finally {
        kernels.close()
      }
    }
  })

  it('report bad thread counts and workers that never start', async () => {
    await expect(loadThreadedWasmKernels({ createWorker: nodeWorkers, threads: 0 })).rejects.toThrow('loadThreadedWasmKernels: threads must be a positive integer, got 0')
    let terminated = 0
    const silent = () => ({ postMessage: () => undefined, terminate: () => { terminated++ } })
    await expect(loadThreadedWasmKernels({ createWorker: silent, startTimeout: 50 })).rejects.toThrow('1 of 1 workers did not start within 50 ms')
    expect(terminated).toBe(1)
  })

  it.each([[[]], [['--close']]])('never keep the process alive (arguments %j)', (extra) => {
    const fixture = fileURLToPath(new URL('./wasmThreadsExit.fixture.ts', import.meta.url))
    const child = spawnSync(process.execPath, ['--import', 'tsx', fixture, ...extra], { encoding: 'utf8', timeout: 20_000 })
    expect(child.error, 'the child process did not exit within 20 s').toBeUndefined()
    expect(child.stderr).toBe('')
    expect(child.status).toBe(0)
    expect(child.stdout).toMatch(/^done wasm(-relaxed-simd)?-threads2/)
  })
})
