/**
 * @file Sequence kernels for the built-in recurrences: what connects `scan`'s `SequenceKernel`
 * contract to the backend's whole-sequence kernels (`Kernels.projectedRecurrent*`,
 * `recurrent*`, `lstm*`, `gru*`). Nothing here states a cell's equations: each factory is given
 * the step as a function of its operands (the cell's composition, written in nn/cells.ts), and the
 * kernels that fuse it live with the backends. What is here is bookkeeping: extents, the final
 * carry's rows, where the final carry's cotangent joins the per-step ones, and a mask's padded
 * steps: the kernels keep a row's state there (`RecurrenceExtent.mask`), and y, which scan makes 0
 * there, is the states with those rows zeroed, so the ys' cotangents reach the states zeroed too.
 * Imports the active kernels, tensor helpers and the sequence-kernel contract.
 */
import { matmulTransposed } from '../autodiff/ops/linalg.js'
import { sum } from '../autodiff/ops/reduce.js'
import { concat, expandDims, reshape, slice, transpose } from '../autodiff/ops/structural.js'
import { mul } from '../autodiff/ops/elementwise.js'
import { K } from '../tensor/backend.js'
import type { RecurrenceExtent, RecurrentActivation } from '../tensor/kernels.js'
import { finalRows, maskAt, stepAt, stepRows } from '../tensor/recurrence.js'
import { type Data, Tensor, allocate } from '../tensor/Tensor.js'
import type { ScanStep, SequenceKernel, SequenceRun } from './sequenceKernel.js'

/** The step as a function of the kernel's operands. */
type StepOf = (operands: readonly Tensor[]) => ScanStep<any, any, Tensor>

const SINGLE = new Int32Array(1)

/** Whether every tensor of a run shares one dtype (the kernels do not promote). */
const oneDtype = (run: SequenceRun): boolean => {
  const dtype = run.xs[0].dtype
  const same = (x: Tensor): boolean => x.dtype === dtype
  return run.carry.every(same) && run.xs.every(same) && run.operands.every(same)
}

/**
 * The extent of a run whose xs (one leaf, rank 3) has time on `timeAxis`; its mask, `[time, batch, 1]`
 * in xs' layout, is the extent's `[time, batch]` (or `[batch, time]`) as it is.
 */
const extentOf = (run: SequenceRun, hidden: number, transposed: boolean): RecurrenceExtent => {
  const x = run.xs[0]
  return {
    time: x.shape[run.timeAxis], batch: x.shape[1 - run.timeAxis], hidden, reverse: run.reverse, transposed, batchMajor: run.timeAxis === 1,
    ...(run.mask === null ? {} : { mask: run.mask.data }),
  }
}

/** Whether a run's mask (if any) holds one value per step and row: `[time, batch]` or `[time, batch, 1]` in xs' layout. */
const maskPerRow = ({ mask, xs: [x] }: SequenceRun): boolean =>
  mask === null || ((mask.rank === 2 || (mask.rank === 3 && mask.shape[2] === 1)) && mask.shape[0] === x.shape[0] && mask.shape[1] === x.shape[1])

/** Whether the run has one rank-3 input whose rows match the carry's, `gates·hidden` wide when `width` is given. */
const shapedAsSequence = (run: SequenceRun, carries: number, width?: number): boolean => {
  const x = run.xs[0]
  if (run.xs.length !== 1 || x.rank !== 3 || run.carry.length !== carries || !maskPerRow(run)) return false
  const batch = x.shape[1 - run.timeAxis]
  return run.carry.every((c) => c.rank === 2 && c.shape[0] === batch) && (width === undefined || x.shape[2] === width)
}

/**
 * Rows of `hidden` values, one per mask entry, with those of padded steps (mask 0) set to 0: scan's
 * `m ? y : 0`. x itself without a mask.
 */
const zeroPadded = (x: Data, mask: Data | undefined, hidden: number): Data => {
  if (mask === undefined) return x
  const out = x.slice()
  for (let r = 0; r < mask.length; r++) if (mask[r] === 0) out.fill(0, r * hidden, (r + 1) * hidden)
  return out
}

/** The mask of the last processed step, `[batch]`, or undefined without a mask. */
const lastStepMask = (extent: RecurrenceExtent): Data | undefined => {
  const { mask } = extent
  if (mask === undefined) return undefined
  const t = stepAt(extent, extent.time - 1)
  return Float64Array.from({ length: extent.batch }, (_, b) => mask[maskAt(extent, t, b)])
}

/** A `[batch, hidden]` or sequence tensor with the rows of padded steps zeroed (see `zeroPadded`); null stays null. */
const padded = (x: Tensor | null, mask: Data | undefined, hidden: number): Tensor | null =>
  x === null || mask === undefined ? x : new Tensor(zeroPadded(x.data, mask, hidden), x.shape)

const plus = (a: Tensor | null, b: Tensor | null): Tensor | null =>
  a === null ? b : b === null ? a : new Tensor(K.binary('add', a.data, null, b.data, null, a.size), a.shape)

/**
 * A time-major `[time, batch, hidden]` cotangent for every step: the ys' (or zeros), with `last`
 * added to the last processed step's rows. A fresh array: kernels only read it.
 */
const perStep = (ys: Tensor | null, last: Tensor | null, extent: RecurrenceExtent, like: Tensor): Data => {
  const n = extent.batch * extent.hidden
  const out = ys === null ? allocate(like.dtype, extent.time * n) : ys.data.slice()
  if (last !== null) {
    const at = stepAt(extent, extent.time - 1) * n
    const sum = K.binary('add', out.subarray(at, at + n), null, last.data, null, n)
    out.set(sum, at)
  }
  return out
}

/** The last processed step's `[batch, hidden]` rows of a sequence, as a tensor. */
const finalState = (hs: Data, extent: RecurrenceExtent): Tensor => new Tensor(finalRows(hs, extent), [extent.batch, extent.hidden])

/**
 * ys for the run's `outputs`: every step in xs' layout, or the final state (the last processed
 * step's y), with padded steps' rows zeroed.
 */
const outputsOf = (run: SequenceRun, hs: Data, final: Tensor, extent: RecurrenceExtent): Tensor =>
  run.outputs === 'last'
    ? padded(final, lastStepMask(extent), extent.hidden)!
    : new Tensor(zeroPadded(hs, extent.mask, extent.hidden), [run.xs[0].shape[0], run.xs[0].shape[1], extent.hidden])

type NodeCotangents = { readonly carry: readonly (Tensor | null)[]; readonly y: Tensor | null }

/**
 * The cotangents reaching the states from y: every step's (zeroed at padded steps, whose y is 0
 * whatever the state), or, with `outputs: 'last'`, the last processed step's alone (null for the steps).
 */
const stateCotangents = (run: SequenceRun, y: Tensor | null, extent: RecurrenceExtent) =>
  run.outputs === 'last'
    ? { steps: null, last: padded(y, lastStepMask(extent), extent.hidden) }
    : { steps: padded(y, extent.mask, extent.hidden), last: null }

/** The cotangents of an Elman / RNN node as the kernels take them: every step's, and the final state's. */
const elmanCotangent = (run: SequenceRun, cotangents: NodeCotangents, extent: RecurrenceExtent) => {
  const fromY = stateCotangents(run, cotangents.y, extent)
  const last = plus(cotangents.carry[0], fromY.last)
  return { steps: fromY.steps === null ? null : fromY.steps.data, last: last === null ? null : last.data }
}

/** The time-major cotangents of every step's h for the LSTM and GRU kernels, the final carry's `last` included. */
const hiddenCotangents = (run: SequenceRun, cotangents: NodeCotangents, last: Tensor | null, extent: RecurrenceExtent, like: Tensor): Data => {
  const fromY = stateCotangents(run, cotangents.y, extent)
  return perStep(fromY.steps, plus(last, fromY.last), extent, like)
}

// ---- per-example operand cotangents (vmap over reverse mode) ----

/** `[time, groups·rows, k]` → `[groups, time·rows, k]`: each group's rows of every step together. */
const byGroup = (x: Tensor, groups: number): Tensor => {
  const [time, rows, k] = x.shape
  return reshape(transpose(reshape(x, [time, groups, rows / groups, k]), [1, 0, 2, 3]), [groups, time * (rows / groups), k])
}

/** The state entering every step, time-major `[time, rows, hidden]`: h0, then the states before it in processing order. */
const statesEntering = (hs: Tensor, h0: Tensor, reverse: boolean): Tensor => {
  const time = hs.shape[0]
  if (time === 1) return expandDims(h0, 0)
  return reverse ? concat([slice(hs, [[1, time]]), expandDims(h0, 0)], 0) : concat([expandDims(h0, 0), slice(hs, [[0, time - 1]])], 0)
}

/**
 * A transposed recurrent weight's cotangent `Σ_t dz_tᵀ·h_{t−1}` per group of rows, `[groups, k, hidden]`:
 * one batched product over each group's rows of every step (padded steps have dz = 0, so they add nothing).
 */
const weightPerGroup = (dz: Tensor, entering: Tensor, groups: number): Tensor => matmulTransposed(byGroup(dz, groups), byGroup(entering, groups), true, false)

/** A time-major view of a sequence in a run's layout (batch-major for a batch-first run). */
const timeMajor = (x: Tensor, batchMajor: boolean): Tensor => (batchMajor ? transpose(x, [1, 0, 2]) : x)

const ELMAN_ACTIVATIONS: readonly RecurrentActivation[] = ['tanh', 'relu', 'sigmoid']

/**
 * The seed's Elman recurrence with its input projection inside: operands `[wIn, w]`, xs one
 * `[time, batch, inputs]` tensor (or batch-major), carry `[h]`, y = h:
 * `h_t = σ(x_t·wIn + h_{t−1}·w)`. With `outputs: 'last'` the other steps' states stay with the
 * backend (`projectedRecurrentFinal`).
 */
export const projectedRecurrenceKernel = (
  operands: readonly [wIn: Tensor, w: Tensor], activation: RecurrentActivation, step: StepOf,
): SequenceKernel => {
  if (!ELMAN_ACTIVATIONS.includes(activation)) throw new Error(`projectedRecurrenceKernel: no kernel for the activation ${activation}.`)
  const hidden = operands[1].shape[0]
  return {
    name: 'projectedRecurrence',
    foldsBatch: true,
    operands,
    step,
    accepts: (run) => shapedAsSequence(run, 1) && oneDtype(run) && run.xs[0].shape[2] === run.operands[0].shape[0],
    forward: (run) => {
      const [x, [h0], [wIn, w]] = [run.xs[0], run.carry, run.operands]
      const extent = extentOf(run, hidden, false)
      if (run.outputs === 'last') {
        const states = K.projectedRecurrentFinal(x.data, wIn.data, h0.data, w.data, extent, activation)
        const final = new Tensor(states.final, [extent.batch, hidden])
        return { carry: [final], y: outputsOf(run, states.final, final, extent), residuals: states }
      }
      const hs = K.projectedRecurrentForward(x.data, wIn.data, h0.data, w.data, extent, activation)
      const final = finalState(hs, extent)
      return { carry: [final], y: outputsOf(run, hs, final, extent), residuals: hs }
    },
    backward: (cotangents, run, _out, residuals, needed) => {
      const [x, [h0], [wIn, w]] = [run.xs[0], run.carry, run.operands]
      const extent = extentOf(run, hidden, false)
      const wanted = { x: needed.xs[0], wIn: needed.operands[0], h0: needed.carry[0], w: needed.operands[1] }
      const d = K.projectedRecurrentBackward(
        elmanCotangent(run, cotangents, extent), residuals as Data, x.data, wIn.data, h0.data, w.data, extent, activation, wanted,
      )
      const as = (data: Data | null, like: Tensor): Tensor | null => (data === null ? null : new Tensor(data, like.shape))
      return { carry: [as(d.dh0, h0)], xs: [as(d.dx, x)], operands: [as(d.dwIn, wIn), as(d.dw, w)] }
    },
  }
}

/**
 * PyTorch's RNN recurrence on projected inputs: operands `[w]` (`weight_hh`, multiplied as
 * `h·wᵀ`), xs one `[time, batch, hidden]` tensor (or batch-major), carry `[h]`, y = h:
 * `h_t = σ(p_t + h_{t−1}·wᵀ)`.
 */
export const recurrenceKernel = (w: Tensor, activation: RecurrentActivation, step: StepOf): SequenceKernel => {
  const hidden = w.shape[0]
  return {
    name: 'recurrence',
    foldsBatch: true,
    operands: [w],
    step,
    accepts: (run) => ELMAN_ACTIVATIONS.includes(activation) && shapedAsSequence(run, 1, hidden) && oneDtype(run),
    forward: (run) => {
      const [p, [h0], [weight]] = [run.xs[0], run.carry, run.operands]
      const extent = extentOf(run, hidden, true)
      const hs = K.recurrentForward(p.data, h0.data, weight.data, extent, activation)
      const final = finalState(hs, extent)
      return { carry: [final], y: outputsOf(run, hs, final, extent), residuals: hs }
    },
    backward: (cotangents, run, _out, residuals, needed) => {
      const [p, [h0], [weight]] = [run.xs[0], run.carry, run.operands]
      const extent = extentOf(run, hidden, true)
      const d = K.recurrentBackward(elmanCotangent(run, cotangents, extent), residuals as Data, h0.data, weight.data, extent, activation, needed.operands[0])
      const { dz, dw } = d
      // h0 enters the first processed step as h·wᵀ: its cotangent is that step's dz·w, unless a
      // mask let some of it through (then the kernel says).
      const dh0 = !needed.carry[0]
        ? null
        : new Tensor(d.dh0 ?? K.matmul(stepRows(dz, extent, stepAt(extent, 0)), SINGLE, weight.data, SINGLE, extent.batch, hidden, hidden, false, false), h0.shape)
      return { carry: [dh0], xs: [new Tensor(dz, p.shape)], operands: [dw === null ? null : new Tensor(dw, weight.shape)] }
    },
    operandCotangentsPerGroup: ([dz], run, _out, residuals, groups) => {
      const batchMajor = run.timeAxis === 1
      const hs = timeMajor(new Tensor(residuals as Data, run.xs[0].shape), batchMajor)
      return [weightPerGroup(timeMajor(dz, batchMajor), statesEntering(hs, run.carry[0], run.reverse), groups)]
    },
  }
}

/**
 * PyTorch's LSTM recurrence on projected inputs (gates i, f, g, o): operands `[w]` (`weight_hh`
 * `[4·hidden, hidden]`, multiplied as `h·wᵀ`), xs one time-major `[time, batch, 4·hidden]` tensor,
 * carry `[h, c]`, y = h.
 */
export const lstmKernel = (w: Tensor, step: StepOf): SequenceKernel => {
  const hidden = w.shape[1]
  return {
    name: 'lstm',
    foldsBatch: true,
    operands: [w],
    step,
    accepts: (run) => run.timeAxis === 0 && shapedAsSequence(run, 2, 4 * hidden) && oneDtype(run),
    forward: (run) => {
      const [p, [h0, c0], [weight]] = [run.xs[0], run.carry, run.operands]
      const extent = extentOf(run, hidden, true)
      const forward = K.lstmForward(p.data, h0.data, c0.data, weight.data, extent)
      const final = finalState(forward.hs, extent)
      return { carry: [final, finalState(forward.cs, extent)], y: outputsOf(run, forward.hs, final, extent), residuals: forward }
    },
    backward: (cotangents, run, _out, residuals, needed) => {
      const [p, [h0, c0], [weight]] = [run.xs[0], run.carry, run.operands]
      const extent = extentOf(run, hidden, true)
      const [lastH, lastC] = cotangents.carry
      const gh = hiddenCotangents(run, cotangents, lastH, extent, h0)
      const gc = perStep(null, lastC, extent, c0)
      const d = K.lstmBackward(gh, gc, residuals as ReturnType<typeof K.lstmForward>, h0.data, c0.data, weight.data, extent, needed.operands[0])
      return {
        carry: [needed.carry[0] ? new Tensor(d.dh0, h0.shape) : null, needed.carry[1] ? new Tensor(d.dc0, c0.shape) : null],
        xs: [new Tensor(d.dPre, p.shape)],
        operands: [d.dw === null ? null : new Tensor(d.dw, weight.shape)],
      }
    },
    operandCotangentsPerGroup: ([dPre], run, _out, residuals, groups) => {
      const [time, rows] = run.xs[0].shape
      const hs = new Tensor((residuals as ReturnType<typeof K.lstmForward>).hs, [time, rows, hidden])
      return [weightPerGroup(dPre, statesEntering(hs, run.carry[0], run.reverse), groups)]
    },
  }
}

/**
 * PyTorch's GRU recurrence on projected inputs `x·W_ihᵀ + b_ih` (gates r, z, n): operands
 * `[w, b]` (`weight_hh` `[3·hidden, hidden]` multiplied as `h·wᵀ`, and `bias_hh`), xs one
 * time-major `[time, batch, 3·hidden]` tensor, carry `[h]`, y = h.
 */
export const gruKernel = (w: Tensor, b: Tensor, step: StepOf): SequenceKernel => {
  const hidden = w.shape[1]
  return {
    name: 'gru',
    foldsBatch: true,
    operands: [w, b],
    step,
    accepts: (run) => run.timeAxis === 0 && shapedAsSequence(run, 1, 3 * hidden) && oneDtype(run),
    forward: (run) => {
      const [p, [h0], [weight, bias]] = [run.xs[0], run.carry, run.operands]
      const extent = extentOf(run, hidden, true)
      const forward = K.gruForward(p.data, h0.data, weight.data, bias.data, extent)
      const final = finalState(forward.hs, extent)
      return { carry: [final], y: outputsOf(run, forward.hs, final, extent), residuals: forward }
    },
    backward: (cotangents, run, _out, residuals, needed) => {
      const [p, [h0], [weight, bias]] = [run.xs[0], run.carry, run.operands]
      const extent = extentOf(run, hidden, true)
      const g = hiddenCotangents(run, cotangents, cotangents.carry[0], extent, h0)
      const d = K.gruBackward(g, residuals as ReturnType<typeof K.gruForward>, h0.data, weight.data, extent, { w: needed.operands[0], b: needed.operands[1] })
      return {
        carry: [needed.carry[0] ? new Tensor(d.dh0, h0.shape) : null],
        xs: [new Tensor(d.dPre, p.shape)],
        operands: [d.dw === null ? null : new Tensor(d.dw, weight.shape), d.db === null ? null : new Tensor(d.db, bias.shape)],
      }
    },
    // hh = h·wᵀ + b enters the gates as [r̂ | ẑ | r ⊙ n̂]: its cotangent is dPre with the n part times r.
    operandCotangentsPerGroup: ([dPre], run, _out, residuals, groups, needed) => {
      const [time, rows] = run.xs[0].shape
      const { hs, saved } = residuals as ReturnType<typeof K.gruForward>
      const r = reshape(slice(new Tensor(saved, [time, 4, rows, hidden]), [[0, time], [0, 1]]), [time, rows, hidden])
      const dHidden = mul(dPre, concat([new Tensor(allocate(dPre.dtype, time * rows * 2 * hidden).fill(1), [time, rows, 2 * hidden]), r], -1))
      return [
        needed[0] ? weightPerGroup(dHidden, statesEntering(new Tensor(hs, [time, rows, hidden]), run.carry[0], run.reverse), groups) : null,
        needed[1] ? sum(byGroup(dHidden, groups), 1) : null,
      ]
    },
  }
}
