/**
 * @file minGRU and minLSTM (Feng et al. 2024, "Were RNNs all we needed?"): recurrences linear in
 * the carry, `h_t = a_t ⊙ h_{t−1} + b_t`, whose gates read the input alone. Each is written once as
 * its gates `(a, b)` of the inputs; 'sequential' runs the cell `h ↦ a ⊙ h + b` one step at a time
 * through the shared machinery (`recurrent`), 'parallel' computes the gates of every step at once
 * and runs `linearRecurrence` over time. Both modes share `bidirectional` and `stacked`.
 */
import { ValueError } from '../errors.js'
import { add, cast, div, mul, sigmoid, sub } from '../autodiff/ops/elementwise.js'
import { reshape, slice, transpose } from '../autodiff/ops/structural.js'
import { scalar, zeros } from '../tensor/creation.js'
import type { Tensor } from '../tensor/Tensor.js'
import { flipTime, linearRecurrence } from '../transforms/linearRecurrence.js'
import { type ParamShapes, type Params, checkParams } from './init.js'
import { type HiddenState, type TorchRecurrentOptions, torchLayers } from './layers.js'
import { affine } from './project.js'
import { type CellSizes, type CellSpec, type RecurrentCore, type RecurrentLayer, type RunContext, type RunResult, recurrent } from './recurrent.js'

/** The coefficients of `h_t = a_t ⊙ h_{t−1} + b_t` for inputs `[..., in]`, each `[..., hidden]`. */
type Gates = (p: Params, x: Tensor) => { readonly a: Tensor; readonly b: Tensor }

/** `x·Wᵀ + b` for a PyTorch-layout weight `[hidden, in]`. */
const linearOf = (who: string, x: Tensor, weight: Tensor, bias: Tensor): Tensor => affine(who, x, transpose(weight), bias)

/** minGRU: z = σ(x·W_zᵀ + b_z), h̃ = x·W_hᵀ + b_h; a = 1 − z, b = z ⊙ h̃. */
const minGruGates: Gates = (p, x) => {
  const z = sigmoid(linearOf('nn.minGru', x, p.weight_z, p.bias_z))
  const candidate = linearOf('nn.minGru', x, p.weight_h, p.bias_h)
  return { a: sub(scalar(1, z.dtype), z), b: mul(z, candidate) }
}

/** minLSTM: f, i = σ(Linear_f,i(x)), h̃ = Linear_h(x); a = f / (f + i), b = i / (f + i) ⊙ h̃. */
const minLstmGates: Gates = (p, x) => {
  const f = sigmoid(linearOf('nn.minLstm', x, p.weight_f, p.bias_f))
  const i = sigmoid(linearOf('nn.minLstm', x, p.weight_i, p.bias_i))
  const candidate = linearOf('nn.minLstm', x, p.weight_h, p.bias_h)
  const total = add(f, i)
  return { a: div(f, total), b: mul(div(i, total), candidate) }
}

const weightsAndBiases = (names: readonly string[]) => ({ inputSize, hiddenSize }: CellSizes): ParamShapes =>
  Object.fromEntries(names.flatMap((n) => [[`weight_${n}`, [hiddenSize, inputSize]], [`bias_${n}`, [hiddenSize]]]))

/** The cell of given gates as a spec for the shared machinery: one step `h ↦ a ⊙ h + b`. */
const minSpec = (name: string, names: readonly string[], gates: Gates): CellSpec<{ h: Tensor }> => ({
  name,
  params: weightsAndBiases(names),
  cell: (p, { h }, x) => {
    const { a, b } = gates(p, x)
    const next = add(mul(a, h), b)
    return [{ h: next }, next]
  },
})

/** Step t of a time-major `[time, batch, hidden]`, as `[batch, hidden]`. */
const stepAt = (x: Tensor, t: number): Tensor => reshape(slice(x, [[t, t + 1]]), x.shape.slice(1))

/**
 * The parallel core of one layer, one direction: every step's gates in one pass, padded steps
 * turned into the identity (a = 1, b = 0: the state is kept, as the machinery's masked `scan`
 * keeps it) and outputs zeroed there; a reversed run flips time around the recurrence.
 */
const parallelCore = (spec: CellSpec<{ h: Tensor }>, gates: Gates, sizes: CellSizes, shapes: ParamShapes, sequential: RecurrentCore): RecurrentCore => {
  const run = (params: Params, xs: Tensor, context: RunContext): RunResult => {
    if (context.timeAxis !== 0) {
      const swap = (x: Tensor): Tensor => transpose(x, [1, 0, 2])
      const { ys, final } = run(params, swap(xs), { ...context, timeAxis: 0, mask: context.mask === null ? null : swap(context.mask) })
      return { ys: context.outputs === 'last' ? ys : swap(ys), final }
    }
    const p = checkParams(spec.name, params, shapes, context.paramName)
    const [time, batch] = xs.shape
    const g = gates(p, xs)
    const mask = context.mask === null ? null : cast(context.mask, g.a.dtype)
    const a = mask === null ? g.a : add(mul(g.a, mask), sub(scalar(1, mask.dtype), mask))
    const b = mask === null ? g.b : mul(g.b, mask)
    const h0 = context.initial === null ? zeros([batch, sizes.hiddenSize], { dtype: b.dtype }) : cast(context.initial.h[0], b.dtype)
    const hs = context.reverse ? flipTime(linearRecurrence(flipTime(a), flipTime(b), h0)) : linearRecurrence(a, b, h0)
    const last = stepAt(hs, context.reverse ? 0 : time - 1)
    const ys = context.outputs === 'last' ? last : mask === null ? hs : mul(hs, mask)
    return { ys, final: { h: [last] } }
  }
  const { name, inputSize, outputSize, stateNames, stateSizes, directions, init } = sequential
  return { name, inputSize, outputSize, stateNames, stateSizes, directions, init, timeAxis: 0, run }
}

/** Options of `nn.minGru` and `nn.minLstm`: `nn.gru`'s, and the mode. */
export interface MinRecurrentOptions extends TorchRecurrentOptions {
  /**
   * 'parallel' (default): the gates of every step at once, then `linearRecurrence` over time.
   * 'sequential': the cell run by `scan` one step at a time (the reference; as generation runs it).
   */
  readonly mode?: 'parallel' | 'sequential'
}

const minLayers = (name: string, names: readonly string[], gates: Gates, options: MinRecurrentOptions): RecurrentLayer<HiddenState> => {
  const mode = options.mode ?? 'parallel'
  if (mode !== 'parallel' && mode !== 'sequential') throw new ValueError(`${name}: mode must be 'parallel' or 'sequential', got ${JSON.stringify(mode)}.`)
  const spec = minSpec(name, names, gates)
  return torchLayers<{ h: Tensor }, HiddenState>(spec, options, (sizes) => {
    const sequential = recurrent(spec, sizes)
    return mode === 'parallel' ? parallelCore(spec, gates, sizes, spec.params(sizes), sequential) : sequential
  })
}

/**
 * minGRU (Feng et al. 2024): `z_t = σ(x_t·W_zᵀ + b_z)`, `h̃_t = x_t·W_hᵀ + b_h`,
 * `h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t` — no hidden-to-hidden weights, so the gates of every
 * step are computed at once and the recurrence is linear. Parameters `weight_z_l{k}[_reverse]`,
 * `weight_h_l{k}` `[hidden, in_k]`, `bias_z_l{k}`, `bias_h_l{k}` `[hidden]`. State
 * `{ h: [layers × directions, batch, hidden] }`. `mode` 'parallel' (default) or 'sequential' give
 * the same outputs and gradients. The log-space form is not implemented.
 * @example nn.minGru({ inputSize: 3, hiddenSize: 8, numLayers: 2, bidirectional: true })
 * @category layers
 */
export const minGru = (options: MinRecurrentOptions): RecurrentLayer<HiddenState> => minLayers('nn.minGru', ['z', 'h'], minGruGates, options)

/**
 * minLSTM (Feng et al. 2024): `f_t = σ(Linear_f(x_t))`, `i_t = σ(Linear_i(x_t))`,
 * `h̃_t = Linear_h(x_t)`, `f'_t = f_t / (f_t + i_t)`, `i'_t = i_t / (f_t + i_t)`,
 * `h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ h̃_t`. Parameters `weight_f`, `weight_i`, `weight_h` `[hidden, in_k]`
 * and `bias_f`, `bias_i`, `bias_h` `[hidden]` (suffixed `_l{k}[_reverse]`). State `{ h }` only (no
 * cell state). Modes as `nn.minGru`; the log-space form is not implemented.
 * @category layers
 */
export const minLstm = (options: MinRecurrentOptions): RecurrentLayer<HiddenState> =>
  minLayers('nn.minLstm', ['f', 'i', 'h'], minLstmGates, options)

/** The minGRU and minLSTM cell specs, to run with `nn.recurrent` like any cell. */
export const minGruSpec: CellSpec<{ h: Tensor }> = minSpec('nn.minGru', ['z', 'h'], minGruGates)
export const minLstmSpec: CellSpec<{ h: Tensor }> = minSpec('nn.minLstm', ['f', 'i', 'h'], minLstmGates)
