/**
 * @file minGRU and minLSTM (Feng et al. 2024, "Were RNNs all we needed?"): recurrences linear in
 * the carry, `h_t = a_t ⊙ h_{t−1} + b_t`, whose gates read the input alone. Each is written once as
 * its gates `(a, b)` of the inputs; 'sequential' runs the cell `h ↦ a ⊙ h + b` one step at a time
 * through the shared machinery (`recurrent`), 'parallel' computes the gates of every step at once
 * and runs `linearRecurrence` over time (`linearCore`), or in the log-space form
 * `logLinearRecurrence` over the gates' logs. Both modes share `bidirectional` and `stacked`.
 */
import { ValueError } from '../errors.js'
import { add, div, exp, greaterEqual, log, minimum, mul, neg, relu, sigmoid, softplus, sub, where } from '../autodiff/ops/elementwise.js'
import { concat, stopGradient, transpose } from '../autodiff/ops/structural.js'
import { scalar, zeros } from '../tensor/creation.js'
import type { Tensor } from '../tensor/Tensor.js'
import { LOG_ZERO, linearRecurrence, logLinearRecurrence } from '../transforms/linearRecurrence.js'
import type { ParamShapes, Params } from './init.js'
import { type HiddenState, type TorchRecurrentOptions, torchLayers } from './layers.js'
import { type LinearForm, linearCore } from './linearCore.js'
import { minGruStates } from './minGruKernel.js'
import { affine } from './project.js'
import { type CellSizes, type CellSpec, type RecurrentLayer, recurrent } from './recurrent.js'

/** The coefficients of `h_t = a_t ⊙ h_{t−1} + b_t` for inputs `[..., in]`, each `[..., hidden]`. */
type Gates = (p: Params, x: Tensor) => { readonly a: Tensor; readonly b: Tensor }

/** The same coefficients as their logs, for the log-space form (candidates through g). */
type LogGates = (p: Params, x: Tensor) => { readonly logA: Tensor; readonly logB: Tensor }

/**
 * Every state of an unmasked forward run by one kernel, from inputs `[batch, time, in]` when
 * `batchFirst`, else `[time, batch, in]`, in the inputs' layout.
 */
type FusedStates = (p: Params, xs: Tensor, h0: Tensor | null, batchFirst: boolean) => Tensor

/**
 * One minimal cell: its parameters' names, its gates with the candidate h̃ as given or through g,
 * and optionally its unmasked states by one kernel (the same values as `gates` then `linearRecurrence`).
 */
interface MinCell {
  readonly name: string
  readonly names: readonly string[]
  readonly gates: (positive: boolean) => Gates
  readonly logGates: LogGates
  readonly fusedStates?: FusedStates
}

/** `x·Wᵀ + b` for a PyTorch-layout weight `[hidden, in]`. */
const linearOf = (who: string, x: Tensor, weight: Tensor, bias: Tensor): Tensor => affine(who, x, transpose(weight), bias)

/**
 * Feng et al.'s g, which keeps the log-space form's states positive: x + ½ for x ≥ 0, σ(x) below
 * (both ½ at 0, so g is continuous and positive everywhere). Written as relu(x) + σ(min(x, 0))
 * rather than with `where`: the cell's step is traced once and replayed (`traceable`), and a
 * `where` would replay the first step's branch.
 */
const g = (x: Tensor): Tensor => add(relu(x), sigmoid(minimum(x, 0)))

/** log g(x), for the parallel form only (not replayed); each branch finite everywhere, so neither leaks NaN into the other's gradient. */
const logG = (x: Tensor): Tensor => where(greaterEqual(x, 0), log(add(relu(x), 0.5)), neg(softplus(neg(x))))

/** log σ(x) = −softplus(−x), without forming σ(x). */
const logSigmoid = (x: Tensor): Tensor => neg(softplus(neg(x)))

/** minGRU: z = σ(x·W_zᵀ + b_z), h̃ = x·W_hᵀ + b_h; a = 1 − z, b = z ⊙ h̃. */
const minGruCell: MinCell = {
  name: 'nn.minGru',
  names: ['z', 'h'],
  gates: (positive) => (p, x) => {
    const z = sigmoid(linearOf('nn.minGru', x, p.weight_z, p.bias_z))
    const candidate = linearOf('nn.minGru', x, p.weight_h, p.bias_h)
    return { a: sub(scalar(1, z.dtype), z), b: mul(z, positive ? g(candidate) : candidate) }
  },
  // log(1 − σ(k)) = −softplus(k), log σ(k) = −softplus(−k).
  logGates: (p, x) => {
    const k = linearOf('nn.minGru', x, p.weight_z, p.bias_z)
    return { logA: neg(softplus(k)), logB: add(logSigmoid(k), logG(linearOf('nn.minGru', x, p.weight_h, p.bias_h))) }
  },
  // Both gates from one product, x·[W_z | W_h]ᵀ + [b_z | b_h]; then one kernel (minGruKernel.ts).
  fusedStates: (p, xs, h0, batchFirst) => {
    const k = affine('nn.minGru', xs, transpose(concat([p.weight_z, p.weight_h], 0)), concat([p.bias_z, p.bias_h], 0))
    const batch = xs.shape[batchFirst ? 0 : 1]
    return minGruStates(k, h0 ?? zeros([batch, p.weight_z.shape[0]], { dtype: xs.dtype }), batchFirst)
  },
}

/** minLSTM: f, i = σ(Linear_f,i(x)), h̃ = Linear_h(x); a = f / (f + i), b = i / (f + i) ⊙ h̃. */
const minLstmCell: MinCell = {
  name: 'nn.minLstm',
  names: ['f', 'i', 'h'],
  gates: (positive) => (p, x) => {
    const f = sigmoid(linearOf('nn.minLstm', x, p.weight_f, p.bias_f))
    const i = sigmoid(linearOf('nn.minLstm', x, p.weight_i, p.bias_i))
    const candidate = linearOf('nn.minLstm', x, p.weight_h, p.bias_h)
    const total = add(f, i)
    return { a: div(f, total), b: mul(div(i, total), positive ? g(candidate) : candidate) }
  },
  // With d = log i − log f = softplus(−k_f) − softplus(−k_i): log f′ = −softplus(d), log i′ = −softplus(−d).
  logGates: (p, x) => {
    const d = sub(softplus(neg(linearOf('nn.minLstm', x, p.weight_f, p.bias_f))), softplus(neg(linearOf('nn.minLstm', x, p.weight_i, p.bias_i))))
    return { logA: neg(softplus(d)), logB: add(logSigmoid(d), logG(linearOf('nn.minLstm', x, p.weight_h, p.bias_h))) }
  },
}

const weightsAndBiases = (names: readonly string[]) => ({ inputSize, hiddenSize }: CellSizes): ParamShapes =>
  Object.fromEntries(names.flatMap((n) => [[`weight_${n}`, [hiddenSize, inputSize]], [`bias_${n}`, [hiddenSize]]]))

/** The cell of given gates as a spec for the shared machinery: one step `h ↦ a ⊙ h + b`. */
const minSpec = (cell: MinCell, positive: boolean): CellSpec<{ h: Tensor }> => {
  const gates = cell.gates(positive)
  return {
    name: cell.name,
    params: weightsAndBiases(cell.names),
    cell: (p, { h }, x) => {
      const { a, b } = gates(p, x)
      const next = add(mul(a, h), b)
      return [{ h: next }, next]
    },
  }
}

/**
 * Every state by `linearRecurrence`: padded steps are the identity (a = 1, b = 0), as the masked
 * `scan` keeps the carry. Unmasked runs take the cell's fused kernel where it has one.
 */
const linearStates = (gates: Gates, fused: FusedStates | undefined): LinearForm['states'] => (p, xs, mask, h0) => {
  if (mask === null && fused !== undefined) return fused(p, xs, h0, false)
  const { a, b } = gates(p, xs)
  const start = h0 ?? zeros(b.shape.slice(1), { dtype: b.dtype })
  if (mask === null) return linearRecurrence(a, b, start)
  return linearRecurrence(add(mul(a, mask), sub(scalar(1, mask.dtype), mask)), mul(b, mask), start)
}

/**
 * Every state by `logLinearRecurrence` (the paper's log-space form): padded steps are the identity
 * (log a = 0, log b = log 0). The log of a given h0 needs h0 > 0; the default start is h0 = 0.
 */
const logStates = (name: string, logGates: LogGates): LinearForm['states'] => (p, xs, mask, h0) => {
  const { logA, logB } = logGates(p, xs)
  if (h0 !== null && stopGradient(h0).data.some((v) => !(v > 0))) {
    throw new ValueError(
      `${name}: with logSpace the initial state must be positive (the log-space form takes log h0), but initialState.h has entries ≤ 0. ` +
        "States this layer returns are positive; to start from other values use mode: 'sequential'.",
    )
  }
  const logH0 = h0 === null ? undefined : log(h0)
  const masked = mask === null ? { logA, logB } : { logA: mul(logA, mask), logB: add(mul(logB, mask), mul(sub(scalar(1, mask.dtype), mask), LOG_ZERO)) }
  return exp(logLinearRecurrence(masked.logA, masked.logB, logH0))
}

/** Options of `nn.minGru` and `nn.minLstm`: `nn.gru`'s, the mode and the log-space form. */
export interface MinRecurrentOptions extends TorchRecurrentOptions {
  /**
   * 'parallel' (default): the gates of every step at once, then one recurrence over time.
   * 'sequential': the cell run by `scan` one step at a time (the reference; as generation runs it).
   */
  readonly mode?: 'parallel' | 'sequential'
  /**
   * Feng et al.'s log-space form for long sequences (default false). The candidate passes through
   * g (x + ½ for x ≥ 0, σ(x) below), so every state is positive, and 'parallel' computes log h_t
   * from the gates' logs with log-sum-exp (`logLinearRecurrence`), where products of thousands of
   * gates would underflow; 'sequential' runs the same cell, h̃ through g, step by step. A given
   * initial state must then be positive.
   */
  readonly logSpace?: boolean
}

const minLayers = (cell: MinCell, options: MinRecurrentOptions): RecurrentLayer<HiddenState> => {
  const mode = options.mode ?? 'parallel'
  if (mode !== 'parallel' && mode !== 'sequential') throw new ValueError(`${cell.name}: mode must be 'parallel' or 'sequential', got ${JSON.stringify(mode)}.`)
  const logSpace = options.logSpace ?? false
  if (typeof logSpace !== 'boolean') throw new ValueError(`${cell.name}: logSpace must be true or false, got ${JSON.stringify(logSpace)}.`)
  const spec = minSpec(cell, logSpace)
  return torchLayers<{ h: Tensor }, HiddenState>(spec, options, (sizes) => {
    const sequential = recurrent(spec, sizes)
    if (mode === 'sequential') return sequential
    const readout: LinearForm['readout'] = (_p, _xs, hs) => hs
    if (logSpace) return linearCore(cell.name, spec.params(sizes), { states: logStates(cell.name, cell.logGates), readout }, sequential)
    const { fusedStates } = cell
    const batchFirstStates: LinearForm['batchFirstStates'] = fusedStates && ((p, xs, h0) => fusedStates(p, xs, h0, true))
    return linearCore(cell.name, spec.params(sizes), { states: linearStates(cell.gates(false), fusedStates), readout, batchFirstStates }, sequential)
  })
}

/**
 * minGRU (Feng et al. 2024): `z_t = σ(x_t·W_zᵀ + b_z)`, `h̃_t = x_t·W_hᵀ + b_h`,
 * `h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t` — no hidden-to-hidden weights, so the gates of every
 * step are computed at once and the recurrence is linear. Parameters `weight_z_l{k}[_reverse]`,
 * `weight_h_l{k}` `[hidden, in_k]`, `bias_z_l{k}`, `bias_h_l{k}` `[hidden]`. State
 * `{ h: [layers × directions, batch, hidden] }`. `mode` 'parallel' (default) or 'sequential' give
 * the same outputs and gradients; `logSpace: true` is the paper's log-space form (h̃ through g,
 * the recurrence in logs).
 * @example
 * ```ts
 * const layer = nn.minGru({ inputSize: 3, hiddenSize: 8, numLayers: 2, bidirectional: true, logSpace: true })
 * const params = layer.init(randomKey(0))
 * const xs = normal(randomKey(1), [2, 50, 3])
 * const { outputs, state } = layer.apply(params, xs) // every step's gates at once, then one recurrence over time
 * console.log(outputs.shape, state.h.shape) // [2, 50, 16] [4, 2, 8]
 * const sequential = nn.minGru({ inputSize: 3, hiddenSize: 8, numLayers: 2, bidirectional: true, logSpace: true, mode: 'sequential' })
 * console.log(max(abs(sub(sequential.apply(params, xs).outputs, outputs))).item() < 1e-10) // true: the same outputs, step by step
 * ```
 * @category layers
 */
export const minGru = (options: MinRecurrentOptions): RecurrentLayer<HiddenState> => minLayers(minGruCell, options)

/**
 * minLSTM (Feng et al. 2024): `f_t = σ(Linear_f(x_t))`, `i_t = σ(Linear_i(x_t))`,
 * `h̃_t = Linear_h(x_t)`, `f'_t = f_t / (f_t + i_t)`, `i'_t = i_t / (f_t + i_t)`,
 * `h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ h̃_t`. Parameters `weight_f`, `weight_i`, `weight_h` `[hidden, in_k]`
 * and `bias_f`, `bias_i`, `bias_h` `[hidden]` (suffixed `_l{k}[_reverse]`). State `{ h }` only (no
 * cell state). Modes and `logSpace` as `nn.minGru`.
 * @example
 * ```ts
 * const options = { inputSize: 2, hiddenSize: 4, numLayers: 2 }
 * const parallel = nn.minLstm(options)
 * const params = parallel.init(randomKey(0)) // weight_f_l0, bias_f_l0, weight_i_l0, …, bias_h_l1
 * const xs = normal(randomKey(1), [3, 8, 2])
 * const { outputs, state } = parallel.apply(params, xs, { lengths: [8, 5, 2] })
 * console.log(outputs.shape, state.h.shape) // [3, 8, 4] [2, 3, 4]
 * const stepByStep = nn.minLstm({ ...options, mode: 'sequential' }).apply(params, xs, { lengths: [8, 5, 2] })
 * console.log(max(abs(sub(stepByStep.outputs, outputs))).item() < 1e-12) // true: the same outputs
 * ```
 * @category layers
 */
export const minLstm = (options: MinRecurrentOptions): RecurrentLayer<HiddenState> => minLayers(minLstmCell, options)

/**
 * The minGRU cell spec, to run with `nn.recurrent` like any cell (one layer, step by step).
 * @example
 * ```ts
 * const layer = nn.recurrent(nn.minGruSpec, { inputSize: 2, hiddenSize: 4 })
 * const params = layer.init(randomKey(0))
 * console.log(Object.keys(params)) // ['weight_z', 'bias_z', 'weight_h', 'bias_h']
 * console.log(layer.apply(params, ones([3, 5, 2])).outputs.shape) // [3, 5, 4]
 * ```
 * @category cells
 */
export const minGruSpec: CellSpec<{ h: Tensor }> = minSpec(minGruCell, false)
/**
 * The minLSTM cell spec, to run with `nn.recurrent` like any cell (one layer, step by step).
 * @example
 * ```ts
 * const shapes = nn.minLstmSpec.params({ inputSize: 2, hiddenSize: 4 })
 * console.log(Object.keys(shapes)) // ['weight_f', 'bias_f', 'weight_i', 'bias_i', 'weight_h', 'bias_h']
 * const params = nn.initParams(randomKey(0), shapes, nn.init.uniform(0.5))
 * const [carry, y] = nn.minLstmSpec.cell(params, { h: zeros([3, 4]) }, ones([3, 2]))
 * console.log(y.shape) // [3, 4]
 * ```
 * @category cells
 */
export const minLstmSpec: CellSpec<{ h: Tensor }> = minSpec(minLstmCell, false)
