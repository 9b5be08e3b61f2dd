/**
 * The seed's weather experiment: predict tomorrow's maximum temperature from today's
 * (clean_weather.csv: tmax → tmax_tomorrow). Days 0–99 train, days 1000–1069 validate; min–max
 * scaling fitted on the training inputs; 1 → Elman (identity, 1 unit) → identity output at every
 * step; MSE; Adam η = 1e-3 with λ = 1e-3; 50 epochs. Then 50 days extrapolated past the training
 * window, each output fed back as the next input. Plots: fit, validation fit, extrapolation vs the
 * real values, error per epoch (log scale), and the fit improving epoch by epoch (animated).
 * (The CLI runs the same experiment: `scangrad train --task weather --file clean_weather.csv`.)
 *
 * Run: npm run build && npx tsx examples/weather.ts path/to/clean_weather.csv [outDir] [epochs]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { Tensor, data, fit, losses, nn, optim, randomKey, report, splitKey, train } from 'scangrad'
import { datasets } from 'scangrad/node'

const [csvPath, outArg, epochsArg] = process.argv.slice(2)
if (csvPath === undefined) {
  console.error('usage: npx tsx examples/weather.ts path/to/clean_weather.csv [outDir] [epochs]')
  process.exit(2)
}
const outDir = outArg ?? mkdtempSync(join(tmpdir(), 'scangrad-weather-'))
const epochs = Number(epochsArg ?? 50)

// ---- data ----

// The file has a few empty cells, none in the rows used here (0–149, 1000–1069): 'ffill' only
// keeps the other rows readable so that day numbers stay row numbers.
const table = datasets.readCsv(csvPath, { columns: ['tmax', 'tmax_tomorrow'], missing: 'ffill' })
if (E.isLeft(table)) {
  console.error(table.left.message)
  process.exit(1)
}
const { tmax, tmax_tomorrow: tomorrow } = table.right.columns
const task = data.seriesTask(tmax, tomorrow) // the seed's split: train 0–99, validate 1000–1069, 50 days to extrapolate
const validation = task.validation!
const ahead = task.extrapolation!
const degrees = (x: Tensor | ArrayLike<number>): number[] => Array.from(data.minMaxScaler.inverse(task.scaler, x instanceof Tensor ? x.data : x))

// ---- model and training ----

const net = nn.seedNetwork({ inputSize: 1, hidden: [1], activations: 'identity', output: { size: 1, activation: 'identity' } })
const [initKey, fitKey] = splitKey(randomKey(0))
const loss = train.supervised(net.apply, (predictions, targets) => losses.mse(predictions, targets))

const { state, history, outputs } = fit({
  loss,
  optimizer: optim.chain(optim.l2(1e-3), optim.adam(1e-3)),
  params: net.init(initKey),
  key: fitKey,
  data: { inputs: task.train.xs, targets: task.train.ys },
  validation: { inputs: validation.xs, targets: validation.ys },
  epochs,
  batchSize: 1,
  recordOutputs: (params) => degrees(net.apply(params, task.train.xs)), // the fit after every epoch, for the animation
})

// ---- results ----

const { outputs: continued } = train.extrapolate(net.applyWithState, state.params, task.train.xs, ahead.values.length)
const extrapolated = degrees(continued!)
const meanAbsoluteError = (a: readonly number[], b: ArrayLike<number>) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length
const validationMae = meanAbsoluteError(degrees(net.apply(state.params, validation.xs)), degrees(validation.ys))
const extrapolationMae = meanAbsoluteError(extrapolated, ahead.values)
const days = ([start, end]: readonly [number, number]) => Array.from({ length: end - start }, (_, i) => start + i)
const line = (name: string, x: number[], y: number[]) => ({ name, x, y })

const html = await report.renderReport({
  title: 'Weather: tomorrow’s maximum temperature',
  subtitle: `Elman (identity, 1 unit), ${epochs} epochs of Adam on days 0–99`,
  summary: {
    'train MSE (scaled)': history[history.length - 1].train.loss,
    'validation MSE (scaled)': history[history.length - 1].validation!.loss,
    'validation mean absolute error (°F)': validationMae,
    '50-day extrapolation mean absolute error (°F)': extrapolationMae,
  },
  figures: [
    { kind: 'lines', title: 'Fit on days 0–99', xLabel: 'day', yLabel: 'tmax_tomorrow (°F)', series: [
      line('real', days(task.train.range), degrees(task.train.ys)), line('fitted', days(task.train.range), outputs[outputs.length - 1]),
    ] },
    { kind: 'lines', title: 'Validation fit, days 1000–1069', xLabel: 'day', yLabel: 'tmax_tomorrow (°F)', series: [
      line('real', days(validation.range), degrees(validation.ys)), line('predicted', days(validation.range), degrees(net.apply(state.params, validation.xs))),
    ] },
    { kind: 'lines', title: 'Extrapolation: 50 days past the training window', xLabel: 'day', yLabel: 'tmax_tomorrow (°F)', series: [
      line('real', days(ahead.range), Array.from(ahead.values)), line('extrapolated', days(ahead.range), extrapolated),
    ] },
    { kind: 'lines', title: 'Error per epoch', xLabel: 'epoch', yLabel: 'MSE (scaled)', logY: true, series: [
      line('train', history.map((h) => h.epoch + 1), history.map((h) => h.train.loss)),
      line('validation', history.map((h) => h.epoch + 1), history.map((h) => h.validation!.loss)),
    ] },
    { kind: 'animation', title: 'The fit improving epoch by epoch', xLabel: 'day', yLabel: 'tmax_tomorrow (°F)',
      x: days(task.train.range), truth: degrees(task.train.ys), frames: outputs, frameLabel: 'epoch ' },
  ],
  config: { csv: csvPath, epochs, hidden: 1, activation: 'identity', learningRate: 1e-3, lambda: 1e-3, seed: 0 },
})
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'report.html'), html)
console.log(`weather: validation MAE ${validationMae.toFixed(2)} °F, 50-day extrapolation MAE ${extrapolationMae.toFixed(2)} °F; report: ${join(outDir, 'report.html')}`)
