/**
 * @file scan: a loop over the leading (time) axis with a carry, as `jax.lax.scan`. Differentiating
 * through it is backpropagation through time; nothing here knows about gradients except the
 * optional checkpointing of steps.
 */
import { ShapeError, TreeError, ValueError, showShape } from '../errors.js'
import { where } from '../autodiff/ops/elementwise.js'
import { hoistingInvariants } from '../autodiff/primitive.js'
import { reshape, stack, transpose, unstack } from '../autodiff/ops/structural.js'
import { Tensor, allocate } from '../tensor/Tensor.js'
import { shapesEqual } from '../tensor/shape.js'
import { type TreeDef, treeDefDifference, treeFlatten, treeMap, treePaths, treeUnflatten } from '../tree/tree.js'
import { probeScan } from './carryProbe.js'
import { checkpoint as remat } from './custom.js'
import { deriveSequenceKernel } from './derivedKernel.js'
import { type ComposedScan, type ScanLayout, type ScanStep, type SequenceKernel, runSequenceKernel, sequenceKernelOf } from './sequenceKernel.js'

export type { ScanStep } from './sequenceKernel.js'

/** Options of `scan`. @category transforms */
export interface ScanOptions {
  /** Run from the last step to the first; `ys[t]` still lines up with `xs[t]`. */
  readonly reverse?: boolean
  /**
   * Recompute steps in the backward pass instead of keeping their intermediates: `true` keeps the
   * carry of every step, a number k keeps the carry every k steps. Gradients are identical.
   */
  readonly checkpoint?: boolean | number
  /** The number of steps when `xs` is null (a scan with no inputs, e.g. generation). */
  readonly length?: number
  /**
   * Which steps are real, `[time, batch, 1]` (in xs' layout, see `timeAxis`) of 1 and 0: at a
   * padded step (0) each row keeps its carry and its y is 0. Every carry leaf and y is `[batch, …]`.
   */
  readonly mask?: Tensor
  /** The axis of time in every leaf of xs, in the mask and in ys: 0 (default) or 1 (batch-first, `[batch, time, …]`). */
  readonly timeAxis?: 0 | 1
  /**
   * 'last': return only the y of the last processed step (no time axis), for a caller that reads
   * nothing else, so a sequence kernel need not hand the other steps' outputs out. Default 'all'.
   */
  readonly outputs?: 'all' | 'last'
  /**
   * Trace the step once and run the traced operations for every step as one node (see
   * derivedKernel.ts): faster for a step without a sequence kernel of its own (step-invariant work
   * runs once, a weight's gradient is one product over all steps), with the same values and
   * gradients. Like `jax.lax.scan`, it needs a step that does the same operations at every step:
   * no branching on tensor values, no state kept between calls. Default false.
   */
  readonly traceStep?: boolean
}

const carryMismatch = (init: Tensor[], def: TreeDef, carry: unknown, step: number): string | null => {
  const flat = treeFlatten(carry, 'scan: the carry returned by the step function')
  const diff = treeDefDifference(def, flat.def)
  if (diff !== null) return `  structure differs ${diff}`
  const bad = flat.leaves.flatMap((c, i) => (shapesEqual(c.shape, init[i].shape) && c.dtype === init[i].dtype ? [] : [i]))
  if (bad.length === 0) return null
  // Paths are only named once something is wrong: this check runs on every step.
  const paths = treePaths(def, 'carry')
  const lines = bad.map((i) => {
    const c = flat.leaves[i]
    return shapesEqual(c.shape, init[i].shape)
      ? `  ${paths[i]}: expected dtype ${init[i].dtype}, got ${c.dtype}`
      : `  ${paths[i]}: expected shape ${showShape(init[i].shape)}, got ${showShape(c.shape)}`
  })
  return `${lines.join('\n')}\n  (at step ${step})`
}

/** `[a, b, …]` → `[b, a, …]`: between time-major and batch-major layouts (its own inverse). */
const swapLeadingAxes = (x: Tensor): Tensor => transpose(x, [1, 0, ...x.shape.slice(2).map((_, i) => i + 2)])

/** `m_t` `[batch, 1]` reshaped to broadcast over a `[batch, …]` leaf. */
const maskFor = (m: Tensor, leaf: Tensor): Tensor => (leaf.rank === m.rank ? m : reshape(m, [m.shape[0], ...new Array<number>(leaf.rank - 1).fill(1)]))

/** Padded steps keep the carry and output 0: `carry_t = m_t ? new : old`, `y_t = m_t ? y : 0`. */
const maskedStep = <C, X, Y>(f: ScanStep<C, X, Y>): ScanStep<C, { x: X; m: Tensor }, Y> => (carry, { x, m }) => {
  const [next, y] = f(carry, x)
  // A leaf the step passed through unchanged needs no selection.
  const kept = treeMap((n: Tensor, o: Tensor) => (n === o ? n : where(maskFor(m, n), n, o)), next, carry) as unknown as C
  return [kept, treeMap((v: Tensor) => where(maskFor(m, v), v, 0), y) as unknown as Y]
}

interface Composition extends ScanLayout {
  readonly mask: Tensor | null
  /** Steps per rematerialised group (0: none). */
  readonly chunk: number
  readonly length: number
  readonly traceStep: boolean
}

/**
 * The scan as a loop over steps: what every kernel stands for, and the path of steps without one.
 * Each leaf of xs has its time axis at `timeAxis`.
 */
const composedScan = <C, X, Y>(f: ScanStep<C, X, Y>, init: C, xs: X, options: Composition): [C, Y] => {
  const { length, reverse, chunk } = options
  if (options.timeAxis === 1) {
    const timeMajor = { ...options, timeAxis: 0 as const, mask: options.mask === null ? null : swapLeadingAxes(options.mask) }
    const [carry, ys] = composedScan(f, init, treeMap(swapLeadingAxes, xs) as X, timeMajor)
    return [carry, options.outputs === 'all' && ys !== null ? (treeMap(swapLeadingAxes, ys) as Y) : ys]
  }
  if (options.mask !== null) return composedScan(maskedStep(f), init, { x: xs, m: options.mask }, { ...options, mask: null })
  if (options.traceStep && chunk === 0 && length > 0) {
    const derived = deriveSequenceKernel(f, init, xs)
    const run = derived === null ? null : runSequenceKernel(derived, init, xs, null, options, composition)
    if (run !== null) return run as [C, Y]
  }
  const { leaves: initLeaves, def: carryDef } = treeFlatten(init, 'scan: init')
  const xsFlat = treeFlatten(xs, 'scan: xs')
  const perStep = xsFlat.leaves.map((x) => unstack(x))
  const xAt = (t: number): X => treeUnflatten(xsFlat.def, perStep.map((steps) => steps[t]))

  const checkedStep = (carry: C, x: X, t: number): readonly [C, Y] => {
    const result = f(carry, x)
    if (!Array.isArray(result) || result.length !== 2) {
      throw new TreeError('scan: the step function must return [carry, y] (use null for y when there is no output).')
    }
    const mismatch = carryMismatch(initLeaves, carryDef, result[0], t)
    if (mismatch !== null) {
      throw new ShapeError(
        'scan: the step function returned a carry that does not match `init`.\n' +
          `${mismatch}\nThe carry must keep the same tree structure, shapes and dtypes on every step.`,
      )
    }
    return result
  }

  const order = Array.from({ length }, (_, i) => (reverse ? length - 1 - i : i))
  // With checkpointing, steps run in groups, each one rematerialised node holding only its carry.
  const groupSize = chunk
  const runGroup = (carry: C, steps: readonly number[], xsGroup: readonly X[]): [C, Y[]] => {
    const ys: Y[] = []
    let c = carry
    steps.forEach((t, i) => {
      const [next, y] = checkedStep(c, xsGroup[i], t)
      c = next
      ys.push(y)
    })
    return [c, ys]
  }

  let carry = init
  const ysInOrder: Y[] = []
  if (chunk === 0) {
    // Work that does not depend on the steps (a transposed weight, a summed bias) runs once.
    const [next, ys] = hoistingInvariants([...initLeaves, ...perStep.flat()], () => runGroup(carry, order, order.map(xAt)))
    carry = next
    ysInOrder.push(...ys)
  }
  for (let start = 0; chunk > 0 && start < length; start += groupSize) {
    const steps = order.slice(start, start + groupSize)
    const [next, ys] = remat((c: C, xg: readonly X[]) => runGroup(c, steps, xg))(carry, steps.map(xAt))
    carry = next
    ysInOrder.push(...ys)
  }
  // A scan of zero steps has no last output, so `outputs: 'last'` gives null there.
  if (options.outputs === 'last') return [carry, ysInOrder.length === 0 ? (null as Y) : ysInOrder[ysInOrder.length - 1]]
  const ysByTime = reverse ? ysInOrder.reverse() : ysInOrder
  return [carry, stackYs(ysByTime, () => checkedStep(init, zeroStepX(xsFlat), 0)[1])]
}

/**
 * One step's x made of zeros: each leaf of xs without its (time-major) time axis, or null for a scan
 * without inputs. Only a zero-step scan uses it, to learn the structure of y.
 */
const zeroStepX = <X>(xsFlat: { leaves: readonly Tensor[]; def: TreeDef }): X =>
  treeUnflatten(xsFlat.def, xsFlat.leaves.map((x) => new Tensor(allocate(x.dtype, x.shape.slice(1).reduce((n, d) => n * d, 1)), x.shape.slice(1))))

/** The per-step loop as a sequence kernel's reference (no checkpointing). */
const composition: ComposedScan = (step, init, xs, options) => {
  const leaf = treeFlatten(xs, 'scan: xs').leaves[0]
  return composedScan(step, init, xs, { ...options, chunk: 0, length: leaf.shape[options.timeAxis], traceStep: false })
}

/**
 * Scans `f` over the time axis of every leaf of `xs`, threading a carry:
 * `[carry, y_t] = f(carry, x_t)`; returns the final carry and the `y_t` stacked along the time
 * axis. `xs` and the ys are pytrees (time-major unless `timeAxis: 1`). Gradients flow through
 * carries and outputs. A step with a sequence kernel attached (`withSequenceKernel`; the built-in
 * cells have one) runs every step in one kernel call when the kernel takes the run; the result and
 * its gradients equal the loop's.
 *
 * @example
 * ```ts
 * // a tanh RNN over xs [time, batch, in]
 * const xs = ones([5, 2, 3])
 * const w = full([3, 4], 0.1) // [in, hidden]
 * const u = full([4, 4], 0.1) // [hidden, hidden]
 * const step = (h: Tensor, x: Tensor) => {
 *   const next = tanh(add(matmul(x, w), matmul(h, u)))
 *   return [next, next] as const // [carry, y]
 * }
 * const [h, hs] = scan(step, zeros([2, 4]), xs)
 * h.shape  // [2, 4]: the last carry
 * hs.shape // [5, 2, 4]: every step's y, stacked along time
 * scan(step, zeros([2, 4]), transpose(xs, [1, 0, 2]), { timeAxis: 1 })[1].shape // [2, 5, 4]: batch-major
 * // a step without outputs (y: null) only threads the carry
 * scan((total: Tensor, x: Tensor) => [add(total, x), null] as const, scalar(0), arange(1, 5))[0].item() // 10
 * ```
 * @category transforms
 */
export const scan = <C, X, Y>(f: ScanStep<C, X, Y>, init: C, xs: X, options: ScanOptions = {}): [C, Y] => {
  const timeAxis = options.timeAxis ?? 0
  if (timeAxis !== 0 && timeAxis !== 1) throw new ValueError(`scan: timeAxis must be 0 or 1, got ${String(options.timeAxis)}.`)
  const outputs = options.outputs ?? 'all'
  if (outputs !== 'all' && outputs !== 'last') throw new ValueError(`scan: outputs must be 'all' or 'last', got ${JSON.stringify(options.outputs)}.`)
  const xsFlat = treeFlatten(xs, 'scan: xs')
  const length = xsFlat.leaves[0]?.shape[timeAxis] ?? options.length
  if (length === undefined) throw new ValueError('scan: xs has no tensors; pass options.length to scan without inputs.')
  xsFlat.leaves.forEach((x, i) => {
    if (x.rank <= timeAxis || x.shape[timeAxis] !== length) {
      const expected = timeAxis === 0 ? `[${length}, ...]` : `[batch, ${length}, ...]`
      throw new ShapeError(
        `scan: every leaf of xs needs the same time length on axis ${timeAxis}; ${treePaths(xsFlat.def, 'xs')[i]} has shape ${showShape(x.shape)}, expected ${expected}.`,
      )
    }
  })
  const mask = options.mask ?? null
  if (mask !== null && (mask.rank < 2 || mask.shape[timeAxis] !== length)) {
    throw new ShapeError(`scan: mask must have the time length ${length} on axis ${timeAxis} (e.g. [time, batch, 1]), got ${showShape(mask.shape)}.`)
  }
  const chunk = options.checkpoint === true ? 1 : typeof options.checkpoint === 'number' ? options.checkpoint : 0
  if (!Number.isInteger(chunk) || chunk < 0) {
    throw new ValueError(`scan: checkpoint must be a boolean or a positive integer, got ${String(options.checkpoint)}.`)
  }
  const layout = { reverse: options.reverse ?? false, timeAxis, outputs } as const
  const loop = { ...layout, mask, chunk, length, traceStep: options.traceStep ?? false }
  // Under a carry probe (diagnostics), the steps run one by one, each new carry perturbed.
  const probed = probeScan(f, init, xs, { length, reverse: layout.reverse, timeAxis, mask })
  if (probed !== null) return composedScan(probed.step, init, { x: xs, delta: timeAxis === 0 ? probed.delta : probed.delta.map(swapLeadingAxes) }, loop)
  const kernel = sequenceKernelOf(f)
  // Checkpointing asks for the loop's memory profile, which a kernel's residuals do not have.
  if (kernel !== null && chunk === 0 && length > 0) {
    const run = runSequenceKernel(kernel, init, xs, mask, layout, composition, xsFlat) ??
      (timeAxis === 1 ? timeMajorKernel(kernel, init, xs, mask, layout) : null)
    if (run !== null) return run as [C, Y]
  }
  return composedScan(f, init, xs, loop)
}

/** A batch-major scan through a kernel that only takes time-major runs: transposed in and out. */
const timeMajorKernel = (kernel: SequenceKernel, init: unknown, xs: unknown, mask: Tensor | null, layout: ScanLayout): readonly [unknown, Tensor] | null => {
  const run = runSequenceKernel(
    kernel, init, treeMap(swapLeadingAxes, xs), mask === null ? null : swapLeadingAxes(mask), { ...layout, timeAxis: 0 }, composition,
  )
  return run === null || layout.outputs === 'last' ? run : [run[0], swapLeadingAxes(run[1])]
}

/**
 * Stacks a list of y trees into one tree of time-major tensors. With no steps, as `jax.lax.scan`,
 * each leaf is an empty `[0, …]` tensor of the y a step would return; that y comes from `oneY`,
 * which evaluates the step once, on `init` and a zero x, only for its shapes and dtypes (JAX learns
 * them by tracing; here the step runs, so it must accept zeros: a step that throws on them throws here).
 */
const stackYs = <Y>(ys: readonly Y[], oneY: () => Y): Y => {
  if (ys.length === 0) {
    const { leaves, def } = treeFlatten(oneY(), 'scan: the output y')
    return treeUnflatten(def, leaves.map((y) => new Tensor(allocate(y.dtype, 0), [0, ...y.shape])))
  }
  const flats = ys.map((y, t) => treeFlatten(y, `scan: the output y at step ${t}`))
  const { def } = flats[0]
  flats.forEach((fl, t) => {
    const diff = treeDefDifference(def, fl.def)
    if (diff !== null) throw new TreeError(`scan: the output y must keep one structure; at step ${t} it differs ${diff}.`)
  })
  return treeUnflatten(def, flats[0].leaves.map((_, i) => stack(flats.map((fl) => fl.leaves[i]), 0)))
}
