/**
 * @file Whole recurrent sequences as one tape node. Without a mask, a built-in Elman / RNN / LSTM /
 * GRU layer runs all its time steps in one primitive: the forward pass is one kernel call
 * (`Kernels.recurrentForward` / `lstmForward` / `gruForward`, or their composition from the other kernels), and
 * the backward pass through time is one more, which also computes the weight gradient as a single
 * product over all steps, `Σ_t h_{t−1}ᵀ·dz_t = H_prevᵀ·dZ`, instead of one small product per step.
 * This is what cuDNN-style persistent kernels do; `scan` with
 * the per-step fused cells stays the reference (the tests compare both) and the path for masks and
 * user-written cells. The Elman / RNN kernels also take a batch-first layer's `[batch, time, …]`
 * layout, so a single such layer runs without transposing its inputs and outputs, and the Elman
 * layer has a form for its final state alone (`projectedRecurrentFinal`), for a last-step readout
 * that reads no other step: the other outputs then never leave the kernel.
 *
 * The kernels are not differentiable themselves, so each VJP checks what it was given: plain
 * tensors (the usual first-order gradient) take the kernels; traced ones (`grad` of `grad`, `hvp`,
 * `linearize`) take a per-step composition of primitives with the same formulas, so higher-order
 * derivatives still work.
 * Imports ops, primitives, kernels and the fused steps' helpers.
 */
import { add, mul, sigmoid, sub, tanh } from '../autodiff/ops/elementwise.js'
import { sum } from '../autodiff/ops/reduce.js'
import { matmulTransposed } from '../autodiff/ops/linalg.js'
import { concat, expandDims, reshape, slice, stack, transpose, unstack } from '../autodiff/ops/structural.js'
import { defineMultiPrimitive, definePrimitive } from '../autodiff/primitive.js'
import { Traced } from '../autodiff/trace.js'
import { K } from '../tensor/backend.js'
import type { FinalStates, GruForward, LstmForward, RecurrenceExtent, RecurrentActivation, SequenceCotangent, SequenceStates } from '../tensor/kernels.js'
import {
  composedGruBackward, composedGruForward, composedLstmBackward, composedLstmForward, composedProjectedBackward, composedProjectedFinal,
  composedProjectedForward, composedRecurrentBackward, composedRecurrentForward, finalRows, stepAt, stepRows,
} from '../tensor/recurrence.js'
import { type Data, Tensor } from '../tensor/Tensor.js'
import { activationGrad, fusedStepsEnabled, wanted, zerosLike } from './fused.js'

let enabled = true

/**
 * Switches the whole-sequence path on or off (on by default) and returns the previous setting.
 * Off, layers run `scan` over their (fused) steps: the reference the sequence path is tested against.
 */
export const useSequenceKernels = (on: boolean): boolean => {
  const previous = enabled
  enabled = on
  return previous
}

/** Whether a sequence primitive may take these operands: the path is on and they share a dtype. */
export const sequenceFusable = (...xs: readonly Tensor[]): boolean =>
  enabled && fusedStepsEnabled() && xs.every((x) => x.dtype === xs[0].dtype)

const isPlain = (...xs: readonly Tensor[]): boolean => xs.every((x) => !(x instanceof Traced))


/** Step t of a time-major tensor `[time, batch, …]` (batch-major `[batch, time, …]`) as `[batch, …]`. */
const stepOf = (xs: Tensor, t: number, batchMajor = false): Tensor =>
  batchMajor
    ? reshape(slice(xs, [[0, xs.shape[0]], [t, t + 1]]), [xs.shape[0], ...xs.shape.slice(2)])
    : reshape(slice(xs, [[t, t + 1]]), xs.shape.slice(1))

/** `h·w` (or `h·wᵀ`), the hidden-side product of a step. */
const hiddenProduct = (h: Tensor, w: Tensor, extent: RecurrenceExtent): Tensor => matmulTransposed(h, w, false, extent.transposed)

/** `d·wᵀ` (or `d·w`): the cotangent of h in `hiddenProduct`. */
const hiddenCotangent = (d: Tensor, w: Tensor, extent: RecurrenceExtent): Tensor => matmulTransposed(d, w, false, !extent.transposed)

/** The state entering each step, in time order: `[time, batch, hidden]`. */
const enteringStates = (h0: Tensor, hs: Tensor, extent: RecurrenceExtent): Tensor => {
  const first = expandDims(h0, 0)
  if (extent.time === 1) return first
  return extent.reverse
    ? concat([slice(hs, [[1, extent.time]]), first], 0)
    : concat([first, slice(hs, [[0, extent.time - 1]])], 0)
}

/** The weight's cotangent summed over all steps: `H_prevᵀ·dZ` (or `dZᵀ·H_prev` for a transposed weight). */
const weightCotangent = (h0: Tensor, hs: Tensor, dz: Tensor, extent: RecurrenceExtent): Tensor => {
  const rows = extent.time * extent.batch
  const states = reshape(enteringStates(h0, hs, extent), [rows, extent.hidden])
  const dZ = reshape(dz, [rows, dz.shape[2]])
  return extent.transposed ? matmulTransposed(dZ, states, true, false) : matmulTransposed(states, dZ, true, false)
}

/** The time index of the first processed step. */
const firstStep = (extent: RecurrenceExtent): number => stepAt(extent, 0)

// ---- Elman and RNN: h_t = σ(p_t + h_{t−1}·w) ----

interface RecurrentParams {
  readonly extent: RecurrenceExtent
  readonly activation: RecurrentActivation
}

/** a + b, or whichever of them is given (null when neither is). */
const sumOrEither = (a: Tensor | null, b: Tensor | null): Tensor | null => (a === null ? b : b === null ? a : add(a, b))

/**
 * The backward pass through time as primitives (for traced operands): dz_t = σ'·(g_t + dz_{t+1}·wᵀ),
 * with the final state's cotangent `last` joining g_t at the last processed step; time-major.
 */
const tracedRecurrentBackward = (
  g: Tensor | null, last: Tensor | null, hs: Tensor, w: Tensor, { extent, activation }: RecurrentParams,
): Tensor => {
  const gs = g === null ? null : unstack(g)
  const states = unstack(hs)
  const dz = new Array<Tensor>(extent.time)
  let carry: Tensor | null = null
  for (let s = extent.time - 1; s >= 0; s--) {
    const t = stepAt(extent, s)
    const incoming = sumOrEither(gs === null ? null : gs[t], s === extent.time - 1 ? last : carry)
    dz[t] = activationGrad(activation, incoming ?? zerosLike(states[t]), states[t])
    carry = s > 0 ? hiddenCotangent(dz[t], w, extent) : null
  }
  return stack(dz, 0)
}

/** A sequence's outputs: every h_t, and the final state (the last processed step's h) as a node of its own. */
export type SequenceOutputs = [hs: Tensor, last: Tensor]

/**
 * The forward outputs of an Elman / RNN sequence node: hs in p's layout, and a copy of the last
 * processed step's rows, so that a loss on the final state alone reaches the backward kernel as
 * that state's cotangent instead of a sequence of zeros with one step filled.
 */
const withFinalState = (hs: Data, shape: readonly number[], extent: RecurrenceExtent): Tensor[] =>
  [new Tensor(hs, shape), new Tensor(finalRows(hs, extent), [extent.batch, extent.hidden])]

/** The cotangents of a sequence node's two outputs, as the kernels take them. */
const sequenceCotangent = ([steps, last]: readonly (Tensor | null)[]): SequenceCotangent =>
  ({ steps: steps === null ? null : steps.data, last: last === null ? null : last.data })

const recurrentSequencePrimitive = defineMultiPrimitive<RecurrentParams>({
  name: 'nn.recurrentSequence',
  forward: ([p, h0, w], { extent, activation }) => withFinalState(
    K.recurrentForward !== undefined
      ? K.recurrentForward(p.data, h0.data, w.data, extent, activation)
      : composedRecurrentForward(K, p.data, h0.data, w.data, extent, activation),
    p.shape, extent,
  ),
  vjp: (cotangents, { inputs: [, h0, w], outs: [out], params, needed }) => {
    const { extent, activation } = params
    const batchMajor = extent.batchMajor === true
    const [g, last] = cotangents
    if (isPlain(...cotangents.filter((c): c is Tensor => c !== null), out, h0, w)) {
      const withWeight = wanted(needed, 2)
      const { dz, dw } = K.recurrentBackward !== undefined
        ? K.recurrentBackward(sequenceCotangent(cotangents), out.data, h0.data, w.data, extent, activation, withWeight)
        : composedRecurrentBackward(K, sequenceCotangent(cotangents), out.data, h0.data, w.data, extent, activation, withWeight)
      const dzs = new Tensor(dz, out.shape)
      return [
        dzs,
        wanted(needed, 1) ? hiddenCotangent(stepOf(dzs, firstStep(extent), batchMajor), w, extent) : null,
        dw === null ? null : new Tensor(dw, w.shape),
      ]
    }
    // Traced operands (higher orders): the same formulas as primitives, in time-major layout.
    // Between p's layout and time-major: swapping batch and time is its own inverse.
    const swapLayout = (x: Tensor): Tensor => (batchMajor ? transpose(x, [1, 0, 2]) : x)
    const hs = swapLayout(out)
    const dz = tracedRecurrentBackward(g === null ? null : swapLayout(g), last, hs, w, params)
    return [
      swapLayout(dz),
      wanted(needed, 1) ? hiddenCotangent(stepOf(dz, firstStep(extent)), w, extent) : null,
      wanted(needed, 2) ? weightCotangent(h0, hs, dz, extent) : null,
    ]
  },
})

/**
 * A whole Elman / RNN sequence as one node: `h_t = σ(p_t + h_{t−1}·w)` (`h·wᵀ` when `transposed`)
 * for p `[time, batch, hidden]` (`[batch, time, hidden]` when `batchMajor`), h0 `[batch, hidden]`;
 * returns every `h_t` in p's layout, and the final state `[batch, hidden]`.
 */
export const recurrentSequence = (
  p: Tensor, h0: Tensor, w: Tensor, activation: RecurrentActivation, options: SequenceOptions,
): SequenceOutputs => {
  const batchMajor = options.batchMajor === true
  const [time, batch, hidden] = batchMajor ? [p.shape[1], p.shape[0], p.shape[2]] : p.shape
  const [hs, last] = recurrentSequencePrimitive([p, h0, w], { extent: { time, batch, hidden, ...options, batchMajor }, activation })
  return [hs, last]
}

/**
 * The VJP of a projected sequence (`projectedSequencePrimitive`, or `finalPrimitive` with `g` null)
 * from the cotangents of its outputs and of its final state. The kernel path takes the states as
 * the forward kernel left them; the traced one (higher orders) needs them as a node of the tape,
 * `out()`.
 */
const projectedVjp = (
  [g, last]: readonly (Tensor | null)[], states: () => SequenceStates, out: () => Tensor, [x, wIn, h0, w]: readonly Tensor[],
  params: RecurrentParams, needed: readonly boolean[] | undefined,
): (Tensor | null)[] => {
  const { extent, activation } = params
  const cotangents = [g, last]
  if (isPlain(...cotangents.filter((c): c is Tensor => c !== null), x, wIn, h0, w)) {
    const want = { x: wanted(needed, 0), wIn: wanted(needed, 1), h0: wanted(needed, 2), w: wanted(needed, 3) }
    const { dx, dwIn, dh0, dw } = K.projectedRecurrentBackward !== undefined
      ? K.projectedRecurrentBackward(sequenceCotangent(cotangents), states(), x.data, wIn.data, h0.data, w.data, extent, activation, want)
      : composedProjectedBackward(K, sequenceCotangent(cotangents), states(), x.data, wIn.data, h0.data, w.data, extent, activation, want)
    return [dx, dwIn, dh0, dw].map((d, i) => (d === null ? null : new Tensor(d, [x, wIn, h0, w][i].shape)))
  }
  // Traced operands (higher orders): dz as in the plain Elman sequence, then the projection's VJP.
  const swapLayout = (t: Tensor): Tensor => (extent.batchMajor === true ? transpose(t, [1, 0, 2]) : t)
  const hs = swapLayout(out())
  const dz = tracedRecurrentBackward(g === null ? null : swapLayout(g), last, hs, w, params)
  const rows = extent.time * extent.batch
  const dZ = reshape(dz, [rows, extent.hidden])
  const inputs = wIn.shape[0]
  return [
    wanted(needed, 0) ? swapLayout(reshape(matmulTransposed(dZ, wIn, false, true), [extent.time, extent.batch, inputs])) : null,
    wanted(needed, 1) ? matmulTransposed(reshape(swapLayout(x), [rows, inputs]), dZ, true, false) : null,
    wanted(needed, 2) ? hiddenCotangent(stepOf(dz, firstStep(extent)), w, extent) : null,
    wanted(needed, 3) ? weightCotangent(h0, hs, dz, extent) : null,
  ]
}

const projectedSequencePrimitive = defineMultiPrimitive<RecurrentParams>({
  name: 'nn.projectedRecurrentSequence',
  forward: ([x, wIn, h0, w], { extent, activation }) => withFinalState(
    K.projectedRecurrentForward !== undefined
      ? K.projectedRecurrentForward(x.data, wIn.data, h0.data, w.data, extent, activation)
      : composedProjectedForward(K, x.data, wIn.data, h0.data, w.data, extent, activation),
    [...x.shape.slice(0, -1), extent.hidden], extent,
  ),
  vjp: (cotangents, { inputs, outs: [out], params, needed }) => projectedVjp(cotangents, () => out.data, () => out, inputs, params, needed),
})

/** What each final-state forward left for its backward pass, by its output (kernel path only). */
const finalSaved = new WeakMap<Tensor, FinalStates>()

const finalForward = ([x, wIn, h0, w]: readonly Tensor[], { extent, activation }: RecurrentParams): FinalStates =>
  K.projectedRecurrentFinal !== undefined
    ? K.projectedRecurrentFinal(x.data, wIn.data, h0.data, w.data, extent, activation)
    : composedProjectedFinal(K, x.data, wIn.data, h0.data, w.data, extent, activation)

/** A projected sequence for its final state alone: no other step's output leaves the kernel. */
const finalPrimitive = definePrimitive<RecurrentParams>({
  name: 'nn.projectedRecurrentFinal',
  forward: (inputs, params) => {
    const run = finalForward(inputs, params)
    const final = new Tensor(run.final, [params.extent.batch, params.extent.hidden])
    finalSaved.set(final, run)
    return final
  },
  // The traced path (higher orders) differentiates through every output, so it runs the whole
  // sequence's node for them.
  vjp: (g, { inputs, out, params, needed }) => projectedVjp(
    [null, g], () => finalSaved.get(out) ?? finalForward(inputs, params), () => projectedSequencePrimitive(inputs, params)[0], inputs, params, needed,
  ),
})

/** How a sequence runs: its direction, the recurrent weight's layout, and the sequences' layout. */
interface SequenceOptions {
  readonly reverse: boolean
  readonly transposed: boolean
  readonly batchMajor?: boolean
}

/** The extent and activation of a projected sequence over x `[time, batch, inputs]` (batch-major: `[batch, time, inputs]`). */
const projectedParams = (x: Tensor, wIn: Tensor, activation: RecurrentActivation, options: SequenceOptions): RecurrentParams => {
  const batchMajor = options.batchMajor === true
  const [time, batch] = batchMajor ? [x.shape[1], x.shape[0]] : x.shape
  return { extent: { time, batch, hidden: wIn.shape[1], ...options, batchMajor }, activation }
}

/**
 * `recurrentSequence` with the input projection inside: `h_t = σ(x_t·wIn + h_{t−1}·w)` for x
 * `[time, batch, inputs]` (`[batch, time, inputs]` when `batchMajor`), wIn `[inputs, hidden]`: one
 * node, and a backend with `projectedRecurrentForward` keeps the projected sequence (and, backwards,
 * dz) inside its kernel. Returns every `h_t` and the final state, as `recurrentSequence`.
 */
export const projectedRecurrentSequence = (
  x: Tensor, wIn: Tensor, h0: Tensor, w: Tensor, activation: RecurrentActivation, options: SequenceOptions,
): SequenceOutputs => {
  const [hs, last] = projectedSequencePrimitive([x, wIn, h0, w], projectedParams(x, wIn, activation, options))
  return [hs, last]
}

/**
 * `projectedRecurrentSequence`'s final state alone, `[batch, hidden]`, for when no other step's
 * output is read (a last-step readout): the other outputs never leave the kernel (nor, batch-major,
 * get reordered), and the gradient is the same.
 */
export const projectedRecurrentFinal = (
  x: Tensor, wIn: Tensor, h0: Tensor, w: Tensor, activation: RecurrentActivation, options: SequenceOptions,
): Tensor => finalPrimitive([x, wIn, h0, w], projectedParams(x, wIn, activation, options))

// ---- LSTM ----

/** What each LSTM forward kept for its backward pass, by its `hs` output (kernel-path only). */
const lstmSaved = new WeakMap<Tensor, LstmForward>()

const lstmForwardKernel = (p: Tensor, h0: Tensor, c0: Tensor, w: Tensor, extent: RecurrenceExtent): LstmForward =>
  K.lstmForward !== undefined
    ? K.lstmForward(p.data, h0.data, c0.data, w.data, extent)
    : composedLstmForward(K, p.data, h0.data, c0.data, w.data, extent)

/** The backward pass through time as primitives (for traced operands), gates recomputed from the inputs. */
const tracedLstmBackward = (
  gh: Tensor, gc: Tensor, [p, h0, c0, w]: readonly Tensor[], [hs, cs]: readonly Tensor[], extent: RecurrenceExtent,
): { dPre: Tensor; dh0: Tensor; dc0: Tensor } => {
  const { batch, hidden } = extent
  const ps = unstack(p)
  const [hList, cList, ghs, gcs] = [hs, cs, gh, gc].map(unstack)
  const dPre = new Array<Tensor>(extent.time)
  const gate = (pre: Tensor, k: number): Tensor => slice(pre, [[0, batch], [k * hidden, (k + 1) * hidden]])
  let dhNext: Tensor | null = null
  let dcNext: Tensor | null = null
  for (let s = extent.time - 1; s >= 0; s--) {
    const t = stepAt(extent, s)
    const [hPrev, cPrev] = s === 0 ? [h0, c0] : [hList[stepAt(extent, s - 1)], cList[stepAt(extent, s - 1)]]
    const pre = add(ps[t], hiddenProduct(hPrev, w, extent))
    const [i, f, o] = [0, 1, 3].map((k) => sigmoid(gate(pre, k)))
    const g = tanh(gate(pre, 2))
    const tc = tanh(cList[t])
    const dh = dhNext === null ? ghs[t] : add(ghs[t], dhNext)
    const dc = add(dcNext === null ? gcs[t] : add(gcs[t], dcNext), activationGrad('tanh', mul(dh, o), tc))
    dPre[t] = concat([
      activationGrad('sigmoid', mul(dc, g), i),
      activationGrad('sigmoid', mul(dc, cPrev), f),
      activationGrad('tanh', mul(dc, i), g),
      activationGrad('sigmoid', mul(dh, tc), o),
    ], 1)
    dhNext = hiddenCotangent(dPre[t], w, extent)
    dcNext = mul(dc, f)
  }
  return { dPre: stack(dPre, 0), dh0: dhNext!, dc0: dcNext! }
}

const lstmSequencePrimitive = defineMultiPrimitive<RecurrenceExtent>({
  name: 'nn.lstmSequence',
  forward: ([p, h0, c0, w], extent) => {
    const forward = lstmForwardKernel(p, h0, c0, w, extent)
    const shape = [extent.time, extent.batch, extent.hidden]
    const hs = new Tensor(forward.hs, shape)
    lstmSaved.set(hs, forward)
    return [hs, new Tensor(forward.cs, shape)]
  },
  vjp: ([ghIn, gcIn], { inputs, outs, params: extent, needed }) => {
    const [p, h0, c0, w] = inputs
    const [hs, cs] = outs
    const gh = ghIn ?? zerosLike(hs)
    const gc = gcIn ?? zerosLike(cs)
    const withWeight = wanted(needed, 3)
    if (isPlain(gh, gc, hs, cs, h0, c0, w)) {
      const forward = lstmSaved.get(hs) ?? lstmForwardKernel(p, h0, c0, w, extent)
      const backward = K.lstmBackward !== undefined
        ? K.lstmBackward(gh.data, gc.data, forward, h0.data, c0.data, w.data, extent, withWeight)
        : composedLstmBackward(K, gh.data, gc.data, forward, h0.data, c0.data, w.data, extent, withWeight)
      return [
        new Tensor(backward.dPre, p.shape),
        wanted(needed, 1) ? new Tensor(backward.dh0, h0.shape) : null,
        wanted(needed, 2) ? new Tensor(backward.dc0, c0.shape) : null,
        backward.dw === null ? null : new Tensor(backward.dw, w.shape),
      ]
    }
    const { dPre, dh0, dc0 } = tracedLstmBackward(gh, gc, inputs, outs, extent)
    return [dPre, wanted(needed, 1) ? dh0 : null, wanted(needed, 2) ? dc0 : null, withWeight ? weightCotangent(h0, hs, dPre, extent) : null]
  },
})

/**
 * A whole LSTM sequence as one node, from p `[time, batch, 4·hidden]` (the projected inputs, gates
 * i, f, g, o), h0, c0 `[batch, hidden]` and w (`h·w` with w `[hidden, 4·hidden]`, or `h·wᵀ` with
 * PyTorch's `weight_hh` `[4·hidden, hidden]` when `transposed`); returns `[hs, cs]`, each
 * `[time, batch, hidden]`.
 */
export const lstmSequence = (
  p: Tensor, h0: Tensor, c0: Tensor, w: Tensor, options: { readonly reverse: boolean; readonly transposed: boolean },
): [Tensor, Tensor] => {
  const [time, batch] = p.shape
  const [hs, cs] = lstmSequencePrimitive([p, h0, c0, w], { time, batch, hidden: h0.shape[1], ...options })
  return [hs, cs]
}

// ---- GRU: hh = h·w + b, r = σ(p_r + hh_r), z = σ(p_z + hh_z), n = tanh(p_n + r ⊙ hh_n), h' = n + z ⊙ (h − n) ----

/** What each GRU forward kept for its backward pass, by its `hs` output (kernel-path only). */
const gruSaved = new WeakMap<Tensor, GruForward>()

const gruForwardKernel = (p: Tensor, h0: Tensor, w: Tensor, b: Tensor, extent: RecurrenceExtent): GruForward =>
  K.gruForward !== undefined
    ? K.gruForward(p.data, h0.data, w.data, b.data, extent)
    : composedGruForward(K, p.data, h0.data, w.data, b.data, extent)

/** The backward pass through time as primitives (for traced operands), gates recomputed from the inputs. */
const tracedGruBackward = (
  g: Tensor, [p, h0, w, b]: readonly Tensor[], hs: Tensor, extent: RecurrenceExtent,
): { dPre: Tensor; dHidden: Tensor; dh0: Tensor } => {
  const { batch, hidden } = extent
  const [ps, hList, gs] = [p, hs, g].map(unstack)
  const dPre = new Array<Tensor>(extent.time)
  const dHidden = new Array<Tensor>(extent.time)
  const gate = (x: Tensor, k: number): Tensor => slice(x, [[0, batch], [k * hidden, (k + 1) * hidden]])
  let dhNext: Tensor | null = null
  for (let s = extent.time - 1; s >= 0; s--) {
    const t = stepAt(extent, s)
    const hPrev = s === 0 ? h0 : hList[stepAt(extent, s - 1)]
    const hh = add(hiddenProduct(hPrev, w, extent), b)
    const [r, z] = [0, 1].map((k) => sigmoid(add(gate(ps[t], k), gate(hh, k))))
    const hn = gate(hh, 2)
    const n = tanh(add(gate(ps[t], 2), mul(r, hn)))
    const dh = dhNext === null ? gs[t] : add(gs[t], dhNext)
    const dan = activationGrad('tanh', sub(dh, mul(dh, z)), n)
    const dar = activationGrad('sigmoid', mul(dan, hn), r)
    const daz = activationGrad('sigmoid', mul(dh, sub(hPrev, n)), z)
    dPre[t] = concat([dar, daz, dan], 1)
    dHidden[t] = concat([dar, daz, mul(dan, r)], 1)
    dhNext = add(mul(dh, z), hiddenCotangent(dHidden[t], w, extent))
  }
  return { dPre: stack(dPre, 0), dHidden: stack(dHidden, 0), dh0: dhNext! }
}

const gruSequencePrimitive = definePrimitive<RecurrenceExtent>({
  name: 'nn.gruSequence',
  forward: ([p, h0, w, b], extent) => {
    const forward = gruForwardKernel(p, h0, w, b, extent)
    const hs = new Tensor(forward.hs, [extent.time, extent.batch, extent.hidden])
    gruSaved.set(hs, forward)
    return hs
  },
  // b's cotangent is dHidden summed over steps and rows: b enters every step's hh unchanged.
  vjp: (g, { inputs, out: hs, params: extent, needed }) => {
    const [p, h0, w, b] = inputs
    const want = { w: wanted(needed, 2), b: wanted(needed, 3) }
    if (isPlain(g, hs, h0, w)) {
      const forward = gruSaved.get(hs) ?? gruForwardKernel(p, h0, w, b, extent)
      const backward = K.gruBackward !== undefined
        ? K.gruBackward(g.data, forward, h0.data, w.data, extent, want)
        : composedGruBackward(K, g.data, forward, h0.data, w.data, extent, want)
      return [
        new Tensor(backward.dPre, p.shape),
        wanted(needed, 1) ? new Tensor(backward.dh0, h0.shape) : null,
        backward.dw === null ? null : new Tensor(backward.dw, w.shape),
        backward.db === null ? null : new Tensor(backward.db, b.shape),
      ]
    }
    const { dPre, dHidden, dh0 } = tracedGruBackward(g, inputs, hs, extent)
    return [
      dPre,
      wanted(needed, 1) ? dh0 : null,
      want.w ? weightCotangent(h0, hs, dHidden, extent) : null,
      want.b ? sum(dHidden, [0, 1]) : null,
    ]
  },
})

/**
 * A whole GRU sequence as one node (PyTorch's gates r, z, n), from p `[time, batch, 3·hidden]`
 * (the projected inputs x·W_ihᵀ + b_ih, gates side by side per row), h0 `[batch, hidden]`, w
 * (`h·w` with w `[hidden, 3·hidden]`, or `h·wᵀ` with PyTorch's `weight_hh` `[3·hidden, hidden]` when
 * `transposed`) and b = b_hh `[3·hidden]`: per step hh = h·w + b, r = σ(p_r + hh_r),
 * z = σ(p_z + hh_z), n = tanh(p_n + r ⊙ hh_n), h_t = n + z ⊙ (h_{t−1} − n). b is an operand of its
 * own (not folded into p) because r multiplies b_hn. Returns every h_t, `[time, batch, hidden]`.
 */
export const gruSequence = (
  p: Tensor, h0: Tensor, w: Tensor, b: Tensor, options: { readonly reverse: boolean; readonly transposed: boolean },
): Tensor => {
  const [time, batch] = p.shape
  return gruSequencePrimitive([p, h0, w, b], { time, batch, hidden: h0.shape[1], ...options })
}

/** The state after the last processed step of a `[time, batch, hidden]` sequence (`[batch, time, hidden]` when `batchMajor`). */
export const lastState = (hs: Tensor, reverse: boolean, batchMajor = false): Tensor =>
  stepOf(hs, reverse ? 0 : hs.shape[batchMajor ? 1 : 0] - 1, batchMajor)
