/**
 * @file Shared checks of the WebAssembly sequence kernels against their composition: an element
 * comparison, and the LSTM and GRU forward and backward passes from seeded operands (masked or not,
 * as the extent says), the backward both from the states the forward pass left in memory and from
 * arrays copied in.
 */
import { expect } from 'vitest'
import type { DType, Data, Kernels, RecurrenceExtent } from '../../src/index.js'
import type { ComposedRecurrence } from '../../src/tensor/recurrence.js'
import { values } from './seededValues.js'

/** Same length and dtype, and every entry within `tolerance` (relative above 1). */
export const expectNear = (actual: Data, expected: Data, tolerance: number, what: string): void => {
  expect(actual.length, `${what}: length`).toBe(expected.length)
  expect(actual.constructor, `${what}: dtype`).toBe(expected.constructor)
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])))) {
      expect.fail(`${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tolerance})`)
    }
  }
}

/** The LSTM kernels against the composition; returns the operands and both forward results for further checks. */
export const lstmParity = (wasm: Kernels, reference: ComposedRecurrence, dtype: DType, extent: RecurrenceExtent, seed: number, tolerance: number) => {
  const n = extent.batch * extent.hidden
  const p = values(dtype, 4 * extent.time * n, seed)
  const [h0, c0] = [values(dtype, n, seed + 1), values(dtype, n, seed + 2)]
  const w = values(dtype, 4 * extent.hidden * extent.hidden, seed + 3, 0.5)
  const [gh, gc] = [values(dtype, extent.time * n, seed + 4), values(dtype, extent.time * n, seed + 5)]
  const forward = wasm.lstmForward!(p, h0, c0, w, extent)
  const expected = reference.lstmForward(p, h0, c0, w, extent)
  expectNear(forward.hs, expected.hs, tolerance, 'hs')
  expectNear(forward.cs, expected.cs, tolerance, 'cs')
  const expectedBackward = reference.lstmBackward(gh, gc, expected, h0, c0, w, extent, true)
  // From the states, cell states and gates this forward pass left in memory; then from arrays
  // copied in, which lays operands over them, so the gates are copied out first.
  for (const [what, from] of [['resident', forward], ['copied in', expected]] as const) {
    const backward = wasm.lstmBackward!(gh, gc, from, h0, c0, w, extent, true)
    for (const key of ['dPre', 'dh0', 'dc0', 'dw'] as const) expectNear(backward[key]!, expectedBackward[key]!, tolerance, `${key} (${what})`)
  }
  return { p, h0, c0, w, gh, gc, forward, expected }
}

/** The GRU kernels against the composition; returns the operands and both forward results for further checks. */
export const gruParity = (wasm: Kernels, reference: ComposedRecurrence, dtype: DType, extent: RecurrenceExtent, seed: number, tolerance: number) => {
  const n = extent.batch * extent.hidden
  const p = values(dtype, 3 * extent.time * n, seed)
  const h0 = values(dtype, n, seed + 1)
  const w = values(dtype, 3 * extent.hidden * extent.hidden, seed + 2, 0.5)
  const b = values(dtype, 3 * extent.hidden, seed + 3)
  const g = values(dtype, extent.time * n, seed + 4)
  const forward = wasm.gruForward!(p, h0, w, b, extent)
  const expected = reference.gruForward(p, h0, w, b, extent)
  expectNear(forward.hs, expected.hs, tolerance, 'hs')
  const all = { w: true, b: true }
  const expectedBackward = reference.gruBackward(g, expected, h0, w, extent, all)
  // From the states and gates this forward pass left in memory; then from arrays copied in.
  for (const [what, from] of [['resident', forward], ['copied in', expected]] as const) {
    const backward = wasm.gruBackward!(g, from, h0, w, extent, all)
    for (const key of ['dPre', 'dh0', 'dw', 'db'] as const) expectNear(backward[key]!, expectedBackward[key]!, tolerance, `${key} (${what})`)
  }
  return { p, h0, w, b, g, forward, expected, expectedBackward }
}
