/**
 * @file The built-in cells: the seed's Elman cell and PyTorch's RNN, LSTM and GRU cells, each as a
 * plain cell `(params, carry, x) → [carry, y]` and as a spec for the recurrent machinery. Each is
 * written once, in its bound form: the input projection of all steps is one matrix product
 * before the scan, and the step carries the sequence kernel that runs it over every step at once
 * (`withSequenceKernel`; `scan` uses it when the backend takes the run, the step otherwise).
 * Row-vector convention: activations are `[batch, features]`.
 */
import { ValueError } from '../errors.js'
import { add, cast, mul, relu, sigmoid, sub, tanh } from '../autodiff/ops/elementwise.js'
import { matmul } from '../autodiff/ops/linalg.js'
import { concat, expandDims, slice, transpose } from '../autodiff/ops/structural.js'
import type { RecurrentActivation } from '../tensor/kernels.js'
import type { Tensor } from '../tensor/Tensor.js'
import { ones } from '../tensor/creation.js'
import { gruKernel, lstmKernel, projectedRecurrenceKernel, recurrenceKernel } from '../transforms/recurrenceKernels.js'
import { withSequenceKernel } from '../transforms/sequenceKernel.js'
import { type Activation, type ActivationName, activations, resolveActivation } from './activations.js'
import { type Params, init } from './init.js'
import { affine, checkInputs } from './project.js'
import { type BoundCell, type Cell, type CellSizes, type CellSpec, cellOfBind } from './recurrent.js'

/** The carry of the single-state cells (Elman, RNN, GRU): `{ h: [batch, hidden] }`. */
export type HiddenCarry = { readonly h: Tensor }

/** The LSTM carry: hidden and cell state, each `[batch, hidden]`. */
export type LstmCarry = { readonly h: Tensor; readonly c: Tensor }

/** PyTorch's default recurrent initialisation: every entry ~ U(−1/√hidden, 1/√hidden). */
const pytorchInit = ({ hiddenSize }: CellSizes) => init.uniform(1 / Math.sqrt(hiddenSize))

/** The activations the whole-sequence Elman / RNN kernels fuse, by function. */
const kernelActivationOf = (f: Activation): RecurrentActivation | null =>
  f === tanh ? 'tanh' : f === relu ? 'relu' : f === sigmoid ? 'sigmoid' : null

/** Gate k of `[batch, G·hidden]` pre-activations. */
const gate = (pre: Tensor, k: number, hidden: number): Tensor => slice(pre, [[0, pre.shape[0]], [k * hidden, (k + 1) * hidden]])

// ---- Elman (the seed's recurrent layer) ----

// The seed's first step has no time term. Instead of a per-step test, the switch lives in the
// input: [x, c, 1]·[wLayer; bTime; bLayer] = x·wLayer + c·bTime + bLayer, where `continued` c is 0
// at a sequence's first real step and 1 after, and at a fresh step h = 0, so h·wTime vanishes
// exactly: every step is then the same operations, and the kernel takes the augmented input and
// the stacked weight as they are, so the projected sequence never leaves it.
const bindElman = (activation: Activation) => {
  const kernelActivation = kernelActivationOf(activation)
  return (p: Params): BoundCell<HiddenCarry> => {
    const weights = concat([p.wLayer, expandDims(p.bTime, 0), expandDims(p.bLayer, 0)], 0)
    const stepOf = ([w, wTime]: readonly Tensor[]) => ({ h }: HiddenCarry, x: Tensor): [HiddenCarry, Tensor] => {
      const next = activation(add(matmul(x, w), matmul(h, wTime)))
      return [{ h: next }, next]
    }
    const operands = [weights, p.wTime] as const
    return {
      project: (xs, { continued }) => {
        checkInputs('nn.elman', xs, p.wLayer)
        // In the dtype of the step's product (float64 when either side is), so the carry keeps one dtype.
        const dtype = xs.dtype === 'float64' || weights.dtype === 'float64' ? 'float64' : 'float32'
        return cast(concat([xs, continued, ones(continued.shape, { dtype: xs.dtype })], -1), dtype)
      },
      step: kernelActivation === null
        ? stepOf(operands)
        : withSequenceKernel(stepOf(operands), projectedRecurrenceKernel(operands, kernelActivation, stepOf)),
    }
  }
}

/**
 * The seed's recurrent cell for an activation σ (row-vector convention):
 *
 *   z_t = x_t·wLayer + bLayer + [t > 1]·(h_{t−1}·wTime + bTime),   h_t = σ(z_t)
 *
 * with `wLayer [in, hidden]`, `bLayer [hidden]`, `wTime [hidden, hidden]`, `bTime [hidden]`. A
 * layer drops the time term — `bTime` included — at each sequence's first real step (a zero initial
 * state alone is not the same thing); a run from a given initial state (e.g. the next window of
 * truncated BPTT) continues, so the term is on from its first step. On its own (`nn.cells.elman`)
 * the cell takes a continuing step, `σ(x·wLayer + bLayer + h·wTime + bTime)`; the first step of a
 * sequence by hand is `σ(x·wLayer + bLayer)`.
 * @example
 * ```ts
 * const spec = nn.elmanSpec('relu')
 * console.log(spec.params({ inputSize: 2, hiddenSize: 3 })) // { wLayer: [2, 3], bLayer: [3], wTime: [3, 3], bTime: [3] }
 * const layer = nn.recurrent(spec, { inputSize: 2, hiddenSize: 3 }) // what nn.elman({ inputSize: 2, hiddenSize: 3, activation: 'relu' }) builds
 * console.log(layer.apply(layer.init(randomKey(0)), ones([4, 6, 2])).outputs.shape) // [4, 6, 3]
 * ```
 * @category cells
 */
export const elmanSpec = (activation: ActivationName | Activation = 'tanh'): CellSpec<HiddenCarry> => {
  const bind = bindElman(resolveActivation('nn.elman', activation))
  return {
    name: 'nn.elman',
    params: ({ inputSize, hiddenSize }) => ({ wLayer: [inputSize, hiddenSize], bLayer: [hiddenSize], wTime: [hiddenSize, hiddenSize], bTime: [hiddenSize] }),
    cell: cellOfBind(bind),
    bind,
    timeAxis: 1,
    init: () => init.seed,
  }
}

// ---- PyTorch's RNN ----

const bindRnn = (activation: Activation) => {
  const kernelActivation = kernelActivationOf(activation)
  return (p: Params): BoundCell<HiddenCarry> => {
    const stepOf = ([weightHh]: readonly Tensor[]) => {
      const w = transpose(weightHh)
      return ({ h }: HiddenCarry, projected: Tensor): [HiddenCarry, Tensor] => {
        const next = activation(add(projected, matmul(h, w)))
        return [{ h: next }, next]
      }
    }
    return {
      project: (xs) => affine('nn.rnn', xs, transpose(p.weight_ih), add(p.bias_ih, p.bias_hh)),
      step: kernelActivation === null
        ? stepOf([p.weight_hh])
        : withSequenceKernel(stepOf([p.weight_hh]), recurrenceKernel(p.weight_hh, kernelActivation, stepOf)),
    }
  }
}

/**
 * PyTorch's `nn.RNN` cell: `h_t = σ(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)` with σ = tanh or
 * relu; parameters named and shaped as PyTorch's: `weight_ih [hidden, in]`, `weight_hh
 * [hidden, hidden]`, `bias_ih [hidden]`, `bias_hh [hidden]`. Default init U(±1/√hidden).
 * @example
 * ```ts
 * const layer = nn.bidirectional(nn.recurrent(nn.rnnSpec('relu'), { inputSize: 2, hiddenSize: 3 }))
 * const params = layer.init(randomKey(0)) // weight_ih, …, weight_ih_reverse, …
 * const { outputs, state } = layer.apply(params, normal(randomKey(1), [4, 6, 2]))
 * console.log(outputs.shape, (state.h as Tensor).shape) // [4, 6, 6] [2, 4, 3]
 * ```
 * @category cells
 */
export const rnnSpec = (nonlinearity: 'tanh' | 'relu' = 'tanh'): CellSpec<HiddenCarry> => {
  if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
    throw new ValueError(`nn.rnn: nonlinearity must be 'tanh' or 'relu' (PyTorch's choices), got ${JSON.stringify(nonlinearity)}. Use nn.elman for other activations.`)
  }
  const bind = bindRnn(activations[nonlinearity])
  return {
    name: 'nn.rnn',
    params: ({ inputSize, hiddenSize }) => ({
      weight_ih: [hiddenSize, inputSize], weight_hh: [hiddenSize, hiddenSize], bias_ih: [hiddenSize], bias_hh: [hiddenSize],
    }),
    cell: cellOfBind(bind),
    bind,
    timeAxis: 1,
    init: pytorchInit,
  }
}

// ---- PyTorch's LSTM ----

const lstmStepOf = ([weightHh]: readonly Tensor[]) => {
  const w = transpose(weightHh)
  const hidden = weightHh.shape[1]
  return ({ h, c }: LstmCarry, projected: Tensor): [LstmCarry, Tensor] => {
    const pre = add(projected, matmul(h, w))
    const [i, f, o] = [0, 1, 3].map((k) => sigmoid(gate(pre, k, hidden)))
    const cNext = add(mul(f, c), mul(i, tanh(gate(pre, 2, hidden))))
    const hNext = mul(o, tanh(cNext))
    return [{ h: hNext, c: cNext }, hNext]
  }
}

const bindLstm = (p: Params): BoundCell<LstmCarry> => ({
  project: (xs) => affine('nn.lstm', xs, transpose(p.weight_ih), add(p.bias_ih, p.bias_hh)),
  step: withSequenceKernel(lstmStepOf([p.weight_hh]), lstmKernel(p.weight_hh, lstmStepOf)),
})

/**
 * PyTorch's `nn.LSTM` cell, gates in PyTorch's order i, f, g, o (W = [W_i; W_f; W_g; W_o]):
 *
 *   i = σ(x·W_iiᵀ + b_ii + h·W_hiᵀ + b_hi)    f = σ(x·W_ifᵀ + b_if + h·W_hfᵀ + b_hf)
 *   g = tanh(x·W_igᵀ + b_ig + h·W_hgᵀ + b_hg) o = σ(x·W_ioᵀ + b_io + h·W_hoᵀ + b_ho)
 *   c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
 *
 * Parameters `weight_ih [4·hidden, in]`, `weight_hh [4·hidden, hidden]`, `bias_ih`, `bias_hh`
 * `[4·hidden]`; carry `{ h, c }`. Default init U(±1/√hidden).
 * @example
 * ```ts
 * console.log(nn.lstmSpec.params({ inputSize: 2, hiddenSize: 3 })) // { weight_ih: [12, 2], weight_hh: [12, 3], bias_ih: [12], bias_hh: [12] }
 * console.log(nn.lstmSpec.state) // ['h', 'c']
 * const params = nn.initParams(randomKey(0), nn.lstmSpec.params({ inputSize: 2, hiddenSize: 3 }), nn.init.uniform(0.5))
 * const [{ h, c }] = nn.lstmSpec.cell(params, { h: zeros([4, 3]), c: zeros([4, 3]) }, ones([4, 2]))
 * console.log(h.shape, c.shape) // [4, 3] [4, 3]
 * ```
 * @category cells
 */
export const lstmSpec: CellSpec<LstmCarry> = {
  name: 'nn.lstm',
  params: ({ inputSize, hiddenSize }) => ({
    weight_ih: [4 * hiddenSize, inputSize], weight_hh: [4 * hiddenSize, hiddenSize], bias_ih: [4 * hiddenSize], bias_hh: [4 * hiddenSize],
  }),
  cell: cellOfBind(bindLstm),
  bind: bindLstm,
  state: ['h', 'c'],
  init: pytorchInit,
}

// ---- PyTorch's GRU ----

// b_hh stays inside the hidden-side term because r multiplies b_hn, so it is an operand of its own.
const gruStepOf = ([weightHh, biasHh]: readonly Tensor[]) => {
  const w = transpose(weightHh)
  const hidden = weightHh.shape[1]
  return ({ h }: HiddenCarry, projected: Tensor): [HiddenCarry, Tensor] => {
    const hh = add(matmul(h, w), biasHh)
    const [r, z] = [0, 1].map((k) => sigmoid(add(gate(projected, k, hidden), gate(hh, k, hidden))))
    const n = tanh(add(gate(projected, 2, hidden), mul(r, gate(hh, 2, hidden))))
    const next = add(n, mul(z, sub(h, n))) // (1 − z) ⊙ n + z ⊙ h
    return [{ h: next }, next]
  }
}

const bindGru = (p: Params): BoundCell<HiddenCarry> => ({
  project: (xs) => affine('nn.gru', xs, transpose(p.weight_ih), p.bias_ih),
  step: withSequenceKernel(gruStepOf([p.weight_hh, p.bias_hh]), gruKernel(p.weight_hh, p.bias_hh, gruStepOf)),
})

/**
 * PyTorch's `nn.GRU` cell, gates in PyTorch's order r, z, n:
 *
 *   r = σ(x·W_irᵀ + b_ir + h·W_hrᵀ + b_hr)    z = σ(x·W_izᵀ + b_iz + h·W_hzᵀ + b_hz)
 *   n = tanh(x·W_inᵀ + b_in + r ⊙ (h·W_hnᵀ + b_hn))
 *   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
 *
 * (r multiplies the whole hidden-side term, b_hn included.) Parameters `weight_ih [3·hidden, in]`,
 * `weight_hh [3·hidden, hidden]`, `bias_ih`, `bias_hh` `[3·hidden]`. Default init U(±1/√hidden).
 * @example
 * ```ts
 * // One GRU layer on its own (nn.gru would name the parameters weight_ih_l0, …).
 * const layer = nn.recurrent<nn.HiddenCarry, nn.HiddenState>(nn.gruSpec, { inputSize: 2, hiddenSize: 3 })
 * const params = layer.init(randomKey(0))
 * console.log(Object.keys(params)) // ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']
 * console.log(layer.apply(params, ones([4, 6, 2])).state.h.shape) // [1, 4, 3]
 * ```
 * @category cells
 */
export const gruSpec: CellSpec<HiddenCarry> = {
  name: 'nn.gru',
  params: ({ inputSize, hiddenSize }) => ({
    weight_ih: [3 * hiddenSize, inputSize], weight_hh: [3 * hiddenSize, hiddenSize], bias_ih: [3 * hiddenSize], bias_hh: [3 * hiddenSize],
  }),
  cell: cellOfBind(bindGru),
  bind: bindGru,
  init: pytorchInit,
}

// ---- the cells on their own ----

/**
 * The built-in cells as plain functions `(params, carry, x [batch, in]) → [carry, y [batch, hidden]]`,
 * parameters unsuffixed (`weight_ih`, not `weight_ih_l0`). Full equations on `elmanSpec`,
 * `rnnSpec`, `lstmSpec`, `gruSpec`.
 * @example
 * ```ts
 * const params = nn.recurrent(nn.lstmSpec, { inputSize: 2, hiddenSize: 3 }).init(randomKey(0)) // unsuffixed names
 * const x = normal(randomKey(1), [4, 2]) // one step, [batch, in]
 * const [carry, y] = nn.cells.lstm(params, { h: zeros([4, 3]), c: zeros([4, 3]) }, x)
 * console.log(y.shape, carry.c.shape) // [4, 3] [4, 3]
 * const [next] = nn.cells.lstm(params, carry, x) // the next step continues from the carry
 * ```
 * @category cells
 */
export const cells: {
  /** The seed's cell with tanh, a continuing step: `h' = tanh(x·wLayer + bLayer + h·wTime + bTime)`; y = h'. */
  readonly elman: Cell<HiddenCarry>
  /** PyTorch's RNN cell with tanh: `h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)`; y = h'. */
  readonly rnn: Cell<HiddenCarry>
  /** PyTorch's LSTM cell: gates i, f, g, o; `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`; y = h'. */
  readonly lstm: Cell<LstmCarry>
  /** PyTorch's GRU cell: gates r, z, n; `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`; y = h'. */
  readonly gru: Cell<HiddenCarry>
  /** The seed's cell with another activation σ: `h' = σ(x·wLayer + bLayer + h·wTime + bTime)`. */
  readonly elmanWith: (activation: ActivationName | Activation) => Cell<HiddenCarry>
  /** PyTorch's RNN cell with `nonlinearity` 'tanh' or 'relu'. */
  readonly rnnWith: (nonlinearity: 'tanh' | 'relu') => Cell<HiddenCarry>
} = {
  elman: elmanSpec(activations.tanh).cell,
  rnn: rnnSpec('tanh').cell,
  lstm: lstmSpec.cell,
  gru: gruSpec.cell,
  elmanWith: (activation) => elmanSpec(activation).cell,
  rnnWith: (nonlinearity) => rnnSpec(nonlinearity).cell,
}
