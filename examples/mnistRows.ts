/**
 * The seed's MNIST experiment on real digits: every 28×28 image is read as a sequence of 28 rows
 * of 28 pixels by a recurrent ReLU layer of 300 units, and a dense softmax head classifies the
 * last step; binary cross-entropy on one-hot targets (the seed's cost); Adam η = 1e-3 with an L2
 * penalty λ = 1e-3; 60 minibatches per epoch, as in the seed, on 700 training digits (the seed's
 * "1% of MNIST") of the 10,000 shipped in the `mnist` package. Plots: loss and accuracy per epoch
 * (train and validation), test digits with their predicted labels, the confusion matrix.
 * Weights start from U(±1/√fan_in), not the seed's N(0, 1), which saturates 300 ReLU units.
 * (The CLI's default run is this experiment on more digits: `scangrad train`.)
 *
 * Run: npm run build && npx tsx examples/mnistRows.ts [outDir] [epochs] [trainDigits]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  fit, loadWasmKernels, losses, nn, oneHot, optim, permutation, randomKey, report, splitKey, take, train, useKernels, wasmKernelsSupported,
} from 'scangrad'
import { datasets } from 'scangrad/node'

if (wasmKernelsSupported()) useKernels(loadWasmKernels()) // WebAssembly SIMD kernels: several times faster

const outDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'scangrad-mnist-'))
const epochs = Number(process.argv[3] ?? 10)
const trainDigits = Number(process.argv[4] ?? 700)
const [initKey, fitKey, subsetKey] = splitKey(randomKey(0), 3)

// ---- data: 8,000 training and 2,000 test digits, split reproducibly; a seeded subset to train on ----

const digits = datasets.loadMnist({ seed: 0, dtype: 'float32' })
const order = permutation(subsetKey, digits.train.labels.length)
const subset = (rows: number[]) => ({
  inputs: take(digits.train.images, rows, 0), // [n, 28, 28]: 28 steps of 28 pixels
  targets: oneHot(rows.map((r) => digits.train.labels[r]), 10, { dtype: 'float32' }),
})
const trainSet = subset(order.slice(0, trainDigits))
const validationSet = subset(order.slice(trainDigits, trainDigits + 300))
const testSet = { inputs: digits.test.images, targets: oneHot(digits.test.labels, 10, { dtype: 'float32' }) }

// ---- model and training ----

const net = nn.sequenceModel({
  recurrent: nn.elman({ inputSize: 28, hiddenSize: 300, activation: 'relu', init: 'pytorch' }),
  output: nn.dense({ inputSize: 300, outputSize: 10, activation: 'softmax' }),
  readout: 'lastStep', // the seed's dense head reads the last step only
})
const loss = train.supervised(net.apply, (p, y) => losses.binaryCrossEntropy(p, y), {
  metrics: { accuracy: (p, y) => losses.accuracy(p, y) },
})

const { state, history } = fit({
  loss,
  optimizer: optim.chain(optim.l2(1e-3), optim.adam(1e-3)),
  params: net.init(initKey, { dtype: 'float32' }),
  key: fitKey,
  data: trainSet,
  validation: validationSet,
  epochs,
  batchCount: 60, // the seed's 60 minibatches (the last takes the remainder), reshuffled every epoch
  onEpoch: ({ epoch, train: t, validation: v }) => console.log(`epoch ${epoch + 1}: train accuracy ${t.accuracy.toFixed(3)}, validation accuracy ${v?.accuracy.toFixed(3)}`),
})

// ---- results on the 2,000 test digits ----

const probabilities = net.apply(state.params, testSet.inputs) // [2000, 10], one forward pass
const test = { loss: losses.binaryCrossEntropy(probabilities, testSet.targets).item(), accuracy: losses.accuracy(probabilities, testSet.targets) }
const predicted = Array.from(train.predict(probabilities).data) // one-hot rows, the seed's predict
const labels = digits.test.labels.map((_, i) => predicted.slice(i * 10, i * 10 + 10).indexOf(1))
const counts = Array.from({ length: 10 }, () => new Array<number>(10).fill(0))
labels.forEach((label, i) => counts[digits.test.labels[i]][label]++)
const shown = permutation(randomKey(1), labels.length).slice(0, 24) // the package orders digits by class
const perEpoch = (name: 'loss' | 'accuracy') => [
  { name: 'train', x: history.map((h) => h.epoch + 1), y: history.map((h) => h.train[name]) },
  { name: 'validation', x: history.map((h) => h.epoch + 1), y: history.map((h) => h.validation![name]) },
]

const html = await report.renderReport({
  title: 'MNIST, row by row',
  subtitle: `Elman ReLU 300 → softmax 10, ${epochs} epochs on ${trainDigits} digits`,
  summary: { 'test accuracy': test.accuracy, 'test loss': test.loss, 'test digits': labels.length },
  figures: [
    { kind: 'lines', title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'binary cross-entropy', series: perEpoch('loss') },
    { kind: 'lines', title: 'Accuracy per epoch', xLabel: 'epoch', yLabel: 'accuracy', series: perEpoch('accuracy') },
    {
      kind: 'digits', title: 'Test digits with the predicted label',
      images: shown.map((i) => Array.from(digits.test.images.data.subarray(i * 784, (i + 1) * 784))),
      captions: shown.map((i) => (labels[i] === digits.test.labels[i] ? `${labels[i]}` : `${labels[i]} (true ${digits.test.labels[i]})`)),
    },
    { kind: 'confusion', title: 'Confusion matrix on the test digits', labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], counts },
  ],
  config: { epochs, trainDigits, hidden: 300, batchCount: 60, learningRate: 1e-3, lambda: 1e-3, seed: 0 },
})
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'report.html'), html)
console.log(`mnist: test accuracy ${(100 * test.accuracy).toFixed(1)}% on ${labels.length} digits; report: ${join(outDir, 'report.html')}`)
