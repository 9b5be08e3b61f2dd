/**
 * @file checkGrads: reverse-mode derivatives against central finite differences in float64, for
 * first and second order, entry by entry or along random projections. Public, so that users can
 * check their own cells and custom VJPs.
 */
import * as E from 'fp-ts/lib/Either.js'
import { cast } from '../autodiff/ops/elementwise.js'
import { concrete } from '../autodiff/trace.js'
import { type Key, normal, randomKey, splitKey } from '../random/random.js'
import { Tensor } from '../tensor/Tensor.js'
import { full } from '../tensor/creation.js'
import { stridesOf } from '../tensor/shape.js'
import { treeFlatten, treeLeaves, treePaths, treeUnflatten } from '../tree/tree.js'
import { treeVdot, vjp } from './grad.js'

export interface CheckGradsOptions {
  /** 1: first derivatives; 2: also the derivatives of the (projected) gradient. Default 1. */
  readonly order?: 1 | 2
  /** Finite-difference step. Default 1e-6. */
  readonly eps?: number
  /** Absolute tolerance. Default 1e-6. */
  readonly atol?: number
  /** Relative tolerance. Default 1e-5. */
  readonly rtol?: number
  /**
   * 'full' compares every entry of every gradient (two evaluations per input entry); 'projected'
   * compares vᵀJu along `projections` random directions v (two evaluations each). Default 'full'.
   */
  readonly mode?: 'full' | 'projected'
  /** Number of random directions in projected mode. Default 3. */
  readonly projections?: number
  /** Key for the random cotangents and directions. Default randomKey(0). */
  readonly key?: Key
  /** How many of the worst entries a failure lists. Default 10. */
  readonly report?: number
}

/** One compared quantity: a gradient entry, or a projection. */
export interface GradCheckEntry {
  readonly order: 1 | 2
  /** Where in the arguments, e.g. `args[0].wTime`, or `projection 2`. */
  readonly path: string
  /** The entry's multi-index, e.g. [1, 0] (empty for a projection or a scalar). */
  readonly index: readonly number[]
  readonly analytic: number
  readonly numeric: number
  readonly absError: number
  readonly relError: number
  /** The allowed absolute error for this entry. */
  readonly tolerance: number
}

export interface GradCheckReport {
  readonly order: 1 | 2
  readonly mode: 'full' | 'projected'
  readonly checked: number
  readonly maxAbsError: number
  readonly maxRelError: number
}

export type GradCheckFailure =
  | { readonly kind: 'mismatch'; readonly message: string; readonly checked: number; readonly worst: readonly GradCheckEntry[] }
  | { readonly kind: 'nonFinite'; readonly message: string; readonly where: string }

const toFloat64 = (args: readonly unknown[]): unknown[] =>
  args.map((a, i) => {
    const { leaves, def } = treeFlatten(a, `checkGrads: argument ${i}`)
    return treeUnflatten(def, leaves.map((x) => cast(concrete(x), 'float64')))
  })

/** The first non-finite value in some tensors, described, or null. */
const firstNonFinite = (leaves: readonly Tensor[], paths: readonly string[]): string | null => {
  for (let j = 0; j < leaves.length; j++) {
    const data = leaves[j].data
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) return `${paths[j]}${showIndex(leaves[j], i)} is ${data[i]}`
    }
  }
  return null
}

const multiIndex = (x: Tensor, flat: number): number[] => stridesOf(x.shape).map((s, d) => Math.floor(flat / s) % x.shape[d])
const showIndex = (x: Tensor, flat: number): string => (x.rank === 0 ? '' : `[${multiIndex(x, flat).join(', ')}]`)

const withEntry = (x: Tensor, flat: number, delta: number): Tensor => {
  const data = Float64Array.from(x.data)
  data[flat] += delta
  return new Tensor(data, x.shape)
}

const withDirection = (x: Tensor, v: Tensor, scale: number): Tensor => {
  const data = Float64Array.from(x.data)
  for (let i = 0; i < data.length; i++) data[i] += scale * v.data[i]
  return new Tensor(data, x.shape)
}

/** A scalar function of flat leaves: φ(leaves) = ⟨u, f(args)⟩ with u a random cotangent. */
interface Projected {
  readonly leaves: Tensor[]
  readonly paths: string[]
  readonly phi: (leaves: readonly Tensor[]) => number
  readonly gradient: (leaves: readonly Tensor[]) => Tensor[]
}

const project = (f: (...args: any[]) => unknown, args: readonly unknown[], key: Key, who: string): E.Either<GradCheckFailure, Projected> => {
  const flats = args.map((a, i) => treeFlatten(a, `${who}: argument ${i}`))
  const leaves = flats.flatMap((fl) => fl.leaves)
  const paths = flats.flatMap((fl, i) => treePaths(fl.def, `args[${i}]`))
  const rebuild = (ls: readonly Tensor[]): unknown[] => {
    let start = 0
    return flats.map((fl) => treeUnflatten(fl.def, ls.slice(start, (start += fl.leaves.length))))
  }
  const inputProblem = firstNonFinite(leaves, paths)
  if (inputProblem !== null) {
    return E.left({ kind: 'nonFinite', where: 'input', message: `${who}: the inputs must be finite, but ${inputProblem}.` })
  }
  const out = f(...rebuild(leaves))
  const { leaves: outLeaves, def: outDef } = treeFlatten(out, `${who}: the function's output`)
  const outputProblem = firstNonFinite(outLeaves, treePaths(outDef, 'output'))
  if (outputProblem !== null) {
    return E.left({ kind: 'nonFinite', where: 'output', message: `${who}: the function returned a non-finite value: ${outputProblem}.` })
  }
  const keys = splitKey(key, Math.max(outLeaves.length, 1))
  const isScalar = outLeaves.length === 1 && outLeaves[0].rank === 0
  const cotangent = treeUnflatten(
    outDef,
    outLeaves.map((y, i) => (isScalar ? full([], 1) : normal(keys[i], y.shape))),
  )
  return E.right({
    leaves,
    paths,
    phi: (ls) => treeVdot(f(...rebuild(ls)), cotangent).item(),
    gradient: (ls) => {
      const [, pullback] = vjp((...a: unknown[]) => f(...a), ...rebuild(ls))
      return treeLeaves(pullback(cotangent), who)
    },
  })
}

interface Settings {
  readonly eps: number
  readonly atol: number
  readonly rtol: number
  readonly mode: 'full' | 'projected'
  readonly projections: number
  readonly key: Key
  readonly report: number
}

/** Compares one analytic value with its difference quotient, allowing for the quotient's own rounding. */
const entry = (
  order: 1 | 2, path: string, index: readonly number[], analytic: number, plus: number, minus: number, s: Settings,
): GradCheckEntry => {
  const numeric = (plus - minus) / (2 * s.eps)
  const absError = Math.abs(analytic - numeric)
  // Rounding in φ(x ± εv) alone perturbs the quotient by about 2⁻⁵² · |φ| / ε; tolerate a few times that.
  const rounding = (8 * Number.EPSILON * (Math.abs(plus) + Math.abs(minus))) / (2 * s.eps)
  const tolerance = s.atol + s.rtol * Math.max(Math.abs(analytic), Math.abs(numeric)) + rounding
  return {
    order, path, index, analytic, numeric, absError,
    relError: absError / Math.max(Math.abs(analytic), Math.abs(numeric), Number.MIN_VALUE),
    tolerance,
  }
}

const compare = (order: 1 | 2, p: Projected, s: Settings): GradCheckEntry[] => {
  const analytic = p.gradient(p.leaves)
  if (s.mode === 'full') {
    return p.leaves.flatMap((x, j) =>
      Array.from({ length: x.size }, (_, i) => {
        const at = (delta: number) => p.phi(p.leaves.map((l, k) => (k === j ? withEntry(x, i, delta) : l)))
        return entry(order, p.paths[j], multiIndex(x, i), analytic[j].data[i], at(s.eps), at(-s.eps), s)
      }),
    )
  }
  const keys = splitKey(s.key, s.projections)
  return keys.map((key, r) => {
    const directionKeys = splitKey(key, Math.max(p.leaves.length, 1))
    const directions = p.leaves.map((x, j) => normal(directionKeys[j], x.shape))
    const along = (scale: number) => p.phi(p.leaves.map((x, j) => withDirection(x, directions[j], scale)))
    let dot = 0
    analytic.forEach((g, j) => g.data.forEach((v, i) => { dot += v * directions[j].data[i] }))
    return entry(order, `projection ${r}`, [], dot, along(s.eps), along(-s.eps), s)
  })
}

const summarise = (entries: readonly GradCheckEntry[], s: Settings, order: 1 | 2): E.Either<GradCheckFailure, GradCheckReport> => {
  const bad = entries.filter((e) => !(e.absError <= e.tolerance)).sort((a, b) => b.absError / b.tolerance - a.absError / a.tolerance)
  if (bad.length > 0) {
    const worst = bad.slice(0, s.report)
    const lines = worst.map(
      (e) => `  order ${e.order} ${e.path}${e.index.length ? `[${e.index.join(', ')}]` : ''}: analytic ${e.analytic}, numeric ${e.numeric}, ` +
        `abs error ${e.absError.toExponential(2)} (allowed ${e.tolerance.toExponential(2)}), rel error ${e.relError.toExponential(2)}`,
    )
    return E.left({
      kind: 'mismatch',
      checked: entries.length,
      worst,
      message: `checkGrads: ${bad.length} of ${entries.length} order-${order} derivative(s) disagree with central differences:\n${lines.join('\n')}`,
    })
  }
  return E.right({
    order,
    mode: s.mode,
    checked: entries.length,
    maxAbsError: entries.reduce((m, e) => Math.max(m, e.absError), 0),
    maxRelError: entries.reduce((m, e) => Math.max(m, e.relError), 0),
  })
}

/**
 * Checks `f`'s reverse-mode derivatives at `args` against central finite differences, in float64
 * (float32 inputs are cast up). Non-scalar outputs are contracted with a random cotangent u, so the
 * check is of uᵀJ; `order: 2` also checks the derivatives of x ↦ uᵀJ(x). Returns `Right(report)`,
 * or `Left` with the worst entries (path, index, analytic, numeric, errors), or with the first
 * non-finite input or output.
 * @example
 * const result = checkGrads((x) => sum(tanh(x)), [tensor([0.1, 0.2])], { order: 2 })
 * if (E.isLeft(result)) throw new Error(result.left.message)
 * @category transforms
 */
export const checkGrads = (
  f: (...args: any[]) => unknown,
  args: readonly unknown[],
  options: CheckGradsOptions = {},
): E.Either<GradCheckFailure, GradCheckReport> => {
  const order = options.order ?? 1
  const settings: Settings = {
    eps: options.eps ?? 1e-6,
    atol: options.atol ?? 1e-6,
    rtol: options.rtol ?? 1e-5,
    mode: options.mode ?? 'full',
    projections: options.projections ?? 3,
    key: options.key ?? randomKey(0),
    report: options.report ?? 10,
  }
  const [firstKey, secondKey] = splitKey(settings.key)
  const args64 = toFloat64(args)
  const first = project(f, args64, firstKey, 'checkGrads')
  if (E.isLeft(first)) return first
  const firstEntries = compare(1, first.right, settings)
  const firstResult = summarise(firstEntries, settings, 1)
  if (order === 1 || E.isLeft(firstResult)) return firstResult
  // Second order: the gradient map x ↦ ∇⟨u, f(x)⟩ is itself a function to check.
  const gradientMap = (...a: unknown[]) => first.right.gradient(a.flatMap((t, i) => treeLeaves(t, `checkGrads: argument ${i}`)))
  const second = project(gradientMap, args64, secondKey, 'checkGrads (order 2)')
  if (E.isLeft(second)) return second
  const secondResult = summarise(compare(2, second.right, settings), settings, 2)
  return E.map((report: GradCheckReport) => ({ ...report, checked: report.checked + firstEntries.length }))(secondResult)
}
