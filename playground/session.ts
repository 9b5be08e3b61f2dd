/**
 * @file The playground's training session: a character model of first names (one-hot characters →
 * Elman, LSTM or GRU → linear logits at every step), trained one minibatch at a time, that can be
 * asked for its held-out loss and for sampled names between steps. Built from scangrad's public
 * surface only, the same pieces as the CLI's names task; no DOM, no worker: worker.ts drives it,
 * and Node can run it too.
 */
import { type Key, type Tensor, data, diagnostics, losses, nn, oneHot, optim, randomKey, splitKey, tensor, train } from '../src/index.js'
import { namesModel } from '../src/cli/tasks/namesModel.js'

/** The cells a visitor can pick. */
export type CellName = 'elman' | 'lstm' | 'gru'

/** What a visitor chooses; changing any of it starts a new model. */
export interface Settings {
  readonly cell: CellName
  readonly hidden: number
  readonly learningRate: number
  readonly seed: number
}

/** One sampled name, and whether it is among the training names (a new one was invented). */
export interface SampledName {
  readonly name: string
  readonly known: boolean
}

type Batch = Pick<data.EncodedBatch, 'inputs' | 'targets' | 'mask'>

const BATCH_SIZE = 64
/** Held-out names whose mean loss per character is the validation loss (one forward pass). */
const VALIDATION_NAMES = 512
/** Sampling temperature: below 1, so early samples are not mostly noise. */
const TEMPERATURE = 0.8
const MAX_LENGTH = 16

/**
 * A new session over `names` (lower-case first names): a 90/10 train/validation split, the
 * vocabulary of every name, and a model initialised from `settings.seed`.
 */
export const createSession = (names: readonly string[], settings: Settings) => {
  const vocab = data.vocabulary(names)
  const size = vocab.tokens.length
  const time = Math.max(...names.map((n) => [...n].length)) + 1
  const [splitKeyOf, initKey, batchKey, sampleKey0] = splitKey(randomKey(settings.seed), 4)
  const split = data.trainTestSplit(names.length, { test: 0.1 }, splitKeyOf)
  const trainNames = split.train.map((i) => names[i])
  const known = new Set(trainNames)
  const encode = (texts: readonly string[]): Batch => {
    const { inputs, targets, mask } = data.encodeBatch(vocab, texts, { time, dtype: 'float32' })
    return { inputs, targets, mask }
  }
  const validation = encode(split.test.slice(0, VALIDATION_NAMES).map((i) => names[i]))
  /** A fixed held-out batch, so gradient norms at different steps are comparable. */
  const probe = encode(split.test.slice(0, BATCH_SIZE).map((i) => names[i]))

  // The command line's names model (src/cli/tasks/namesModel.ts), so the page trains what `--task names` does.
  const model = namesModel(settings.cell, settings.hidden, vocab)
  // The mean over real characters (each name's letters and its end token), not over padding.
  const loss = (params: nn.SequenceParams, batch: Batch): Tensor =>
    losses.softmaxCrossEntropy(model.apply(params, oneHot(batch.inputs, size, { dtype: 'float32' })), batch.targets, { mask: batch.mask })
  const optimizer = optim.adam(settings.learningRate)
  const trainStep = train.makeTrainStep(loss, optimizer)

  let params = model.init(initKey, { dtype: 'float32' })
  let optState = optimizer.init(params)
  let steps = 0
  let epoch = 0
  let queue: (readonly number[])[] = []
  let sampleKey: Key = sampleKey0

  const trainData = encode(trainNames)
  // Each epoch visits every training name once, in an order drawn from the epoch's key.
  const nextBatch = (): Batch => {
    if (queue.length === 0) queue = [...train.epochPlan(batchKey, epoch++, trainNames.length, { batchSize: BATCH_SIZE }).batches]
    return train.takeBatch(trainData, queue.shift() as readonly number[])
  }

  return {
    vocabulary: vocab,
    /** How many names it trains on. */
    trainNames: trainNames.length,
    /** How many names it holds out (the validation loss is over the first 512 of them). */
    heldOutNames: split.test.length,
    /** Steps taken so far. */
    get steps() { return steps },
    /** One Adam update on the next minibatch; returns the minibatch's loss before it (nats per character). */
    step(): number {
      const result = trainStep(params, optState, nextBatch())
      params = result.params
      optState = result.optState
      steps++
      return result.loss
    },
    /** The mean loss per character over the held-out names. */
    validationLoss: (): number => loss(params, validation).item(),
    /** `count` names drawn at temperature 0.8, each with whether it is a training name. */
    sample(count: number): SampledName[] {
      const [next, draw] = splitKey(sampleKey)
      sampleKey = next
      const start = oneHot(tensor(Array.from({ length: count }, () => [data.START_INDEX])), size, { dtype: 'float32' }) // [count, 1, size]
      const { tokens } = train.generate(model.applyWithState as train.SequenceFn<nn.SequenceParams, unknown>, params, {
        prime: start, steps: MAX_LENGTH + 1, key: draw, temperature: TEMPERATURE,
      })
      return tokens.map((row) => {
        const name = data.decode(vocab, row).slice(0, MAX_LENGTH)
        return { name, known: known.has(name) }
      })
    },
    /**
     * ‖∂L/∂h_t‖ for t = 1…T: how much the loss on a fixed batch of held-out names depends on the
     * state after each character (the vanishing-gradient picture). The model runs one scan.
     */
    gradientNorms: (): number[] => diagnostics.gradientFlow(loss, params, probe)[0],
  }
}

/** A running session. */
export type Session = ReturnType<typeof createSession>
