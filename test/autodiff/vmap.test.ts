/**
 * @file vmap for every differentiable op, driven by the table in opSpecs.ts: `vmap(f)` equals `f`
 * applied to each example in turn and stacked, for random in axes (null included: an argument
 * shared by the batch) and out axes; `vmap(grad(·))` equals the loop of per-example gradients.
 * Then the ops without a derivative (comparisons, sign, argmax, oneHot, stopGradient, indices
 * batched into take), composition with jvp, grad and itself, and vmap's axes and errors.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, Tensor as TensorClass, ShapeError, TreeError, ValueError, add, argmax, clip, customVjp, definePrimitive, equal, exp, grad,
  greater, hvp, jacfwd, jacrev, jvp, matmul, maximum, mul, oneHot, relu, sign, square, stack, stopGradient, sum, take, tanh, tensor,
  treeLeaves, vjp, vmap,
} from '../../src/index.js'
import { type OpCase, type OpSpec, type PrimitiveName, opSpecs } from './opSpecs.js'

/** Pinned so CI replays the same cases; fast-check prints seed and path on failure. */
const SEED = 20261209
const NUM_RUNS = 25

/** The batched computation reorders no sum within an example, but a kernel may accumulate in another order: round-off only. */
const TOLERANCE = { atol: 1e-12, rtol: 1e-12 }

const expectClose = (actual: Tensor, expected: Tensor, what: string, tol = TOLERANCE): void => {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape)
  expect(actual.dtype, `${what}: dtype`).toBe(expected.dtype)
  actual.data.forEach((v, i) => {
    const w = expected.data[i]
    if (!(Math.abs(v - w) <= tol.atol + tol.rtol * Math.abs(w))) expect.fail(`${what}[${i}]: ${v}, expected ${w}`)
  })
}

/** x's elements rotated by k places: another example with the same values, so the spec's domain holds. */
const rotated = (x: Tensor, k: number): Tensor =>
  tensor(Float64Array.from(x.data, (_, i) => x.data[(i + k) % x.size]), { shape: x.shape, dtype: x.dtype })

/** How a case is batched: the number of examples, each argument's in axis (null: shared), and the out axis. */
interface Batching {
  readonly examples: number
  readonly inAxes: readonly (number | null)[]
  readonly outAxis: number
}

/** Drawn together with the case: in axes anywhere in each argument (written positive or negative), at least one batched. */
const batchingFor = (c: OpCase): fc.Arbitrary<Batching> =>
  fc.tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.tuple(...c.args.map((x) => fc.option(fc.integer({ min: -(x.rank + 1), max: x.rank }), { freq: 3 }))),
    fc.integer({ min: 0, max: c.args.length - 1 }),
    fc.boolean(),
  ).map(([examples, axes, forced, negativeOut]) => ({
    examples,
    // One argument is always batched: vmap needs a batch size.
    inAxes: axes.map((a, i) => (a === null && i === forced ? 0 : a)),
    outAxis: negativeOut ? -1 : 0,
  }))

const casesWithBatching = (spec: OpSpec) => spec.cases.chain((c) => batchingFor(c).map((b) => [c, b] as const))

/** Each example's arguments: batched ones rotated by the example's index, shared ones as they are. */
const examplesOf = (c: OpCase, b: Batching): Tensor[][] =>
  Array.from({ length: b.examples }, (_, k) => c.args.map((x, i) => (b.inAxes[i] === null ? x : rotated(x, k))))

/** The batched arguments: each batched one's examples stacked along its in axis. */
const batchedArgs = (c: OpCase, b: Batching, examples: Tensor[][]): Tensor[] =>
  c.args.map((x, i) => {
    const axis = b.inAxes[i]
    return axis === null ? x : stack(examples.map((e) => e[i]), axis < 0 ? axis + x.rank + 1 : axis)
  })

/** Each example's output leaves stacked along the out axis. */
const stackedLeaves = (perExample: readonly Tensor[][], outAxis: number): Tensor[] =>
  perExample[0].map((y, j) => stack(perExample.map((leaves) => leaves[j]), outAxis < 0 ? outAxis + y.rank + 1 : outAxis))

const vmapMatchesLoop = (c: OpCase, b: Batching): void => {
  const examples = examplesOf(c, b)
  const expected = stackedLeaves(examples.map((args) => treeLeaves(c.run(...args))), b.outAxis)
  const actual = treeLeaves(vmap(c.run, { inAxes: b.inAxes, outAxes: b.outAxis })(...batchedArgs(c, b, examples)))
  expect(actual.length).toBe(expected.length)
  actual.forEach((y, j) => expectClose(y, expected[j], `output ${j}`))
}

/** ⟨u, f(args)⟩ for a fixed cotangent u per output leaf, so its gradient is the VJP of u. */
const innerWith = (c: OpCase) => {
  const us = treeLeaves(c.run(...c.args)).map((y, j) => rotated(tensor(Float64Array.from({ length: y.size }, (_, i) => Math.sin(i + j + 1)), { shape: y.shape }), 0))
  return (...args: Tensor[]): Tensor =>
    treeLeaves(c.run(...args)).map((y, j) => sum(mul(y, us[j]))).reduce((s, t) => add(s, t))
}

const gradsMatchLoop = (c: OpCase, b: Batching): void => {
  const examples = examplesOf(c, b)
  const f = grad(innerWith(c), { argnums: c.args.map((_, i) => i) })
  const expected = stackedLeaves(examples.map((args) => treeLeaves(f(...args))), 0)
  const actual = treeLeaves(vmap(f, { inAxes: b.inAxes })(...batchedArgs(c, b, examples)))
  actual.forEach((g, j) => expectClose(g, expected[j], `gradient ${j}`))
}

const entries = Object.entries(opSpecs) as [PrimitiveName, OpSpec][]

describe('vmap of every op', () => {
  describe.each(entries)('%s', (_name, spec) => {
    it('equals the loop over examples, stacked; so does vmap(grad(·))', () => {
      fc.assert(fc.property(casesWithBatching(spec), ([c, b]) => {
        vmapMatchesLoop(c, b)
        gradsMatchLoop(c, b)
      }), { numRuns: NUM_RUNS, seed: SEED })
    })
  })
})

describe('vmap of values without a derivative', () => {
  const xs = tensor([[0.5, -2, 3], [-1, 4, 0], [2, 2, -3]])
  const values = xs.toArray() as number[][]
  const eachRow = (f: (x: Tensor) => Tensor): Tensor => stack(values.map((row) => f(tensor(row))), 0)
  const eachColumn = (f: (x: Tensor) => Tensor): Tensor => stack([0, 1, 2].map((j) => f(tensor(values.map((row) => row[j])))), -1)

  it.each([
    ['greater', (x: Tensor) => greater(x, tensor([0, 1, 2]))],
    ['equal', (x: Tensor) => equal(x, 2)],
    ['sign', sign],
    ['argmax', (x: Tensor) => argmax(x)],
    ['oneHot of argmax', (x: Tensor) => oneHot(argmax(x), 3)],
    ['stopGradient', (x: Tensor) => mul(stopGradient(x), x)],
    ['relu (its VJP compares)', (x: Tensor) => grad((y: Tensor) => sum(relu(y)))(x)],
    ['maximum (its VJP compares)', (x: Tensor) => grad((y: Tensor) => sum(maximum(y, 1)))(x)],
  ] as const)('%s', (_, f) => {
    expectClose(vmap(f)(xs), eachRow(f), 'vmap')
    expectClose(vmap(f, { inAxes: 1, outAxes: -1 })(xs), eachColumn(f), 'vmap along axis 1')
  })

  it('take with indices that differ between examples, from a shared table and from batched tables, and its gradients', () => {
    const table = tensor([[1, 2], [3, 4], [5, 6]])
    const tables = stack([table, mul(table, 10)], 0)
    const indices = tensor([[0, 2, -1], [1, 1, 0]])
    const gather = (t: Tensor, i: Tensor) => mul(take(t, i), take(t, i))
    const perExample = (t: (k: number) => Tensor) => stack([0, 1].map((k) => gather(t(k), tensor((indices.toArray() as number[][])[k]))), 0)
    expectClose(vmap(gather, { inAxes: [null, 0] })(table, indices), perExample(() => table), 'shared table')
    expectClose(vmap(gather)(tables, indices), perExample((k) => (k === 0 ? table : mul(table, 10))), 'batched tables')
    // along axis 1 of the table, and indices batched along their own axis 1
    const columns = (t: Tensor, i: Tensor) => take(t, i, 1)
    expectClose(vmap(columns, { inAxes: [0, 1] })(tables, tensor([[1, 0], [0, 0]])), stack([
      take(table, [1, 0], 1), take(mul(table, 10), [0, 0], 1),
    ], 0), 'batched tables, axis 1')
    const g = grad((t: Tensor, i: Tensor) => sum(gather(t, i)))
    const loopGrads = (t: (k: number) => Tensor) => stack([0, 1].map((k) => g(t(k), tensor((indices.toArray() as number[][])[k]))), 0)
    expectClose(vmap(g, { inAxes: [null, 0] })(table, indices), loopGrads(() => table), 'gradient, shared table')
    expectClose(vmap(g)(tables, indices), loopGrads((k) => (k === 0 ? table : mul(table, 10))), 'gradient, batched tables')
    expect(() => vmap(gather, { inAxes: [null, 0] })(table, tensor([[0, 3]]))).toThrow(/take: indices must be integers in \[-3, 3\)/)
  })
})

describe('vmap composes', () => {
  const w = tensor([[0.5, -1, 0.25], [2, 0.75, -0.5]])
  const f = (x: Tensor) => tanh(matmul(x, w)) // one example x: [2] → [3]
  const xs = tensor([[1, -0.5], [0.25, 2], [-1, 1], [0.5, 0.5]])
  const rows = (xs.toArray() as number[][]).map((r) => tensor(r))

  it('with jvp: vmap of jvp and jvp of vmap equal the loop', () => {
    const ts = mul(xs, 0.5)
    const tangentRows = rows.map((r) => mul(r, 0.5))
    const expected = stack(rows.map((x, i) => jvp(f, [x], [tangentRows[i]])[1]), 0)
    expectClose(vmap((x: Tensor, t: Tensor) => jvp(f, [x], [t])[1])(xs, ts), expected, 'vmap(jvp)')
    expectClose(jvp(vmap(f), [xs], [ts])[1], expected, 'jvp(vmap)')
  })

  it('with grad, vjp, hvp, jacfwd and jacrev, in either order', () => {
    const loss = (x: Tensor) => sum(square(f(x)))
    expectClose(vmap(grad(loss))(xs), stack(rows.map(grad(loss)), 0), 'vmap(grad)')
    expectClose(grad((x: Tensor) => sum(vmap(loss)(x)))(xs), stack(rows.map(grad(loss)), 0), 'grad(vmap)')
    const u = tensor([1, -2, 0.5])
    expectClose(vmap((x: Tensor) => vjp(f, x)[1](u)[0])(xs), stack(rows.map((x) => vjp(f, x)[1](u)[0]), 0), 'vmap(vjp)')
    const v = tensor([0.25, -1])
    expectClose(vmap((x: Tensor) => hvp(loss)(x, v))(xs), stack(rows.map((x) => hvp(loss)(x, v)), 0), 'vmap(hvp)')
    expectClose(vmap(jacfwd(f))(xs), stack(rows.map(jacfwd(f)), 0), 'vmap(jacfwd)')
    expectClose(vmap(jacrev(f))(xs), stack(rows.map(jacrev(f)), 0), 'vmap(jacrev)')
    expectClose(jacrev(vmap(f))(xs), jacfwd(vmap(f))(xs), 'jacrev(vmap) = jacfwd(vmap)', { atol: 1e-12, rtol: 1e-10 })
  })

  it('with itself: nested vmaps over two axes equal the double loop, in any axis order', () => {
    const g = (x: Tensor, y: Tensor) => sum(mul(exp(x), y)) // x [2], y [2]
    const ys = tensor([[1, 2], [3, -1], [0.5, 0]])
    const yRows = (ys.toArray() as number[][]).map((r) => tensor(r))
    const expected = stack(rows.map((x) => stack(yRows.map((y) => g(x, y)), 0)), 0) // [4, 3]
    expectClose(vmap(vmap(g, { inAxes: [null, 0] }), { inAxes: [0, null] })(xs, ys), expected, 'outer over x')
    expectClose(vmap(vmap(g, { inAxes: [0, null] }), { inAxes: [null, 0], outAxes: 1 })(xs, ys), expected, 'outer over y, out axis 1')
    const perPair = vmap(vmap(grad(g), { inAxes: [null, 0] }), { inAxes: [0, null] })(xs, ys)
    expectClose(perPair, stack(rows.map((x) => stack(yRows.map((y) => grad(g)(x, y)), 0)), 0), 'per-pair gradients')
  })
})

describe('vmap of functions without a batching rule', () => {
  const xs = tensor([[1, 2], [-3, 0.5]])

  it('a primitive defined without `batch` runs once per example, at every order', () => {
    const cube = definePrimitive({
      name: 'cube',
      forward: ([x]) => new TensorClass(Float64Array.from(x.data, (v) => v ** 3), x.shape),
      vjp: (g, { inputs: [x] }) => [mul(g, mul(square(x), 3))],
    })
    const f = (x: Tensor) => sum(cube([x], undefined))
    expectClose(vmap(f)(xs), tensor([9, -26.875]), 'forward')
    expectClose(vmap(grad(f))(xs), tensor([[3, 12], [27, 0.75]]), 'vmap(grad)')
    expectClose(grad((x: Tensor) => sum(vmap(f)(x)))(xs), tensor([[3, 12], [27, 0.75]]), 'grad(vmap)')
  })

  it('a customVjp keeps its VJP under vmap, inside and outside grad', () => {
    // the identity times 3 forwards; backwards the cotangent is clipped to [−1, 1]
    const clipped = customVjp((x: Tensor) => [mul(x, 3), null] as const, (_, g: Tensor) => [clip(g, -1, 1)])
    const f = (x: Tensor) => sum(clipped(x))
    expectClose(vmap(clipped)(xs), mul(xs, 3), 'forward')
    expectClose(vmap(grad(f))(xs), tensor([[1, 1], [1, 1]]), 'vmap(grad)')
    expectClose(grad((x: Tensor) => sum(vmap(clipped)(x)))(xs), tensor([[1, 1], [1, 1]]), 'grad(vmap)')
  })
})

describe('vmap: axes over pytrees', () => {
  const a = tensor([[1, 2], [3, 4], [5, 6]]) // 3 examples along axis 0, 2 along axis 1
  const b = tensor([10, 20])

  it('inAxes as a prefix tree of each argument, outAxes as a prefix tree of the output', () => {
    const f = ({ x, y }: { x: Tensor; y: Tensor }, z: Tensor) => ({ sum: add(x, y), product: [mul(x, z)] })
    const out = vmap(f, { inAxes: [{ x: 1, y: null }, 0], outAxes: { sum: 0, product: [-1] } })({ x: a, y: tensor(1) }, b)
    expect(out.sum.toArray()).toEqual([[2, 4, 6], [3, 5, 7]])
    expect(out.product[0].toArray()).toEqual([[10, 40], [30, 80], [50, 120]])
  })

  it('an output that does not depend on the batch is repeated along its out axis; null leaves it as it is', () => {
    expect(vmap((x: Tensor) => [x, b], { outAxes: [0, 1] })(a)[1].toArray()).toEqual([[10, 10, 10], [20, 20, 20]])
    expect(vmap((x: Tensor) => [x, b], { outAxes: [0, null] })(a)[1].toArray()).toEqual([10, 20])
  })

  it('refuses with messages that name the argument, the axis and the sizes', () => {
    expect(() => vmap(add)(a, tensor([1, 2]))).toThrow(ShapeError)
    expect(() => vmap(add)(a, tensor([1, 2]))).toThrow(/argument 0: 3 along axis 0 of \[3, 2\]\n {2}argument 1: 2 along axis 0 of \[2\]/)
    expect(() => vmap(add, { inAxes: [2, 0] })(a, a)).toThrow(/in axis of argument 0 \[3, 2\]: axis 2 is out of range .* \[-2, 1\]/)
    expect(() => vmap(add, { inAxes: [-3, 0] })(a, a)).toThrow(ShapeError)
    expect(() => vmap(add, { inAxes: [0] })(a, a)).toThrow(TreeError)
    expect(() => vmap(add, { inAxes: [null, null] })(a, a)).toThrow(/no argument is batched/)
    expect(() => vmap((t: { x: Tensor }) => t.x, { inAxes: [{ y: 0 }] })({ x: a })).toThrow(/keys \[y\].*keys \[x\]/)
    expect(() => vmap((x: Tensor) => x, { outAxes: null })(a)).toThrow(ValueError)
    expect(() => vmap((x: Tensor) => x, { outAxes: 2 })(a)).toThrow(/out axis of output \[2\]: axis 2 is out of range/)
  })
})
