/**
 * @file Whole-sequence recurrent kernels composed from the other kernels of a backend: the
 * reference for, and the fallback of, the optional `Kernels.recurrentForward` / `recurrentBackward`
 * / `lstmForward` / `lstmBackward`. Each step makes the same kernel calls as one fused step of
 * src/nn/fused.ts, so a backend's values match its per-step path; what is saved is the tape and
 * the per-step tensors around the calls. Imports tensor types and the JavaScript kernels only.
 */
import { type Data, allocate, dtypeOf } from './Tensor.js'
import { jsKernels } from './jsKernels.js'
import type { Kernels, LstmBackward, LstmForward, RecurrenceExtent, RecurrentActivation } from './kernels.js'

/** Batch offsets of a single (unbatched) matrix. */
const SINGLE = new Int32Array(1)

const allocateLike = (x: Data, size: number): Data => allocate(dtypeOf(x), size)

/** The time index of the s-th processed step of a run. */
export const stepAt = (extent: RecurrenceExtent, s: number): number => (extent.reverse ? extent.time - 1 - s : s)

/** `h·w` (or `h·wᵀ` for a transposed weight) for h `[batch, hidden]`: `[batch, columns]`. */
const hiddenProduct = (k: Kernels, h: Data, w: Data, extent: RecurrenceExtent, columns: number): Data =>
  k.matmul(h, SINGLE, w, SINGLE, extent.batch, extent.hidden, columns, false, extent.transposed)

/** `d·wᵀ` (or `d·w` for a transposed weight) for d `[batch, columns]`: the cotangent of h in `h·w`. */
const hiddenCotangent = (k: Kernels, d: Data, w: Data, extent: RecurrenceExtent, columns: number): Data =>
  k.matmul(d, SINGLE, w, SINGLE, extent.batch, columns, extent.hidden, false, !extent.transposed)

const tanhGrad = (k: Kernels, g: Data, t: Data): Data => (k.tanhBackward ?? jsKernels.tanhBackward!)(g, t)
const sigmoidGrad = (k: Kernels, g: Data, s: Data): Data => (k.sigmoidBackward ?? jsKernels.sigmoidBackward!)(g, s)

/** g·[h > 0], as the unfused relu VJP computes it (a multiplication by the 0/1 mask). */
const reluGrad = (g: Data, h: Data): Data => {
  const out = allocateLike(g, g.length)
  for (let i = 0; i < out.length; i++) out[i] = g[i] * (h[i] > 0 ? 1 : 0)
  return out
}

const activationGrad = (k: Kernels, activation: RecurrentActivation, g: Data, h: Data): Data =>
  activation === 'tanh' ? tanhGrad(k, g, h) : activation === 'sigmoid' ? sigmoidGrad(k, g, h) : reluGrad(g, h)

/** `recurrentForward` on any backend: per step, `σ(p_t + h·w)`. */
export const composedRecurrentForward = (
  k: Kernels, p: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation,
): Data => {
  const n = extent.batch * extent.hidden
  const hs = allocateLike(p, extent.time * n)
  let h = h0
  for (let s = 0; s < extent.time; s++) {
    const t = stepAt(extent, s)
    const z = k.binary('add', p.subarray(t * n, (t + 1) * n), null, hiddenProduct(k, h, w, extent, extent.hidden), null, n)
    h = k[activation](z)
    hs.set(h, t * n)
  }
  return hs
}

/** `recurrentBackward` on any backend: dz_t = σ'(h_t)·(g_t + dz_{t+1}·wᵀ), last processed step first. */
export const composedRecurrentBackward = (
  k: Kernels, g: Data, hs: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation,
): Data => {
  const n = extent.batch * extent.hidden
  const dz = allocateLike(g, extent.time * n)
  let carry: Data | null = null
  for (let s = extent.time - 1; s >= 0; s--) {
    const t = stepAt(extent, s)
    const gt = g.subarray(t * n, (t + 1) * n)
    const dh: Data = carry === null ? gt : k.binary('add', gt, null, carry, null, n)
    const dzt = activationGrad(k, activation, dh, hs.subarray(t * n, (t + 1) * n))
    dz.set(dzt, t * n)
    // The first processed step's cotangent towards h0 is the caller's (only when h0 needs one).
    carry = s > 0 ? hiddenCotangent(k, dzt, w, extent, extent.hidden) : null
  }
  return dz
}

/** Gate g's `[batch, hidden]` block of a `[batch, 4·hidden]` row-major matrix, as a contiguous array. */
const gateOf = (pre: Data, gate: number, batch: number, hidden: number): Data => {
  const out = allocateLike(pre, batch * hidden)
  for (let b = 0; b < batch; b++) out.set(pre.subarray((4 * b + gate) * hidden, (4 * b + gate + 1) * hidden), b * hidden)
  return out
}

/** The inverse of `gateOf` for all four gates: interleaves `[batch, hidden]` blocks into `[batch, 4·hidden]` at `out[offset…]`. */
const interleaveGates = (out: Data, offset: number, gates: readonly Data[], batch: number, hidden: number): void => {
  for (let b = 0; b < batch; b++) {
    for (let gate = 0; gate < 4; gate++) out.set(gates[gate].subarray(b * hidden, (b + 1) * hidden), offset + (4 * b + gate) * hidden)
  }
}

/**
 * `lstmForward` on any backend: per step, pre = p_t + h·w, i, f, o = σ(pre_i, pre_f, pre_o),
 * g = tanh(pre_g), c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').
 */
export const composedLstmForward = (k: Kernels, p: Data, h0: Data, c0: Data, w: Data, extent: RecurrenceExtent): LstmForward => {
  const { batch, hidden } = extent
  const n = batch * hidden
  const hs = allocateLike(p, extent.time * n)
  const cs = allocateLike(p, extent.time * n)
  const saved = allocateLike(p, extent.time * 5 * n)
  let h = h0
  let c = c0
  for (let s = 0; s < extent.time; s++) {
    const t = stepAt(extent, s)
    const pre = k.binary('add', p.subarray(4 * t * n, 4 * (t + 1) * n), null, hiddenProduct(k, h, w, extent, 4 * hidden), null, 4 * n)
    const i = k.sigmoid(gateOf(pre, 0, batch, hidden))
    const f = k.sigmoid(gateOf(pre, 1, batch, hidden))
    const g = k.tanh(gateOf(pre, 2, batch, hidden))
    const o = k.sigmoid(gateOf(pre, 3, batch, hidden))
    c = k.binary('add', k.binary('mul', f, null, c, null, n), null, k.binary('mul', i, null, g, null, n), null, n)
    const tc = k.tanh(c)
    h = k.binary('mul', o, null, tc, null, n)
    hs.set(h, t * n)
    cs.set(c, t * n)
    for (const [slot, x] of [i, f, g, o, tc].entries()) saved.set(x, (5 * t + slot) * n)
  }
  return { hs, cs, saved }
}

/**
 * `lstmBackward` on any backend, last processed step first: with dh = g_h + dh_next and
 * dc = g_c + dc_next + tanh'(c)·(dh ⊙ o), the gate cotangents are dO = σ'·(dh ⊙ tanh c),
 * dI = σ'·(dc ⊙ g), dF = σ'·(dc ⊙ c_prev), dG = tanh'·(dc ⊙ i); then dh_prev = dPre·wᵀ and
 * dc_prev = dc ⊙ f.
 */
export const composedLstmBackward = (
  k: Kernels, gh: Data, gc: Data, forward: LstmForward, c0: Data, w: Data, extent: RecurrenceExtent,
): LstmBackward => {
  const { batch, hidden } = extent
  const n = batch * hidden
  const dPre = allocateLike(gh, extent.time * 4 * n)
  const { cs, saved } = forward
  const mul = (a: Data, b: Data): Data => k.binary('mul', a, null, b, null, n)
  const add = (a: Data, b: Data): Data => k.binary('add', a, null, b, null, n)
  let dhNext: Data | null = null
  let dcNext: Data | null = null
  for (let s = extent.time - 1; s >= 0; s--) {
    const t = stepAt(extent, s)
    const at = (x: Data, step: number): Data => x.subarray(step * n, (step + 1) * n)
    const [i, f, g, o, tc] = [0, 1, 2, 3, 4].map((slot) => at(saved, 5 * t + slot))
    const cPrev = s === 0 ? c0 : at(cs, stepAt(extent, s - 1))
    const dh = dhNext === null ? at(gh, t) : add(at(gh, t), dhNext)
    const dcOut = dcNext === null ? at(gc, t) : add(at(gc, t), dcNext)
    const dc = add(dcOut, tanhGrad(k, mul(dh, o), tc))
    const gates = [
      sigmoidGrad(k, mul(dc, g), i),
      sigmoidGrad(k, mul(dc, cPrev), f),
      tanhGrad(k, mul(dc, i), g),
      sigmoidGrad(k, mul(dh, tc), o),
    ]
    interleaveGates(dPre, 4 * t * n, gates, batch, hidden)
    dhNext = hiddenCotangent(k, dPre.subarray(4 * t * n, 4 * (t + 1) * n), w, extent, 4 * hidden)
    dcNext = mul(dc, f)
  }
  return { dPre, dh0: dhNext ?? allocateLike(gh, n), dc0: dcNext ?? allocateLike(gh, n) }
}

/** All four recurrence kernels as compositions over the backend `k`. */
export const composedRecurrence = (k: Kernels): Required<Pick<Kernels, 'recurrentForward' | 'recurrentBackward' | 'lstmForward' | 'lstmBackward'>> => ({
  recurrentForward: (p, h0, w, extent, activation) => composedRecurrentForward(k, p, h0, w, extent, activation),
  recurrentBackward: (g, hs, w, extent, activation) => composedRecurrentBackward(k, g, hs, w, extent, activation),
  lstmForward: (p, h0, c0, w, extent) => composedLstmForward(k, p, h0, c0, w, extent),
  lstmBackward: (gh, gc, forward, c0, w, extent) => composedLstmBackward(k, gh, gc, forward, c0, w, extent),
})
