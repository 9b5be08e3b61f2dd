/**
 * @file One optimiser update per minibatch (`makeTrainStep`) or per time window of a minibatch
 * (`makeTbpttStep`, truncated backpropagation through time). The loop is always
 * loss → gradient → optimizer.update → applyUpdates, with the gradient a return value: the weights
 * never change while a backward pass is still using them (the seed's defect). Imports tensor/,
 * autodiff/, transforms/, tree/, random/ and optim/ (applyUpdates).
 */
import { findNonFinite } from '../autodiff/primitive.js'
import { slice, stopGradient } from '../autodiff/ops/structural.js'
import { ShapeError, ValueError, showShape } from '../errors.js'
import { type Key, splitKey } from '../random/random.js'
import { Tensor, allFinite } from '../tensor/Tensor.js'
import { valueAndGrad } from '../transforms/grad.js'
import { applyUpdates } from '../optim/GradientTransformation.js'
import { treeFlatten, treeMap, treePaths, treeUnflatten } from '../tree/tree.js'
import { NonFiniteLossError } from './errors.js'
import type { LossAux, LossContext, LossFn, Optimizer } from './types.js'

/** What one call of a train step returns. */
export interface StepResult<P, S> {
  readonly params: P
  readonly optState: S
  /** The batch loss before the update (for truncated BPTT, the window losses averaged by length). */
  readonly loss: number
  /** The loss's metrics for the batch, as numbers. */
  readonly metrics: Readonly<Record<string, number>>
  /** The model state the loss returned (truncated BPTT: the state after the last window). */
  readonly state?: unknown
  /** Optimiser updates applied: 1, or the number of windows under truncated BPTT. */
  readonly updates: number
}

/**
 * A train step: `(params, optState, batch, key?) → { params, optState, loss, … }`. Pure: the same
 * arguments always give the same result. Throws `NonFiniteLossError` instead of returning NaN.
 */
export type TrainStep<P, S, B> = (params: P, optState: S, batch: B, key?: Key) => StepResult<P, S>

// ---- helpers shared with fit and evaluate ----

/** A loss's result as `[loss, aux]`, whichever form it returned. */
export const withAux = <C>(who: string, result: Tensor | readonly [Tensor, LossAux<C>]): readonly [Tensor, LossAux<C>] => {
  if (result instanceof Tensor) return [result, {}]
  if (Array.isArray(result) && result.length === 2 && result[0] instanceof Tensor) return result
  throw new ValueError(`${who}: the loss must return a scalar tensor or [loss, { metrics?, state? }], got ${Array.isArray(result) ? `an array of length ${result.length}` : typeof result}.`)
}

/** Metric values as plain numbers; each must be a scalar. */
export const metricNumbers = (who: string, metrics: LossAux['metrics']): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const [name, value] of Object.entries(metrics ?? {})) {
    if (name === 'loss') throw new ValueError(`${who}: a metric may not be called 'loss' (the loss is always reported under that name); rename it.`)
    if (value instanceof Tensor) {
      if (value.size !== 1) throw new ShapeError(`${who}: metric '${name}' must be a scalar, got shape ${showShape(value.shape)}. Reduce it (mean) in the loss.`)
      out[name] = value.data[0]
    } else {
      out[name] = value
    }
  }
  return out
}

/** Paths of the leaves holding NaN or ±∞ (empty when the tree is finite). */
export const nonFiniteLeaves = (tree: unknown, root: string): string[] => {
  const { leaves, def } = treeFlatten(tree, root)
  const paths = treePaths(def, root)
  return leaves.flatMap((x, i) => (allFinite(x.data) ? [] : [paths[i]]))
}

/** The number of samples in a batch: the leading axis of its first tensor. */
export const batchSize = (batch: unknown): number => {
  const first = treeFlatten(batch, 'batch').leaves[0]
  return first === undefined || first.rank === 0 ? 1 : first.shape[0]
}

// ---- one update ----

interface UpdateResult<P, S> {
  readonly params: P
  readonly optState: S
  readonly loss: number
  readonly metrics: Record<string, number>
  readonly state: unknown
}

/** loss → gradient → update for one batch (or window), with every non-finite outcome diagnosed. */
const updateOnce = <P, B, S, C>(who: string, lossFn: LossFn<P, B, C>, optimizer: Optimizer<S>) => {
  const objective = (p: P, b: B, context: LossContext<C>) => withAux(who, lossFn(p, b, context))
  const lossAndGrad = valueAndGrad(objective, { hasAux: true })
  return (params: P, optState: S, batch: B, context: LossContext<C>): UpdateResult<P, S> => {
    const [[lossTensor, aux], grads] = lossAndGrad(params, batch, context)
    const loss = lossTensor.item()
    const fail = (phase: 'loss' | 'gradient' | 'update', leaves: string[], replay: () => unknown) =>
      new NonFiniteLossError<P, S>({ who, phase, loss, leaves, culprit: findNonFinite(replay), params, optState })
    if (!Number.isFinite(loss)) throw fail('loss', [], () => lossFn(params, batch, context))
    const badGrads = nonFiniteLeaves(grads, 'params')
    if (badGrads.length > 0) throw fail('gradient', badGrads, () => lossAndGrad(params, batch, context))
    const [updates, nextOptState] = optimizer.update(grads, optState, params)
    const nextParams = applyUpdates(params, updates)
    const badParams = nonFiniteLeaves(nextParams, 'params')
    if (badParams.length > 0) throw fail('update', badParams, () => applyUpdates(params, optimizer.update(grads, optState, params)[0]))
    return { params: nextParams, optState: nextOptState, loss, metrics: metricNumbers(who, aux.metrics), state: aux.state }
  }
}

/**
 * Makes the step that trains on one minibatch with one optimiser update:
 *
 *   (ℓ, g) = valueAndGrad(loss)(θ, batch),   (u, s′) = optimizer.update(g, s, θ),   θ′ = θ + u
 *
 * The loss may return `[loss, { metrics }]` to report metrics; `key` reaches it as `context.key`.
 * If ℓ, g or θ′ holds NaN or ±∞ the step throws `NonFiniteLossError` naming the first primitive
 * that produced one and carrying the (finite) θ and s it started from.
 * @param lossFn `(params, batch, { key }) → loss` (a scalar, the batch mean).
 * @param optimizer an optax-style `{ init, update }`, e.g. `optim.adam(1e-3)`.
 * @returns `(params, optState, batch, key?) → { params, optState, loss, metrics, updates: 1 }`.
 * @example
 * ```ts
 * const model = nn.linear({ inputSize: 1, outputSize: 1 })
 * const optimizer = optim.sgd(0.1)
 * const step = train.makeTrainStep(train.supervised(model.apply, losses.mse), optimizer)
 * const batch = { inputs: tensor([[0], [1], [2]]), targets: tensor([[1], [3], [5]]) } // y = 2x + 1
 * const params = model.init(randomKey(0))
 * const first = step(params, optimizer.init(params), batch)
 * const second = step(first.params, first.optState, batch)
 * console.log(second.loss < first.loss, first.updates) // true 1
 * ```
 * @category training
 */
export const makeTrainStep = <P, B, S, C = unknown>(lossFn: LossFn<P, B, C>, optimizer: Optimizer<S>): TrainStep<P, S, B> => {
  const update = updateOnce('trainStep', lossFn, optimizer)
  return (params, optState, batch, key) => ({ ...update(params, optState, batch, key === undefined ? {} : { key }), updates: 1 })
}

// ---- truncated backpropagation through time ----

/**
 * Splits every leaf of a batch-first batch (`[batch, time, …]`) along its time axis (axis 1) into
 * windows of `window` steps; the last window takes the remainder.
 * @example
 * ```ts
 * const batch = { inputs: zeros([4, 10, 3]), targets: zeros([4, 10, 1]) }
 * const windows = train.splitTime(batch, 4)
 * console.log(windows.map((w) => w.inputs.shape)) // [[4, 4, 3], [4, 4, 3], [4, 2, 3]]
 * ```
 * @category training
 */
export const splitTime = <B>(batch: B, window: number): B[] => {
  if (!Number.isInteger(window) || window < 1) throw new ValueError(`splitTime: window must be a positive integer, got ${window}.`)
  const { leaves, def } = treeFlatten(batch, 'splitTime: batch')
  const paths = treePaths(def, 'batch')
  if (leaves.length === 0) throw new ValueError('splitTime: the batch holds no tensors.')
  const length = leaves[0].rank >= 2 ? leaves[0].shape[1] : -1
  leaves.forEach((x, i) => {
    if (x.rank < 2 || x.shape[1] !== length) {
      throw new ShapeError(
        `splitTime: every leaf of the batch must be [batch, time, …] with one time length; ${paths[i]} has shape ${showShape(x.shape)}` +
          `${length > 0 ? `, expected [${x.shape[0] ?? 'batch'}, ${length}, …]` : ''}. Give sequence-level targets their own loss, outside truncated BPTT.`,
      )
    }
  })
  const windows: B[] = []
  for (let start = 0; start < length; start += window) {
    const end = Math.min(start + window, length)
    windows.push(treeUnflatten<B>(def, leaves.map((x) => slice(x, [[0, x.shape[0]], [start, end]]))))
  }
  return windows
}

export interface TbpttOptions {
  /** Time steps per window (k): one optimiser update per window. */
  readonly window: number
}

/**
 * Makes the truncated-BPTT step: the batch's sequences are cut into windows of k steps
 * (`splitTime`), and each window gets its own loss, gradient and update; the recurrent state
 * flows from one window into the next as a value with its gradient stopped, so
 *
 *   (ℓ_w, aux_w), g_w = valueAndGrad(loss)(θ_w, window_w, { state: sg(state_{w−1}) }),   θ_{w+1} = θ_w + update(g_w)
 *
 * and no gradient crosses a window boundary (memory is O(k), not O(T)).
 *
 * The loss contract: `loss(params, window, { state, key })` runs the model from `state`
 * (`undefined` for the first window: the model's own initial state, e.g. the seed's "no time term
 * at t = 1") and returns `[loss, { state: finalState, metrics? }]`; with the `nn` layers that is
 * `layer.apply(params, xs, { initialState: state })` → `{ outputs, state }`.
 * @param lossFn the stateful window loss described above.
 * @param optimizer an optax-style `{ init, update }`.
 * @param options `{ window }`: steps per window.
 * @returns a train step whose `loss` is the window losses averaged by window length and whose
 *   `updates` counts the windows.
 * @example
 * ```ts
 * const rnn = nn.elman({ inputSize: 1, hiddenSize: 4 })
 * const head = nn.linear({ inputSize: 4, outputSize: 1 })
 * type Params = { rnn: nn.Params; head: nn.Params }
 * type Batch = { inputs: Tensor; targets: Tensor }
 * const loss: train.LossFn<Params, Batch, nn.HiddenState> = (p, window, { state }) => {
 *   const run = rnn.apply(p.rnn, window.inputs, { initialState: state }) // state: undefined in the first window
 *   return [losses.mse(head.apply(p.head, run.outputs), window.targets), { state: run.state }]
 * }
 * const optimizer = optim.adam(1e-2)
 * const step = train.makeTbpttStep(loss, optimizer, { window: 5 })
 * const { xs, ys } = data.nextStepTask(data.oscillator({ tEnd: 2 }).x) // [1, 19, 1]
 * const params = { rnn: rnn.init(randomKey(0)), head: head.init(randomKey(1)) }
 * const result = step(params, optimizer.init(params), { inputs: xs, targets: ys })
 * console.log(result.updates) // 4: windows of 5, 5, 5 and 4 steps, one update each
 * ```
 * @category training
 */
export const makeTbpttStep = <P, B, S, C>(lossFn: LossFn<P, B, C>, optimizer: Optimizer<S>, options: TbpttOptions): TrainStep<P, S, B> => {
  const who = 'tbpttStep'
  if (!Number.isInteger(options.window) || options.window < 1) throw new ValueError(`${who}: window must be a positive integer, got ${options.window}.`)
  const update = updateOnce(who, lossFn, optimizer)
  return (params, optState, batch, key) => {
    const windows = splitTime(batch, options.window)
    const keys = key === undefined ? [] : splitKey(key, windows.length)
    let current = { params, optState }
    let state: C | undefined
    let steps = 0
    let lossSum = 0
    const metricSums: Record<string, number> = {}
    windows.forEach((w, i) => {
      let result: UpdateResult<P, S>
      try {
        result = update(current.params, current.optState, w, { key: keys[i], state })
      } catch (e) {
        throw e instanceof NonFiniteLossError ? (e as NonFiniteLossError<P, S>).locate(who, { window: i }) : e
      }
      if (result.state === undefined) {
        throw new ValueError(`${who}: the loss must return [loss, { state }] so the recurrent state can be carried to the next window; window ${i} returned no state.`)
      }
      // The carried state is a value: its gradient is stopped, so the next window's backward pass ends here.
      state = treeMap(stopGradient, result.state) as C
      const length = treeFlatten(w, 'window').leaves[0].shape[1]
      steps += length
      lossSum += result.loss * length
      for (const [name, v] of Object.entries(result.metrics)) metricSums[name] = (metricSums[name] ?? 0) + v * length
      current = { params: result.params, optState: result.optState }
    })
    const metrics = Object.fromEntries(Object.entries(metricSums).map(([name, s]) => [name, s / steps]))
    return { ...current, loss: lossSum / steps, metrics, state, updates: windows.length }
  }
}
