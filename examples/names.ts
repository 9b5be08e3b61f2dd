/**
 * Beyond the seed: a character-level language model of English first names. Each name is read
 * as `<s> c₁ … c_L` and trained to predict `c₁ … c_L </s>`: one-hot characters → LSTM (64 units)
 * → logits over the alphabet at every step; softmax cross-entropy averaged over the real
 * characters (padding masked out); Adam η = 1e-2. Reports the validation loss per character and
 * samples new names at temperature 0.8. (The CLI: `scangrad train --task names`, then
 * `scangrad generate --from <run folder>`.)
 *
 * Run: npm run build && npx tsx examples/names.ts [outDir] [epochs] [trainNames]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Tensor, data, fit, loadWasmKernels, losses, nn, oneHot, optim, randomKey, report, splitKey, tensor, train, useKernels, wasmKernelsSupported,
} from 'scangrad'
import { datasets } from 'scangrad/node'

if (wasmKernelsSupported()) useKernels(loadWasmKernels()) // WebAssembly SIMD kernels: several times faster

const outDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'scangrad-names-'))
const epochs = Number(process.argv[3] ?? 4)
const trainLimit = Number(process.argv[4] ?? Infinity)
const [initKey, fitKey, splitKeyOf, sampleKey] = splitKey(randomKey(0), 4)

// ---- data: names → padded index sequences with a mask ----

const names = datasets.loadNames() // 8,422 lower-case names
const vocab = data.vocabulary(names) // <s>, </s>, '-', 'a' … 'z'
const size = vocab.tokens.length
const time = Math.max(...names.map((n) => n.length)) + 1
const split = data.trainTestSplit(names.length, { test: 0.1 }, splitKeyOf)
const encoded = (rows: readonly number[]) => {
  const { inputs, targets, mask } = data.encodeBatch(vocab, rows.map((i) => names[i]), { time, dtype: 'float32' })
  return { inputs, targets, mask } // each [names, time]
}
const trainSet = encoded(split.train.slice(0, trainLimit))
const validationSet = encoded(split.test)

// ---- model and training ----

const net = nn.sequenceModel({
  recurrent: nn.lstm({ inputSize: size, hiddenSize: 64 }),
  output: nn.linear({ inputSize: 64, outputSize: size }), // logits for the next character
})
type Batch = typeof trainSet
const loss = (params: ReturnType<typeof net.init>, batch: Batch): Tensor =>
  losses.softmaxCrossEntropy(net.apply(params, oneHot(batch.inputs, size, { dtype: 'float32' })), batch.targets, { mask: batch.mask })

const { state, history } = fit({
  loss,
  optimizer: optim.adam(1e-2),
  params: net.init(initKey, { dtype: 'float32' }),
  key: fitKey,
  data: trainSet,
  validation: validationSet,
  validationBatchSize: split.test.length, // one batch: the exact mean over every validation character
  epochs,
  batchSize: 128,
  onEpoch: ({ epoch, train: t, validation: v }) => console.log(`epoch ${epoch + 1}: train ${t.loss.toFixed(3)}, validation ${v!.loss.toFixed(3)} nats per character`),
})

// ---- sampling: start from <s>, draw characters at temperature 0.8 until </s> ----

const count = 12
const start = oneHot(tensor(Array.from({ length: count }, () => [data.START_INDEX]), { dtype: 'float32' }), size, { dtype: 'float32' }) // [count, 1, size]
const { tokens } = train.generate(net.applyWithState, state.params, { prime: start, steps: 20, key: sampleKey, temperature: 0.8 })
const known = new Set(names)
const sampled = tokens.map((row) => data.decode(vocab, row))
const validationLoss = history[history.length - 1].validation!.loss

const html = await report.renderReport({
  title: 'A character-level language model of first names',
  subtitle: `LSTM 64, ${epochs} epochs on ${trainSet.inputs.shape[0]} names`,
  summary: { 'validation loss (nats per character)': validationLoss, perplexity: Math.exp(validationLoss) },
  figures: [
    {
      kind: 'lines', title: 'Loss per character per epoch', xLabel: 'epoch', yLabel: 'nats per character',
      series: [
        { name: 'train', x: history.map((h) => h.epoch + 1), y: history.map((h) => h.train.loss) },
        { name: 'validation', x: history.map((h) => h.epoch + 1), y: history.map((h) => h.validation!.loss) },
      ],
    },
    { kind: 'text', title: 'Names sampled at temperature 0.8', lines: sampled.map((n) => (known.has(n) ? n : `${n}  (new)`)) },
  ],
  config: { epochs, hidden: 64, batchSize: 128, learningRate: 1e-2, temperature: 0.8, seed: 0 },
})
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'report.html'), html)
console.log(`names: validation loss ${validationLoss.toFixed(3)} nats per character; sampled: ${sampled.join(', ')}`)
console.log(`report: ${join(outDir, 'report.html')}`)
