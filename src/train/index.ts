/**
 * @file The training namespace: train steps (plain and truncated BPTT), `fit`, `evaluate`,
 * `predict`, `supervised`, `extrapolate`, `generate`, `sample`, and the structural contracts they
 * need from optimisers, losses and sequence models.
 */
export type {
  Optimizer, LossFn, LossContext, LossAux, MetricValues, Metrics, TrainState, EpochTotals, EarlyStoppingState, SequenceFn,
} from './types.js'
export { NonFiniteLossError } from './errors.js'
export type { NonFinitePhase, NonFinitePosition, NonFiniteDetails } from './errors.js'
export { makeTrainStep, makeTbpttStep, splitTime } from './step.js'
export type { StepResult, TrainStep, TbpttOptions } from './step.js'
export { splitBatches, epochKey, epochPlan, takeBatch, datasetSize } from './batches.js'
export type { BatchSpec, EpochPlan } from './batches.js'
export { fit } from './fit.js'
export type {
  FitOptions, FitResult, EpochLog, EpochInfo, BatchInfo, EarlyStoppingOptions, CallbackResult, StopReason,
} from './fit.js'
export { evaluate, predict, supervised } from './evaluate.js'
export type { SupervisedBatch } from './evaluate.js'
export { extrapolate, generate, sample } from './generate.js'
export type { GenerateOptions } from './generate.js'
