/**
 * @file The WebAssembly linear-recurrence kernels against the JavaScript ones, bit for bit: both
 * compute each element in doubles and round it once, and the backward carry stays in doubles.
 * float32 and float64, real (odd and even row lengths) and complex, runs that fit one chunk and
 * runs cut into several; inputs untouched.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DType, type Data, jsKernels } from '../../src/index.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'
import { values } from './seededValues.js'

const wasm = loadWasmKernels({ minSize: { binary: 0 } })
const js = { forward: jsKernels.linearRecurrence!, backward: jsKernels.linearRecurrenceBackward! }

const expectSameBits = (actual: Data, expected: Data, what: string): void => {
  expect(actual.constructor, `${what}: dtype`).toBe(expected.constructor)
  expect(actual.length, `${what}: length`).toBe(expected.length)
  const differ = actual.findIndex((v, i) => !Object.is(v, expected[i]))
  expect(differ, differ < 0 ? what : `${what}: first difference at ${differ}: ${actual[differ]} vs ${expected[differ]}`).toBe(-1)
}

const caseArb = fc.record({
  dtype: fc.constantFrom<DType>('float32', 'float64'),
  complex: fc.boolean(),
  time: fc.integer({ min: 1, max: 9 }),
  width: fc.integer({ min: 1, max: 13 }),
  seed: fc.nat(),
})

/** a in (−1, 1) (|a| < 1 for complex pairs too), so long runs stay bounded. */
const operands = (dtype: DType, time: number, size: number, seed: number) => ({
  a: values(dtype, time * size, seed, 0.7),
  b: values(dtype, time * size, seed + 1),
  h0: values(dtype, size, seed + 2),
  g: values(dtype, time * size, seed + 3),
})

const compare = (dtype: DType, time: number, size: number, complex: boolean, seed: number): void => {
  const { a, b, h0, g } = operands(dtype, time, size, seed)
  const copies = [a, b, h0, g].map((x) => x.slice())
  const hs = wasm.linearRecurrence!(a, b, h0, time, size, complex)
  expectSameBits(hs, js.forward(a, b, h0, time, size, complex), 'hs')
  const ours = wasm.linearRecurrenceBackward!(g, a, hs, h0, time, size, complex)
  const theirs = js.backward(g, a, hs, h0, time, size, complex)
  expectSameBits(ours.da, theirs.da, 'da')
  expectSameBits(ours.db, theirs.db, 'db')
  expectSameBits(ours.dh0, theirs.dh0, 'dh0')
  ;[a, b, h0, g].forEach((x, i) => expectSameBits(x, copies[i], 'an input (must be untouched)'))
}

describe('wasm linearRecurrence and linearRecurrenceBackward = jsKernels, bit for bit', () => {
  it('small runs (one chunk), real and complex', () => {
    fc.assert(fc.property(caseArb, ({ dtype, complex, time, width, seed }) => {
      compare(dtype, time, complex ? 2 * width : width, complex, seed)
    }), { numRuns: 60, seed: 2020 })
  })

  it.each([
    ['float32', false, 3], ['float32', true, 6], ['float64', false, 5], ['float64', true, 2],
  ] as const)('runs over several chunks: %s, complex %s, rows of %i', (dtype, complex, size) => {
    compare(dtype, Math.ceil(3.5 * 65536 / size), size, complex, 11)
  })

})
