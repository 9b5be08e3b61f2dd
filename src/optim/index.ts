/**
 * @file optim: optimisers as composable gradient transformations (`init`/`update` pairs combined
 * with `chain`), their building blocks, and learning-rate schedules. The public door of optim/.
 */
export { applyUpdates, chain, masked, isWeight, allLeaves } from './GradientTransformation.js'
export type { GradientTransformation, StateOf, EmptyState, ParamFilter, LeafInfo } from './GradientTransformation.js'
export {
  scale, scaleByLearningRate, traceMomentum, scaleByAdagrad, scaleByRms, scaleByAdam, addDecayedWeights, l2,
  clipByGlobalNorm, globalNorm,
} from './transforms.js'
export type {
  ScaleByLearningRateState, ScaleByLearningRateOptions, TraceState, TraceMomentumOptions, ScaleByAdagradState,
  ScaleByAdagradOptions, ScaleByRmsState, ScaleByRmsOptions, ScaleByAdamState, ScaleByAdamOptions, WeightDecayOptions,
} from './transforms.js'
export { sgd, momentum, adagrad, adagradMomentum, rmsprop, adam, adamw } from './alias.js'
export type { MomentumOptions, AdagradOptions, AdagradMomentumOptions, RmspropOptions, AdamOptions, AdamwOptions } from './alias.js'
export { constant, exponentialDecay, cosineDecay, warmup } from './schedules.js'
export type { Schedule, LearningRate, ExponentialDecayOptions, CosineDecayOptions, WarmupOptions } from './schedules.js'
