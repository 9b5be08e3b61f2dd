/**
 * @file The WebAssembly whole-sequence recurrence kernels against their composition over the
 * JavaScript kernels (src/tensor/recurrence.ts), float32 and float64, forwards and reversed, with
 * the recurrent weight as is and transposed, every Elman activation (in both layouts, with and
 * without the weight's cotangent), the LSTM and the GRU; plus the kernel contract (inputs
 * untouched), the Elman / RNN composition in batch-major layout against the time-major one, and its
 * weight cotangent against the sum over steps written out. The elementwise steps round as the
 * composition does, so the only differences come from the products' summation order (float32
 * lanes against double accumulation in jsKernels.matmul) and the per-step addition of the
 * projected input: the tolerance is that of a matmul over the hidden size, compounded over a few
 * steps.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DType, type Data, type RecurrenceExtent, type SequenceCotangent, jsKernels } from '../../src/index.js'
import { composedRecurrence, stepAt, stepRows } from '../../src/tensor/recurrence.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'
import { expectNear, gruParity, lstmParity } from './recurrenceParity.js'
import { values } from './seededValues.js'

const wasm = loadWasmKernels({ minSize: { binary: 0, math: 0, sum: 0, matmul: 0 } })
const reference = composedRecurrence(jsKernels)
const DTYPES: readonly DType[] = ['float32', 'float64']
const TOLERANCE: Record<DType, number> = { float32: 2e-5, float64: 1e-12 }

const extentArb = fc.record({
  time: fc.integer({ min: 1, max: 6 }),
  batch: fc.integer({ min: 1, max: 5 }),
  hidden: fc.integer({ min: 1, max: 19 }),
  reverse: fc.boolean(),
  transposed: fc.boolean(),
})

/** The Elman / RNN kernels also take batch-major sequences. */
const recurrentExtentArb = extentArb.chain((extent) => fc.boolean().map((batchMajor) => ({ ...extent, batchMajor })))


/** Which cotangents reach a sequence's outputs: every step's, the final state's, or both. */
const cotangentsArb = fc.constantFrom('steps', 'last', 'both' as const)

const cotangentsOf = (which: 'steps' | 'last' | 'both', dtype: DType, { time, batch, hidden }: RecurrenceExtent, seed: number): SequenceCotangent => ({
  steps: which === 'last' ? null : values(dtype, time * batch * hidden, seed),
  last: which === 'steps' ? null : values(dtype, batch * hidden, seed + 7),
})

/** A sequence of zero cotangents in the extent's layout but for the last processed step, which holds `last`. */
const filledAtLastStep = (last: Data, { time, batch, hidden, reverse, batchMajor }: RecurrenceExtent): Data => {
  const out = last instanceof Float32Array ? new Float32Array(time * batch * hidden) : new Float64Array(time * batch * hidden)
  const t = reverse ? 0 : time - 1
  for (let b = 0; b < batch; b++) out.set(last.subarray(b * hidden, (b + 1) * hidden), (batchMajor === true ? b * time + t : t * batch + b) * hidden)
  return out
}

describe.each(DTYPES)('wasm recurrence kernels, %s', (dtype) => {
  const tolerance = TOLERANCE[dtype]

  it('recurrentForward and recurrentBackward match the composition (tanh, relu, sigmoid; every step\'s cotangents, the final state\'s, or both)', () => {
    fc.assert(fc.property(
      recurrentExtentArb, fc.constantFrom('tanh', 'relu', 'sigmoid' as const), fc.boolean(), cotangentsArb, fc.nat(),
      (extent: RecurrenceExtent, activation, withWeight, which, seed) => {
        const n = extent.batch * extent.hidden
        const p = values(dtype, extent.time * n, seed)
        const h0 = values(dtype, n, seed + 1)
        const w = values(dtype, extent.hidden * extent.hidden, seed + 2, 0.5)
        const g = cotangentsOf(which, dtype, extent, seed + 3)
        const given = [g.steps, g.last].filter((x): x is Data => x !== null)
        const copies = [p, h0, w, ...given].map((x) => x.slice())
        const hs = wasm.recurrentForward!(p, h0, w, extent, activation)
        const expectedHs = reference.recurrentForward(p, h0, w, extent, activation)
        expectNear(hs, expectedHs, tolerance, 'hs')
        const backward = wasm.recurrentBackward!(g, expectedHs, h0, w, extent, activation, withWeight)
        const expected = reference.recurrentBackward(g, expectedHs, h0, w, extent, activation, withWeight)
        expectNear(backward.dz, expected.dz, tolerance, 'dz')
        if (withWeight) expectNear(backward.dw!, expected.dw!, tolerance, 'dw')
        else expect(backward.dw).toBeNull()
        ;[p, h0, w, ...given].forEach((x, i) => expect(x, 'inputs untouched').toEqual(copies[i]))
      },
    ), { numRuns: 60, seed: 5 })
  })

  it("a final state's cotangent alone gives what the dense sequence of cotangents with only that step filled gives", () => {
    fc.assert(fc.property(recurrentExtentArb, fc.constantFrom('tanh', 'relu', 'sigmoid' as const), fc.nat(), (extent: RecurrenceExtent, activation, seed) => {
      const { time, batch, hidden } = extent
      const n = batch * hidden
      const h0 = values(dtype, n, seed + 1)
      const w = values(dtype, hidden * hidden, seed + 2, 0.5)
      const hs = wasm.recurrentForward!(values(dtype, time * n, seed), h0, w, extent, activation)
      const last = values(dtype, n, seed + 3)
      const dense = filledAtLastStep(last, extent)
      for (const kernels of [wasm, reference]) {
        const alone = kernels.recurrentBackward!({ steps: null, last }, hs, h0, w, extent, activation, true)
        const filled = kernels.recurrentBackward!({ steps: dense, last: null }, hs, h0, w, extent, activation, true)
        // Equal up to the sign of zeros: 0 + x and x differ only for x = −0.
        expectNear(alone.dz, filled.dz, 0, 'dz')
        expectNear(alone.dw!, filled.dw!, 0, 'dw')
      }
    }), { numRuns: 40, seed: 12 })
  })

  it('a backward pass given the hs its forward pass returned reads the states left in memory: same results bit for bit, also after other calls', () => {
    const one = new Int32Array(1)
    fc.assert(fc.property(
      recurrentExtentArb, fc.integer({ min: 0, max: 5 }), fc.constantFrom('tanh', 'relu', 'sigmoid' as const), cotangentsArb,
      fc.constantFrom('none', 'small', 'large' as const), fc.nat(),
      (extent: RecurrenceExtent, inputs, activation, which, between, seed) => {
        const { time, batch, hidden } = extent
        const n = batch * hidden
        const h0 = values(dtype, n, seed + 1)
        const w = values(dtype, hidden * hidden, seed + 2, 0.5)
        const x = values(dtype, time * batch * inputs, seed)
        const p = values(dtype, time * n, seed + 5)
        const wIn = values(dtype, inputs * hidden, seed + 3, 0.5)
        const g = cotangentsOf(which, dtype, extent, seed + 4)
        const wanted = { x: true, wIn: true, h0: true, w: true }
        const forward = () => (inputs > 0 ? wasm.projectedRecurrentForward!(x, wIn, h0, w, extent, activation) : wasm.recurrentForward!(p, h0, w, extent, activation))
        const backward = (hs: Data) => (inputs > 0
          ? wasm.projectedRecurrentBackward!(g, hs, x, wIn, h0, w, extent, activation, wanted)
          : { dz: wasm.recurrentBackward!(g, hs, h0, w, extent, activation, true).dz, dw: null })
        const hs = forward()
        const copied = backward(hs.slice()) // another array: the states are copied in as usual
        const left = forward()
        expect(left, 'the same forward pass').toEqual(hs)
        // Calls in between lay out their own operands: below the states (small), or over them (large, 4 MiB).
        if (between !== 'none') {
          const size = between === 'small' ? 8 : 1024
          wasm.matmul(values(dtype, size * size, 5), one, values(dtype, size * size, 6), one, size, size, size, false, false)
        }
        const reused = backward(left)
        for (const [key, value] of Object.entries(copied)) {
          if (value === null) expect((reused as Record<string, unknown>)[key]).toBeNull()
          else expect((reused as unknown as Record<string, Data>)[key], `${key} (${between} call between)`).toEqual(value)
        }
      },
    ), { numRuns: 60, seed: 13 })
  })

  it('reads the states where the forward pass left them, not the hs array again (unless a call has overwritten them)', () => {
    const extent = { time: 4, batch: 3, hidden: 5, reverse: false, transposed: false, batchMajor: true }
    const n = extent.batch * extent.hidden
    const [p, h0, g] = [values(dtype, 4 * n, 1), values(dtype, n, 2), values(dtype, 4 * n, 3)]
    const w = values(dtype, 25, 4, 0.5)
    const cotangent = { steps: g, last: null }
    const hs = wasm.recurrentForward!(p, h0, w, extent, 'tanh')
    const expected = wasm.recurrentBackward!(cotangent, hs.slice(), h0, w, extent, 'tanh', true)
    // Changing the returned array (which a caller must not do) shows which states the pass reads.
    const left = wasm.recurrentForward!(p, h0, w, extent, 'tanh')
    left.fill(0.25)
    expect(wasm.recurrentBackward!(cotangent, left, h0, w, extent, 'tanh', true).dz).toEqual(expected.dz)
    // Another forward pass in between leaves its own states: the first pass's array is copied in.
    const first = wasm.recurrentForward!(p, h0, w, extent, 'tanh')
    wasm.recurrentForward!(values(dtype, 4 * n, 9), h0, w, extent, 'tanh')
    expect(wasm.recurrentBackward!(cotangent, first, h0, w, extent, 'tanh', true).dz).toEqual(expected.dz)
    const again = wasm.recurrentForward!(p, h0, w, extent, 'tanh')
    wasm.matmul(values(dtype, 1 << 20, 5), new Int32Array(1), values(dtype, 1024, 6), new Int32Array(1), 1024, 1024, 1, false, false)
    again.fill(0.25)
    expect(wasm.recurrentBackward!(cotangent, again, h0, w, extent, 'tanh', true).dz).not.toEqual(expected.dz)
  })

  it('projectedRecurrentForward / Backward match the composition, and equal the product then the recurrence bit for bit', () => {
    const one = new Int32Array(1)
    fc.assert(fc.property(
      recurrentExtentArb, fc.integer({ min: 1, max: 9 }), fc.constantFrom('tanh', 'relu', 'sigmoid' as const),
      fc.record({ x: fc.boolean(), wIn: fc.boolean(), h0: fc.boolean(), w: fc.boolean() }), cotangentsArb, fc.nat(),
      (extent: RecurrenceExtent, inputs, activation, wanted, which, seed) => {
        const { time, batch, hidden } = extent
        const rows = time * batch
        const x = values(dtype, rows * inputs, seed)
        const wIn = values(dtype, inputs * hidden, seed + 1, 0.5)
        const h0 = values(dtype, batch * hidden, seed + 2)
        const w = values(dtype, hidden * hidden, seed + 3, 0.5)
        const g = cotangentsOf(which, dtype, extent, seed + 4)
        const given = [g.steps, g.last].filter((v): v is Data => v !== null)
        const copies = [x, wIn, h0, w, ...given].map((v) => v.slice())
        const hs = wasm.projectedRecurrentForward!(x, wIn, h0, w, extent, activation)
        expectNear(hs, reference.projectedRecurrentForward(x, wIn, h0, w, extent, activation), tolerance, 'hs')
        // The same kernels in separate calls: the projection, the recurrence, then its cotangents.
        const p = wasm.matmul(x, one, wIn, one, rows, inputs, hidden, false, false)
        expect(hs, 'hs bit for bit').toEqual(wasm.recurrentForward!(p, h0, w, extent, activation))
        const actual = wasm.projectedRecurrentBackward!(g, hs, x, wIn, h0, w, extent, activation, wanted)
        const expected = reference.projectedRecurrentBackward(g, hs, x, wIn, h0, w, extent, activation, wanted)
        const { dz, dw } = wasm.recurrentBackward!(g, hs, h0, w, extent, activation, wanted.w)
        const first = extent.reverse ? time - 1 : 0
        const dzFirst = Float64Array.from({ length: batch * hidden }, (_, i) => {
          const [b, j] = [Math.floor(i / hidden), i % hidden]
          return dz[(extent.batchMajor ? b * time + first : first * batch + b) * hidden + j]
        })
        const separate = {
          dx: wanted.x ? wasm.matmul(dz, one, wIn, one, rows, hidden, inputs, false, true) : null,
          dwIn: wanted.wIn ? wasm.matmul(x, one, dz, one, inputs, rows, hidden, true, false) : null,
          dh0: wanted.h0 ? wasm.matmul(dtype === 'float32' ? Float32Array.from(dzFirst) : dzFirst, one, w, one, batch, hidden, hidden, false, !extent.transposed) : null,
          dw,
        }
        for (const key of ['dx', 'dwIn', 'dh0', 'dw'] as const) {
          if (separate[key] === null) {
            expect(actual[key], `${key} not asked for`).toBeNull()
            continue
          }
          expectNear(actual[key]!, expected[key]!, tolerance, key)
          expect(actual[key], `${key} bit for bit`).toEqual(separate[key])
        }
        ;[x, wIn, h0, w, ...given].forEach((v, i) => expect(v, 'inputs untouched').toEqual(copies[i]))
      },
    ), { numRuns: 60, seed: 9 })
  })

  it('projectedRecurrentFinal gives the last processed step, and its backward pass what the full outputs give, bit for bit, with the states in memory or gone', () => {
    const one = new Int32Array(1)
    fc.assert(fc.property(
      recurrentExtentArb, fc.integer({ min: 1, max: 9 }), fc.constantFrom('tanh', 'relu', 'sigmoid' as const),
      fc.record({ x: fc.boolean(), wIn: fc.boolean(), h0: fc.boolean(), w: fc.boolean() }), fc.constantFrom('none', 'small', 'large' as const), fc.nat(),
      (extent: RecurrenceExtent, inputs, activation, wanted, between, seed) => {
        const { time, batch, hidden } = extent
        const x = values(dtype, time * batch * inputs, seed)
        const wIn = values(dtype, inputs * hidden, seed + 1, 0.5)
        const h0 = values(dtype, batch * hidden, seed + 2)
        const w = values(dtype, hidden * hidden, seed + 3, 0.5)
        const g = { steps: null, last: values(dtype, batch * hidden, seed + 4) }
        const lastStep = stepAt(extent, time - 1)
        for (const [name, k] of [['wasm', wasm], ['composition', reference]] as const) {
          const hs = k.projectedRecurrentForward!(x, wIn, h0, w, extent, activation)
          const expected = k.projectedRecurrentBackward!(g, hs.slice(), x, wIn, h0, w, extent, activation, wanted)
          const final = k.projectedRecurrentFinal!(x, wIn, h0, w, extent, activation)
          expect(final.final, `${name}: the final state`).toEqual(stepRows(hs, extent, lastStep).slice())
          // A call in between lays out its own operands: below the states (small), or over them (large, 4 MiB).
          if (between !== 'none') {
            const size = between === 'small' ? 8 : 1024
            wasm.matmul(values(dtype, size * size, 5), one, values(dtype, size, 6), one, size, size, 1, false, false)
          }
          const actual = k.projectedRecurrentBackward!(g, final, x, wIn, h0, w, extent, activation, wanted)
          expect(actual, `${name}: the cotangents (${between} call between)`).toEqual(expected)
          expect(final.hs(), `${name}: the outputs on demand`).toEqual(hs)
        }
      },
    ), { numRuns: 60, seed: 21 })
  })

  it('the composition in batch-major layout is the time-major one with its sequences transposed', () => {
    fc.assert(fc.property(extentArb, fc.constantFrom('tanh', 'relu', 'sigmoid' as const), fc.nat(), (extent: RecurrenceExtent, activation, seed) => {
      const { time, batch, hidden } = extent
      const n = batch * hidden
      const swap = (x: Data, first: number, second: number): Data => {
        const out = x.slice()
        for (let i = 0; i < first; i++) for (let j = 0; j < second; j++) out.set(x.subarray((i * second + j) * hidden, (i * second + j + 1) * hidden), (j * first + i) * hidden)
        return out
      }
      const p = values(dtype, time * n, seed)
      const h0 = values(dtype, n, seed + 1)
      const w = values(dtype, hidden * hidden, seed + 2, 0.5)
      const g = values(dtype, time * n, seed + 3)
      const timeMajor = { ...extent, batchMajor: false }
      const batchMajor = { ...extent, batchMajor: true }
      const hs = reference.recurrentForward(p, h0, w, timeMajor, activation)
      expect(reference.recurrentForward(swap(p, time, batch), h0, w, batchMajor, activation)).toEqual(swap(hs, time, batch))
      const backward = reference.recurrentBackward({ steps: g, last: null }, hs, h0, w, timeMajor, activation, true)
      const swapped = reference.recurrentBackward({ steps: swap(g, time, batch), last: null }, swap(hs, time, batch), h0, w, batchMajor, activation, true)
      expect(swapped.dz).toEqual(swap(backward.dz, time, batch))
      expect(swapped.dw).toEqual(backward.dw)
    }), { numRuns: 40, seed: 6 })
  })

  it("the weight's cotangent is Σ_t h_{t−1}ᵀ·dz_t over the steps in processing order", () => {
    fc.assert(fc.property(extentArb, fc.nat(), (extent: RecurrenceExtent, seed) => {
      const { time, batch, hidden, reverse, transposed } = extent
      const n = batch * hidden
      const h0 = values(dtype, n, seed + 1)
      const w = values(dtype, hidden * hidden, seed + 2, 0.5)
      const layout = { ...extent, batchMajor: false }
      const hs = reference.recurrentForward(values(dtype, time * n, seed), h0, w, layout, 'tanh')
      const { dz, dw } = reference.recurrentBackward({ steps: values(dtype, time * n, seed + 3), last: null }, hs, h0, w, layout, 'tanh', true)
      // h_{t−1} is the state entering step t: h0 at the first processed step, else the previous one's output.
      const entering = (t: number): Data => {
        const previous = reverse ? t + 1 : t - 1
        return previous < 0 || previous >= time ? h0 : hs.subarray(previous * n, (previous + 1) * n)
      }
      const expected = new Float64Array(hidden * hidden)
      for (let t = 0; t < time; t++) {
        const h = entering(t)
        for (let b = 0; b < batch; b++) {
          for (let i = 0; i < hidden; i++) {
            for (let j = 0; j < hidden; j++) {
              const [row, column] = transposed ? [j, i] : [i, j]
              expected[row * hidden + column] += h[b * hidden + i] * dz[t * n + b * hidden + j]
            }
          }
        }
      }
      expectNear(dw!, dtype === 'float32' ? Float32Array.from(expected) : expected, tolerance, 'dw')
    }), { numRuns: 40, seed: 7 })
  })

  it('lstmForward and lstmBackward match the composition', () => {
    fc.assert(fc.property(extentArb, fc.nat(), (extent: RecurrenceExtent, seed) => {
      const { p, h0, c0, w, gh, gc, forward, expected } = lstmParity(wasm, reference, dtype, extent, seed, tolerance)
      // The gates, read after a backward pass used them in memory and a later call took it: run again.
      expectNear(forward.saved, expected.saved, tolerance, 'saved (run again)')
      // Read after a later call took their memory with no backward pass before it: copied out
      // first, not run again (which would see p overwritten; operands are never written otherwise).
      const pUnused = p.slice()
      const unused = wasm.lstmForward!(pUnused, h0, c0, w, extent)
      expect(wasm.lstmBackward!(gh, gc, expected, h0, c0, w, extent, false).dw).toBeNull()
      pUnused.fill(0)
      expectNear(unused.saved, expected.saved, tolerance, 'saved (copied out)')
    }), { numRuns: 60, seed: 6 })
  })

  it('gruForward and gruBackward match the composition', () => {
    fc.assert(fc.property(extentArb, fc.nat(), (extent: RecurrenceExtent, seed) => {
      const { p, h0, w, b, g, forward, expected } = gruParity(wasm, reference, dtype, extent, seed, tolerance)
      // The gates, read after a backward pass used them and a later call took their memory: run again.
      expectNear(forward.saved, expected.saved, tolerance, 'saved (run again)')
      // Read after a later call took their memory with no backward pass before it: copied out first.
      const pUnused = p.slice()
      const unused = wasm.gruForward!(pUnused, h0, w, b, extent)
      const none = wasm.gruBackward!(g, expected, h0, w, extent, { w: false, b: false })
      expect([none.dw, none.db]).toEqual([null, null])
      pUnused.fill(0)
      expectNear(unused.saved, expected.saved, tolerance, 'saved (copied out)')
      // The operands and the reference's gates are as they were made: regenerated from the same seeds.
      const n = extent.batch * extent.hidden
      const copies = [values(dtype, 3 * extent.time * n, seed), values(dtype, n, seed + 1), values(dtype, 3 * extent.hidden * extent.hidden, seed + 2, 0.5)]
      ;[p, h0, w].forEach((x, i) => expect(x, 'inputs untouched').toEqual(copies[i]))
      expect(expected.saved, 'saved untouched').toEqual(reference.gruForward(copies[0], copies[1], copies[2], b, extent).saved)
      expect([b, g], 'inputs untouched').toEqual([values(dtype, 3 * extent.hidden, seed + 3), values(dtype, extent.time * n, seed + 4)])
    }), { numRuns: 60, seed: 7 })
  })
})
