/**
 * @file The parallel core shared by the layers whose recurrence is linear in the carry (minGRU,
 * minLSTM, LRU): every step's coefficients at once, one recurrence over time, then a readout. What
 * the layers have in common lives here — the time-major layout, padded steps, reversed runs,
 * initial and final states, last-step outputs — so each layer states only its own equations.
 * Imports ops, transforms and the recurrent machinery's types.
 */
import { cast, mul } from '../autodiff/ops/elementwise.js'
import { reshape, slice, transpose } from '../autodiff/ops/structural.js'
import type { Tensor } from '../tensor/Tensor.js'
import { carryProbeActive } from '../transforms/carryProbe.js'
import { flipTime } from '../transforms/linearRecurrence.js'
import { type ParamShapes, type Params, checkParams } from './init.js'
import type { RecurrentCore, RunContext, RunResult } from './recurrent.js'

/** A layer's parallel form, over time-major inputs `[time, batch, in]`. */
export interface LinearForm {
  /**
   * Every state `[time, batch, state]` from the inputs, forwards. `mask` (`[time, batch, 1]`, the
   * inputs' dtype) is 0 at padded steps, which must keep the state; `h0` is the initial state
   * `[batch, state]` in the inputs' dtype, or null for the layer's own start.
   */
  readonly states: (p: Params, xs: Tensor, mask: Tensor | null, h0: Tensor | null) => Tensor
  /** The outputs `[..., out]` from the inputs and states of the same steps (`[..., in]`, `[..., state]`). */
  readonly readout: (p: Params, xs: Tensor, hs: Tensor) => Tensor
  /**
   * Optional: every state `[batch, time, state]` of an unmasked forward run from batch-first inputs
   * `[batch, time, in]` (h0 as in `states`). A layer that has it runs batch-first inputs without
   * transposing them to time-major and its outputs back; masked and reversed runs still take `states`.
   */
  readonly batchFirstStates?: (p: Params, xs: Tensor, h0: Tensor | null) => Tensor
}

/** Step t of a time-major `[time, batch, features]`, as `[batch, features]`. */
export const stepAt = (x: Tensor, t: number): Tensor => reshape(slice(x, [[t, t + 1]]), x.shape.slice(1))

/**
 * A one-direction layer that runs `form` in parallel, with the sizes, state names and initialiser
 * of `like` (the same cell run step by step, which it must match). A reversed run flips the inputs
 * and mask in time around a forward run; padded steps output 0, as the machinery's masked `scan`
 * does. While a carry probe is active, `like` runs instead.
 */
export const linearCore = (name: string, shapes: ParamShapes, form: LinearForm, like: RecurrentCore): RecurrentCore => {
  const run = (params: Params, xs: Tensor, context: RunContext): RunResult => {
    // A carry probe (diagnostics) perturbs a scan's carries step by step: the step-by-step run has them.
    if (carryProbeActive()) return like.run(params, xs, context)
    const initial = (): Tensor | null => (context.initial === null ? null : cast(context.initial[like.stateNames[0]][0], xs.dtype))
    if (context.timeAxis === 1 && form.batchFirstStates !== undefined && context.mask === null && !context.reverse) {
      const p = checkParams(name, params, shapes, context.paramName)
      const hs = form.batchFirstStates(p, xs, initial())
      const lastOf = (x: Tensor): Tensor => reshape(slice(x, [[0, x.shape[0]], [x.shape[1] - 1, x.shape[1]]]), [x.shape[0], x.shape[2]])
      const final = { [like.stateNames[0]]: [lastOf(hs)] }
      return { ys: context.outputs === 'last' ? form.readout(p, lastOf(xs), lastOf(hs)) : form.readout(p, xs, hs), final }
    }
    if (context.timeAxis !== 0) {
      const swap = (x: Tensor): Tensor => transpose(x, [1, 0, 2])
      const { ys, final } = run(params, swap(xs), { ...context, timeAxis: 0, mask: context.mask === null ? null : swap(context.mask) })
      return { ys: context.outputs === 'last' ? ys : swap(ys), final }
    }
    const p = checkParams(name, params, shapes, context.paramName)
    const time = xs.shape[0]
    const flip = (x: Tensor): Tensor => (context.reverse ? flipTime(x) : x)
    const mask = context.mask === null ? null : flip(cast(context.mask, xs.dtype))
    const inputs = flip(xs)
    const hs = form.states(p, inputs, mask, initial())
    const final = { [like.stateNames[0]]: [stepAt(hs, time - 1)] }
    if (context.outputs === 'last') return { ys: form.readout(p, stepAt(inputs, time - 1), stepAt(hs, time - 1)), final }
    const ys = form.readout(p, inputs, hs)
    return { ys: flip(mask === null ? ys : mul(ys, mask)), final }
  }
  const { inputSize, outputSize, stateNames, stateSizes, directions, init } = like
  return { name, inputSize, outputSize, stateNames, stateSizes, directions, init, timeAxis: form.batchFirstStates === undefined ? 0 : 1, run }
}
