/**
 * @file How a cell's sequence kernel plugs into `scan`. A step function may carry a kernel that
 * runs every step of a scan at once, forwards and backwards (`withSequenceKernel`); `scan` then
 * records one node instead of one per step. The step itself stays the definition: the kernel must
 * equal the scan of the step, the tests compare both, and the node's differentiable VJP (used
 * under higher-order differentiation) and tangent rule are the VJP and JVP of that scan, so no
 * pass through time is written by hand outside a kernel. Imports the kernel primitive contract,
 * `vjp`, `jvp` and pytrees.
 */
import { BatchTrace, Batched, batchAxisAt, batchComposition } from '../autodiff/batching.js'
import { defineKernelPrimitive } from '../autodiff/primitive.js'
import { batchSize, batchedFirst, moveAxis, reshape } from '../autodiff/ops/structural.js'
import { type Batch, isReverse, lower, lowerAll, record, topTrace } from '../autodiff/trace.js'
import type { Tensor } from '../tensor/Tensor.js'
import { type TreeDef, treeFlatten, treeUnflatten } from '../tree/tree.js'
import { vjp } from './grad.js'
import { jvpLeaves } from './jvp.js'
import { zerosLike } from './linearize.js'

/** A step function: `(carry, x) → [carry, y]`. @category transforms */
export type ScanStep<C, X, Y> = (carry: C, x: X) => readonly [C, Y]

/** How a scan runs, besides its operands: the options of `scan` that a kernel must honour. @category transforms */
export interface ScanLayout {
  readonly reverse: boolean
  /** The axis of time in xs, the mask and ys: 0 (time-major) or 1 (batch-major, `[batch, time, …]`). */
  readonly timeAxis: 0 | 1
  /** 'last': ys is the last processed step's y alone, without a time axis. */
  readonly outputs: 'all' | 'last'
}

/** One scan as a kernel sees it: plain tensors, flattened. @category transforms */
export interface SequenceRun extends ScanLayout {
  /** The initial carry's leaves, in `treeFlatten` order. */
  readonly carry: readonly Tensor[]
  /** The leaves of xs. */
  readonly xs: readonly Tensor[]
  /** `[time, batch, 1]` in xs' layout (1: a real step, 0: padding, where the carry is kept and y is 0), or null. */
  readonly mask: Tensor | null
  /** The tensors the step reads besides carry and x (`SequenceKernel.operands`). */
  readonly operands: readonly Tensor[]
}

/** Cotangents per group of a sequence node's inputs or outputs (null: none arrived, or none wanted). @category transforms */
export interface SequenceCotangents {
  readonly carry: readonly (Tensor | null)[]
  readonly xs: readonly (Tensor | null)[]
  readonly operands: readonly (Tensor | null)[]
}

/**
 * A kernel for every step of a cell at once. Its y is one tensor. `forward` and `backward` see
 * plain tensors only; `backward` may read what `forward` returned as residuals, and must give the
 * same result however often it is called (residuals are read, never written).
 * @category transforms
 */
export interface SequenceKernel<R = unknown> {
  readonly name: string
  /** The tensors the step closes over (its weights): inputs of the node, differentiated like the others. */
  readonly operands: readonly Tensor[]
  /** The step as a function of `operands`: the composition the kernel equals. */
  readonly step: (operands: readonly Tensor[]) => ScanStep<any, any, Tensor>
  /** Whether the kernel takes this run (dtypes, layout, mask); when not, `scan` runs the step. */
  readonly accepts: (run: SequenceRun) => boolean
  readonly forward: (run: SequenceRun) => { readonly carry: Tensor[]; readonly y: Tensor; readonly residuals: R }
  readonly backward: (
    cotangents: { readonly carry: readonly (Tensor | null)[]; readonly y: Tensor | null },
    run: SequenceRun, out: { readonly carry: readonly Tensor[]; readonly y: Tensor }, residuals: R,
    needed: { readonly carry: readonly boolean[]; readonly xs: readonly boolean[]; readonly operands: readonly boolean[] },
  ) => SequenceCotangents
  /**
   * Whether the kernel treats the rows of its batch axis (axis 0 of every carry leaf, the batch
   * axis of xs and the mask) independently, however many there are: then `vmap` folds its examples
   * into those rows and a vmapped scan is one kernel call. Otherwise (the default) `vmap` runs the
   * scan of `step`, batched.
   */
  readonly foldsBatch?: boolean
  /**
   * Optional, with `foldsBatch`: each operand's cotangent per group of rows, `[groups, ...operand]`,
   * for a run whose rows are `groups` equal blocks (vmap's examples, folded example by example),
   * from the cotangents `backward` gave xs and the residuals. With it, per-example gradients
   * (`vmap(grad(·))`) take one forward and one backward run of the kernel.
   */
  readonly operandCotangentsPerGroup?: (
    xsCotangents: readonly Tensor[], run: SequenceRun, out: { readonly carry: readonly Tensor[]; readonly y: Tensor }, residuals: R, groups: number,
    needed: readonly boolean[],
  ) => (Tensor | null)[]
}

const KERNEL = Symbol('scangrad.sequenceKernel')

/** A step with a kernel attached. */
export type KernelStep<C, X> = ScanStep<C, X, Tensor> & { readonly [KERNEL]: SequenceKernel }

/**
 * Attaches a sequence kernel to a step: `scan(step, …)` runs the kernel when it accepts the run,
 * else the step. The step must equal `kernel.step(kernel.operands)`.
 * @example
 * ```ts
 * // a running sum h_t = h_{t−1} + x_t; its kernel runs the whole sequence as one node of the tape
 * const step = (h: Tensor, x: Tensor) => {
 *   const next = add(h, x)
 *   return [next, next] as const
 * }
 * const kernel: SequenceKernel = {
 *   name: 'runningSum',
 *   operands: [],
 *   step: () => step,
 *   accepts: (run) => run.mask === null && run.timeAxis === 0 && run.outputs === 'all' && !run.reverse,
 *   forward: ({ carry: [h0], xs: [xs] }) => {
 *     const ys = unstack(xs).reduce<Tensor[]>((acc, x) => [...acc, add(acc.at(-1) ?? h0, x)], [])
 *     return { carry: [ys[ys.length - 1]], y: stack(ys), residuals: null }
 *   },
 *   backward: ({ carry: [gh], y: gy }, { xs: [xs] }) => {
 *     // the cotangent of x_t is that of every later h: a running sum from the end
 *     const gys = gy === null ? [] : unstack(gy)
 *     const gxs: Tensor[] = []
 *     let acc = gh ?? zeros(xs.shape.slice(1))
 *     for (let t = xs.shape[0] - 1; t >= 0; t--) gxs.unshift((acc = gys.length > 0 ? add(acc, gys[t]) : acc))
 *     return { carry: [acc], xs: [stack(gxs)], operands: [] }
 *   },
 * }
 * const runningSum = withSequenceKernel(step, kernel)
 * const xs = tensor([[1], [2], [3]]) // [time, features]
 * scan(runningSum, tensor([0]), xs)[1].toArray() // [[1], [3], [6]]
 * grad((xs: Tensor) => sum(scan(runningSum, tensor([0]), xs)[1]))(xs).toArray() // [[3], [2], [1]]
 * ```
 * @category transforms
 */
export const withSequenceKernel = <C, X>(step: ScanStep<C, X, Tensor>, kernel: SequenceKernel): KernelStep<C, X> =>
  Object.assign((carry: C, x: X) => step(carry, x), { [KERNEL]: kernel })

/** The kernel attached to a step, if any. */
export const sequenceKernelOf = (step: unknown): SequenceKernel | null =>
  typeof step === 'function' && KERNEL in step ? (step as KernelStep<unknown, unknown>)[KERNEL] : null

/** The composition a kernel stands for: scan's per-step loop, handed in by scan.ts. */
export type ComposedScan = (
  step: ScanStep<any, any, Tensor>, init: unknown, xs: unknown, options: ScanLayout & { readonly mask: Tensor | null },
) => readonly [unknown, Tensor]

interface NodeParams {
  readonly kernel: SequenceKernel
  readonly layout: ScanLayout
  readonly carryDef: TreeDef
  readonly xsDef: TreeDef
  readonly counts: { readonly carry: number; readonly xs: number; readonly mask: number }
  readonly composed: ComposedScan
}

/** The node's inputs, `[...carry, ...xs, mask?, ...operands]`, as a run. */
const runOf = (inputs: readonly Tensor[], { layout, counts }: NodeParams): SequenceRun => {
  const xsEnd = counts.carry + counts.xs
  return {
    reverse: layout.reverse,
    timeAxis: layout.timeAxis,
    outputs: layout.outputs,
    carry: inputs.slice(0, counts.carry),
    xs: inputs.slice(counts.carry, xsEnd),
    mask: counts.mask === 1 ? inputs[xsEnd] : null,
    operands: inputs.slice(xsEnd + counts.mask),
  }
}

const sequencePrimitive = defineKernelPrimitive<NodeParams, unknown>({
  name: 'scan',
  forward: (inputs, params) => {
    const { carry, y, residuals } = params.kernel.forward(runOf(inputs, params))
    return { outs: [...carry, y], residuals }
  },
  vjp: (cotangents, { inputs, outs, params, needed, residuals }) => {
    const run = runOf(inputs, params)
    const { carry: c, xs: x, mask: m } = params.counts
    const cts = params.kernel.backward(
      { carry: cotangents.slice(0, c), y: cotangents[c] ?? null },
      run, { carry: outs.slice(0, c), y: outs[c] }, residuals,
      { carry: needed.slice(0, c), xs: needed.slice(c, c + x), operands: needed.slice(c + x + m) },
    )
    return [...cts.carry, ...cts.xs, ...(m === 1 ? [null] : []), ...cts.operands]
  },
  // The VJP of the scan of the step: what the kernel computes, as primitives an outer trace records.
  differentiableVjp: (cotangents, { inputs, outs, params }) => {
    const run = runOf(inputs, params)
    const [, pullback] = vjp(composition(run, params), [...run.carry], [...run.xs], [...run.operands])
    const [carry, xs, operands] = pullback(cotangents.map((g, i) => g ?? zerosLike(outs[i])))
    return [...carry, ...xs, ...(run.mask === null ? [] : [null]), ...operands]
  },
  // Likewise the tangent of the scan of the step: forward mode through every step in turn, which
  // for a recurrent cell is real-time recurrent learning. The mask has no tangent.
  jvp: (tangents, { inputs, params }) => {
    const run = runOf(inputs, params)
    const scanned = composition(run, params)
    const { carry: c, xs: x, mask: m } = params.counts
    const withoutMask = <T>(all: readonly T[]): T[] => [...all.slice(0, c + x), ...all.slice(c + x + m)]
    return jvpLeaves((leaves) => scanned(leaves.slice(0, c), leaves.slice(c, c + x), leaves.slice(c + x)), withoutMask(inputs), withoutMask(tangents))
  },
  // vmap: the examples become more rows of the kernel's batch when it can take them, else the scan
  // of the step runs batched; either way a vmapped scan is one scan.
  batch: (inputs, axes, params) =>
    foldedRun(inputs, axes, params) ?? batchComposition((leaves) => {
      const run = runOf(leaves, params)
      return composition(run, params)([...run.carry], [...run.xs], [...run.operands])
    }, inputs, axes),
})

/**
 * The node's batching rule when the kernel's rows are independent (`foldsBatch`) and its operands
 * shared by every example: each carry leaf `[rows, …]` and each of xs and the mask (rows on the
 * axis after or before time) gets the examples folded into its rows, `[examples·rows, …]`, so
 * one node runs them all; its outputs are unfolded. Null when the kernel cannot take the run.
 */
const foldedRun = (inputs: readonly Tensor[], axes: readonly (number | null)[], params: NodeParams): Batch | null => {
  const folding = foldingOf(inputs, axes, params)
  if (folding === null) return null
  const outs = sequencePrimitive(folding.inputs, params)
  return { outs: outs.map((y, i) => folding.unfold(y, folding.outputRows(i))), axes: outs.map((_, i) => folding.outputRows(i)) }
}

/** vmap's examples as more rows of a kernel's run: the folded inputs, and where the rows of each input and output are. */
interface Folding {
  readonly inputs: Tensor[]
  readonly examples: number
  readonly inputRows: (i: number) => number
  readonly outputRows: (i: number) => number
  /** `[…, examples·rows, …]` → `[…, examples, rows, …]`: the examples' axis where the rows were. */
  readonly unfold: (y: Tensor, rows: number) => Tensor
  /** A batched tensor (examples along `axis`, null: shared) → its examples folded into the rows at `rows`. */
  readonly fold: (x: Tensor, axis: number | null, rows: number) => Tensor
}

/** The folding of a batched run, or null when the kernel's rows are not independent, an operand differs between examples, or the kernel does not take it. */
const foldingOf = (inputs: readonly Tensor[], axes: readonly (number | null)[], params: NodeParams): Folding | null => {
  const { kernel, layout, counts } = params
  const operandsAt = counts.carry + counts.xs + counts.mask
  if (kernel.foldsBatch !== true || axes.slice(operandsAt).some((a) => a !== null)) return null
  const n = batchSize(inputs, axes)
  const sequenceRows = 1 - layout.timeAxis
  const fold = (x: Tensor, axis: number | null, rows: number): Tensor => {
    const beside = moveAxis(batchedFirst(x, axis, n), 0, rows)
    return reshape(beside, [...beside.shape.slice(0, rows), n * beside.shape[rows + 1], ...beside.shape.slice(rows + 2)])
  }
  const inputRows = (i: number): number => (i < counts.carry ? 0 : sequenceRows)
  const folded = inputs.map((x, i) => (i >= operandsAt ? x : fold(x, axes[i], inputRows(i))))
  if (!kernel.accepts(runOf(folded, params))) return null
  return {
    inputs: folded,
    examples: n,
    inputRows,
    outputRows: (i) => (i < counts.carry || layout.outputs === 'last' ? 0 : sequenceRows),
    unfold: (y, rows) => reshape(y, [...y.shape.slice(0, rows), n, y.shape[rows] / n, ...y.shape.slice(rows + 1)]),
    fold,
  }
}

/**
 * Reverse mode over vmap's examples (`vmap(grad(·))`) as one kernel run: when the innermost trace
 * records a tape and the values below it are a batch of plain examples, the examples are folded
 * into the kernel's rows, its forward pass is kept for its backward pass, and each operand's
 * cotangent is taken per example (`operandCotangentsPerGroup`): the gradients a loop over the
 * examples gives, from one pass. Null when that does not apply (the node is then recorded as usual).
 */
const perExampleNode = (inputs: readonly Tensor[], params: NodeParams): Tensor[] | null => {
  const { kernel, counts } = params
  const tape = topTrace(inputs)
  if (kernel.operandCotangentsPerGroup === undefined || tape === null || !isReverse(tape)) return null
  const lowered = lowerAll(inputs, tape)
  const batch = topTrace(lowered)
  if (!(batch instanceof BatchTrace)) return null
  const values = lowerAll(lowered, batch)
  if (topTrace(values) !== null) return null
  const folding = foldingOf(values, lowered.map((x) => batchAxisAt(x, batch)), params)
  if (folding === null) return null
  const run = runOf(folding.inputs, params)
  const { carry, y, residuals } = kernel.forward(run)
  const outs = [...carry, y].map((o, i) => new Batched(folding.unfold(o, folding.outputRows(i)), batch, folding.outputRows(i)))
  const [c, x, operandsAt] = [counts.carry, counts.xs, counts.carry + counts.xs + counts.mask]
  return record(tape, 'scan', inputs, outs, (cotangents, _sums, needed) => {
    const folded = cotangents.map((g, i) => (g === null || g === undefined ? null : folding.fold(lower(g, batch), batchAxisAt(g, batch), folding.outputRows(i))))
    const wantOperands = needed.slice(operandsAt)
    // The operands' cotangents come from the xs', so those are asked for whenever an operand's is.
    const cts = kernel.backward(
      { carry: folded.slice(0, c), y: folded[c] ?? null }, run, { carry, y }, residuals,
      { carry: needed.slice(0, c), xs: needed.slice(c, c + x).map((n) => n || wantOperands.some(Boolean)), operands: wantOperands.map(() => false) },
    )
    const operands = wantOperands.some(Boolean)
      ? kernel.operandCotangentsPerGroup!(cts.xs as Tensor[], run, { carry, y }, residuals, folding.examples, wantOperands)
      : wantOperands.map(() => null)
    const perExample = (g: Tensor | null, rows: number): Tensor | null => (g === null ? null : new Batched(folding.unfold(g, rows), batch, rows))
    return [
      ...cts.carry.map((g, i) => perExample(g, folding.inputRows(i))),
      ...cts.xs.map((g, i) => (needed[c + i] ? perExample(g, folding.inputRows(c + i)) : null)),
      ...(counts.mask === 1 ? [null] : []),
      ...operands.map((g) => (g === null ? null : new Batched(g, batch, 0))),
    ]
  })
}

/** The scan of the node's step without the kernel, as a function of its carry, xs and operands leaves (the run's mask fixed). */
const composition = (run: SequenceRun, { kernel, layout, carryDef, xsDef, composed }: NodeParams) =>
  (carry: Tensor[], xs: Tensor[], operands: Tensor[]): Tensor[] => {
    const [final, y] = composed(kernel.step(operands), treeUnflatten(carryDef, carry), treeUnflatten(xsDef, xs), { ...layout, mask: run.mask })
    return [...treeFlatten(final).leaves, y]
  }

/**
 * Runs a scan through its step's kernel as one node; null when the kernel does not take the run
 * (the caller then runs the step).
 */
export const runSequenceKernel = (
  kernel: SequenceKernel, init: unknown, xs: unknown, mask: Tensor | null, layout: ScanLayout, composed: ComposedScan,
  inputs: { readonly leaves: Tensor[]; readonly def: TreeDef } = treeFlatten(xs, 'scan: xs'),
): readonly [unknown, Tensor] | null => {
  const carry = treeFlatten(init, 'scan: init')
  const run: SequenceRun = {
    reverse: layout.reverse, timeAxis: layout.timeAxis, outputs: layout.outputs, carry: carry.leaves, xs: inputs.leaves, mask, operands: kernel.operands,
  }
  if (!kernel.accepts(run)) return null
  const params: NodeParams = {
    kernel, layout: { reverse: layout.reverse, timeAxis: layout.timeAxis, outputs: layout.outputs }, carryDef: carry.def, xsDef: inputs.def,
    counts: { carry: carry.leaves.length, xs: inputs.leaves.length, mask: mask === null ? 0 : 1 }, composed,
  }
  const nodeInputs = [...carry.leaves, ...inputs.leaves, ...(mask === null ? [] : [mask]), ...kernel.operands]
  const outs = perExampleNode(nodeInputs, params) ?? sequencePrimitive(nodeInputs, params)
  return [treeUnflatten(carry.def, outs.slice(0, carry.leaves.length)), outs[carry.leaves.length]]
}
