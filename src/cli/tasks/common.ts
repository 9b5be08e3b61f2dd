/**
 * @file Pieces every task shares: the run's keys, the seed's optimiser (Adam with an L2 penalty on
 * the weights) and its extension by clipping and a schedule, curves of a metric per epoch, and
 * number formatting for the terminal.
 */
import type { ActivationName } from '../../nn/activations.js'
import { elman, gru, lstm } from '../../nn/layers.js'
import { lru } from '../../nn/lru.js'
import { minGru, minLstm } from '../../nn/minRnn.js'
import type { RecurrentLayer } from '../../nn/recurrent.js'
import { chain, type GradientTransformation } from '../../optim/GradientTransformation.js'
import { adam } from '../../optim/alias.js'
import { cosineDecay } from '../../optim/schedules.js'
import { clipByGlobalNorm, l2 } from '../../optim/transforms.js'
import { type Key, randomKey, splitKey } from '../../random/random.js'
import type { Figure, Series } from '../../report/types.js'
import type { Tensor } from '../../tensor/Tensor.js'
import type { EpochLog } from '../../train/fit.js'
import type { CellChoice, CommonConfig } from '../config.js'

/**
 * The recurrent layer of `--cell`: the seed's Elman layer with `elmanActivation`, or a gated or
 * linear cell; `init` (default: each layer's own) picks U(±1/√fan) or the seed's N(0, 1).
 */
export const recurrentLayer = (
  cell: CellChoice,
  options: { readonly inputSize: number; readonly hiddenSize: number; readonly elmanActivation: ActivationName; readonly init?: 'pytorch' | 'seed' },
): RecurrentLayer => {
  const { inputSize, hiddenSize, init } = options
  const sizes = { inputSize, hiddenSize, ...(init === undefined ? {} : { init }) }
  return (cell === 'elman'
    ? elman({ ...sizes, activation: options.elmanActivation, init: init ?? 'pytorch' })
    : ({ lstm, gru, mingru: minGru, minlstm: minLstm, lru } as const)[cell](sizes)) as unknown as RecurrentLayer
}

/**
 * The seed's optimiser under `--clip` and `--schedule`: the gradient rescaled to a global norm of
 * at most `clip` (when > 0), then the L2 penalty, then Adam, as PyTorch's `clip_grad_norm_` before
 * `Adam(weight_decay=λ)`; with `schedule: 'cosine'` the rate falls from η to 0 over `epochs ·
 * stepsPerEpoch` steps. With neither, it is the seed's `chain(l2(λ), adam(η))`, state and all, so older run
 * folders resume. A run resumed with more `--epochs` stretches the rest of the cosine.
 */
export const runOptimizer = (
  config: CommonConfig & { readonly clip?: unknown; readonly schedule?: unknown },
  stepsPerEpoch: number,
): GradientTransformation<unknown> => {
  const clip = typeof config.clip === 'number' ? config.clip : 0
  const rate = config.schedule === 'cosine' ? cosineDecay(config.learningRate, { decaySteps: config.epochs * stepsPerEpoch }) : config.learningRate
  const penalised = [l2(config.lambda), adam(rate)] as const
  return (clip > 0 ? chain(clipByGlobalNorm(clip), ...penalised) : chain(...penalised)) as GradientTransformation<unknown>
}

/**
 * The seed's optimiser: the L2 penalty λ added to every weight's gradient (`g ← g + λw`, biases
 * spared), then Adam (β₁ 0.9, β₂ 0.999, ε 1e-8) with learning rate η.
 */
export const seedOptimizer = (config: CommonConfig): GradientTransformation<unknown> => runOptimizer(config, 1)

/**
 * A line plot of one metric per epoch (1-based on the x axis), train and, when recorded,
 * validation.
 */
export const metricCurve = (
  history: readonly EpochLog[],
  metric: string,
  options: { readonly title: string; readonly yLabel: string; readonly logY?: boolean; readonly validationName?: string },
): Figure => {
  const x = history.map((h) => h.epoch + 1)
  const series: Series[] = [{ name: 'train', x, y: history.map((h) => h.train[metric] ?? Number.NaN) }]
  if (history.some((h) => h.validation?.[metric] !== undefined)) {
    series.push({ name: options.validationName ?? 'validation', x, y: history.map((h) => h.validation?.[metric] ?? Number.NaN) })
  }
  return { kind: 'lines', title: options.title, xLabel: 'epoch', yLabel: options.yLabel, logY: options.logY ?? false, series }
}

/** A number for people: 4 significant digits, exponent form for very small or large values. */
export const fmt = (x: number): string => {
  if (!Number.isFinite(x)) return String(x)
  const a = Math.abs(x)
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential(3) : Number(x.toPrecision(4)).toString()
}

/** A share as a percentage with one decimal: 0.8731 → "87.3%". */
export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`

/** The values of a `[1, T, 1]` (or any) tensor as a plain array. */
export const values = (x: Tensor): number[] => Array.from(x.data)

/** `0, 1, …, n − 1`. */
export const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i)

/**
 * The keys of a run, all from its seed: `init` draws the parameters, `fit` drives the shuffles and
 * per-batch keys (the run's key in `fit`), `data` any random data choice (subsets, splits).
 */
export const runKeys = (seed: number): { readonly init: Key; readonly fit: Key; readonly data: Key } => {
  const [init, fit, data] = splitKey(randomKey(seed), 3)
  return { init, fit, data }
}
