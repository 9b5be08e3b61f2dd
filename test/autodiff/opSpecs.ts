/**
 * @file The exhaustive table of differentiable public ops for the property tests in ops.test.ts.
 *
 * Every name in `PrimitiveName` must have an entry (`satisfies Record<PrimitiveName, OpSpec>`), so
 * an op added to the union without a spec does not compile. Each entry draws whole test cases:
 * random shapes (size-1 axes, broadcast pairs, batched matmuls), random non-differentiable
 * parameters (axes, permutations, ranges, indices, exponents) and values kept away from kinks and
 * domain edges by construction: values are drawn from bands or offset grids, never filtered or
 * retried.
 */
import fc from 'fast-check'
import * as sg from '../../src/index.js'
import { type Tensor, tensor } from '../../src/index.js'

/** Every differentiable public op. */
export type PrimitiveName =
  | 'add' | 'sub' | 'mul' | 'div' | 'neg' | 'pow' | 'square' | 'sqrt' | 'exp' | 'log' | 'abs' | 'tanh'
  | 'sigmoid' | 'relu' | 'leakyRelu' | 'softplus' | 'maximum' | 'minimum' | 'where' | 'clip'
  | 'matmul' | 'transpose' | 'reshape' | 'expandDims' | 'squeeze' | 'broadcastTo'
  | 'sum' | 'mean' | 'max' | 'logSumExp' | 'softmax' | 'logSoftmax'
  | 'concat' | 'stack' | 'unstack' | 'slice' | 'take' | 'cast'

// Each name is a function exported by the public surface (a typo or a removed export fails here).
void (sg satisfies Record<PrimitiveName, (...args: never[]) => unknown>)

/** One drawn case: the tensors to differentiate, and the op applied to them with fixed parameters. */
export interface OpCase {
  readonly args: readonly Tensor[]
  /** The op with its non-differentiable parameters (axes, indices, exponent…) bound. */
  readonly run: (...args: Tensor[]) => Tensor | readonly Tensor[]
  /** Those parameters in words, for failure reports. */
  readonly params: string
}

export interface OpSpec {
  readonly cases: fc.Arbitrary<OpCase>
  /** Twice continuously differentiable on the drawn domain, so second order is checked too. */
  readonly smooth: boolean
  /** Overrides of checkGrads' eps/atol/rtol; every use says why next to it. */
  readonly check?: { readonly eps?: number; readonly atol?: number; readonly rtol?: number }
}

// ---- cases ----

const show = (x: Tensor): string => `${x.dtype}[${x.shape.join(', ')}] ${JSON.stringify(x.toArray())}`

const caseOf = (args: readonly Tensor[], params: string, run: OpCase['run']): OpCase => {
  const drawn = {
    args,
    params,
    run,
    // fast-check prints counterexamples with this, so a failure shows shapes, values and parameters.
    [fc.toStringMethod]: () => `{ args: [${args.map(show).join('; ')}], params: ${params || 'none'} }`,
  }
  return drawn
}

// ---- values ----

/** Reals in [lo, hi]. */
const reals = (lo: number, hi: number): fc.Arbitrary<number> => fc.double({ min: lo, max: hi, noNaN: true })

/** Reals with lo ≤ |v| ≤ hi: away from 0 by construction. */
const awayFromZero = (lo: number, hi: number): fc.Arbitrary<number> => fc.oneof(reals(lo, hi), reals(-hi, -lo))

/**
 * Points of the grid k/4 + offset (|k| ≤ 8) jittered by at most 1/32: two draws with offsets
 * 0 and 1/8 are always at least 1/16 apart, so maximum, minimum and clip never meet a tie.
 */
const grid = (offset: number): fc.Arbitrary<number> =>
  fc.tuple(fc.integer({ min: -8, max: 8 }), reals(-1 / 32, 1 / 32)).map(([k, jitter]) => k / 4 + offset + jitter)

/** Multiples of 2⁻¹⁰ in [−2, 2]: exact in float32, and so are their neighbours at ±2⁻¹⁰. */
const dyadic: fc.Arbitrary<number> = fc.integer({ min: -2048, max: 2048 }).map((k) => k / 1024)

const standard = reals(-2, 2)

// ---- shapes and tensors ----

const sizeOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1)

/** Shapes of rank minRank..maxRank with dimensions 1..3 (so size-1 axes are common). */
const shapes = (minRank = 0, maxRank = 3): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: minRank, maxLength: maxRank })

const tensorOf = (shape: readonly number[], values: fc.Arbitrary<number> = standard): fc.Arbitrary<Tensor> =>
  fc.array(values, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((vs) => tensor(Float64Array.from(vs), { shape }))

const tensors = (values: fc.Arbitrary<number> = standard, minRank = 0, maxRank = 3): fc.Arbitrary<Tensor> =>
  shapes(minRank, maxRank).chain((s) => tensorOf(s, values))

/**
 * `n` shapes that broadcast together: a common shape, from which each member sets some axes to 1
 * and drops some leading axes. Returns the common shape first.
 */
const broadcastFamily = (n: number, minRank = 0, maxRank = 3): fc.Arbitrary<[number[], ...number[][]]> =>
  shapes(minRank, maxRank).chain((common) =>
    fc.array(
      fc.tuple(fc.array(fc.boolean(), { minLength: common.length, maxLength: common.length }), fc.integer({ min: 0, max: common.length })),
      { minLength: n, maxLength: n },
    ).map((members): [number[], ...number[][]] => [
      common,
      ...members.map(([ones, drop]) => common.map((d, i) => (ones[i] ? 1 : d)).slice(drop)),
    ]),
  )

/** A random order of 0..n−1. */
const permutationOf = (n: number): fc.Arbitrary<number[]> =>
  fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n })

/** One axis of a rank-r tensor, written positive or negative. */
const axisOf = (rank: number): fc.Arbitrary<number> => fc.integer({ min: -rank, max: rank - 1 })

/** What a reduction may be given: no axis (all), one axis, or a list (possibly empty) of distinct axes. */
const reduceAxes = (rank: number): fc.Arbitrary<number | number[] | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    ...(rank > 0 ? [axisOf(rank)] : []),
    fc.subarray(Array.from({ length: rank }, (_, i) => i)).chain((axes) =>
      fc.array(fc.boolean(), { minLength: axes.length, maxLength: axes.length }).map((neg) => axes.map((a, i) => (neg[i] ? a - rank : a))),
    ),
  )

/** Tensors whose entries are all distinct by at least 3/16, in shuffled order (no ties for max). */
const distinctTensorOf = (shape: readonly number[]): fc.Arbitrary<Tensor> => {
  const n = sizeOf(shape)
  return fc.tuple(permutationOf(n), fc.array(reals(-1 / 32, 1 / 32), { minLength: n, maxLength: n }))
    .map(([order, jitter]) => tensor(Float64Array.from(order, (k, i) => (k - n / 2) / 4 + jitter[i]), { shape }))
}

// ---- case builders ----

type Binary = (a: sg.Operand, b: sg.Operand) => Tensor

/**
 * A binary op on a broadcasting pair of tensors, or on a tensor and a JavaScript number (either
 * side). `bValues` constrains the right operand (a divisor stays away from 0).
 */
const binaryCases = (op: Binary, name: string, aValues: fc.Arbitrary<number>, bValues: fc.Arbitrary<number> = aValues): fc.Arbitrary<OpCase> =>
  fc.oneof(
    { weight: 3, arbitrary: broadcastFamily(2).chain(([, sa, sb]) => fc.tuple(tensorOf(sa, aValues), tensorOf(sb, bValues)))
      .map(([a, b]) => caseOf([a, b], '', (x, y) => op(x, y))) },
    { weight: 1, arbitrary: fc.tuple(tensors(aValues), bValues)
      .map(([a, b]) => caseOf([a], `${name}(x, ${b})`, (x) => op(x, b))) },
    { weight: 1, arbitrary: fc.tuple(aValues, tensors(bValues))
      .map(([a, b]) => caseOf([b], `${name}(${a}, x)`, (x) => op(a, x))) },
  )

const unaryCases = (op: (x: Tensor) => Tensor, values: fc.Arbitrary<number>): fc.Arbitrary<OpCase> =>
  tensors(values).map((x) => caseOf([x], '', (y) => op(y)))

/** maximum/minimum: the two sides come from interleaved grids, so no pair is within 1/16 of a tie. */
const extremumCases = (op: Binary): fc.Arbitrary<OpCase> =>
  fc.tuple(broadcastFamily(2), fc.boolean()).chain(([[, sa, sb], swap]) =>
    fc.tuple(tensorOf(sa, grid(swap ? 1 / 8 : 0)), tensorOf(sb, grid(swap ? 0 : 1 / 8))),
  ).map(([a, b]) => caseOf([a, b], '', (x, y) => op(x, y)))

type Reduction = (x: Tensor, axis?: sg.Axis, options?: sg.ReduceOptions) => Tensor

const reductionCases = (op: Reduction, values: (shape: number[]) => fc.Arbitrary<Tensor>): fc.Arbitrary<OpCase> =>
  shapes().chain((s) => fc.tuple(values(s), reduceAxes(s.length), fc.boolean()))
    .map(([x, axis, keepDims]) => caseOf([x], `axis ${JSON.stringify(axis)}, keepDims ${keepDims}`, (y) => op(y, axis, { keepDims })))

const softmaxCases = (op: (x: Tensor, axis?: number) => Tensor): fc.Arbitrary<OpCase> =>
  shapes(1).chain((s) => fc.tuple(tensorOf(s, reals(-3, 3)), axisOf(s.length)))
    .map(([x, axis]) => caseOf([x], `axis ${axis}`, (y) => op(y, axis)))

/** matmul: batched with broadcast batch axes, or with a vector (1-D) on either or both sides. */
const matmulCases: fc.Arbitrary<OpCase> = fc.tuple(
  fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }),
  broadcastFamily(2, 0, 2),
  fc.constantFrom('matrix', 'vector-matrix', 'matrix-vector', 'vector-vector'),
).chain(([m, k, n, [, ba, bb], kind]) => {
  const aShape = kind === 'vector-matrix' || kind === 'vector-vector' ? [k] : [...ba, m, k]
  const bShape = kind === 'matrix-vector' || kind === 'vector-vector' ? [k] : [...bb, k, n]
  return fc.tuple(tensorOf(aShape), tensorOf(bShape))
}).map(([a, b]) => caseOf([a, b], '', (x, y) => sg.matmul(x, y)))

const transposeCases: fc.Arbitrary<OpCase> = shapes(0, 4)
  .chain((s) => fc.tuple(tensorOf(s), fc.option(permutationOf(s.length), { nil: undefined })))
  .map(([x, perm]) => caseOf([x], `perm ${JSON.stringify(perm)}`, (y) => sg.transpose(y, perm)))

/** A target shape with the same size: the dimensions shuffled, some 1s inserted, maybe one −1. */
const reshapeCases: fc.Arbitrary<OpCase> = shapes()
  .chain((s) => fc.tuple(
    tensorOf(s),
    fc.integer({ min: 0, max: 2 }).chain((ones) => fc.shuffledSubarray([...s, ...new Array<number>(ones).fill(1)], { minLength: s.length + ones, maxLength: s.length + ones })),
    fc.nat(),
    fc.boolean(),
  ))
  .map(([x, target, at, infer]) => {
    const shape = infer && target.length > 0 ? target.map((d, i) => (i === at % target.length ? -1 : d)) : target
    return caseOf([x], `shape ${JSON.stringify(shape)}`, (y) => sg.reshape(y, shape))
  })

const expandDimsCases: fc.Arbitrary<OpCase> = shapes()
  .chain((s) => fc.tuple(tensorOf(s), fc.integer({ min: -(s.length + 1), max: s.length })))
  .map(([x, axis]) => caseOf([x], `axis ${axis}`, (y) => sg.expandDims(y, axis)))

/** squeeze every size-1 axis, or one of them (written positive or negative). */
const squeezeCases: fc.Arbitrary<OpCase> = shapes(0, 4)
  .chain((s) => {
    const unit = s.flatMap((d, i) => (d === 1 ? [i, i - s.length] : []))
    return fc.tuple(tensorOf(s), unit.length === 0 ? fc.constant(undefined) : fc.option(fc.constantFrom(...unit), { nil: undefined }))
  })
  .map(([x, axis]) => caseOf([x], `axis ${axis}`, (y) => sg.squeeze(y, axis)))

const broadcastToCases: fc.Arbitrary<OpCase> = broadcastFamily(1)
  .chain(([common, from]) => tensorOf(from).map((x) => caseOf([x], `shape ${JSON.stringify(common)}`, (y) => sg.broadcastTo(y, common))))

const concatCases: fc.Arbitrary<OpCase> = shapes(1)
  .chain((s) => fc.tuple(
    fc.integer({ min: 0, max: s.length - 1 }),
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
    fc.boolean(),
  ).chain(([axis, lengths, negative]) =>
    fc.tuple(...lengths.map((d) => tensorOf(s.map((e, i) => (i === axis ? d : e))))).map((xs) => {
      const a = negative ? axis - s.length : axis
      return caseOf(xs, `axis ${a}`, (...ys) => sg.concat(ys, a))
    })))

const stackCases: fc.Arbitrary<OpCase> = shapes(0, 2)
  .chain((s) => fc.tuple(fc.array(tensorOf(s), { minLength: 1, maxLength: 3 }), fc.integer({ min: -(s.length + 1), max: s.length })))
  .map(([xs, axis]) => caseOf(xs, `axis ${axis}`, (...ys) => sg.stack(ys, axis)))

/** One [start, end) per leading axis, start ≤ end, each bound written positive or from the end. */
const sliceCases: fc.Arbitrary<OpCase> = shapes(0, 3)
  .chain((s) => fc.tuple(
    tensorOf(s),
    fc.integer({ min: 0, max: s.length }).chain((count) => fc.tuple(...s.slice(0, count).map((d) =>
      fc.tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: 0, max: d }), fc.boolean(), fc.boolean())
        .map(([p, q, negStart, negEnd]): [number, number] => {
          const [start, end] = p <= q ? [p, q] : [q, p]
          return [negStart && start > 0 ? start - d : start, negEnd && end < d ? end - d : end]
        })))),
  ))
  .map(([x, ranges]) => caseOf([x], `ranges ${JSON.stringify(ranges)}`, (y) => sg.slice(y, ranges)))

/** Indices of any shape (rank 0–2), repeats and negative indices included, as a tensor or an array. */
const takeCases: fc.Arbitrary<OpCase> = shapes(1)
  .chain((s) => axisOf(s.length).chain((axis) => {
    const n = s[axis < 0 ? axis + s.length : axis]
    return fc.tuple(
      tensorOf(s),
      fc.constant(axis),
      shapes(0, 2).chain((is) => tensorOf(is, fc.integer({ min: -n, max: n - 1 }))),
      fc.boolean(),
    )
  }))
  .map(([x, axis, indices, asArray]) => {
    const idx = asArray && indices.rank === 1 ? Array.from(indices.data) : indices
    return caseOf([x], `indices ${JSON.stringify(indices.toArray())}${idx === indices ? '' : ' (array)'}, axis ${axis}`, (y) => sg.take(y, idx, axis))
  })

// ---- the table ----

export const opSpecs = {
  add: { cases: binaryCases(sg.add, 'add', standard), smooth: true },
  sub: { cases: binaryCases(sg.sub, 'sub', standard), smooth: true },
  mul: { cases: binaryCases(sg.mul, 'mul', standard), smooth: true },
  div: { cases: binaryCases(sg.div, 'div', standard, awayFromZero(0.5, 2)), smooth: true },
  neg: { cases: unaryCases(sg.neg, standard), smooth: true },
  pow: {
    // x > 0 keeps every real exponent defined; integer and fractional exponents both appear.
    cases: fc.tuple(tensors(reals(0.5, 2)), fc.oneof(fc.integer({ min: -2, max: 3 }), reals(-2, 3)))
      .map(([x, p]) => caseOf([x], `exponent ${p}`, (y) => sg.pow(y, p))),
    smooth: true,
  },
  square: { cases: unaryCases(sg.square, standard), smooth: true },
  sqrt: { cases: unaryCases(sg.sqrt, reals(0.25, 3)), smooth: true },
  exp: { cases: unaryCases(sg.exp, standard), smooth: true },
  log: { cases: unaryCases(sg.log, reals(0.25, 3)), smooth: true },
  abs: { cases: unaryCases(sg.abs, awayFromZero(0.01, 2)), smooth: false },
  tanh: { cases: unaryCases(sg.tanh, reals(-3, 3)), smooth: true },
  sigmoid: { cases: unaryCases(sg.sigmoid, reals(-4, 4)), smooth: true },
  relu: { cases: unaryCases(sg.relu, awayFromZero(0.01, 2)), smooth: false },
  leakyRelu: {
    cases: fc.tuple(tensors(awayFromZero(0.01, 2)), reals(0, 0.5))
      .map(([x, slope]) => caseOf([x], `slope ${slope}`, (y) => sg.leakyRelu(y, slope))),
    smooth: false,
  },
  softplus: { cases: unaryCases(sg.softplus, reals(-4, 4)), smooth: true },
  maximum: { cases: extremumCases(sg.maximum), smooth: false },
  minimum: { cases: extremumCases(sg.minimum), smooth: false },
  where: {
    // Linear in a and b for a fixed condition, hence smooth in the differentiated arguments.
    cases: broadcastFamily(3).chain(([, sc, sa, sb]) => fc.tuple(tensorOf(sc, fc.constantFrom(0, 1)), tensorOf(sa), tensorOf(sb)))
      .map(([cond, a, b]) => caseOf([a, b], `cond ${show(cond)}`, (x, y) => sg.where(cond, x, y))),
    smooth: true,
  },
  clip: {
    // Bounds on the quarter grid, x on the grid offset by 1/8: never within 1/16 of a bound.
    cases: fc.tuple(tensors(grid(1 / 8)), fc.integer({ min: -4, max: 0 }), fc.integer({ min: 0, max: 8 }))
      .map(([x, lo, width]) => caseOf([x], `[${lo / 4}, ${(lo + width) / 4}]`, (y) => sg.clip(y, lo / 4, (lo + width) / 4))),
    smooth: false,
  },
  matmul: { cases: matmulCases, smooth: true },
  transpose: { cases: transposeCases, smooth: true },
  reshape: { cases: reshapeCases, smooth: true },
  expandDims: { cases: expandDimsCases, smooth: true },
  squeeze: { cases: squeezeCases, smooth: true },
  broadcastTo: { cases: broadcastToCases, smooth: true },
  sum: { cases: reductionCases(sg.sum, (s) => tensorOf(s)), smooth: true },
  mean: { cases: reductionCases(sg.mean, (s) => tensorOf(s)), smooth: true },
  max: { cases: reductionCases(sg.max, distinctTensorOf), smooth: false },
  logSumExp: { cases: reductionCases(sg.logSumExp, (s) => tensorOf(s, reals(-3, 3))), smooth: true },
  softmax: { cases: softmaxCases(sg.softmax), smooth: true },
  logSoftmax: { cases: softmaxCases(sg.logSoftmax), smooth: true },
  concat: { cases: concatCases, smooth: true },
  stack: { cases: stackCases, smooth: true },
  unstack: { cases: tensors(standard, 1).map((x) => caseOf([x], '', (y) => sg.unstack(y))), smooth: true },
  slice: { cases: sliceCases, smooth: true },
  take: { cases: takeCases, smooth: true },
  cast: {
    cases: tensors(dyadic).map((x) => caseOf([x], "dtype 'float32'", (y) => sg.cast(y, 'float32'))),
    smooth: true,
    // The output is float32: with a dyadic x and eps = 2⁻¹⁰, x ± eps is exact in float32, so the
    // difference quotient is exact instead of being float32 round-off divided by 1e-6.
    check: { eps: 2 ** -10 },
  },
} satisfies Record<PrimitiveName, OpSpec>
