/**
 * @file checkGrads: reverse-mode derivatives in float64, first and second order, against central
 * finite differences (entry by entry, or along random directions within each argument leaf, so that
 * every leaf is judged against its own scale), or by the convergence rates of Taylor remainders,
 * which need no step size. Public, so that users can check their own cells and custom VJPs.
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

/** Options of `checkGrads`. @category transforms */
export interface CheckGradsOptions {
  /** 1: first derivatives; 2: also the derivatives of the (projected) gradient. Default 1. */
  readonly order?: 1 | 2
  /**
   * 'centralDifferences' (default) compares with difference quotients of step `eps`, in `mode`;
   * 'taylor' needs no step and no tolerance: along a random direction v in each leaf it checks that
   * the first-order Taylor remainder |f(x + hv) − f(x) − h·⟨∇f, v⟩| shrinks as O(h²) and the
   * zeroth-order one |f(x + hv) − f(x)| as O(h) (see `TaylorFit`). `eps`, `atol`, `rtol` and `mode`
   * do not apply to it.
   */
  readonly method?: 'centralDifferences' | 'taylor'
  /** Finite-difference step. Default 1e-6. */
  readonly eps?: number
  /** Absolute tolerance: the floor under every relative one. Default 1e-6. */
  readonly atol?: number
  /** Relative tolerance, against each entry's own size ('full') or each leaf's ('projected'). Default 1e-5. */
  readonly rtol?: number
  /**
   * 'full' compares every entry of every gradient (two evaluations per input entry); 'projected'
   * compares, for each argument leaf on its own, ⟨∇f, v⟩ along `projections` random directions v
   * in that leaf (two evaluations each), so a leaf with small gradients is judged against its own
   * scale, not drowned by a large one beside it. Default 'full'.
   */
  readonly mode?: 'full' | 'projected'
  /**
   * Random directions per argument leaf: in projected mode (default 3) and for the taylor method
   * (default 1). (Before per-leaf judging, projected mode drew this many directions over all leaves
   * together.)
   */
  readonly projections?: number
  /** Key for the random cotangents and directions. Default randomKey(0). */
  readonly key?: Key
  /** How many of the worst entries a failure lists. Default 10. */
  readonly report?: number
}

/** One compared quantity: a gradient entry, or a projection of one leaf's gradient. @category transforms */
export interface GradCheckEntry {
  readonly order: 1 | 2
  /** The argument leaf, e.g. `args[0].wTime`. */
  readonly path: string
  /** The entry's multi-index, e.g. [1, 0] (empty for a projection or a scalar). */
  readonly index: readonly number[]
  /** For a projection: which random direction in this leaf (from 0); absent for an entry. */
  readonly projection?: number
  readonly analytic: number
  readonly numeric: number
  readonly absError: number
  /** absError over the scale it is judged against: the entry's size, or for a projection the leaf's. */
  readonly relError: number
  /** The allowed absolute error for this entry. */
  readonly tolerance: number
}

/**
 * The taylor method's verdict on one leaf along one random direction v. A slope is NaN when the
 * remainder stays within float64 rounding of f at (all but one of) the steps: f is then linear
 * along v (first order) or does not change along v (zeroth order) to within what float64 resolves,
 * and the gradient agrees with that, or the first-order remainder would show it.
 */
export interface TaylorFit {
  readonly order: 1 | 2
  /** The argument leaf the direction lies in. */
  readonly path: string
  /** Which random direction in this leaf (from 0). */
  readonly direction: number
  /** The fitted log-log slope of |f(x + hv) − f(x) − h·⟨∇f, v⟩| in h: ≈ 2 (or more) when ∇f is right, 1 when not. */
  readonly firstOrderSlope: number
  /** The fitted log-log slope of |f(x + hv) − f(x)| in h: ≈ 1 (2 where ⟨∇f, v⟩ = 0). */
  readonly zerothOrderSlope: number
  /** The steps h of the first-order fit, largest first, and the remainders at them. */
  readonly steps: readonly number[]
  readonly remainders: readonly number[]
  /** ⟨∇f, v⟩ from the reverse pass, and the central difference (f(x + hv) − f(x − hv)) / 2h at the smallest fitted h. */
  readonly analytic: number
  readonly numeric: number
  readonly passed: boolean
}

/** What a passing `checkGrads` reports. @category transforms */
export interface GradCheckReport {
  readonly order: 1 | 2
  readonly method: 'centralDifferences' | 'taylor'
  /** The mode of the central differences ('projected' for the taylor method, which works along directions). */
  readonly mode: 'full' | 'projected'
  /** Compared quantities: entries, per-leaf projections, or per-leaf Taylor fits, over both orders. */
  readonly checked: number
  /** Largest absolute and relative errors of the central differences (NaN for the taylor method). */
  readonly maxAbsError: number
  readonly maxRelError: number
  /** Taylor method: the smallest fitted slopes over every fit (NaN if none could be fitted). */
  readonly slopes?: { readonly firstOrder: number; readonly zerothOrder: number }
  /** Taylor method: every fit, leaf by leaf. */
  readonly fits?: readonly TaylorFit[]
}

/** Why `checkGrads` failed: the worst entries, the failing Taylor fits, or a non-finite value. @category transforms */
export type GradCheckFailure =
  | { readonly kind: 'mismatch'; readonly message: string; readonly checked: number; readonly worst: readonly GradCheckEntry[] }
  | { readonly kind: 'taylor'; readonly message: string; readonly checked: number; readonly failed: readonly TaylorFit[] }
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
  /** φ's terms ⟨u_k, f_k⟩, one per output leaf k (they sum to φ up to rounding). */
  readonly phiParts: (leaves: readonly Tensor[]) => number[]
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
    phiParts: (ls) => {
      const ys = treeLeaves(f(...rebuild(ls)), who)
      return treeLeaves(cotangent, who).map((u, k) => treeVdot(ys[k], u).item())
    },
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

// ---- central differences ----

/**
 * Compares one analytic value with its difference quotient, allowing for the quotient's own
 * rounding. `scale` is what the relative tolerance is taken of, besides the two values themselves.
 */
const entry = (
  order: 1 | 2, path: string, index: readonly number[], analytic: number, plus: number, minus: number, s: Settings,
  scale = 0, projection?: number,
): GradCheckEntry => {
  const numeric = (plus - minus) / (2 * s.eps)
  const absError = Math.abs(analytic - numeric)
  // Rounding in φ(x ± εv) alone perturbs the quotient by about 2⁻⁵² · |φ| / ε; tolerate a few times that.
  const rounding = (8 * Number.EPSILON * (Math.abs(plus) + Math.abs(minus))) / (2 * s.eps)
  const size = Math.max(Math.abs(analytic), Math.abs(numeric), scale)
  const tolerance = s.atol + s.rtol * size + rounding
  return {
    order, path, index, ...(projection === undefined ? {} : { projection }), analytic, numeric, absError,
    relError: absError / Math.max(size, Number.MIN_VALUE),
    tolerance,
  }
}

/** Σ aᵢ·bᵢ over two tensors' entries. */
const dotOf = (a: Tensor, b: Tensor): number => {
  let acc = 0
  for (let i = 0; i < a.size; i++) acc += a.data[i] * b.data[i]
  return acc
}

const norm = (x: Tensor): number => Math.sqrt(dotOf(x, x))

const compare = (order: 1 | 2, p: Projected, s: Settings): GradCheckEntry[] => {
  const analytic = p.gradient(p.leaves)
  if (s.mode === 'full') {
    // Each entry is judged against its own size, which is finer than per leaf.
    return p.leaves.flatMap((x, j) =>
      Array.from({ length: x.size }, (_, i) => {
        const at = (delta: number) => p.phi(p.leaves.map((l, k) => (k === j ? withEntry(x, i, delta) : l)))
        return entry(order, p.paths[j], multiIndex(x, i), analytic[j].data[i], at(s.eps), at(-s.eps), s)
      }),
    )
  }
  // One leaf at a time, so that ⟨∇f, v⟩ is not dominated by another leaf's larger gradient. With v
  // drawn from N(0, I), ⟨g, v⟩ has standard deviation ‖g‖: the leaf's scale for the relative tolerance.
  return splitKey(s.key, s.projections).flatMap((key, r) => {
    const directionKeys = splitKey(key, Math.max(p.leaves.length, 1))
    return p.leaves.flatMap((x, j) => {
      if (x.size === 0) return []
      const v = normal(directionKeys[j], x.shape)
      const along = (scale: number) => p.phi(p.leaves.map((l, k) => (k === j ? withDirection(x, v, scale) : l)))
      const dot = dotOf(analytic[j], v)
      return [entry(order, p.paths[j], [], dot, along(s.eps), along(-s.eps), s, norm(analytic[j]), r)]
    })
  })
}

const showEntry = (e: GradCheckEntry): string =>
  `  order ${e.order} ${e.path}${e.index.length ? `[${e.index.join(', ')}]` : ''}${e.projection === undefined ? '' : ` (projection ${e.projection})`}: ` +
  `analytic ${e.analytic}, numeric ${e.numeric}, abs error ${e.absError.toExponential(2)} (allowed ${e.tolerance.toExponential(2)}), ` +
  `rel error ${e.relError.toExponential(2)}`

const summarise = (entries: readonly GradCheckEntry[], s: Settings, order: 1 | 2): E.Either<GradCheckFailure, GradCheckReport> => {
  const bad = entries.filter((e) => !(e.absError <= e.tolerance)).sort((a, b) => b.absError / b.tolerance - a.absError / a.tolerance)
  if (bad.length > 0) {
    return E.left({
      kind: 'mismatch',
      checked: entries.length,
      worst: bad.slice(0, s.report),
      message: `checkGrads: ${bad.length} of ${entries.length} order-${order} derivative(s) disagree with central differences:\n` +
        bad.slice(0, s.report).map(showEntry).join('\n'),
    })
  }
  return E.right({
    order,
    method: 'centralDifferences',
    mode: s.mode,
    checked: entries.length,
    maxAbsError: entries.reduce((m, e) => Math.max(m, e.absError), 0),
    maxRelError: entries.reduce((m, e) => Math.max(m, e.relError), 0),
  })
}

// ---- Taylor remainders ----

/**
 * The steps h, 10⁻¹ down to 10⁻⁹ by factors of √10, along a direction whose entries are of the
 * leaf's size (at least 1): so h is a relative step for large entries, an absolute one for small.
 * A correct gradient's remainder ½h²·vᵀHv must stand above f's rounding (about 2⁻⁵²·|f|), which it
 * does from h ≈ 10⁻⁶ up when the curvature is of f's own size; the smaller steps serve sharper
 * curvature, the larger ones flatter. Which steps count is decided by `RESOLVED`, not by this range.
 */
const TAYLOR_STEPS = Array.from({ length: 17 }, (_, k) => 10 ** (-1 - k / 2))

/**
 * A remainder counts only above this multiple of the magnitudes it is a difference of. f's own
 * rounding is a few ε·|f| (more for long sums or cancelling terms); 10⁴·ε leaves a margin of about
 * a thousand, so noise moves a fitted point by well under 1% and the slope by a few hundredths.
 */
const RESOLVED = 1e4 * Number.EPSILON

/** How many of the smallest resolved steps the slope is fitted over: two decades. */
const WINDOW = 5

/** A correct gradient's first-order remainder is O(h²) (O(h³) and steeper where vᵀHv = 0): its slope must reach this. */
const MIN_FIRST_ORDER_SLOPE = 1.8
/** f must change at least linearly along v (1 normally, 2 where ⟨∇f, v⟩ = 0); a jump gives slope 0. */
const MIN_ZEROTH_ORDER_SLOPE = 0.8

/**
 * The least-squares slope of log r against log h over the `WINDOW` smallest steps whose remainder
 * is resolved (r > floor). The smallest steps, because as h → 0 a wrong gradient's h·|δ| term
 * outlasts the h² one, and skipping unresolved points (not stopping at the first) keeps a remainder
 * that dips through zero where the two terms cancel from hiding that regime. NaN with fewer than 2.
 */
const fitSlope = (hs: readonly number[], rs: readonly number[], floors: readonly number[]): { slope: number; used: number[] } => {
  const resolved = hs.flatMap((_, k) => (rs[k] > floors[k] && Number.isFinite(rs[k]) ? [k] : []))
  const used = resolved.slice(-WINDOW)
  if (used.length < 2) return { slope: Number.NaN, used }
  const xs = used.map((k) => Math.log(hs[k]))
  const ys = used.map((k) => Math.log(rs[k]))
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  const sxy = xs.reduce((acc, x, i) => acc + (x - mx) * (ys[i] - my), 0)
  const sxx = xs.reduce((acc, x) => acc + (x - mx) ** 2, 0)
  return { slope: sxy / sxx, used }
}

const taylorFits = (order: 1 | 2, p: Projected, key: Key, directions: number): TaylorFit[] => {
  const analytic = p.gradient(p.leaves)
  const parts0 = p.phiParts(p.leaves)
  return splitKey(key, directions).flatMap((directionKey, r) => {
    const leafKeys = splitKey(directionKey, Math.max(p.leaves.length, 1))
    return p.leaves.flatMap((x, j) => {
      if (x.size === 0) return []
      const rms = norm(x) / Math.sqrt(x.size)
      const z = normal(leafKeys[j], x.shape)
      const v = new Tensor(Float64Array.from(z.data, (t) => t * Math.max(rms, 1)), x.shape)
      const d = dotOf(analytic[j], v)
      // f(x ± hv) − f(x) is summed over output leaves after each leaf's own difference, and only a
      // leaf that moves at some step counts towards the rounding floor: a large output that the
      // direction leaves alone (another parameter's gradient, at order 2) then hides nothing.
      const parts = TAYLOR_STEPS.flatMap((h) => [h, -h].map((step) => p.phiParts(p.leaves.map((l, k) => (k === j ? withDirection(x, v, step) : l)))))
      const moved = parts0.map((part0, k) => parts.some((ps) => ps[k] !== part0))
      const changeAt = (ps: readonly number[]) => {
        let change = 0
        let magnitude = 0
        ps.forEach((part, k) => {
          if (!moved[k]) return
          change += part - parts0[k]
          magnitude += Math.abs(part) + Math.abs(parts0[k])
        })
        return { change, magnitude }
      }
      const plus = TAYLOR_STEPS.map((_, k) => changeAt(parts[2 * k]))
      const minus = TAYLOR_STEPS.map((_, k) => changeAt(parts[2 * k + 1]))
      // Each remainder is the larger of those along v and −v: its even and odd terms add up there
      // (½h²·vᵀHv and h³·D³f[v,v,v]/6 for the first order), so it cannot dip through zero where
      // they cancel, which on one side alone could look like any slope at all.
      const zeroth = TAYLOR_STEPS.map((_, k) => Math.max(Math.abs(plus[k].change), Math.abs(minus[k].change)))
      const first = TAYLOR_STEPS.map((h, k) => Math.max(Math.abs(plus[k].change - h * d), Math.abs(minus[k].change + h * d)))
      const floor = TAYLOR_STEPS.map((_, k) => RESOLVED * Math.max(plus[k].magnitude, minus[k].magnitude))
      const fitFirst = fitSlope(TAYLOR_STEPS, first, floor.map((f, k) => f + RESOLVED * Math.abs(TAYLOR_STEPS[k] * d)))
      const fitZeroth = fitSlope(TAYLOR_STEPS, zeroth, floor)
      const smallest = fitFirst.used.length > 0 ? fitFirst.used[fitFirst.used.length - 1] : 0
      const passed = !(fitFirst.slope < MIN_FIRST_ORDER_SLOPE) && !(fitZeroth.slope < MIN_ZEROTH_ORDER_SLOPE)
      return [{
        order, path: p.paths[j], direction: r,
        firstOrderSlope: fitFirst.slope, zerothOrderSlope: fitZeroth.slope,
        steps: fitFirst.used.map((k) => TAYLOR_STEPS[k]), remainders: fitFirst.used.map((k) => first[k]),
        analytic: d, numeric: (plus[smallest].change - minus[smallest].change) / (2 * TAYLOR_STEPS[smallest]), passed,
      }]
    })
  })
}

const showFit = (fit: TaylorFit): string =>
  `  order ${fit.order} ${fit.path} (direction ${fit.direction}): first-order remainder slope ${fit.firstOrderSlope.toFixed(2)} ` +
  `(needs ≥ ${MIN_FIRST_ORDER_SLOPE}), zeroth-order slope ${fit.zerothOrderSlope.toFixed(2)} (needs ≥ ${MIN_ZEROTH_ORDER_SLOPE}); ` +
  `⟨∇f, v⟩ analytic ${fit.analytic}, central difference ${fit.numeric}`

const smallestSlope = (fits: readonly TaylorFit[], of: (fit: TaylorFit) => number): number => {
  const fitted = fits.map(of).filter((x) => !Number.isNaN(x))
  return fitted.length === 0 ? Number.NaN : Math.min(...fitted)
}

const summariseTaylor = (fits: readonly TaylorFit[], order: 1 | 2): E.Either<GradCheckFailure, GradCheckReport> => {
  const failed = fits.filter((fit) => !fit.passed)
  if (failed.length > 0) {
    return E.left({
      kind: 'taylor',
      checked: fits.length,
      failed,
      message: `checkGrads: ${failed.length} of ${fits.length} order-${order} Taylor test(s) fail: the first-order remainder must shrink as O(h²) ` +
        `and the zeroth-order one as O(h):\n${failed.map(showFit).join('\n')}`,
    })
  }
  return E.right({
    order,
    method: 'taylor',
    mode: 'projected',
    checked: fits.length,
    maxAbsError: Number.NaN,
    maxRelError: Number.NaN,
    slopes: { firstOrder: smallestSlope(fits, (f) => f.firstOrderSlope), zerothOrder: smallestSlope(fits, (f) => f.zerothOrderSlope) },
    fits,
  })
}

/**
 * Checks `f`'s reverse-mode derivatives at `args`, in float64 (float32 inputs are cast up).
 * Non-scalar outputs are contracted with a random cotangent u, so the check is of uᵀJ; `order: 2`
 * also checks the derivatives of x ↦ uᵀJ(x). Each argument leaf is judged on its own: by central
 * differences entry by entry ('full') or along random directions in that leaf ('projected'), or by
 * the Taylor remainders' convergence rates (`method: 'taylor'`). Returns `Right(report)`, or `Left`
 * with the worst entries (path, index, analytic, numeric, errors), the failing Taylor fits, or the
 * first non-finite input or output.
 * @example
 * const result = checkGrads((x) => sum(tanh(x)), [tensor([0.1, 0.2])], { order: 2 })
 * if (E.isLeft(result)) throw new Error(result.left.message)
 * checkGrads((x) => sum(tanh(x)), [tensor([0.1, 0.2])], { method: 'taylor' }) // Right({ slopes: { firstOrder: ≈ 2, zerothOrder: ≈ 1 }, … })
 * @category transforms
 */
export const checkGrads = (
  f: (...args: any[]) => unknown,
  args: readonly unknown[],
  options: CheckGradsOptions = {},
): E.Either<GradCheckFailure, GradCheckReport> => {
  const order = options.order ?? 1
  const taylor = options.method === 'taylor'
  const settings: Settings = {
    eps: options.eps ?? 1e-6,
    atol: options.atol ?? 1e-6,
    rtol: options.rtol ?? 1e-5,
    mode: options.mode ?? 'full',
    projections: options.projections ?? (taylor ? 1 : 3),
    key: options.key ?? randomKey(0),
    report: options.report ?? 10,
  }
  // The directions get keys of their own, apart from the cotangents' (firstKey, secondKey).
  const [firstKey, secondKey, directionsKey] = splitKey(settings.key, 3)
  const check = (o: 1 | 2, p: Projected): E.Either<GradCheckFailure, GradCheckReport> => {
    const key = splitKey(directionsKey)[o - 1]
    return taylor ? summariseTaylor(taylorFits(o, p, key, settings.projections), o) : summarise(compare(o, p, { ...settings, key }), settings, o)
  }
  const args64 = toFloat64(args)
  const first = project(f, args64, firstKey, 'checkGrads')
  if (E.isLeft(first)) return first
  const firstResult = check(1, first.right)
  if (order === 1 || E.isLeft(firstResult)) return firstResult
  // Second order: the gradient map x ↦ ∇⟨u, f(x)⟩ is itself a function to check.
  const gradientMap = (...a: unknown[]) => first.right.gradient(a.flatMap((t, i) => treeLeaves(t, `checkGrads: argument ${i}`)))
  const second = project(gradientMap, args64, secondKey, 'checkGrads (order 2)')
  if (E.isLeft(second)) return second
  const secondResult = check(2, second.right)
  return E.map((report: GradCheckReport) => ({
    ...report,
    checked: report.checked + firstResult.right.checked,
    ...(report.fits === undefined ? {} : {
      fits: [...(firstResult.right.fits ?? []), ...report.fits],
      slopes: {
        firstOrder: smallestSlope([...(firstResult.right.fits ?? []), ...report.fits], (fit) => fit.firstOrderSlope),
        zerothOrder: smallestSlope([...(firstResult.right.fits ?? []), ...report.fits], (fit) => fit.zerothOrderSlope),
      },
    }),
    maxAbsError: Math.max(report.maxAbsError, firstResult.right.maxAbsError),
    maxRelError: Math.max(report.maxRelError, firstResult.right.maxRelError),
  }))(secondResult)
}
