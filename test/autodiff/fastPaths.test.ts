/**
 * The map-free fast paths (same-shape, scalar, repeated-row and repeated-column operands of binary
 * operations; strided gathers for transpose and slice; block copies for concat and stack; column
 * sums for leading-axis reductions) against naive index arithmetic written here, over drawn shapes,
 * in both dtypes.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, add, arbitraries, concat, div, grad, mul, slice, square, stack, sub, sum, tensor, transpose,
} from '../../src/index.js'
import { sigmoidBackward, tanhBackward } from '../../src/autodiff/ops/elementwise.js'
import { expectGradsOk } from '../nn/support.js'

const runs = { numRuns: 60, seed: 20261125 }

const stridesOf = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length)
  let k = 1
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = k; k *= shape[i] }
  return s
}

/** Row-major positions of `shape`. */
const positions = (shape: readonly number[]): number[][] => {
  const out: number[][] = []
  const n = shape.reduce((a, b) => a * b, 1)
  for (let i = 0; i < n; i++) {
    const p = new Array<number>(shape.length)
    let r = i
    for (let d = shape.length - 1; d >= 0; d--) { p[d] = r % shape[d]; r = Math.floor(r / shape[d]) }
    out.push(p)
  }
  return out
}

/** x read at an output position under NumPy broadcasting. */
const readBroadcast = (x: Tensor, position: readonly number[]): number => {
  const lead = position.length - x.rank
  const strides = stridesOf(x.shape)
  let flat = 0
  for (let d = 0; d < x.rank; d++) flat += (x.shape[d] === 1 ? 0 : position[lead + d]) * strides[d]
  return x.data[flat]
}

const dtypes = fc.constantFrom('float32' as const, 'float64' as const)

describe('binary operations without index maps equal the broadcast definition', () => {
  const ops = [['add', add, (p: number, q: number) => p + q], ['sub', sub, (p: number, q: number) => p - q],
    ['mul', mul, (p: number, q: number) => p * q], ['div', div, (p: number, q: number) => p / q]] as const
  for (const [name, op, f] of ops) {
    it(name, () => {
      fc.assert(fc.property(arbitraries.broadcastShapes({ maxRank: 4 }), dtypes, fc.boolean(), ([sa, sb], dtype, swap) => {
        const a = tensor(Array.from({ length: sa.reduce((x, y) => x * y, 1) }, (_, i) => 1 + ((i * 7) % 5)), { shape: sa, dtype })
        const b = tensor(Array.from({ length: sb.reduce((x, y) => x * y, 1) }, (_, i) => 2 + ((i * 3) % 7)), { shape: sb, dtype })
        const [x, y] = swap ? [b, a] : [a, b]
        const out = op(x, y)
        const round = dtype === 'float32' ? Math.fround : (v: number) => v
        positions(out.shape).forEach((p, i) => {
          expect(out.data[i]).toBe(round(f(readBroadcast(x, p), readBroadcast(y, p))))
        })
      }), runs)
    })
  }

  it('a mask [T, B, 1] times a row [H]; gradient only to the row', () => {
    const m = tensor([1, 0, 1, 1], { shape: [2, 2, 1] })
    const r = tensor([1, 2, 3])
    expect(mul(m, r).toArray()).toEqual([[[1, 2, 3], [0, 0, 0]], [[1, 2, 3], [1, 2, 3]]])
    expect(grad((row: Tensor) => sum(mul(m, row)))(r).toArray()).toEqual([3, 3, 3])
  })
})

describe('structural fast paths equal index arithmetic', () => {
  it('transpose, slice, concat, stack and leading-axis sums', () => {
    fc.assert(fc.property(arbitraries.shape({ minRank: 1, maxRank: 4, maxDim: 5 }), dtypes, fc.nat(), (shape, dtype, seed) => {
      const n = shape.reduce((a, b) => a * b, 1)
      const x = tensor(Array.from({ length: n }, (_, i) => (i * 13 + seed) % 17), { shape, dtype })
      const strides = stridesOf(shape)
      // transpose: reversed axes
      const t = transpose(x)
      positions(t.shape).forEach((p, i) => {
        const flat = p.reduce((o, v, d) => o + v * strides[shape.length - 1 - d], 0)
        expect(t.data[i]).toBe(x.data[flat])
      })
      // slice: drop the first entry of every axis longer than 1
      const ranges = shape.map((d) => [d > 1 ? 1 : 0, d] as [number, number])
      const s = slice(x, ranges)
      positions(s.shape).forEach((p, i) => {
        const flat = p.reduce((o, v, d) => o + (v + ranges[d][0]) * strides[d], 0)
        expect(s.data[i]).toBe(x.data[flat])
      })
      // concat with itself along the last axis, stack along 0
      const axis = shape.length - 1
      const c = concat([x, x], axis)
      positions(c.shape).forEach((p, i) => {
        const q = [...p]
        q[axis] %= shape[axis]
        expect(c.data[i]).toBe(x.data[q.reduce((o, v, d) => o + v * strides[d], 0)])
      })
      const st = stack([x, x, x], 0)
      expect([...st.shape]).toEqual([3, ...shape])
      for (let i = 0; i < 3 * n; i++) expect(st.data[i]).toBe(x.data[i % n])
      // sum over the leading axis
      if (shape.length > 1) {
        const total = sum(x, 0)
        const inner = n / shape[0]
        for (let j = 0; j < inner; j++) {
          let acc = 0
          for (let r = 0; r < shape[0]; r++) acc += x.data[r * inner + j]
          expect(total.data[j]).toBe(dtype === 'float32' ? Math.fround(acc) : acc)
        }
      }
    }), runs)
  })

  it('stack along axis 0 has unstack as its VJP', () => {
    const xs = [tensor([1, 2]), tensor([3, 4]), tensor([5, 6])]
    const g = grad((ys: Tensor[]) => sum(mul(stack(ys, 0), tensor([[1, 2], [3, 4], [5, 6]]))))(xs)
    expect(g.map((t) => t.toArray())).toEqual([[1, 2], [3, 4], [5, 6]])
  })
})

describe('one-pass activation VJPs', () => {
  it('equal their compositions bit for bit, float32 and float64', () => {
    fc.assert(fc.property(arbitraries.shape({ minRank: 1, maxRank: 3 }), dtypes, fc.nat(), (shape, dtype, seed) => {
      const n = shape.reduce((a, b) => a * b, 1)
      const g = tensor(Array.from({ length: n }, (_, i) => Math.sin(i + seed) * 3), { shape, dtype })
      const t = tensor(Array.from({ length: n }, (_, i) => Math.cos(i * 1.7 + seed) * 0.99), { shape, dtype })
      expect(Array.from(tanhBackward(g, t).data)).toEqual(Array.from(mul(g, sub(1, square(t))).data))
      expect(Array.from(sigmoidBackward(g, t).data)).toEqual(Array.from(mul(g, mul(t, sub(1, t))).data))
    }), runs)
  })

  it('pass checkGrads at orders 1 and 2', () => {
    const g = tensor([0.3, -1.2, 2], { shape: [3] })
    const t = tensor([0.5, -0.25, 0.9], { shape: [3] })
    for (const f of [tanhBackward, sigmoidBackward]) {
      expectGradsOk(f, [g, t], { order: 1 })
      expectGradsOk(f, [g, t], { order: 2 })
    }
  })
})
