/**
 * @file Prints, as JSON, the digits `scangrad train --task mnist` uses, by their id in the `mnist`
 * package (its order: all 0s, then all 1s, …): the test ids of the fixed split and, for each seed
 * given, the training and validation ids that run draws. The PyTorch reference (mnist_lstm.py)
 * trains and tests on exactly these. Usage:
 * `npx tsx scripts/reference/mnistSplit.ts [--train-size N] [--validation-size N] SEED…`
 */
import * as E from 'fp-ts/lib/Either.js'
import { resolveConfig } from '../../src/cli/config.js'
import { taskOf } from '../../src/cli/tasks/index.js'
import { MNIST_SPLIT } from '../../src/cli/tasks/mnist.js'
import { loadMnist } from '../../src/data/node/mnist.js'

const args = process.argv.slice(2)
const flags: Record<string, number> = {}
const seeds: number[] = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--train-size') flags.trainSize = Number(args[++i])
  else if (args[i] === '--validation-size') flags.validationSize = Number(args[++i])
  else seeds.push(Number(args[i]))
}
const task = taskOf('mnist')
const runs = (seeds.length === 0 ? [0] : seeds).map((seed) => {
  const config = resolveConfig(task, { flags: { ...flags, seed } })
  if (E.isLeft(config)) throw config.left
  const experiment = task.prepare(config.right)
  if (E.isLeft(experiment)) throw experiment.left
  const { trainIds, validationIds } = experiment.right.data as { trainIds: number[]; validationIds: number[] }
  return { seed, trainIds, validationIds }
})
const { test } = loadMnist(MNIST_SPLIT)
process.stdout.write(`${JSON.stringify({ testIds: test.ids, runs })}\n`)
