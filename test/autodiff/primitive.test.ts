/**
 * @file definePrimitive (a user-defined op joins the tape and nests like the built-in ones) and
 * findNonFinite (the first primitive to produce NaN or ±∞).
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  Tensor, add, checkGrads, definePrimitive, div, exp, findNonFinite, grad, log, mul, square, sub, sum, tensor,
} from '../../src/index.js'

/** x³ with its VJP 3x²·g, written with primitives so that it can be differentiated again. */
const cubePrimitive = definePrimitive<undefined>({
  name: 'cube',
  forward: ([x]) => new Tensor(Float64Array.from(x.data, (v) => v * v * v), x.shape),
  vjp: (g, { inputs: [x] }) => [mul(g, mul(square(x), 3))],
})
const cube = (x: Tensor): Tensor => cubePrimitive([x], undefined)

describe('ad.definePrimitive', () => {
  it('computes, differentiates, and differentiates its VJP', () => {
    expect(cube(tensor([2, -1])).toArray()).toEqual([8, -1])
    expect(grad((x: Tensor) => sum(cube(x)))(tensor([2, -1])).toArray()).toEqual([12, 3])
    expect(grad(grad((x: Tensor) => cube(x)))(tensor(2)).item()).toBe(12)
    const result = checkGrads((x: Tensor) => cube(x), [tensor([[0.5, -1.5]])], { order: 2 })
    expect(E.isRight(result) ? 'ok' : result.left.message).toBe('ok')
  })

  it('carries its name', () => {
    expect(cubePrimitive.primitiveName).toBe('cube')
  })
})

describe('ad.findNonFinite', () => {
  it('names the first primitive whose output is not finite, with the shapes', () => {
    const x = tensor([[1, 0], [2, 3]])
    const culprit = findNonFinite(() => sum(div(add(log(x), 1), 2)))
    expect(culprit).toEqual({ primitive: 'log', inputShapes: [[2, 2]], outputShape: [2, 2] })
  })

  it('returns null when everything is finite, and watches inside grad', () => {
    expect(findNonFinite(() => sum(exp(tensor([1, 2]))))).toBeNull()
    const culprit = findNonFinite(() => grad((v: Tensor) => sum(div(1, sub(v, v))))(tensor([1])))
    expect(culprit?.primitive).toBe('div')
  })

  it('watches only the call itself', () => {
    findNonFinite(() => null)
    expect(() => log(tensor([0]))).not.toThrow()
    const outer = findNonFinite(() => {
      expect(findNonFinite(() => log(tensor([1])))).toBeNull()
      return exp(tensor([1000]))
    })
    expect(outer?.primitive).toBe('exp')
  })
})
