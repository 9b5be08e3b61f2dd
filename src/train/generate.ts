/**
 * @file Running a trained sequence model on its own outputs: `extrapolate` (the seed's: continue a
 * time series by feeding each output back as the next input), `generate` (sample tokens one at a
 * time with a key and a temperature, for character models) and `sample`. Imports autodiff/,
 * random/ and train/ types.
 */
import { div } from '../autodiff/ops/elementwise.js'
import { argmax } from '../autodiff/ops/reduce.js'
import { concat, expandDims, oneHot, slice, squeeze } from '../autodiff/ops/structural.js'
import { ShapeError, ValueError, showShape } from '../errors.js'
import { type Key, categorical, splitKey } from '../random/random.js'
import type { Tensor } from '../tensor/Tensor.js'
import type { SequenceFn } from './types.js'

/**
 * The model's output at its last time step as `[batch, out]`: from `predictions` when the model
 * returns them (a `[batch, time, out]` per-step head, or a `[batch, out]` last-step head), else
 * from the recurrent `outputs`.
 */
const lastStep = (who: string, result: ReturnType<SequenceFn<unknown, unknown>>): Tensor => {
  const y = result.predictions ?? result.outputs
  if (y.rank === 2) return y
  if (y.rank !== 3 || y.shape[1] === 0) {
    throw new ShapeError(`${who}: the model must return outputs [batch, time, features] with time ≥ 1 (or last-step predictions [batch, features]), got ${showShape(y.shape)}.`)
  }
  const [b, t, f] = y.shape
  return squeeze(slice(y, [[0, b], [t - 1, t], [0, f]]), 1)
}

const checkSteps = (who: string, steps: number): void => {
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError(`${who}: steps must be a non-negative integer, got ${steps}.`)
}

/**
 * Continues a sequence autoregressively (the seed's `extrapolate`): runs the model over `xs`, then
 * `steps` times feeds its last output back as the next input, carrying the recurrent state:
 *
 *   (ŷ_{1..T}, s) = f(θ, x_{1..T}),   x_{T+i} = feedback(ŷ_{T+i−1}),   (ŷ_{T+i}, s) = f(θ, x_{T+i}; s)
 *
 * so the outputs equal one forward pass over the whole fed-back sequence.
 * @param model `(params, xs, { initialState }) → { outputs, state, predictions? }`: an `nn` layer's
 *   `apply` or a network's `applyWithState` (see `SequenceFn`).
 * @param params the trained parameters.
 * @param xs `[batch, time, features]`: the observed sequence.
 * @param steps how many steps to continue.
 * @param options `feedback`: output `[batch, out]` → next input `[batch, features]` (default:
 *   the output itself, which needs out = features).
 * @returns `fitted` `[batch, time, out]` (the model's output over xs), `outputs` `[batch, steps, out]` (the
 *   continuation), `inputs` `[batch, steps, features]` (what was fed back) and the final `state`.
 * @example
 * ```ts
 * const net = nn.seedNetwork({ inputSize: 1, hidden: [4], output: { size: 1 } })
 * const params = net.init(randomKey(0)) // trained in practice
 * const { xs } = data.nextStepTask(data.oscillator({ tEnd: 2 }).x) // [1, 19, 1]
 * const { fitted, outputs, inputs } = train.extrapolate(net.applyWithState, params, xs, 5) // 5 steps past the data
 * console.log(fitted.shape, outputs?.shape, inputs?.shape) // [1, 19, 1] [1, 5, 1] [1, 5, 1]
 * ```
 * @category training
 */
export const extrapolate = <P, C>(
  model: SequenceFn<P, C>,
  params: P,
  xs: Tensor,
  steps: number,
  options: { readonly feedback?: (output: Tensor, step: number) => Tensor } = {},
): { fitted: Tensor; outputs: Tensor | null; inputs: Tensor | null; state: C } => {
  const who = 'extrapolate'
  checkSteps(who, steps)
  if (xs.rank !== 3) throw new ShapeError(`${who}: xs must be [batch, time, features], got ${showShape(xs.shape)}.`)
  const feedback = options.feedback ?? ((y: Tensor) => y)
  const primed = model(params, xs, {})
  let last = lastStep(who, primed)
  let state = primed.state
  const outputs: Tensor[] = []
  const inputs: Tensor[] = []
  for (let i = 0; i < steps; i++) {
    const x = feedback(last, i)
    if (x.rank !== 2 || x.shape[0] !== xs.shape[0] || x.shape[1] !== xs.shape[2]) {
      throw new ShapeError(
        `${who}: the fed-back input must be [batch, features] = ${showShape([xs.shape[0], xs.shape[2]])}, got ${showShape(x.shape)}. ` +
          'When the model has a different number of outputs than inputs, pass options.feedback to map one to the other.',
      )
    }
    const next = model(params, expandDims(x, 1), { initialState: state })
    last = lastStep(who, next)
    state = next.state
    inputs.push(expandDims(x, 1))
    outputs.push(expandDims(last, 1))
  }
  return {
    fitted: primed.predictions ?? primed.outputs,
    outputs: outputs.length === 0 ? null : concat(outputs, 1),
    inputs: inputs.length === 0 ? null : concat(inputs, 1),
    state,
  }
}

/**
 * Draws one class per row from logits `[batch, classes]` at a temperature τ: from
 * softmax(logits / τ); τ = 1 is the model's own distribution, τ → 0 approaches the argmax (and
 * τ = 0 is exactly the argmax, with no randomness), τ > 1 flattens it.
 * @param key the sampling key (the same key gives the same draws).
 * @param logits unnormalised log-probabilities `[batch, classes]`.
 * @param options `temperature` τ ≥ 0 (default 1).
 * @returns one class index per row.
 * @example
 * ```ts
 * const logits = tensor([[0, 3, 0], [1, 1, 1]])
 * console.log(train.sample(randomKey(0), logits, { temperature: 0 })) // [1, 0], the argmax
 * console.log(train.sample(randomKey(0), logits)) // [1, 0], drawn from softmax(logits)
 * const share = (temperature: number): number => // how often row 0 draws class 1, over 200 keys
 *   splitKey(randomKey(1), 200).filter((key) => train.sample(key, logits, { temperature })[0] === 1).length / 200
 * console.log(share(1), share(5)) // 0.91 0.52, near e³ / (e³ + 2) ≈ 0.91 and e^0.6 / (e^0.6 + 2) ≈ 0.48
 * ```
 * @category training
 */
export const sample = (key: Key, logits: Tensor, options: { readonly temperature?: number } = {}): number[] => {
  const temperature = options.temperature ?? 1
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new ValueError(`sample: temperature must be a finite number ≥ 0, got ${temperature}.`)
  if (logits.rank !== 2) throw new ShapeError(`sample: logits must be [batch, classes], got ${showShape(logits.shape)}.`)
  if (temperature === 0) return Array.from(argmax(logits, -1).data)
  return categorical(key, div(logits, temperature))
}

export interface GenerateOptions {
  /** `[batch, time, features]`: the sequence to start from (e.g. a start token, one-hot). */
  readonly prime: Tensor
  /** Tokens to draw. */
  readonly steps: number
  /** Drawing key: step i uses the i-th key split from it, so a key fixes the whole sample. */
  readonly key: Key
  /** τ ≥ 0 (default 1); see `sample`. */
  readonly temperature?: number
  /** Token indices (one per row) → the model's next input `[batch, features]`; default one-hot with as many classes as the model has outputs. */
  readonly encode?: (tokens: readonly number[]) => Tensor
}

/**
 * Samples a token sequence from a character (or word) model: runs it over `prime`, then `steps`
 * times draws a token from the last output's logits (`sample`, with `temperature`), encodes it
 * and feeds it back as the next input, carrying the recurrent state. The model's last output must
 * be logits (unnormalised log-probabilities); wrap a softmax head's probabilities in `log` first.
 * @param model `(params, xs, { initialState }) → { outputs or predictions: logits, state }` (see `SequenceFn`).
 * @param params the trained parameters.
 * @param options `{ prime, steps, key, temperature?, encode? }`.
 * @returns `tokens[b]`: the `steps` token indices drawn for row b; `state` after reading all of
 *   them (so generation can continue from it).
 * @example
 * ```ts
 * const vocab = data.vocabulary(['anna', 'bob'])
 * const size = vocab.tokens.length
 * const net = nn.sequenceModel({ recurrent: nn.gru({ inputSize: size, hiddenSize: 8 }), output: nn.linear({ inputSize: 8, outputSize: size }) })
 * const params = net.init(randomKey(0)) // untrained here, so the letters are random
 * const prime = expandDims(oneHot([data.START_INDEX], size), 1) // [1, 1, size]: one row, starting at START
 * const { tokens, state } = train.generate(net.applyWithState, params, { prime, steps: 6, key: randomKey(1), temperature: 0.8 })
 * console.log(tokens[0].length, state.h.shape) // 6 [1, 1, 8]
 * console.log(data.decode(vocab, tokens[0])) // 'abb': the characters drawn, up to the first END
 * ```
 * @category training
 */
export const generate = <P, C>(model: SequenceFn<P, C>, params: P, options: GenerateOptions): { tokens: number[][]; state: C } => {
  const who = 'generate'
  checkSteps(who, options.steps)
  const { prime } = options
  if (prime.rank !== 3) throw new ShapeError(`${who}: prime must be [batch, time, features], got ${showShape(prime.shape)}.`)
  const batch = prime.shape[0]
  const keys = options.steps === 0 ? [] : splitKey(options.key, options.steps)
  const primed = model(params, prime, {})
  let logits = lastStep(who, primed)
  let state = primed.state
  const encode = options.encode ?? ((tokens: readonly number[]) => oneHot(tokens, logits.shape[1], { dtype: prime.dtype }))
  const tokens: number[][] = Array.from({ length: batch }, () => [])
  for (let i = 0; i < options.steps; i++) {
    const drawn = sample(keys[i], logits, { temperature: options.temperature })
    drawn.forEach((t, b) => tokens[b].push(t))
    const next = model(params, expandDims(encode(drawn), 1), { initialState: state })
    logits = lastStep(who, next)
    state = next.state
  }
  return { tokens, state }
}
