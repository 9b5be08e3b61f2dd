/**
 * @file scan: a loop over the leading (time) axis with a carry, as `jax.lax.scan`. Differentiating
 * through it is backpropagation through time; nothing here knows about gradients except the
 * optional checkpointing of steps.
 */
import { ShapeError, TreeError, ValueError, showShape } from '../errors.js'
import { stack, unstack } from '../autodiff/ops/structural.js'
import { Tensor } from '../tensor/Tensor.js'
import { shapesEqual } from '../tensor/shape.js'
import { type TreeDef, treeDefDifference, treeFlatten, treePaths, treeUnflatten } from '../tree/tree.js'
import { checkpoint as remat } from './custom.js'

/** A step function: `(carry, x) → [carry, y]`. */
export type ScanStep<C, X, Y> = (carry: C, x: X) => readonly [C, Y]

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

/**
 * Scans `f` over the leading axis of every leaf of `xs`, threading a carry:
 * `[carry, y_t] = f(carry, x_t)`; returns the final carry and the `y_t` stacked along axis 0.
 * `xs` and the ys are pytrees (time-major). Gradients flow through carries and outputs.
 *
 * @example
 * const [h, hs] = scan((h, x) => { const n = tanh(add(matmul(x, w), matmul(h, u))); return [n, n] }, h0, xs)
 * @category transforms
 */
export const scan = <C, X, Y>(f: ScanStep<C, X, Y>, init: C, xs: X, options: ScanOptions = {}): [C, Y] => {
  const xsFlat = treeFlatten(xs, 'scan: xs')
  const length = xsFlat.leaves[0]?.shape[0] ?? options.length
  if (length === undefined) throw new ValueError('scan: xs has no tensors; pass options.length to scan without inputs.')
  xsFlat.leaves.forEach((x, i) => {
    if (x.rank === 0 || x.shape[0] !== length) {
      throw new ShapeError(
        `scan: every leaf of xs needs the same leading (time) length; ${treePaths(xsFlat.def, 'xs')[i]} has shape ${showShape(x.shape)}, expected [${length}, ...].`,
      )
    }
  })
  const { leaves: initLeaves, def: carryDef } = treeFlatten(init, 'scan: init')
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

  const chunk = options.checkpoint === true ? 1 : typeof options.checkpoint === 'number' ? options.checkpoint : 0
  if (!Number.isInteger(chunk) || chunk < 0) {
    throw new ValueError(`scan: checkpoint must be a boolean or a positive integer, got ${String(options.checkpoint)}.`)
  }
  const order = Array.from({ length }, (_, i) => (options.reverse ? length - 1 - i : i))
  // Steps run in groups; with checkpointing each group is one rematerialised node holding only its carry.
  const groupSize = chunk === 0 ? Math.max(length, 1) : chunk
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
  for (let start = 0; start < length; start += groupSize) {
    const steps = order.slice(start, start + groupSize)
    const xsGroup = steps.map(xAt)
    const [next, ys] = chunk === 0
      ? runGroup(carry, steps, xsGroup)
      : remat((c: C, xg: readonly X[]) => runGroup(c, steps, xg))(carry, xsGroup)
    carry = next
    ysInOrder.push(...ys)
  }
  const ysByTime = options.reverse ? ysInOrder.reverse() : ysInOrder
  return [carry, stackYs(ysByTime)]
}

/** Stacks a list of y trees into one tree of time-major tensors. */
const stackYs = <Y>(ys: readonly Y[]): Y => {
  if (ys.length === 0) return null as Y
  const flats = ys.map((y, t) => treeFlatten(y, `scan: the output y at step ${t}`))
  const { def } = flats[0]
  flats.forEach((fl, t) => {
    const diff = treeDefDifference(def, fl.def)
    if (diff !== null) throw new TreeError(`scan: the output y must keep one structure; at step ${t} it differs ${diff}.`)
  })
  return treeUnflatten(def, flats[0].leaves.map((_, i) => stack(flats.map((fl) => fl.leaves[i]), 0)))
}
