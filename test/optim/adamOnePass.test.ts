/**
 * Adam's one-pass update (taken when nothing is differentiated) against its composition of ops
 * (taken under a trace, so that an optimiser step can be differentiated): the same bits for the
 * update and both moments, over three steps, in float32 and float64; and the traced step is still
 * differentiable (its gradient matches central differences through checkGrads).
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type Tensor, arbitraries, cast, checkGrads, sum, tensor, treeLeaves, vjp } from '../../src/index.js'
import * as optim from '../../src/optim/index.js'

const bits = (x: Tensor): number[] => Array.from(x.data)

describe.each(['float32', 'float64'] as const)('scaleByAdam, %s', (dtype) => {
  it('one pass and the traced composition give the same bits (three steps)', () => {
    const gradients = arbitraries.shape({ maxRank: 2, maxDim: 5 }).chain((shape) =>
      fc.tuple(...[0, 1, 2].map(() => arbitraries.tensorOfShape(shape, { min: -3, max: 3 }))))
    fc.assert(fc.property(gradients, (gs) => {
      const opt = optim.scaleByAdam()
      let plainState = opt.init({ w: cast(gs[0], dtype) })
      let tracedState = plainState
      for (const g64 of gs) {
        const g = { w: cast(g64, dtype) }
        const [plain, nextPlain] = opt.update(g, plainState)
        // Under vjp the gradient is traced, so the update runs as ops.
        const [traced] = vjp((gw: Tensor) => {
          const [u, s] = opt.update({ w: gw }, tracedState)
          return [u.w, ...treeLeaves([s.mu, s.nu], 'moments')]
        }, g.w)
        const [, nextTraced] = opt.update(g, tracedState)
        expect(bits(plain.w)).toEqual(bits(traced[0]))
        expect(bits(treeLeaves(nextPlain.mu)[0])).toEqual(bits(traced[1]))
        expect(bits(treeLeaves(nextPlain.nu)[0])).toEqual(bits(traced[2]))
        plainState = nextPlain
        tracedState = nextTraced
      }
    }), { numRuns: 40, seed: 7 })
  })
})

it('a traced Adam step is differentiable (checkGrads in the gradient)', () => {
  const opt = optim.scaleByAdam()
  const g = tensor([0.7, -1.3, 2.1])
  const state = opt.update({ w: g }, opt.init({ w: g }))[1] // the second step: moments away from 0
  const f = (gw: Tensor) => sum(opt.update({ w: gw }, state)[0].w)
  expect(E.isRight(checkGrads(f, [tensor([0.4, 0.9, -1.7])], { order: 1 }))).toBe(true)
})
