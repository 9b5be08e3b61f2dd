/**
 * @file The contracts the training loop relies on, stated structurally: an optimiser is anything
 * with optax's `init`/`update`, a loss is a pure function of (params, batch, context), a dataset is
 * a pytree of tensors sharing their leading (sample) axis. The real `optim` and `nn` modules fit
 * these shapes without importing this file. Imports only tensor/, tree/ and random/ types.
 */
import type { Key } from '../random/random.js'
import type { Tensor } from '../tensor/Tensor.js'

// ---- optimisers ----

/**
 * An optax-style gradient transformation: `init(params) → state` and
 * `update(grads, state, params) → [updates, state]`; the new parameters are `params + updates`.
 * Declared with method syntax so every `optim.*` transformation fits it whatever its own types.
 * @category training
 */
export interface Optimizer<S = unknown> {
  init(params: unknown): S
  update(grads: unknown, state: S, params?: unknown): readonly [unknown, S]
}

// ---- losses ----

/**
 * What the training loop passes to a loss besides the parameters and the batch.
 * - `key`: a fresh key per optimiser update (for dropout and other noise); absent when evaluating,
 *   which is how a loss knows to be deterministic.
 * - `state`: under truncated BPTT, the recurrent state carried from the previous window (gradient
 *   stopped); `undefined` for the first window, meaning "the model's own initial state".
 * @category training
 */
export interface LossContext<C = unknown> {
  readonly key?: Key
  readonly state?: C
}

/** Per-batch values reported next to the loss: scalars only (a scalar tensor or a number). */
export type MetricValues = Readonly<Record<string, Tensor | number>>

/**
 * The auxiliary half of a loss's `[loss, aux]` result: metrics to average over the epoch (for
 * example `accuracy`) and, under truncated BPTT, the model's final state to carry forward.
 * @category training
 */
export interface LossAux<C = unknown> {
  readonly metrics?: MetricValues
  readonly state?: C
}

/**
 * A training objective: `(params, batch, context) → loss`, a scalar tensor assumed to be a MEAN over
 * the batch (the loop weights batch averages by batch size), or `[loss, aux]` to report metrics or
 * carry a recurrent state. It must be pure: the same arguments give the same value.
 * @example const loss: LossFn<Params, Batch> = (p, b) => mean(square(sub(matmul(b.inputs, p.w), b.targets)))
 * @category training
 */
export type LossFn<P, B, C = unknown> = (params: P, batch: B, context: LossContext<C>) => Tensor | readonly [Tensor, LossAux<C>]

/** Averaged per-epoch (or per-dataset) numbers: always `loss`, plus each metric the loss reports. */
export type Metrics = Readonly<Record<string, number>> & { readonly loss: number }

// ---- training state ----

/** Weighted sums over the batches of an epoch so far (weights = batch sizes). */
export interface EpochTotals {
  readonly samples: number
  readonly loss: number
  readonly metrics: Readonly<Record<string, number>>
}

/** Early stopping's memory: the best monitored value, when it was seen, epochs since then. */
export interface EarlyStoppingState {
  readonly best: number
  readonly bestEpoch: number
  readonly wait: number
}

/**
 * Everything needed to continue training exactly where it stopped. Only plain numbers, a key and
 * two pytrees, so a checkpoint can store it.
 *
 * Epoch `e`'s shuffle and every update key in it are derived from `(key, e)` alone, so continuing
 * from a saved state reproduces an uninterrupted run bit for bit.
 * @category training
 */
export interface TrainState<P, S> {
  readonly params: P
  readonly optState: S
  /** The run's key; never advanced (epoch keys are derived from it). */
  readonly key: Key
  /** The current epoch, counted from 0; equals the number of completed epochs when `batch` is 0. */
  readonly epoch: number
  /** Batches of epoch `epoch` already trained on (absent or 0 at an epoch boundary). */
  readonly batch?: number
  /** Optimiser updates applied so far (one per batch, or one per window under truncated BPTT). */
  readonly step: number
  /** Partial sums of the current epoch, present only when stopped between two batches of it. */
  readonly epochTotals?: EpochTotals
  /** Early stopping's memory, present once an epoch has been monitored. */
  readonly earlyStopping?: EarlyStoppingState
}

// ---- sequence models ----

/**
 * A sequence model run with an explicit state: `(params, xs [batch, time, features],
 * { initialState }) → { outputs, state, predictions? }`, where `initialState` absent means the
 * model's own start. Both `nn` conventions fit as they are: a recurrent layer's `apply`
 * (`{ outputs, state }`) and a whole network's `applyWithState` (`{ predictions, outputs, state }`);
 * when `predictions` is present it is the model's output, otherwise `outputs` is.
 * @category training
 */
export type SequenceFn<P, C> = (params: P, xs: Tensor, options: { readonly initialState?: C }) => {
  readonly outputs: Tensor
  readonly state: C
  readonly predictions?: Tensor
}
