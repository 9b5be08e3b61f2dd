/**
 * @file scan: agreement with a plain loop, gradients of a tanh RNN against finite differences,
 * checkpointing that leaves gradients bit-for-bit unchanged, reverse scans, long scans, pytrees,
 * and the carry-mismatch message.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  type Key, type ScanOptions, type Tensor, ShapeError, TreeError, ValueError, add, arange, cast, checkGrads, grad, matmul, mean,
  mul, normal, randomKey, reshape, scan, splitKey, stack, sum, tanh, tensor, treeLeaves, unstack, zeros,
} from '../../src/index.js'

/** The reference semantics of scan: a plain loop over axis 0, ys placed at their step's index. */
const scanReference = <C, Y>(f: (c: C, x: Tensor) => readonly [C, Y], init: C, xs: Tensor, reverse = false): [C, Y[]] => {
  const steps = unstack(xs)
  const ys: Y[] = new Array(steps.length)
  let carry = init
  for (let i = 0; i < steps.length; i++) {
    const t = reverse ? steps.length - 1 - i : i
    const [next, y] = f(carry, steps[t])
    carry = next
    ys[t] = y
  }
  return [carry, ys]
}

interface Rnn {
  readonly wIn: Tensor
  readonly wRec: Tensor
  readonly b: Tensor
}

/** h_t = tanh(x_t·wIn + h_{t−1}·wRec + b), row-vector convention: h is [batch, hidden]. */
const rnnStep = (p: Rnn) => (h: Tensor, x: Tensor) => {
  const next = tanh(add(add(matmul(x, p.wIn), matmul(h, p.wRec)), p.b))
  return [next, next] as const
}

const initRnn = (key: Key, inputs: number, hidden: number): Rnn => {
  const [k1, k2, k3] = splitKey(key, 3)
  return { wIn: mul(normal(k1, [inputs, hidden]), 0.5), wRec: mul(normal(k2, [hidden, hidden]), 0.5), b: mul(normal(k3, [hidden]), 0.1) }
}

/** Reads the final carry and every output (weighted by time), so gradients flow along both paths. */
const rnnLoss = (p: Rnn, h0: Tensor, xs: Tensor, options: ScanOptions = {}): Tensor => {
  const [h, hs] = scan(rnnStep(p), h0, xs, options)
  const weights = reshape(mul(arange(hs.size), 0.1), hs.shape)
  return add(sum(mul(h, h)), mean(mul(hs, weights)))
}

const expectRight = (result: E.Either<{ message: string }, unknown>): void => {
  expect(E.isRight(result) ? 'ok' : result.left.message).toBe('ok')
}

const rnnCase = () => {
  const [k1, k2, k3] = splitKey(randomKey(1), 3)
  return { p: initRnn(k1, 2, 3), h0: mul(normal(k2, [2, 3]), 0.3), xs: normal(k3, [4, 2, 2]) }
}

describe('ad.scan', () => {
  it('equals a plain loop (carry and ys), forwards and in reverse, with and without checkpoints', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }),
        fc.boolean(), fc.constantFrom<ScanOptions['checkpoint']>(false, true, 2), fc.integer({ min: 0, max: 1000 }),
        (length, batch, hidden, reverse, checkpoint, seed) => {
          const [k1, k2, k3] = splitKey(randomKey(seed), 3)
          const p = initRnn(k1, 2, hidden)
          const h0 = normal(k2, [batch, hidden])
          const xs = normal(k3, [length, batch, 2])
          const [h, hs] = scan(rnnStep(p), h0, xs, { reverse, checkpoint })
          const [hRef, ysRef] = scanReference(rnnStep(p), h0, xs, reverse)
          expect(h.toArray()).toEqual(hRef.toArray())
          expect(hs.toArray()).toEqual(stack(ysRef).toArray())
        },
      ),
      { numRuns: 25, seed: 7 },
    )
  })

  it('tanh RNN gradients match central differences (orders 1 and 2, every argument)', () => {
    const { p, h0, xs } = rnnCase()
    expectRight(checkGrads((q: Rnn, h: Tensor, x: Tensor) => rnnLoss(q, h, x), [p, h0, xs], { order: 2 }))
    expectRight(checkGrads((q: Rnn, h: Tensor, x: Tensor) => rnnLoss(q, h, x, { reverse: true, checkpoint: 3 }), [p, h0, xs], { order: 2 }))
  })

  it('checkpoint: true and checkpoint: 3 give exactly the same gradients as no checkpoint', () => {
    const { p, h0 } = rnnCase()
    const longXs = normal(randomKey(5), [10, 2, 2])
    for (const reverse of [false, true]) {
      const gradients = (checkpoint: ScanOptions['checkpoint']) =>
        grad((q: Rnn, h: Tensor) => rnnLoss(q, h, longXs, { checkpoint, reverse }), { argnums: [0, 1] })(p, h0)
      const plain = treeLeaves(gradients(false)).map((t) => t.toArray())
      for (const checkpoint of [true, 3] as const) {
        expect(treeLeaves(gradients(checkpoint)).map((t) => t.toArray())).toEqual(plain)
      }
    }
  })

  it('reverse runs from the last step, with ys aligned with xs', () => {
    const xs = tensor([1, 2, 3, 4])
    // carry = running sum from the end; y_t = the sum of x_t..x_{T−1}.
    const [total, ys] = scan((c: Tensor, x: Tensor) => [add(c, x), add(c, x)] as const, tensor(0), xs, { reverse: true })
    expect(total.item()).toBe(10)
    expect(ys.toArray()).toEqual([10, 9, 7, 4])
    const [, forward] = scan((c: Tensor, x: Tensor) => [add(c, x), add(c, x)] as const, tensor(0), xs)
    expect(forward.toArray()).toEqual([1, 3, 6, 10])
    // y_t weighs x_s for s ≥ t, so ∂(Σ_t t·y_t)/∂x_s = Σ_{t ≤ s} t.
    const g = grad((x: Tensor) => sum(mul(scan((c: Tensor, v: Tensor) => [add(c, v), add(c, v)] as const, tensor(0), x, { reverse: true })[1], arange(4))))(xs)
    expect(g.toArray()).toEqual([0, 1, 3, 6])
  })

  it('runs 10,000 steps forwards and backwards without overflowing the stack', () => {
    const p = initRnn(randomKey(2), 1, 2)
    const xs = normal(randomKey(3), [10_000, 1, 1])
    for (const checkpoint of [false, true]) {
      const g = grad((q: Rnn) => rnnLoss(q, zeros([1, 2]), xs, { checkpoint }))(p)
      expect(treeLeaves(g).every((t) => t.data.every(Number.isFinite))).toBe(true)
    }
  })

  it('takes xs and returns ys as pytrees', () => {
    const xs: { a: Tensor; pair: [Tensor, null] } = { a: tensor([1, 2, 3]), pair: [tensor([[1, 0], [0, 1], [1, 1]]), null] }
    const step = (c: { n: Tensor }, x: { a: Tensor; pair: [Tensor, null] }) => {
      const n = add(c.n, mul(x.a, sum(x.pair[0])))
      return [{ n }, { total: n, parts: [x.a, x.pair[0]] }] as const
    }
    const [carry, ys] = scan(step, { n: tensor(0) }, xs)
    expect(carry.n.item()).toBe(1 + 2 + 6)
    expect(ys.total.toArray()).toEqual([1, 3, 9])
    expect(ys.parts[0].toArray()).toEqual([1, 2, 3])
    expect(ys.parts[1].toArray()).toEqual([[1, 0], [0, 1], [1, 1]])
    const g = grad((v: Tensor) => scan(step, { n: tensor(0) }, { ...xs, a: v })[0].n)(xs.a)
    expect(g.toArray()).toEqual([1, 1, 2])
  })

  it('scans without inputs given a length, and with no outputs', () => {
    const [c, ys] = scan((h: Tensor) => [mul(h, 2), h] as const, tensor(1), null, { length: 4 })
    expect(c.item()).toBe(16)
    expect(ys.toArray()).toEqual([1, 2, 4, 8])
    const [last, none] = scan((h: Tensor, x: Tensor) => [add(h, x), null] as const, tensor(0), tensor([1, 2]))
    expect(last.item()).toBe(3)
    expect(none).toBeNull()
  })

  it('over zero steps returns init and, as jax.lax.scan, zero-length ys of the step\'s y structure', () => {
    const step = (h: Tensor, x: { a: Tensor; b: Tensor }) => {
      const n = tanh(add(add(matmul(x.a, wIn), h), sum(x.b)))
      return [n, { h: n, pair: [x.b, cast(n, 'float32')] }] as const
    }
    const wIn = normal(randomKey(2), [3, 4])
    const h0 = zeros([2, 4])
    const xs = { a: zeros([0, 2, 3]), b: zeros([0, 5]) }
    for (const options of [{}, { reverse: true }, { checkpoint: 2 }, { traceStep: true }] as const) {
      const [c, ys] = scan(step, h0, xs, options)
      expect(c).toBe(h0)
      expect(ys.h.shape).toEqual([0, 2, 4])
      expect(ys.pair[0].shape).toEqual([0, 5])
      expect(ys.pair[1].shape).toEqual([0, 2, 4])
      expect(ys.pair[1].dtype).toBe('float32')
    }
    // Batch-major: time is axis 1 of xs and of ys.
    const [, batchMajor] = scan(step, h0, { a: zeros([2, 0, 3]), b: zeros([1, 0, 5]) }, { timeAxis: 1 })
    expect(batchMajor.h.shape).toEqual([2, 0, 4])
    expect(batchMajor.pair[0].shape).toEqual([1, 0, 5])
    // Masked: the mask is [time, batch, 1] with time 0.
    const [, masked] = scan((h: Tensor, x: Tensor) => [add(h, x), mul(h, 2)] as const, h0, zeros([0, 2, 4]), { mask: zeros([0, 2, 1]) })
    expect(masked.shape).toEqual([0, 2, 4])
    // Without inputs (length 0), the step sees x = null; a y of null stays null.
    const [, generated] = scan((h: Tensor, x: null) => [h, { h, x }] as const, h0, null, { length: 0 })
    expect(generated.h.shape).toEqual([0, 2, 4])
    expect(generated.x).toBeNull()
    expect(scan((h: Tensor) => [h, null] as const, h0, zeros([0, 1]))[1]).toBeNull()
    // There is no last output of zero steps.
    expect(scan(step, h0, xs, { outputs: 'last' })[1]).toBeNull()
    // The empty ys take part in gradients like any other output: zero-length, so they add nothing.
    const g = grad((w: Tensor) => add(sum(scan((h: Tensor, x: Tensor) => [h, matmul(x, w)] as const, h0, zeros([0, 2, 3]))[1]), sum(w)))(wIn)
    expect(Array.from(g.data).every((v) => v === 1)).toBe(true)
  })

  it('explains a carry that changes shape, structure or dtype', () => {
    const bad = () => scan((h: Tensor, x: Tensor) => [sum(add(h, x), 0), h] as const, zeros([1, 3]), zeros([2, 1, 3]))
    expect(bad).toThrow(ShapeError)
    expect(bad).toThrow(/scan: the step function returned a carry that does not match `init`\.\n {2}carry: expected shape \[1, 3\], got \[3\]\n {2}\(at step 0\)/)
    const tree = () => scan((c: { h: Tensor }) => [{ h: c.h, extra: c.h }, null] as const, { h: zeros([2]) }, zeros([3, 1]))
    expect(tree).toThrow(/structure differs at \(root\): keys differ \(only in the first: none; only in the second: extra\)/)
    const leafPath = () => scan((c: { h: Tensor[] }) => [{ h: [c.h[0], zeros([1])] }, null], { h: [zeros([2]), zeros([2])] }, zeros([3, 1]))
    expect(leafPath).toThrow(/carry\.h\[1\]: expected shape \[2\], got \[1\]/)
    const dtype = () => scan((h: Tensor) => [zeros([2], { dtype: 'float32' }), null] as const, zeros([2]), zeros([3, 1]))
    expect(dtype).toThrow(/expected dtype float64, got float32/)
  })

  it('rejects other misuse with a message', () => {
    expect(() => scan((h: Tensor) => [h, null] as const, zeros([1]), { a: zeros([3, 1]), b: zeros([2, 1]) }))
      .toThrow(/xs\.b has shape \[2, 1\], expected \[3, \.\.\.\]/)
    expect(() => scan((h: Tensor) => [h, null] as const, zeros([1]), null)).toThrow(ValueError)
    expect(() => scan((h: Tensor) => h as unknown as readonly [Tensor, null], zeros([1]), zeros([2]))).toThrow(TreeError)
    expect(() => scan((h: Tensor) => [h, null] as const, zeros([1]), zeros([2]), { checkpoint: -1 })).toThrow(/checkpoint must be a boolean or a positive integer/)
  })
})
