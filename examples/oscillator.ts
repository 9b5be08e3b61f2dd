/**
 * The seed's first experiment: a damped harmonic oscillator (m = 1, c = 0.1, k = 1, dt = 0.1,
 * t ∈ [0, 30), x₀ = 1, v₀ = 0, semi-implicit Euler), and a recurrent network that predicts the
 * next position from the current one over the whole trajectory (one sequence, batch 1):
 * 1 input → Elman tanh (3 units) → linear output at every step; MSE; Adam η = 1e-3 with an L2
 * penalty λ = 1e-4; 10 epochs. Plots: the data, the prediction against the truth, the error per
 * epoch. (The CLI runs the same experiment: `scangrad train --task oscillator`.)
 *
 * Run: npm run build && npx tsx examples/oscillator.ts [outDir] [epochs]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { data, fit, losses, nn, optim, randomKey, report, splitKey, train } from 'scangrad'

const outDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'scangrad-oscillator-'))
const epochs = Number(process.argv[3] ?? 10)

// ---- data: x[i] → x[i + 1] along one trajectory ----

const series = data.oscillator() // the seed's constants are the defaults
const { xs, ys } = data.nextStepTask(series.x) // both [1, 299, 1]: batch 1, 299 steps, 1 feature

// ---- model and training ----

// The seed's network: z_t = x_t·wLayer + bLayer + [t > 1](h_{t−1}·wTime + bTime), h_t = tanh(z_t),
// ŷ_t = h_t·w + b; weights ~ N(0, 1), biases ~ 0.01·N(0, 1), as the seed draws them.
const net = nn.seedNetwork({ inputSize: 1, hidden: [3], activations: 'tanh', output: { size: 1 } })
const [initKey, fitKey] = splitKey(randomKey(0))
const loss = train.supervised(net.apply, (predictions, targets) => losses.mse(predictions, targets))

const { state, history } = fit({
  loss,
  optimizer: optim.chain(optim.l2(1e-4), optim.adam(1e-3)), // λ·w added to each weight's gradient, then Adam
  params: net.init(initKey),
  key: fitKey,
  data: { inputs: xs, targets: ys },
  epochs,
  batchSize: 1, // one sequence: one update per epoch, as in the seed
})

// ---- results ----

const prediction = Array.from(net.apply(state.params, xs).data)
const finalMse = train.evaluate(loss, state.params, { inputs: xs, targets: ys }).loss
const t = Array.from(series.t)

const html = await report.renderReport({
  title: 'Damped oscillator: next-step prediction',
  subtitle: `Elman tanh (3 units), ${epochs} epochs of Adam`,
  summary: { 'final MSE': finalMse, epochs, steps: xs.shape[1] },
  figures: [
    {
      kind: 'lines', title: 'Data: the damped oscillator', xLabel: 't', yLabel: 'value',
      series: [{ name: 'position x', x: t, y: Array.from(series.x) }, { name: 'velocity v', x: t, y: Array.from(series.v) }],
    },
    {
      kind: 'lines', title: 'Prediction of x[i+1] vs truth', xLabel: 't', yLabel: 'x',
      series: [{ name: 'truth', x: t.slice(1), y: Array.from(ys.data) }, { name: 'prediction', x: t.slice(1), y: prediction }],
    },
    {
      kind: 'lines', title: 'Training error per epoch', xLabel: 'epoch', yLabel: 'MSE', logY: true,
      series: [{ name: 'train', x: history.map((h) => h.epoch + 1), y: history.map((h) => h.train.loss) }],
    },
  ],
  config: { epochs, hidden: 3, activation: 'tanh', learningRate: 1e-3, lambda: 1e-4, seed: 0 },
})
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'report.html'), html)
console.log(`oscillator: MSE ${finalMse.toPrecision(4)} after ${epochs} epochs; report: ${join(outDir, 'report.html')}`)
