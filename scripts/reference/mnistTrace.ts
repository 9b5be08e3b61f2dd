/**
 * @file Prints, as JSON, the first batches of a scangrad mnist run: its initial parameters (by
 * PyTorch's names), the digit ids of each minibatch in the order `fit` draws them, and the loss
 * `fit` computed on each. `mnist_lstm.py --trace FILE` starts PyTorch from the same parameters,
 * feeds the same batches and compares the losses step by step: equal losses mean the two run the
 * same computation, so what differs between their accuracies is only the random draws.
 * Usage: `npx tsx scripts/reference/mnistTrace.ts [--seed N] [--batches K] [--dtype float32|float64]`
 * (the run is `--preset plain`: LSTM 128, cross-entropy, Adam 1e-3, batch 64, all 8,000 training
 * digits).
 */
import * as E from 'fp-ts/lib/Either.js'
import { resolveConfig } from '../../src/cli/config.js'
import { runKeys } from '../../src/cli/tasks/common.js'
import { taskOf } from '../../src/cli/tasks/index.js'
import { epochPlan } from '../../src/train/batches.js'
import { fit } from '../../src/train/fit.js'
import type { Tensor } from '../../src/tensor/Tensor.js'

const option = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(name)
  return at < 0 ? fallback : process.argv[at + 1]
}
const seed = Number(option('--seed', '0'))
const count = Number(option('--batches', '20'))
const recipe = { preset: 'plain', seed, dtype: option('--dtype', 'float32') }
const task = taskOf('mnist')
const config = resolveConfig(task, { flags: recipe })
if (E.isLeft(config)) throw config.left
const experiment = task.prepare(config.right)
if (E.isLeft(experiment)) throw experiment.left
const { trainIds } = experiment.right.data as { trainIds: number[] }
const keys = runKeys(seed)
const params = experiment.right.init(keys.init) as { recurrent: Record<string, Tensor>; output: { w: Tensor; b: Tensor } }
const losses: number[] = []
fit({
  loss: experiment.right.loss, optimizer: experiment.right.optimizer, data: experiment.right.train, epochs: 1, batchSize: 64, params, key: keys.fit,
  onBatch: (b) => {
    losses.push(b.loss)
    return losses.length >= count ? 'stop' : undefined
  },
})
const plan = epochPlan(keys.fit, 0, trainIds.length, { batchSize: 64 })
const tensor = (x: Tensor) => ({ shape: x.shape, data: Array.from(x.data) })
process.stdout.write(`${JSON.stringify({
  seed,
  dtype: recipe.dtype,
  // nn.linear keeps w as [in, out]; PyTorch's Linear.weight is its transpose.
  params: { ...Object.fromEntries(Object.entries(params.recurrent).map(([k, v]) => [`lstm.${k}`, tensor(v)])), 'head.w': tensor(params.output.w), 'head.bias': tensor(params.output.b) },
  batches: plan.batches.slice(0, count).map((rows) => rows.map((r) => trainIds[r])),
  losses,
})}\n`)
