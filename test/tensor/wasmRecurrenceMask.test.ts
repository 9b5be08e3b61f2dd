/**
 * @file The whole-sequence recurrence kernels with a step mask (`RecurrenceExtent.mask`): the
 * WebAssembly kernels against the masked composition over the JavaScript kernels, float32 and
 * float64, forwards and reversed, time-major and (Elman / RNN) batch-major, with masks whose rows
 * are all real, all padding, padded at the start, at the end, or at random. Independently of both:
 * an all-ones mask changes nothing, bit for bit; each row's states at its real steps are those of
 * the unmasked kernel run over those steps alone, and a padded step repeats the state before it;
 * an all-padding run keeps h0 and hands every cotangent to it. (The layers through these kernels
 * are checked against scan's masked composition in test/nn/sequenceKernels.test.ts; the threaded
 * kernels against one thread in wasmThreads.test.ts.)
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DType, type Data, type RecurrenceExtent, jsKernels } from '../../src/index.js'
import { composedRecurrence, maskAt, stepAt } from '../../src/tensor/recurrence.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'
import { expectNear, gruParity, lstmParity } from './recurrenceParity.js'
import { values } from './seededValues.js'

const wasm = loadWasmKernels({ minSize: { binary: 0, math: 0, sum: 0, matmul: 0 } })
const reference = composedRecurrence(jsKernels)
const DTYPES: readonly DType[] = ['float32', 'float64']
const TOLERANCE: Record<DType, number> = { float32: 2e-5, float64: 1e-12 }
const runs = { numRuns: 6, seed: 18 }


/** How a row of a mask is padded; rows cycle through them, so a batch of 5 or more has each. */
const ROW_KINDS = ['random', 'none real', 'all real', 'padded at the start', 'padded at the end'] as const

/** A mask in the extent's layout, of `dtype`, each row of the kind its index picks. */
const maskOf = (dtype: DType, { time, batch, batchMajor }: Omit<RecurrenceExtent, 'mask'>, seed: number): Data => {
  const out = dtype === 'float32' ? new Float32Array(time * batch) : new Float64Array(time * batch)
  const coins = values('float64', time * batch, seed)
  const cut = 1 + (seed % Math.max(1, time - 1))
  for (let b = 0; b < batch; b++) {
    const kind = ROW_KINDS[(b + seed) % ROW_KINDS.length]
    for (let t = 0; t < time; t++) {
      const real = kind === 'random' ? coins[t * batch + b] > 0 : kind === 'all real' ? true : kind === 'none real' ? false
        : kind === 'padded at the start' ? t >= cut : t < cut
      out[batchMajor === true ? b * time + t : t * batch + b] = real ? 1 : 0
    }
  }
  return out
}

const extentArb = fc.record({
  time: fc.integer({ min: 1, max: 6 }),
  batch: fc.integer({ min: 5, max: 7 }),
  hidden: fc.integer({ min: 1, max: 9 }),
  reverse: fc.boolean(),
  transposed: fc.boolean(),
})

/** Row b of step t of a `[time, batch, width]` (or batch-major) sequence. */
const rowOf = (x: Data, extent: RecurrenceExtent, t: number, b: number, width: number): Data =>
  x.subarray(maskAt(extent, t, b) * width, (maskAt(extent, t, b) + 1) * width)

describe.each(DTYPES)('masked recurrence kernels, %s', (dtype) => {
  const tolerance = TOLERANCE[dtype]

  it('Elman / RNN: the wasm kernels match the masked composition (both layouts, every activation, dh0 included)', () => {
    fc.assert(fc.property(
      extentArb, fc.boolean(), fc.constantFrom('tanh', 'relu', 'sigmoid' as const), fc.nat(1000),
      (shape, batchMajor, activation, seed) => {
        const unmasked = { ...shape, batchMajor }
        const extent = { ...unmasked, mask: maskOf(dtype, unmasked, seed) }
        const { time, batch, hidden } = extent
        const n = batch * hidden
        const [p, h0, w] = [values(dtype, time * n, seed), values(dtype, n, seed + 1), values(dtype, hidden * hidden, seed + 2, 0.5)]
        const g = { steps: values(dtype, time * n, seed + 3), last: values(dtype, n, seed + 4) }
        const copies = [p, h0, w, extent.mask].map((x) => x.slice())
        const hs = wasm.recurrentForward!(p, h0, w, extent, activation)
        const expectedHs = reference.recurrentForward(p, h0, w, extent, activation)
        expectNear(hs, expectedHs, tolerance, 'hs')
        const actual = wasm.recurrentBackward!(g, expectedHs, h0, w, extent, activation, true)
        const expected = reference.recurrentBackward(g, expectedHs, h0, w, extent, activation, true)
        for (const key of ['dz', 'dw', 'dh0'] as const) expectNear(actual[key]!, expected[key]!, tolerance, key)
        // A padded step's dz is exactly 0, so the weight's cotangent leaves it out.
        for (let t = 0; t < time; t++) {
          for (let b = 0; b < batch; b++) {
            if (extent.mask[maskAt(extent, t, b)] === 0) expect(rowOf(actual.dz, extent, t, b, hidden).every((v) => v === 0), 'dz at padding').toBe(true)
          }
        }
        // With the projection inside, and for the final state alone.
        const inputs = 3
        const x = values(dtype, time * batch * inputs, seed + 5)
        const wIn = values(dtype, inputs * hidden, seed + 6, 0.5)
        const wanted = { x: true, wIn: true, h0: true, w: true }
        const projected = wasm.projectedRecurrentForward!(x, wIn, h0, w, extent, activation)
        expectNear(projected, reference.projectedRecurrentForward(x, wIn, h0, w, extent, activation), tolerance, 'projected hs')
        const dProjected = wasm.projectedRecurrentBackward!(g, projected, x, wIn, h0, w, extent, activation, wanted)
        const dExpected = reference.projectedRecurrentBackward(g, projected, x, wIn, h0, w, extent, activation, wanted)
        for (const key of ['dx', 'dwIn', 'dh0', 'dw'] as const) expectNear(dProjected[key]!, dExpected[key]!, tolerance, `projected ${key}`)
        const final = wasm.projectedRecurrentFinal!(x, wIn, h0, w, extent, activation)
        const last = { steps: null, last: g.last }
        expect(wasm.projectedRecurrentBackward!(last, final, x, wIn, h0, w, extent, activation, wanted), 'from the final state')
          .toEqual(wasm.projectedRecurrentBackward!(last, projected, x, wIn, h0, w, extent, activation, wanted))
        ;[p, h0, w, extent.mask].forEach((v, i) => expect(v, 'inputs untouched').toEqual(copies[i]))
      },
    ), runs)
  })

  it('LSTM: the wasm kernels match the masked composition', () => {
    fc.assert(fc.property(extentArb, fc.nat(1000), (shape, seed) => {
      const extent = { ...shape, mask: maskOf(dtype, shape, seed) }
      lstmParity(wasm, reference, dtype, extent, seed, tolerance)
    }), runs)
  })

  it('GRU: the wasm kernels match the masked composition', () => {
    fc.assert(fc.property(extentArb, fc.nat(1000), (shape, seed) => {
      const extent = { ...shape, mask: maskOf(dtype, shape, seed) }
      gruParity(wasm, reference, dtype, extent, seed, tolerance)
    }), runs)
  })

  it('an all-ones mask changes nothing, bit for bit (wasm and composition)', () => {
    fc.assert(fc.property(extentArb, fc.boolean(), fc.nat(1000), (shape, batchMajor, seed) => {
      const plain = { ...shape, batchMajor }
      const { time, batch, hidden } = plain
      const n = batch * hidden
      const ones = { ...plain, mask: (dtype === 'float32' ? new Float32Array(time * batch) : new Float64Array(time * batch)).fill(1) }
      const lstmExtent = { ...shape, mask: ones.mask }
      const [h0, c0] = [values(dtype, n, seed + 1), values(dtype, n, seed + 2)]
      for (const k of [wasm, reference]) {
        const p = values(dtype, time * n, seed)
        const w = values(dtype, hidden * hidden, seed + 3, 0.5)
        const g = { steps: values(dtype, time * n, seed + 4), last: values(dtype, n, seed + 5) }
        const hs = k.recurrentForward!(p, h0, w, plain, 'tanh')
        expect(k.recurrentForward!(p, h0, w, ones, 'tanh'), 'hs').toEqual(hs)
        const { dh0, ...masked } = k.recurrentBackward!(g, hs, h0, w, ones, 'tanh', true)
        expect(masked, 'dz, dw').toEqual(k.recurrentBackward!(g, hs, h0, w, plain, 'tanh', true))
        expect(dh0, 'dh0 given with a mask').toBeDefined()
        const p4 = values(dtype, 4 * time * n, seed + 6)
        const w4 = values(dtype, 4 * hidden * hidden, seed + 7, 0.5)
        const lstm = k.lstmForward!(p4, h0, c0, w4, shape)
        const lstmMasked = k.lstmForward!(p4, h0, c0, w4, lstmExtent)
        expect([lstmMasked.hs, lstmMasked.cs], 'lstm states').toEqual([lstm.hs, lstm.cs])
        const [gh, gc] = [values(dtype, time * n, seed + 8), values(dtype, time * n, seed + 9)]
        expect(k.lstmBackward!(gh, gc, lstm, h0, c0, w4, lstmExtent, true), 'lstm cotangents').toEqual(k.lstmBackward!(gh, gc, lstm, h0, c0, w4, shape, true))
        const p3 = values(dtype, 3 * time * n, seed + 10)
        const w3 = values(dtype, 3 * hidden * hidden, seed + 11, 0.5)
        const b3 = values(dtype, 3 * hidden, seed + 12)
        const gru = k.gruForward!(p3, h0, w3, b3, shape)
        expect(k.gruForward!(p3, h0, w3, b3, lstmExtent).hs, 'gru states').toEqual(gru.hs)
        const all = { w: true, b: true }
        expect(k.gruBackward!(gh, gru, h0, w3, lstmExtent, all), 'gru cotangents').toEqual(k.gruBackward!(gh, gru, h0, w3, shape, all))
      }
    }), runs)
  })

  it("each row's states at its real steps are the unmasked kernel's over those steps alone; a padded step repeats the state before it", () => {
    fc.assert(fc.property(extentArb, fc.boolean(), fc.nat(1000), (shape, batchMajor, seed) => {
      const unmasked = { ...shape, batchMajor }
      const extent = { ...unmasked, mask: maskOf(dtype, unmasked, seed) }
      const { time, batch, hidden } = extent
      const n = batch * hidden
      const [p, h0, w] = [values(dtype, time * n, seed), values(dtype, n, seed + 1), values(dtype, hidden * hidden, seed + 2, 0.5)]
      const p4 = values(dtype, 4 * time * n, seed + 3)
      const c0 = values(dtype, n, seed + 4)
      const w4 = values(dtype, 4 * hidden * hidden, seed + 5, 0.5)
      const lstmExtent = { ...shape, mask: maskOf(dtype, shape, seed) }
      for (const [name, k] of [['wasm', wasm], ['composition', reference]] as const) {
        const hs = k.recurrentForward!(p, h0, w, extent, 'tanh')
        const lstm = k.lstmForward!(p4, h0, c0, w4, lstmExtent)
        for (let b = 0; b < batch; b++) {
          // The row alone, its real steps only, in processing order (a batch of one, time-major).
          const steps = Array.from({ length: time }, (_, s) => stepAt(extent, s)).filter((t) => extent.mask[maskAt(extent, t, b)] !== 0)
          const alone = { time: steps.length, batch: 1, hidden, reverse: false, transposed: shape.transposed }
          const row = (x: Data, t: number, e: RecurrenceExtent, width = hidden): Data => rowOf(x, e, t, b, width)
          const concat = (parts: Data[]): Data => {
            const out = dtype === 'float32' ? new Float32Array(parts.length * parts[0]?.length) : new Float64Array(parts.length * parts[0]?.length)
            parts.forEach((x, i) => out.set(x, i * x.length))
            return out
          }
          const h0Row = h0.subarray(b * hidden, (b + 1) * hidden)
          const c0Row = c0.subarray(b * hidden, (b + 1) * hidden)
          const own = steps.length === 0 ? null : k.recurrentForward!(concat(steps.map((t) => row(p, t, extent))), h0Row, w, alone, 'tanh')
          const ownLstm = steps.length === 0 ? null
            : k.lstmForward!(concat(steps.map((t) => row(p4, t, lstmExtent, 4 * hidden))), h0Row, c0Row, w4, alone)
          let [h, hl, cl] = [h0Row, h0Row, c0Row]
          let j = 0
          for (let s = 0; s < time; s++) {
            const t = stepAt(extent, s)
            if (extent.mask[maskAt(extent, t, b)] !== 0) {
              h = own!.subarray(j * hidden, (j + 1) * hidden)
              hl = ownLstm!.hs.subarray(j * hidden, (j + 1) * hidden)
              cl = ownLstm!.cs.subarray(j * hidden, (j + 1) * hidden)
              j++
            }
            expectNear(row(hs, t, extent), h, tolerance, `${name}: Elman row ${b} step ${t}`)
            expectNear(row(lstm.hs, t, lstmExtent), hl, tolerance, `${name}: LSTM h row ${b} step ${t}`)
            expectNear(row(lstm.cs, t, lstmExtent), cl, tolerance, `${name}: LSTM c row ${b} step ${t}`)
          }
        }
      }
    }), runs)
  })

  it('an all-padding run keeps h0 and hands every cotangent to it, with no pre-activation or weight cotangent', () => {
    const extent = { time: 4, batch: 3, hidden: 5, reverse: false, transposed: true }
    const n = extent.batch * extent.hidden
    const mask = dtype === 'float32' ? new Float32Array(12) : new Float64Array(12)
    const masked = { ...extent, mask }
    const [h0, c0] = [values(dtype, n, 1), values(dtype, n, 2)]
    const [gh, gc] = [values(dtype, 4 * n, 3), values(dtype, 4 * n, 4)]
    // Σ_t g_t, added in processing order (last step first), as the pass-through adds them.
    const total = (g: Data): Data => {
      const out = g.slice(3 * n)
      for (const t of [2, 1, 0]) for (let i = 0; i < n; i++) out[i] += g[t * n + i]
      return out
    }
    for (const [name, k] of [['wasm', wasm], ['composition', reference]] as const) {
      const w = values(dtype, 4 * 25, 5, 0.5)
      const forward = k.lstmForward!(values(dtype, 16 * n, 6), h0, c0, w, masked)
      for (let t = 0; t < 4; t++) {
        expect(forward.hs.subarray(t * n, (t + 1) * n), `${name}: h`).toEqual(h0)
        expect(forward.cs.subarray(t * n, (t + 1) * n), `${name}: c`).toEqual(c0)
      }
      const backward = k.lstmBackward!(gh, gc, forward, h0, c0, w, masked, true)
      expect(backward.dPre.every((v) => v === 0), `${name}: dPre`).toBe(true)
      expect(backward.dw!.every((v) => v === 0), `${name}: dw`).toBe(true)
      expectNear(backward.dh0, total(gh), 0, `${name}: dh0`)
      expectNear(backward.dc0, total(gc), 0, `${name}: dc0`)
      const elman = k.recurrentBackward!({ steps: gh, last: null }, k.recurrentForward!(values(dtype, 4 * n, 7), h0, w.subarray(0, 25), masked, 'relu'), h0, w.subarray(0, 25), masked, 'relu', true)
      expect(elman.dz.every((v) => v === 0) && elman.dw!.every((v) => v === 0), `${name}: Elman dz, dw`).toBe(true)
      expectNear(elman.dh0!, total(gh), 0, `${name}: Elman dh0`)
    }
  })
})
