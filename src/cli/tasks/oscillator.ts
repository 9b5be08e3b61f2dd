/**
 * @file The seed's first experiment: predict the next position of a damped harmonic oscillator
 * (m = 1, c = 0.1, k = 1, dt = 0.1, t ∈ [0, 30), x₀ = 1, v₀ = 0, semi-implicit Euler) from the
 * current one, over the whole trajectory as one sequence: 1 input → Elman tanh (3) → per-step
 * linear output, MSE, Adam η = 1e-3, λ = 1e-4, 10 epochs (one update per epoch, as in the seed).
 */
import * as E from 'fp-ts/lib/Either.js'
import { nextStepTask, oscillator as oscillatorSeries } from '../../data/oscillator.js'
import { mse } from '../../losses/regression.js'
import { seedNetwork } from '../../nn/networks.js'
import { evaluate, supervised } from '../../train/evaluate.js'
import type { ActivationChoice } from '../config.js'
import { fmt, metricCurve, range, seedOptimizer, values } from './common.js'
import type { Task } from './types.js'

export const oscillator: Task = {
  name: 'oscillator',
  title: 'Damped oscillator: next-step prediction',
  summary: "the seed's damped oscillator, x[i] → x[i+1] with an Elman tanh network (3 units), 10 epochs",
  fields: ['hidden', 'activation'],
  defaults: { seed: 0, epochs: 10, learningRate: 1e-3, lambda: 1e-4, dtype: 'float64', backend: 'wasm', hidden: 3, activation: 'tanh' },
  prepare: (config) => {
    const dtype = config.dtype
    const series = oscillatorSeries()
    const { xs, ys } = nextStepTask(series.x, { dtype })
    const model = seedNetwork({ inputSize: 1, hidden: [config.hidden as number], activations: config.activation as ActivationChoice, output: { size: 1 } })
    const loss = supervised(model.apply, (p, y) => mse(p, y))
    const data = { inputs: xs, targets: ys }
    const t = Array.from(series.t)
    const steps = xs.shape[1]
    const fitted = (params: unknown) => values(model.apply(params as never, xs))
    return E.right({
      network: model,
      model: { kind: 'seedNetwork', inputSize: 1, hidden: [config.hidden as number], activation: config.activation as string, output: { size: 1, activation: 'identity', readout: 'perStep' }, dtype },
      data: { source: 'data.oscillator', constants: { m: 1, c: 0.1, k: 1, dt: 0.1, tEnd: 30, x0: 1, v0: 0 }, steps },
      init: (key) => model.init(key, { dtype }),
      loss,
      optimizer: seedOptimizer(config),
      train: data,
      batch: { batchSize: 1 },
      sampleName: 'sequences',
      finish: (params, run) => {
        const prediction = fitted(params)
        const final = evaluate(loss, params, data)
        return {
          final: { mse: final.loss },
          figures: [
            { kind: 'lines', title: 'Data: the damped oscillator', xLabel: 't', yLabel: 'value', series: [
              { name: 'position x', x: t, y: Array.from(series.x) },
              { name: 'velocity v', x: t, y: Array.from(series.v) },
            ] },
            { kind: 'lines', title: 'Prediction of x[i+1] vs truth', xLabel: 't', yLabel: 'x', series: [
              { name: 'truth', x: t.slice(1), y: values(ys) },
              { name: 'prediction', x: t.slice(1), y: prediction },
            ] },
            metricCurve(run.history, 'loss', { title: 'Training error (MSE) per epoch', yLabel: 'MSE', logY: true }),
          ],
          lines: [`oscillator: MSE ${fmt(final.loss)} over ${steps} steps`],
        }
      },
      evaluate: (params) => {
        const metrics = evaluate(loss, params, data)
        return { lines: [`oscillator: MSE ${fmt(metrics.loss)} over the ${steps} steps of the trajectory`], json: { mse: metrics.loss, steps } }
      },
      predict: (params, { count }) => {
        const prediction = fitted(params)
        const rows = range(Math.min(count, steps)).map((i) => ({ t: t[i + 1], input: xs.data[i], prediction: prediction[i], truth: ys.data[i] }))
        return {
          lines: ['t       x[i]      predicted x[i+1]  true x[i+1]', ...rows.map((r) => `${r.t.toFixed(1).padEnd(8)}${fmt(r.input).padEnd(10)}${fmt(r.prediction).padEnd(18)}${fmt(r.truth)}`)],
          json: rows,
        }
      },
    })
  },
}
