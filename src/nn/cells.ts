/**
 * @file The built-in cells: the seed's Elman cell and PyTorch's RNN, LSTM and GRU cells, each as a
 * plain cell `(params, carry, x) → [carry, y]` and as a spec for the recurrent machinery. Each is
 * written once, in its bound form: weights are transposed and split by gate once per sequence,
 * and the input projection of all steps is one matrix product before the scan.
 * Row-vector convention: activations are `[batch, features]`.
 */
import { ValueError } from '../errors.js'
import { add, mul, sigmoid, sub, tanh } from '../autodiff/ops/elementwise.js'
import { matmul } from '../autodiff/ops/linalg.js'
import { concat, expandDims, reshape, transpose, unstack } from '../autodiff/ops/structural.js'
import type { DType, Tensor } from '../tensor/Tensor.js'
import { ones } from '../tensor/creation.js'
import { type Activation, type ActivationName, activations, resolveActivation } from './activations.js'
import { type Params, init } from './init.js'
import { affine, checkInputs } from './project.js'
import { fusedActivationOf, gruStep, gruStepFusable, lstmStep, lstmStepFusable, recurrentStep, recurrentStepFusable } from './fused.js'
import { type BoundCell, type Cell, type CellSizes, type CellSpec, type SequenceRun, type StepInfo, cellOfBind } from './recurrent.js'
import {
  gruSequence, lastState, lstmSequence, projectedRecurrentFinal, projectedRecurrentSequence, recurrentSequence, sequenceFusable,
} from './sequence.js'

/** The carry of the single-state cells (Elman, RNN, GRU): `{ h: [batch, hidden] }`. */
export type HiddenCarry = { readonly h: Tensor }

/** The LSTM carry: hidden and cell state, each `[batch, hidden]`. */
export type LstmCarry = { readonly h: Tensor; readonly c: Tensor }

/** `make()`, computed on first use and then kept (values a path may not need). */
const once = <T>(make: () => T): (() => T) => {
  let value: T | undefined
  return () => (value ??= make())
}

/** PyTorch's default recurrent initialisation: every entry ~ U(−1/√hidden, 1/√hidden). */
const pytorchInit = ({ hiddenSize }: CellSizes) => init.uniform(1 / Math.sqrt(hiddenSize))

/** `[time, batch, G·hidden]` → `[time, G, batch, hidden]`, so one `unstack` per step splits the gates. */
const gateMajor = (x: Tensor, gates: number, hidden: number): Tensor => {
  const [time, batch] = x.shape
  return transpose(reshape(x, [time, batch, gates, hidden]), [0, 2, 1, 3])
}

/** PyTorch's `weight_hh` `[G·hidden, hidden]` → per gate, transposed: `[G, hidden, hidden]`. */
const gateWeights = (weightHh: Tensor, gates: number): Tensor => {
  const hidden = weightHh.shape[1]
  return transpose(reshape(weightHh, [gates, hidden, hidden]), [0, 2, 1])
}

/**
 * A cell's `sequence` and `batchMajorSequence` from one function of the layout (the Elman / RNN
 * sequence kernels take either, so a batch-first layer needs no transposes around them).
 */
const wholeSequences = (
  run: (xs: Tensor, steps: StepInfo, carry0: (dtype: DType) => HiddenCarry, reverse: boolean, batchMajor: boolean) =>
    SequenceRun<HiddenCarry> | null,
): Pick<BoundCell<HiddenCarry>, 'sequence' | 'batchMajorSequence'> => ({
  sequence: (xs, steps, carry0, reverse) => run(xs, steps, carry0, reverse, false),
  batchMajorSequence: (xs, steps, carry0, reverse) => run(xs, steps, carry0, reverse, true),
})

/**
 * An Elman / RNN sequence node's result as a run: its final state is the carry and, forwards, also
 * the outputs at the last time step.
 */
const finalRun = (hs: Tensor, last: Tensor, reverse: boolean): SequenceRun<HiddenCarry> =>
  reverse ? [{ h: last }, hs] : [{ h: last }, hs, last]

// ---- Elman (the seed's recurrent layer) ----

// The seed's first step has no time term. Instead of a per-step test, the switch lives in the
// input projection (bTime is added only where `continued` is 1), and at a fresh step h = 0, so
// h·wTime vanishes exactly: every step is then the same three operations. `continued` rides in the
// input projection's product as one more input column, with bTime as one more row of wLayer:
// [x, c]·[wLayer; bTime] = x·wLayer + c·bTime, so the term costs one column of the product instead
// of broadcasting c and bTime over [time, batch, hidden] and two more passes (four in the VJP).
// bLayer rides the same way, as a column of ones: [x, c, 1]·[wLayer; bTime; bLayer], so the
// projection is one product with no broadcast add, and bLayer's gradient (Σ dz) is one row of the
// weight gradient's product. The whole-sequence path hands [x, c, 1] and the stacked weight to
// the recurrence itself, so the projected sequence never leaves the kernel.
const bindElman = (activation: Activation) => {
  const fused = fusedActivationOf(activation)
  return (p: Params): BoundCell<HiddenCarry> => {
    const augmented = (xs: Tensor, { continued }: StepInfo): Tensor => {
      checkInputs('nn.elman', xs, p.wLayer)
      return concat([xs, continued, ones(continued.shape, { dtype: xs.dtype })], -1)
    }
    const weights = once(() => concat([p.wLayer, expandDims(p.bTime, 0), expandDims(p.bLayer, 0)], 0))
    const project = (xs: Tensor, steps: StepInfo): Tensor => affine('nn.elman', augmented(xs, steps), weights())
    /** The activation as the whole-sequence kernels name it, or null when these operands take the per-step path. */
    const sequenceActivation = (xs: Tensor) =>
      fused !== null && sequenceFusable(xs, p.wLayer, p.bLayer, p.wTime, p.bTime) ? fused : null
    return {
      project,
      step: ({ h }, projected) => {
        const next = fused !== null && recurrentStepFusable(projected, h, p.wTime)
          ? recurrentStep(projected, h, p.wTime, fused)
          : activation(add(projected, matmul(h, p.wTime)))
        return [{ h: next }, next]
      },
      ...wholeSequences((xs, steps, carry0, reverse, batchMajor) => {
        const kernelActivation = sequenceActivation(xs)
        if (kernelActivation === null) return null
        const options = { reverse, transposed: false, batchMajor }
        const [hs, last] = projectedRecurrentSequence(augmented(xs, steps), weights(), carry0(xs.dtype).h, p.wTime, kernelActivation, options)
        return finalRun(hs, last, reverse)
      }),
      finalSequence: (xs, steps, carry0) => {
        const kernelActivation = sequenceActivation(xs)
        if (kernelActivation === null) return null
        const options = { reverse: false, transposed: false, batchMajor: true }
        const last = projectedRecurrentFinal(augmented(xs, steps), weights(), carry0(xs.dtype).h, p.wTime, kernelActivation, options)
        return [{ h: last }, last]
      },
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
 * @category cells
 */
export const elmanSpec = (activation: ActivationName | Activation = 'tanh'): CellSpec<HiddenCarry> => {
  const bind = bindElman(resolveActivation('nn.elman', activation))
  return {
    name: 'nn.elman',
    params: ({ inputSize, hiddenSize }) => ({ wLayer: [inputSize, hiddenSize], bLayer: [hiddenSize], wTime: [hiddenSize, hiddenSize], bTime: [hiddenSize] }),
    cell: cellOfBind(bind),
    bind,
    init: () => init.seed,
  }
}

// ---- PyTorch's RNN ----

const bindRnn = (activation: Activation) => (p: Params): BoundCell<HiddenCarry> => {
  const fused = fusedActivationOf(activation)
  // Only the per-step path reads weight_hh transposed; the sequence path multiplies by it as stored.
  const weightHh = once(() => transpose(p.weight_hh))
  const bias = add(p.bias_ih, p.bias_hh)
  const weightIh = transpose(p.weight_ih)
  const project = (xs: Tensor): Tensor => affine('nn.rnn', xs, weightIh, bias)
  return {
    project,
    step: ({ h }, projected) => {
      const next = fused !== null && recurrentStepFusable(projected, h, weightHh())
        ? recurrentStep(projected, h, weightHh(), fused)
        : activation(add(projected, matmul(h, weightHh())))
      return [{ h: next }, next]
    },
    ...wholeSequences((xs, _steps, carry0, reverse, batchMajor) => {
      if (fused === null || !sequenceFusable(xs, p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh)) return null
      const projected = project(xs)
      const [hs, last] = recurrentSequence(projected, carry0(projected.dtype).h, p.weight_hh, fused, { reverse, transposed: true, batchMajor })
      return finalRun(hs, last, reverse)
    }),
  }
}

/**
 * PyTorch's `nn.RNN` cell: `h_t = σ(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)` with σ = tanh or
 * relu; parameters named and shaped as PyTorch's: `weight_ih [hidden, in]`, `weight_hh
 * [hidden, hidden]`, `bias_ih [hidden]`, `bias_hh [hidden]`. Default init U(±1/√hidden).
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
    init: pytorchInit,
  }
}

// ---- PyTorch's LSTM ----

const bindLstm = (p: Params): BoundCell<LstmCarry> => {
  const hidden = p.weight_hh.shape[1]
  const weightIh = transpose(p.weight_ih)
  const bias = add(p.bias_ih, p.bias_hh)
  // Only the per-step path reads weight_hh split by gate; the sequence path multiplies by it as stored.
  const weightHh = once(() => gateWeights(p.weight_hh, 4))
  return {
    project: (xs) => gateMajor(affine('nn.lstm', xs, weightIh, bias), 4, hidden),
    sequence: (xs, _steps, carry0, reverse) => {
      if (!sequenceFusable(xs, p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh)) return null
      const projected = affine('nn.lstm', xs, weightIh, bias)
      const { h, c } = carry0(projected.dtype)
      const [hs, cs] = lstmSequence(projected, h, c, p.weight_hh, { reverse, transposed: true })
      return [{ h: lastState(hs, reverse), c: lastState(cs, reverse) }, hs]
    },
    step: ({ h, c }, projected) => {
      if (lstmStepFusable(projected, h, c, weightHh())) {
        const [hNext, cNext] = lstmStep(projected, h, c, weightHh())
        return [{ h: hNext, c: cNext }, hNext]
      }
      const [i, f, g, o] = unstack(add(projected, matmul(h, weightHh())))
      const cNext = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)))
      const hNext = mul(sigmoid(o), tanh(cNext))
      return [{ h: hNext, c: cNext }, hNext]
    },
  }
}

/**
 * PyTorch's `nn.LSTM` cell, gates in PyTorch's order i, f, g, o (W = [W_i; W_f; W_g; W_o]):
 *
 *   i = σ(x·W_iiᵀ + b_ii + h·W_hiᵀ + b_hi)    f = σ(x·W_ifᵀ + b_if + h·W_hfᵀ + b_hf)
 *   g = tanh(x·W_igᵀ + b_ig + h·W_hgᵀ + b_hg) o = σ(x·W_ioᵀ + b_io + h·W_hoᵀ + b_ho)
 *   c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
 *
 * Parameters `weight_ih [4·hidden, in]`, `weight_hh [4·hidden, hidden]`, `bias_ih`, `bias_hh`
 * `[4·hidden]`; carry `{ h, c }`. Default init U(±1/√hidden).
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

const bindGru = (p: Params): BoundCell<HiddenCarry> => {
  const hidden = p.weight_hh.shape[1]
  const weightIh = transpose(p.weight_ih)
  // Only the per-step path reads weight_hh split by gate and b_hh by gate; the sequence path takes both as stored.
  const weightHh = once(() => gateWeights(p.weight_hh, 3))
  const biasHh = once(() => reshape(p.bias_hh, [3, 1, hidden]))
  return {
    project: (xs) => gateMajor(affine('nn.gru', xs, weightIh, p.bias_ih), 3, hidden),
    // b_hh is not folded into the projection (r multiplies b_hn), so the rows stay [r | z | n] of x·W_ihᵀ + b_ih.
    sequence: (xs, _steps, carry0, reverse) => {
      if (!sequenceFusable(xs, p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh)) return null
      const projected = affine('nn.gru', xs, weightIh, p.bias_ih)
      const hs = gruSequence(projected, carry0(projected.dtype).h, p.weight_hh, p.bias_hh, { reverse, transposed: true })
      return [{ h: lastState(hs, reverse) }, hs]
    },
    step: ({ h }, projected) => {
      if (gruStepFusable(projected, h, weightHh(), biasHh())) {
        const next = gruStep(projected, h, weightHh(), biasHh())
        return [{ h: next }, next]
      }
      const [xr, xz, xn] = unstack(projected)
      const [hr, hz, hn] = unstack(add(matmul(h, weightHh()), biasHh()))
      const r = sigmoid(add(xr, hr))
      const z = sigmoid(add(xz, hz))
      const n = tanh(add(xn, mul(r, hn)))
      const next = add(n, mul(z, sub(h, n))) // (1 − z) ⊙ n + z ⊙ h
      return [{ h: next }, next]
    },
  }
}

/**
 * PyTorch's `nn.GRU` cell, gates in PyTorch's order r, z, n:
 *
 *   r = σ(x·W_irᵀ + b_ir + h·W_hrᵀ + b_hr)    z = σ(x·W_izᵀ + b_iz + h·W_hzᵀ + b_hz)
 *   n = tanh(x·W_inᵀ + b_in + r ⊙ (h·W_hnᵀ + b_hn))
 *   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
 *
 * (r multiplies the whole hidden-side term, b_hn included.) Parameters `weight_ih [3·hidden, in]`,
 * `weight_hh [3·hidden, hidden]`, `bias_ih`, `bias_hh` `[3·hidden]`. Default init U(±1/√hidden).
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
 * @example const [carry, y] = nn.cells.lstm(params, { h, c }, x)
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
