/**
 * @file Forward mode for every differentiable op, driven by the table in opSpecs.ts: each op's
 * tangent rule against central differences in float64 along a random tangent; the dot-product
 * identity ⟨u, J·t⟩ = ⟨Jᵀ·u, t⟩ against reverse mode; and, for the smooth ops, the Hessian-vector
 * product of ⟨u, f⟩ three ways (forward over reverse, reverse over forward, central differences of
 * the gradient). Also: tangents of integer-like results (argmax, comparisons) are zero, and a
 * primitive without a tangent rule gets one derived from its VJP.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, Tensor as TensorClass, ValueError, add, argmax, cast, definePrimitive, equal, grad, greater, jvp, mul, normal, oneHot,
  randomKey, sign, splitKey, square, stopGradient, sum, tanh, tensor, treeLeaves,
} from '../../src/index.js'
import { type OpCase, type OpSpec, type PrimitiveName, opSpecs } from './opSpecs.js'

/** Pinned so CI replays the same cases; fast-check prints seed and path on failure. */
const SEED = 20261208
const NUM_RUNS = 15

/** checkGrads' float64 defaults: ε = 1e-6 leaves truncation and round-off both near 1e-10. */
const EPS = 1e-6
const TOLERANCE = { atol: 1e-6, rtol: 1e-5 }

const leavesOf = (y: Tensor | readonly Tensor[]): Tensor[] => treeLeaves(y)

/** One random tensor per tensor, same shape and dtype. */
const randomLike = (xs: readonly Tensor[], seed: number): Tensor[] => {
  const keys = splitKey(randomKey(seed), xs.length + 1)
  return xs.map((x, i) => cast(normal(keys[i], x.shape), x.dtype))
}

const step = (xs: readonly Tensor[], ts: readonly Tensor[], h: number): Tensor[] => xs.map((x, i) => add(x, mul(ts[i], h)))

const expectClose = (actual: Tensor, expected: Tensor, what: string, tol = TOLERANCE): void => {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape)
  actual.data.forEach((v, i) => {
    const w = expected.data[i]
    if (!(Math.abs(v - w) <= tol.atol + tol.rtol * Math.abs(w))) expect.fail(`${what}[${i}]: ${v}, expected ${w}`)
  })
}

/** Central differences of every output leaf of `f` along `ts`. */
const differences = (f: (...xs: Tensor[]) => Tensor[], xs: readonly Tensor[], ts: readonly Tensor[], eps: number): Tensor[] => {
  const [plus, minus] = [f(...step(xs, ts, eps)), f(...step(xs, ts, -eps))]
  return plus.map((p, j) => mul(cast(sub64(p, minus[j]), 'float64'), 1 / (2 * eps)))
}
const sub64 = (a: Tensor, b: Tensor): Tensor => add(cast(a, 'float64'), mul(cast(b, 'float64'), -1))

/** ⟨u, y⟩ over every leaf. */
const inner = (us: readonly Tensor[], ys: readonly Tensor[]): Tensor =>
  ys.map((y, j) => sum(mul(cast(y, 'float64'), us[j]))).reduce((s, t) => add(s, t), tensor(0))

/**
 * Tangents on the grid of multiples of 2⁻¹⁰: with the dyadic inputs and the step 2⁻¹⁰ of cast's
 * spec, x ± ε·t is then exact in float32 and so is the difference quotient.
 */
const onGrid = (t: Tensor): Tensor => tensor(Float64Array.from(t.data, (v) => Math.round(v * 1024) / 1024), { shape: t.shape })

const tangentMatchesDifferences = (c: OpCase, spec: OpSpec, seed: number): void => {
  const f = (...xs: Tensor[]): Tensor[] => leavesOf(c.run(...xs))
  const ts = spec.check?.eps === undefined ? randomLike(c.args, seed) : randomLike(c.args, seed).map(onGrid)
  const [out, tangent] = jvp(f, c.args, ts)
  const numeric = differences(f, c.args, ts, spec.check?.eps ?? EPS)
  const ys = f(...c.args)
  tangent.forEach((t, j) => {
    expect(t.dtype, `tangent ${j} dtype`).toBe(ys[j].dtype)
    expectClose(out[j], ys[j], `primal ${j}`, { atol: 0, rtol: 0 })
    expectClose(cast(t, 'float64'), numeric[j], `tangent ${j}`)
  })
}

/**
 * How closely two float64 computations of one derivative agree: to round-off, unless an output is
 * float32 (cast), whose tangent is rounded to float32 where its cotangent is not.
 */
const roundOff = (ys: readonly Tensor[]): number => (ys.some((y) => y.dtype === 'float32') ? 1e-6 : 1e-10)

/** ⟨u, J·t⟩ from forward mode equals ⟨Jᵀ·u, t⟩ from reverse mode. */
const dotProductIdentity = (c: OpCase, seed: number): void => {
  const f = (...xs: Tensor[]): Tensor[] => leavesOf(c.run(...xs))
  const ts = randomLike(c.args, seed)
  const us = randomLike(f(...c.args).map((y) => cast(y, 'float64')), seed + 1)
  const forward = inner(us, jvp(f, c.args, ts)[1]).item()
  const grads = grad((...xs: Tensor[]) => inner(us, f(...xs)), { argnums: c.args.map((_, i) => i) })(...c.args) as Tensor[]
  const reverse = inner(grads.map((g) => cast(g, 'float64')), ts).item()
  expect(Math.abs(forward - reverse), `⟨u, Jt⟩ = ${forward}, ⟨Jᵀu, t⟩ = ${reverse}`).toBeLessThanOrEqual(roundOff(f(...c.args)) * (1 + Math.abs(reverse)))
}

/** H·t of ⟨u, f⟩ by forward over reverse, by reverse over forward, and by central differences of the gradient. */
const hessianVectorProducts = (c: OpCase, spec: OpSpec, seed: number): void => {
  const f = (...xs: Tensor[]): Tensor[] => leavesOf(c.run(...xs))
  const argnums = c.args.map((_, i) => i)
  const ts = randomLike(c.args, seed)
  const us = randomLike(f(...c.args).map((y) => cast(y, 'float64')), seed + 1)
  const gradient = grad((...xs: Tensor[]) => inner(us, f(...xs)), { argnums }) as (...xs: Tensor[]) => Tensor[]
  const forwardOverReverse = jvp(gradient, c.args, ts)[1]
  const reverseOverForward = grad((...xs: Tensor[]) => inner(us, jvp(f, xs, ts)[1]), { argnums })(...c.args) as Tensor[]
  const numeric = differences(gradient, c.args, ts, spec.check?.eps ?? EPS)
  const agreement = roundOff(f(...c.args))
  forwardOverReverse.forEach((h, i) => {
    expectClose(cast(h, 'float64'), numeric[i], `forward over reverse, argument ${i}`)
    expectClose(cast(reverseOverForward[i], 'float64'), cast(h, 'float64'), `reverse over forward, argument ${i}`, { atol: agreement, rtol: agreement })
  })
}

const entries = Object.entries(opSpecs) as [PrimitiveName, OpSpec][]

describe('jvp of every op', () => {
  describe.each(entries)('%s', (_name, spec) => {
    it(`tangents match central differences and reverse mode${spec.smooth ? '; H·t agrees three ways' : ''}`, () => {
      fc.assert(
        fc.property(spec.cases, fc.integer({ min: 1, max: 2 ** 30 }), (c, seed) => {
          tangentMatchesDifferences(c, spec, seed)
          dotProductIdentity(c, seed)
          if (spec.smooth) hessianVectorProducts(c, spec, seed)
        }),
        { numRuns: NUM_RUNS, seed: SEED },
      )
    })
  })
})

describe('jvp: values without a derivative', () => {
  it('argmax, comparisons, sign, oneHot and stopGradient have zero tangents', () => {
    const x = tensor([[0.5, -2, 3], [1, 1, -1]])
    const t = tensor([[1, 2, 3], [4, 5, 6]])
    const cases: [string, (x: Tensor) => Tensor][] = [
      ['argmax', (y) => argmax(y)],
      ['greater', (y) => greater(y, 0)],
      ['equal', (y) => equal(y, tensor(1))],
      ['sign', (y) => sign(y)],
      ['oneHot', (y) => oneHot(argmax(y), 3)],
      ['stopGradient', (y) => stopGradient(y)],
    ]
    for (const [name, f] of cases) {
      const [out, tangent] = jvp(f, [x], [t])
      expect(tangent.shape, name).toEqual(out.shape)
      expect(Array.from(tangent.data), name).toEqual(new Array<number>(out.size).fill(0))
    }
  })
})

describe('jvp: a primitive without a tangent rule', () => {
  /** x³ with only a VJP; its tangent 3x²·t is derived by transposing it. */
  const cube = definePrimitive<undefined>({
    name: 'cube',
    forward: ([x]) => new TensorClass(Float64Array.from(x.data, (v) => v * v * v), x.shape),
    vjp: (g, { inputs: [x] }) => [mul(g, mul(square(x), 3))],
  })
  /** The same, but its VJP reads `.data`: nothing to transpose. */
  const opaque = definePrimitive<undefined>({
    name: 'opaqueCube',
    forward: ([x]) => new TensorClass(Float64Array.from(x.data, (v) => v * v * v), x.shape),
    vjp: (g, { inputs: [x] }) => [new TensorClass(Float64Array.from(g.data, (v, i) => 3 * v * x.data[i] ** 2), x.shape)],
  })

  it('gets one derived from its VJP, at every order', () => {
    const x = tensor([2, -1])
    const [y, dy] = jvp((v: Tensor) => cube([v], undefined), [x], [tensor([1, 0.5])])
    expect(Array.from(y.data)).toEqual([8, -1])
    expect(Array.from(dy.data)).toEqual([12, 1.5])
    // d²/dx² x³ = 6x, forward over forward and forward over reverse.
    const second = jvp((v: Tensor) => jvp((w: Tensor) => cube([w], undefined), [v], [tensor([1, 1])])[1], [x], [tensor([1, 1])])[1]
    expect(Array.from(second.data)).toEqual([12, -6])
    const hvp = jvp(grad((v: Tensor) => sum(cube([v], undefined))), [x], [tensor([1, 1])])[1]
    expect(Array.from(hvp.data)).toEqual([12, -6])
    // Through a tanh, so the transposed VJP sees traced inputs.
    const [, dz] = jvp((v: Tensor) => cube([tanh(v)], undefined), [x], [tensor([1, 1])])
    const t = Math.tanh(2)
    expect(dz.data[0]).toBeCloseTo(3 * t * t * (1 - t * t), 12)
  })

  it('is refused, with the primitive named, when its VJP leaves the tape', () => {
    expect(() => jvp((v: Tensor) => opaque([v], undefined), [tensor([2])], [tensor([1])])).toThrow(ValueError)
    expect(() => jvp((v: Tensor) => opaque([v], undefined), [tensor([2])], [tensor([1])])).toThrow(/opaqueCube: forward mode has no tangent rule/)
  })
})
