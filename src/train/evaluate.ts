/**
 * @file Using a model without training it: `evaluate` (loss and metrics over a dataset, batched,
 * no gradients), `predict` (one-hot argmax, as the seed), and `supervised`, which turns a model's
 * `apply` and a loss into the `LossFn` the training loop takes. Imports autodiff/ and train/.
 */
import { oneHot } from '../autodiff/ops/structural.js'
import { argmax } from '../autodiff/ops/reduce.js'
import { ShapeError } from '../errors.js'
import type { Tensor } from '../tensor/Tensor.js'
import { type BatchSpec, datasetSize, splitBatches, takeBatch } from './batches.js'
import { batchSize, metricNumbers, withAux } from './step.js'
import type { LossFn, Metrics } from './types.js'

/**
 * Loss and metrics of `params` on a whole dataset, computed batch by batch in sample order with no
 * key (so dropout and other noise are off) and no gradient. Each batch's mean is weighted by its
 * size, so for a mean-reduced loss the result is the dataset mean whatever the batching.
 * @param lossFn the training loss (its metrics are reported too).
 * @param params the parameters to evaluate.
 * @param data a pytree of tensors sharing the leading sample axis, e.g. `{ inputs, targets }`.
 * @param options `batchSize` or `batchCount` (default: the whole dataset as one batch).
 * @returns `{ loss, …metrics }` as numbers.
 * @example
 * ```ts
 * const model = nn.linear({ inputSize: 2, outputSize: 2 })
 * const loss = train.supervised(model.apply, losses.softmaxCrossEntropy, { metrics: { accuracy: losses.accuracy } })
 * const params = { w: tensor([[1, -1], [-1, 1]]), b: zeros([2]) }
 * const test = { inputs: tensor([[2, 0], [0, 2], [1, 0], [1, 1]]), targets: tensor([0, 1, 1, 0]) }
 * console.log(train.evaluate(loss, params, test, { batchSize: 2 })) // { loss: 0.714…, accuracy: 0.75 }
 * ```
 * @category training
 */
export const evaluate = <P, D, C = unknown>(
  lossFn: LossFn<P, D, C>,
  params: P,
  data: D,
  options: { readonly batchSize?: number; readonly batchCount?: number } = {},
): Metrics => {
  const who = 'evaluate'
  const n = datasetSize(data, who)
  const spec: BatchSpec = options.batchSize !== undefined ? { batchSize: options.batchSize } : { batchCount: options.batchCount ?? 1 }
  const everything = Array.from({ length: n }, (_, i) => i)
  const batches = splitBatches(everything, spec, who)
  let loss = 0
  const sums: Record<string, number> = {}
  for (const indices of batches) {
    const batch = batches.length === 1 ? data : takeBatch(data, indices)
    const [value, aux] = withAux(who, lossFn(params, batch, {}))
    const size = batchSize(batch)
    loss += value.item() * size
    for (const [name, v] of Object.entries(metricNumbers(who, aux.metrics))) sums[name] = (sums[name] ?? 0) + v * size
  }
  return { loss: loss / n, ...Object.fromEntries(Object.entries(sums).map(([name, s]) => [name, s / n])) }
}

/**
 * The seed's `predict`: a one-hot vector at the largest entry of the last axis (the first one on
 * ties), in the input's dtype. Works for `[batch, classes]` and per-step `[batch, time, classes]`.
 * @param probabilities class scores (probabilities or logits: the argmax is the same).
 * @returns 0/1 tensor of the same shape.
 * @example
 * ```ts
 * console.log(train.predict(tensor([[0.1, 0.7, 0.2], [0.5, 0.5, 0]])).toArray()) // [[0, 1, 0], [1, 0, 0]], the first on ties
 * ```
 * @category training
 */
export const predict = (probabilities: Tensor): Tensor => {
  if (probabilities.rank < 1) throw new ShapeError('predict: expected class scores [batch, classes], got a scalar (shape []).')
  const classes = probabilities.shape[probabilities.rank - 1]
  return oneHot(argmax(probabilities, -1), classes, { dtype: probabilities.dtype })
}

/** A supervised batch: model inputs and the targets they should produce. */
export interface SupervisedBatch<X = Tensor, Y = Tensor> {
  readonly inputs: X
  readonly targets: Y
}

/**
 * Builds a training loss from a model and a loss on its predictions:
 *
 *   loss(θ, { inputs, targets }, { key }) = lossOn(apply(θ, inputs, { key }), targets)
 *
 * with each metric (e.g. `accuracy`) evaluated on the same predictions and reported next to it.
 * The key is passed on only when training, so a model's dropout is off in `evaluate`.
 * @param apply the model, e.g. `model.apply` from `nn` (predictions for a batch of inputs).
 * @param lossOn `(predictions, targets) → scalar`, e.g. `losses.mse`.
 * @param options `metrics`: name → `(predictions, targets) → scalar`.
 * @example
 * ```ts
 * const model = nn.dense({ inputSize: 3, outputSize: 4 })
 * const loss = train.supervised(model.apply, losses.softmaxCrossEntropy, { metrics: { accuracy: losses.accuracy } })
 * const batch = { inputs: normal(randomKey(1), [8, 3]), targets: tensor([0, 1, 2, 3, 0, 1, 2, 3]) }
 * const params = model.init(randomKey(0))
 * console.log(Object.keys(train.evaluate(loss, params, batch))) // ['loss', 'accuracy']
 * const step = train.makeTrainStep(loss, optim.sgd(0.1)) // or fit({ loss, … })
 * console.log(Object.keys(step(params, optim.sgd(0.1).init(params), batch).metrics)) // ['accuracy']
 * ```
 * @category training
 */
export const supervised = <P, X = Tensor, Y = Tensor>(
  // `any`: models differ in their options type (none, { key }, RecurrentOptions); all receive at most { key }.
  apply: (params: P, inputs: X, options?: any) => Tensor,
  lossOn: (predictions: Tensor, targets: Y) => Tensor,
  options: { readonly metrics?: Readonly<Record<string, (predictions: Tensor, targets: Y) => Tensor | number>> } = {},
): LossFn<P, SupervisedBatch<X, Y>> =>
  (params, batch, context) => {
    const predictions = context.key === undefined ? apply(params, batch.inputs) : apply(params, batch.inputs, { key: context.key })
    const metrics = Object.fromEntries(Object.entries(options.metrics ?? {}).map(([name, m]) => [name, m(predictions, batch.targets)]))
    return [lossOn(predictions, batch.targets), { metrics }]
  }
