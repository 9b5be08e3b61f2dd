/**
 * @file `fit`: the training loop. Epochs of freshly shuffled minibatches, one optimiser update per
 * batch (or per window under truncated BPTT), a per-epoch history of train and validation metrics,
 * per-epoch outputs, callbacks, early stopping, and exact resumption from a `TrainState`.
 * Everything random is derived from the run's key and the epoch number. Imports train/ and below.
 */
import { ValueError } from '../errors.js'
import type { Key } from '../random/random.js'
import { batchSpec, datasetSize, epochPlan, takeBatch } from './batches.js'
import { NonFiniteLossError } from './errors.js'
import { evaluate } from './evaluate.js'
import { type StepResult, type TbpttOptions, batchSize, makeTbpttStep, makeTrainStep } from './step.js'
import type { EarlyStoppingState, EpochTotals, LossFn, Metrics, Optimizer, TrainState } from './types.js'

// ---- options and results ----

/**
 * Stop when a monitored number has not improved for `patience` epochs. Improving means beating the
 * best value so far by more than `minDelta` (below it in `'min'` mode, above it in `'max'` mode).
 * @category training
 */
export interface EarlyStoppingOptions {
  /** `'<split>.<name>'`, e.g. `'validation.loss'` (the default with validation data, else `'train.loss'`) or `'validation.accuracy'`. */
  readonly monitor?: string
  /** Epochs without improvement to tolerate before stopping (≥ 1). */
  readonly patience: number
  /** The smallest change that counts as an improvement (default 0). */
  readonly minDelta?: number
  /** Default `'max'` for names containing "accuracy", else `'min'`. */
  readonly mode?: 'min' | 'max'
}

/** What `onBatch` sees after each optimiser step on a batch. */
export interface BatchInfo<P, S> {
  readonly epoch: number
  readonly batch: number
  /** Batches in this epoch. */
  readonly batches: number
  /** Samples in this batch. */
  readonly size: number
  readonly loss: number
  readonly metrics: Readonly<Record<string, number>>
  /** The state after this batch: saving it and resuming later continues exactly from here. */
  readonly state: TrainState<P, S>
}

/** One epoch's record: averaged train metrics (over the epoch's batches) and validation metrics. */
export interface EpochLog {
  readonly epoch: number
  /** Batch losses and metrics averaged over the epoch, weighted by batch size, as the epoch ran. */
  readonly train: Metrics
  /** `evaluate` on the validation data with the parameters at the end of the epoch. */
  readonly validation?: Metrics
  /** Optimiser updates applied since the run began, at the end of this epoch. */
  readonly step: number
  /** Wall-clock seconds this call spent on the epoch. */
  readonly seconds: number
}

/** What `onEpoch` sees after each epoch. */
export interface EpochInfo<P, S> extends EpochLog {
  readonly state: TrainState<P, S>
  /** The epochs trained in this call so far, this one included. */
  readonly history: readonly EpochLog[]
}

/** `'stop'` from a callback ends training cleanly after the current batch or epoch. */
export type CallbackResult = 'stop' | void | undefined

/** Why `fit` returned. */
export type StopReason = 'completed' | 'callback' | 'signal' | 'earlyStopping'

interface FitCommon<P, S, D, C, O> {
  /** `(params, batch, { key, state }) → loss` or `[loss, { metrics, state }]`; see `LossFn`. */
  readonly loss: LossFn<P, D, C>
  readonly optimizer: Optimizer<S>
  /** The training set: a pytree of tensors sharing the leading sample axis, e.g. `{ inputs, targets }`. */
  readonly data: D
  /** Train until this many epochs have been completed in all (a resumed run counts earlier ones). */
  readonly epochs: number
  /** Samples per minibatch (the last takes the remainder); or give `batchCount`. */
  readonly batchSize?: number
  /** Minibatches per epoch (the last takes the remainder); or give `batchSize`. */
  readonly batchCount?: number
  /** Shuffle the samples afresh every epoch (default true). */
  readonly shuffle?: boolean
  /** Data to `evaluate` after every epoch, same structure as `data`. */
  readonly validation?: D
  /** Batch size for validation (default `batchSize`, else the whole set at once). */
  readonly validationBatchSize?: number
  /** Truncated BPTT: cut each batch's sequences into windows of `window` steps, one update each. */
  readonly truncatedBptt?: TbpttOptions
  readonly earlyStopping?: EarlyStoppingOptions
  /** Called with the parameters after every epoch; the results are returned as `outputs`. */
  readonly recordOutputs?: (params: P, epoch: number) => O
  readonly onBatch?: (info: BatchInfo<P, S>) => CallbackResult
  readonly onEpoch?: (info: EpochInfo<P, S>) => CallbackResult
  /** Checked before each batch; when `aborted`, training stops cleanly (e.g. an AbortSignal on Ctrl-C). */
  readonly signal?: { readonly aborted: boolean }
}

/** Start from fresh parameters with a key… */
interface FitFresh<P> {
  readonly params: P
  readonly key: Key
  readonly resume?: undefined
}

/** …or continue a saved `TrainState` (its key is the run's key). */
interface FitResume<P, S> {
  readonly resume: TrainState<P, S>
  readonly params?: undefined
  readonly key?: undefined
}

/**
 * Options of `fit`: the loss, optimiser, data, number of epochs and batching, plus either
 * `{ params, key }` to start or `{ resume: state }` to continue.
 */
export type FitOptions<P, S, D, C = unknown, O = never> = FitCommon<P, S, D, C, O> & (FitFresh<P> | FitResume<P, S>)

/** What `fit` returns. */
export interface FitResult<P, S, O = never> {
  /** The final state; pass it as `resume` to continue. */
  readonly state: TrainState<P, S>
  /** One record per epoch completed by this call. */
  readonly history: readonly EpochLog[]
  /** `recordOutputs(params, epoch)` for each epoch completed by this call. */
  readonly outputs: readonly O[]
  readonly stopReason: StopReason
}

// ---- early stopping ----

const monitored = (who: string, options: EarlyStoppingOptions, log: EpochLog): { name: string; value: number; mode: 'min' | 'max' } => {
  const name = options.monitor ?? (log.validation === undefined ? 'train.loss' : 'validation.loss')
  const [split, metric, ...rest] = name.split('.')
  const source = split === 'train' ? log.train : split === 'validation' ? log.validation : undefined
  const value = source?.[metric]
  if (rest.length > 0 || source === undefined || value === undefined) {
    const available = [
      ...Object.keys(log.train).map((k) => `train.${k}`),
      ...Object.keys(log.validation ?? {}).map((k) => `validation.${k}`),
    ]
    throw new ValueError(`${who}: earlyStopping.monitor '${name}' is not reported; available: ${available.join(', ')}.`)
  }
  return { name, value, mode: options.mode ?? (metric.includes('accuracy') ? 'max' : 'min') }
}

const checkEarlyStopping = (options: EarlyStoppingOptions): void => {
  if (!Number.isInteger(options.patience) || options.patience < 1) {
    throw new ValueError(`fit: earlyStopping.patience must be a positive integer (epochs without improvement), got ${options.patience}.`)
  }
  if (options.minDelta !== undefined && !(options.minDelta >= 0)) {
    throw new ValueError(`fit: earlyStopping.minDelta must be ≥ 0, got ${options.minDelta}.`)
  }
}

const nextEarlyStopping = (options: EarlyStoppingOptions, log: EpochLog, previous: EarlyStoppingState | undefined): EarlyStoppingState => {
  const { value, mode } = monitored('fit', options, log)
  const delta = options.minDelta ?? 0
  const improved = previous === undefined || (mode === 'min' ? value < previous.best - delta : value > previous.best + delta)
  return improved ? { best: value, bestEpoch: log.epoch, wait: 0 } : { ...previous, wait: previous.wait + 1 }
}

// ---- epoch sums ----

const emptyTotals: EpochTotals = { samples: 0, loss: 0, metrics: {} }

const addToTotals = (totals: EpochTotals, size: number, result: StepResult<unknown, unknown>): EpochTotals => {
  const metrics: Record<string, number> = { ...totals.metrics }
  for (const [name, v] of Object.entries(result.metrics)) metrics[name] = (metrics[name] ?? 0) + v * size
  return { samples: totals.samples + size, loss: totals.loss + result.loss * size, metrics }
}

const averages = (totals: EpochTotals): Metrics => ({
  loss: totals.loss / totals.samples,
  ...Object.fromEntries(Object.entries(totals.metrics).map(([name, s]) => [name, s / totals.samples])),
})

// ---- the loop ----

const checkStart = <P, S>(who: string, state: TrainState<P, S>): void => {
  const { epoch, batch = 0, step } = state
  if (!Number.isInteger(epoch) || epoch < 0 || !Number.isInteger(batch) || batch < 0 || !Number.isInteger(step) || step < 0) {
    throw new ValueError(`${who}: resume.epoch, resume.batch and resume.step must be non-negative integers, got epoch ${epoch}, batch ${batch}, step ${step}.`)
  }
  if (state.key?.kind !== 'scangrad.key') throw new ValueError(`${who}: resume.key must be a key (randomKey or keyFromWords), got ${typeof state.key}.`)
}

/**
 * Trains by minibatch gradient descent and returns the final state, the per-epoch history and the
 * recorded outputs.
 *
 * For each epoch e (from the start state's epoch up to `epochs`):
 * 1. k_e = epochKey(key, e); the samples are permuted by a key split from k_e (a fresh shuffle every
 *    epoch, depending only on (key, e)) and cut into batches by `batchSize` or `batchCount` (the
 *    last batch takes the remainder); every batch also gets its own key, passed to the loss;
 * 2. per batch: θ, s ← step(θ, s, batch) — one update (`makeTrainStep`), or one per window of
 *    `truncatedBptt.window` time steps with the recurrent state carried, gradient stopped
 *    (`makeTbpttStep`); then `onBatch`;
 * 3. after the last batch: the history record (train averages, `evaluate` on `validation`),
 *    `recordOutputs`, early stopping, then `onEpoch`.
 *
 * Stopping: `'stop'` from `onBatch` (after that batch), from `onEpoch`, an aborted `signal` (before
 * the next batch) or early stopping all return normally with `stopReason`; the returned state
 * resumes exactly where training stopped, even mid-epoch, so `fit({ …, epochs: 2 })` followed by
 * `fit({ …, resume: result.state, epochs: 4 })` ends with bit-identical parameters to
 * `fit({ …, epochs: 4 })`. (`history` and `outputs` hold only this call's epochs.)
 *
 * A NaN or infinite loss, gradient or update throws `NonFiniteLossError`, whose message names the
 * epoch, batch and first primitive that produced a non-finite value, and whose `state` is the
 * last finite point of the run.
 *
 * @returns `{ state, history, outputs, stopReason }`.
 * @example
 * ```ts
 * // y = 2x + 1 from four points, one batch per epoch
 * const model = nn.linear({ inputSize: 1, outputSize: 1 })
 * const data = { inputs: tensor([[0], [1], [2], [3]]), targets: tensor([[1], [3], [5], [7]]) }
 * const [initKey, dataKey] = splitKey(randomKey(0))
 * const options = { loss: train.supervised(model.apply, losses.mse), optimizer: optim.adam(0.1), data, batchSize: 4 }
 * const { state, history } = fit({ ...options, params: model.init(initKey), key: dataKey, epochs: 20 })
 * history.length                                   // 20
 * history[19].train.loss < history[0].train.loss   // true
 * // two more epochs from where it stopped
 * fit({ ...options, resume: state, epochs: 22 }).state.epoch // 22
 * ```
 * @category training
 */
export const fit = <P, S, D, C = unknown, O = never>(options: FitOptions<P, S, D, C, O>): FitResult<P, S, O> => {
  const who = 'fit'
  const spec = batchSpec(who, options)
  const n = datasetSize(options.data, who)
  if (options.validation !== undefined) datasetSize(options.validation, `${who}: validation`)
  if (!Number.isInteger(options.epochs) || options.epochs < 0) throw new ValueError(`${who}: epochs must be a non-negative integer, got ${options.epochs}.`)
  if (options.earlyStopping !== undefined) checkEarlyStopping(options.earlyStopping)
  if ((options.params === undefined) === (options.resume === undefined)) {
    throw new ValueError(`${who}: give either { params, key } to start training or { resume: state } to continue it; got ${options.resume === undefined ? 'neither' : 'both'}.`)
  }
  let state: TrainState<P, S>
  if (options.resume !== undefined) {
    state = options.resume
    checkStart(who, state)
  } else {
    if (options.key?.kind !== 'scangrad.key') throw new ValueError(`${who}: key must be a key from randomKey(seed), got ${typeof options.key}.`)
    state = { params: options.params, optState: options.optimizer.init(options.params), key: options.key, epoch: 0, batch: 0, step: 0 }
  }

  const step = options.truncatedBptt === undefined
    ? makeTrainStep(options.loss, options.optimizer)
    : makeTbpttStep(options.loss, options.optimizer, options.truncatedBptt)
  const validationSpec = options.validationBatchSize ?? options.batchSize
  const history: EpochLog[] = []
  const outputs: O[] = []

  while (state.epoch < options.epochs) {
    const epoch = state.epoch
    const started = Date.now()
    const plan = epochPlan(state.key, epoch, n, spec, { shuffle: options.shuffle, who })
    const first = state.batch ?? 0
    if (first > plan.batches.length) {
      throw new ValueError(`${who}: resume.batch is ${first} but epoch ${epoch} has only ${plan.batches.length} batches; resume with the data and batching the state was saved with.`)
    }
    let totals = state.epochTotals ?? emptyTotals
    let stopReason: StopReason | null = null

    for (let b = first; b < plan.batches.length; b++) {
      if (options.signal?.aborted) {
        stopReason = 'signal'
        break
      }
      const batch = takeBatch(options.data, plan.batches[b])
      let result: StepResult<P, S>
      try {
        result = step(state.params, state.optState, batch, plan.keys[b])
      } catch (e) {
        if (!(e instanceof NonFiniteLossError)) throw e
        const failed = e as NonFiniteLossError<P, S>
        // Under truncated BPTT the failure may come mid-batch: the state keeps that window's (finite)
        // parameters, and resuming from it replays the batch from its first window.
        const windowsDone = failed.window ?? 0
        const lastFinite: TrainState<P, S> = { ...state, params: failed.params, optState: failed.optState, step: state.step + windowsDone }
        throw failed.locate(who, { epoch, batch: b, step: lastFinite.step }, lastFinite)
      }
      const size = batchSize(batch)
      totals = addToTotals(totals, size, result)
      const done = b + 1 === plan.batches.length
      state = {
        ...state, params: result.params, optState: result.optState, step: state.step + result.updates, batch: b + 1, epochTotals: totals,
      }
      const reply = options.onBatch?.({ epoch, batch: b, batches: plan.batches.length, size, loss: result.loss, metrics: result.metrics, state })
      if (reply === 'stop') {
        stopReason = 'callback'
        if (!done) break
      }
    }

    if ((state.batch ?? 0) < plan.batches.length) return { state, history, outputs, stopReason: stopReason ?? 'completed' }

    // The epoch is complete: close its books.
    const validation = options.validation === undefined
      ? undefined
      : evaluate(options.loss, state.params, options.validation, validationSpec === undefined ? {} : { batchSize: validationSpec })
    const log: EpochLog = {
      epoch, train: averages(totals), ...(validation === undefined ? {} : { validation }), step: state.step, seconds: (Date.now() - started) / 1000,
    }
    if (options.recordOutputs !== undefined) outputs.push(options.recordOutputs(state.params, epoch))
    const earlyStopping = options.earlyStopping === undefined ? undefined : nextEarlyStopping(options.earlyStopping, log, state.earlyStopping)
    const { epochTotals: _, ...rest } = state
    state = { ...rest, epoch: epoch + 1, batch: 0, ...(earlyStopping === undefined ? {} : { earlyStopping }) }
    history.push(log)
    const reply = options.onEpoch?.({ ...log, state, history: [...history] })
    if (stopReason !== null) return { state, history, outputs, stopReason }
    if (reply === 'stop') return { state, history, outputs, stopReason: 'callback' }
    if (earlyStopping !== undefined && earlyStopping.wait >= (options.earlyStopping as EarlyStoppingOptions).patience) {
      return { state, history, outputs, stopReason: 'earlyStopping' }
    }
  }
  return { state, history, outputs, stopReason: 'completed' }
}
