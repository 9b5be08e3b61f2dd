/**
 * @file One property per differentiable op, driven by the table in opSpecs.ts: reverse-mode
 * derivatives match central differences in float64 (first order, and second order for smooth ops),
 * and the float32 forward pass agrees with the float64 one within float32 round-off.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type Tensor, cast, checkGrads, treeLeaves } from '../../src/index.js'
import { type OpCase, type OpSpec, type PrimitiveName, opSpecs } from './opSpecs.js'

/** Pinned so CI replays the same cases; fast-check prints seed and path on failure. */
const SEED = 20240611
const NUM_RUNS = 25

/**
 * float32 keeps 24 bits (ε ≈ 1.2e-7). The inputs are rounded to float32 first, and the ops here
 * have condition numbers of a few units on the drawn domains (log at 0.25, exp at 2, small sums),
 * so 1e-5 relative plus 1e-5 absolute (for results that cancel to near 0) leaves a margin of ~10×.
 */
const FLOAT32_TOLERANCE = { rtol: 1e-5, atol: 1e-5 }

const float32AgreesWithFloat64 = (c: OpCase): void => {
  const y64 = treeLeaves(c.run(...c.args))
  const y32 = treeLeaves(c.run(...c.args.map((x) => cast(x, 'float32'))))
  expect(y32.length).toBe(y64.length)
  y32.forEach((y, j) => {
    expect(y.dtype, `output ${j} dtype`).toBe('float32')
    expect(y.shape).toEqual(y64[j].shape)
    y.data.forEach((v, i) => {
      const w = y64[j].data[i]
      if (!(Math.abs(v - w) <= FLOAT32_TOLERANCE.atol + FLOAT32_TOLERANCE.rtol * Math.abs(w))) {
        expect.fail(`float32 output ${j}[${i}] is ${v}, float64 gives ${w}`)
      }
    })
  })
}

const gradientsMatch = (c: OpCase, spec: OpSpec): void => {
  const result = checkGrads(c.run, c.args, { order: spec.smooth ? 2 : 1, ...spec.check })
  if (E.isLeft(result)) expect.fail(result.left.message)
}

const entries = Object.entries(opSpecs) as [PrimitiveName, OpSpec][]

describe('ops', () => {
  it('the table has one spec per op', () => {
    expect(entries).toHaveLength(38)
  })

  describe.each(entries)('%s', (name, spec) => {
    it(`order ${spec.smooth ? '1 and 2' : '1'} derivatives match central differences; float32 forward agrees with float64`, () => {
      fc.assert(
        fc.property(spec.cases, (c) => {
          const y = c.run(...c.args)
          expect(treeLeaves(y).every((t: Tensor) => t.dtype === (name === 'cast' ? 'float32' : 'float64'))).toBe(true)
          gradientsMatch(c, spec)
          float32AgreesWithFloat64(c)
        }),
        { numRuns: NUM_RUNS, seed: SEED },
      )
    })
  })
})
