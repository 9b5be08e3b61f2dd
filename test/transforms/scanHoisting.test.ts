/**
 * @file Step-invariant work in `scan`: a primitive applied to tensors that no step made (a cell's
 * weights) runs once per scan, not once per step, and the gradients are those of running it every
 * step (the reused value is one node whose cotangents the steps sum).
 */
import { describe, expect, it } from 'vitest'
import { type Tensor, add, definePrimitive, grad, matmul, mul, normal, randomKey, scan, sum, tanh, transpose } from '../../src/index.js'
import { expectClose } from '../nn/support.js'

/** The identity, counting its forward calls: shows how often a step's operation really ran. */
const counter = () => {
  let calls = 0
  const op = definePrimitive<number>({
    name: 'countedScale',
    forward: ([x], factor) => {
      calls++
      return new (x.constructor as typeof Tensor)(x.data.map((v) => v * factor), x.shape)
    },
    vjp: (g, { params: factor }) => [mul(g, factor)],
  })
  return { op: (x: Tensor, factor: number) => op([x], factor), calls: () => calls }
}

const w = normal(randomKey(1), [4, 4])
const xs = normal(randomKey(2), [6, 3, 4])
const h0 = normal(randomKey(3), [3, 4])

describe('scan runs step-invariant work once', () => {
  it('a transform of a closed-over weight runs once for six steps; one of the carry runs every step', () => {
    const { op, calls } = counter()
    scan((h: Tensor, x: Tensor) => {
      const next = tanh(add(matmul(h, transpose(op(w, 2))), x))
      return [next, op(next, 1)] as const
    }, h0, xs)
    expect(calls()).toBe(1 + 6)
  })

  it('the same operation with other parameters is another result', () => {
    const { op, calls } = counter()
    scan((h: Tensor, x: Tensor) => {
      const next = tanh(add(add(matmul(h, op(w, 2)), matmul(h, op(w, 3))), x))
      return [next, next] as const
    }, h0, xs)
    expect(calls()).toBe(2)
  })

  it('gradients equal running the work in every step (weights, inputs, initial state)', () => {
    const loss = (hoist: boolean) => (weight: Tensor, inputs: Tensor, start: Tensor): Tensor => {
      const { op } = counter()
      // The reference multiplies the weight by an exact 1 made from the step's input, so the
      // operation's input differs in every step and nothing is reused.
      const [, hs] = scan((h: Tensor, x: Tensor) => {
        const u = op(hoist ? weight : mul(weight, add(mul(sum(x), 0), 1)), 0.5)
        const next = tanh(add(matmul(h, transpose(u)), x))
        return [next, next] as const
      }, start, inputs)
      return sum(mul(hs, hs))
    }
    const { op, calls } = counter()
    scan((h: Tensor, x: Tensor) => [h, op(mul(w, add(mul(sum(x), 0), 1)), 1)] as const, h0, xs)
    expect(calls(), 'the reference runs the operation in every step').toBe(6)
    const gHoisted = grad(loss(true), { argnums: [0, 1, 2] })(w, xs, h0)
    const gEachStep = grad(loss(false), { argnums: [0, 1, 2] })(w, xs, h0)
    gHoisted.forEach((g, i) => expectClose(g, gEachStep[i], 1e-12, `gradient ${i}`))
  })

  it('not inside checkpointed groups (their steps run again in the backward pass)', () => {
    const { op, calls } = counter()
    scan((h: Tensor, x: Tensor) => {
      const next = tanh(add(matmul(h, op(w, 2)), x))
      return [next, next] as const
    }, h0, xs, { checkpoint: 2 })
    expect(calls()).toBe(6)
  })
})
