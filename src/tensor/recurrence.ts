/**
 * @file Whole-sequence recurrent kernels composed from the other kernels of a backend: the
 * reference for, and the fallback of, the optional `Kernels.recurrentForward` / `recurrentBackward`
 * (and their `projected` forms, and `projectedRecurrentFinal`) / `lstmForward` / `lstmBackward` /
 * `gruForward` / `gruBackward`, completed into any backend that lacks them (complete.ts). Each step
 * makes the kernel calls the cell's composition (src/nn/cells.ts) makes, in the same order; what is
 * saved is the tape and the per-step tensors around the calls. With a step mask
 * (`RecurrenceExtent.mask`) each step then selects with `where`, as scan's masked step does, and
 * backwards selects the cotangents that padding hands straight on. Imports tensor types and the JavaScript kernels only.
 */
import { type Data, allocate, dtypeOf, repeatRows } from './Tensor.js'
import { jsKernels } from './jsKernels.js'
import type {
  FinalStates, GruBackward, GruForward, GruWanted, Kernels, LstmBackward, LstmForward, ProjectedRecurrentBackward, ProjectedWanted,
  RecurrenceExtent, RecurrentActivation, RecurrentBackward, SequenceCotangent, SequenceStates,
} from './kernels.js'

/** Every step's states as an array: copied out of, or recomputed by, the backend that holds them. */
export const statesData = (hs: SequenceStates): Data => ('final' in hs ? hs.hs() : hs)

/** Batch offsets of a single (unbatched) matrix. */
const SINGLE = new Int32Array(1)

const allocateLike = (x: Data, size: number): Data => allocate(dtypeOf(x), size)

/** The time index of the s-th processed step of a run. */
export const stepAt = (extent: RecurrenceExtent, s: number): number => (extent.reverse ? extent.time - 1 - s : s)

/** Where step t of batch row b sits in the extent's `[time, batch]` (or `[batch, time]`) mask. */
export const maskAt = (extent: RecurrenceExtent, t: number, b: number): number =>
  extent.batchMajor === true ? b * extent.time + t : t * extent.batch + b

/**
 * The index map spreading step t's mask over a `[batch, hidden]` block (for `where`), or null
 * without a mask.
 */
const stepMaskIndex = (extent: RecurrenceExtent, t: number): Int32Array | null => {
  if (extent.mask === undefined) return null
  const { time, batch, hidden } = extent
  if (extent.mask.length !== time * batch) {
    throw new Error(`recurrence kernels: extent.mask must hold time·batch = ${time * batch} values ([time, batch], or [batch, time] when batchMajor), got ${extent.mask.length}.`)
  }
  const index = new Int32Array(batch * hidden)
  for (let b = 0; b < batch; b++) index.fill(maskAt(extent, t, b), b * hidden, (b + 1) * hidden)
  return index
}

/** `m ? a : b` over a `[batch, hidden]` block with step t's mask (`index` from `stepMaskIndex`), as scan's masked step selects. */
const select = (k: Kernels, extent: RecurrenceExtent, index: Int32Array, a: Data, b: Data): Data =>
  k.where(extent.mask!, index, a, null, b, null, a.length)

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

/** a + b, or whichever of them is given (null when neither is). */
const sumOrEither = (k: Kernels, a: Data | null, b: Data | null, n: number): Data | null =>
  a === null ? b : b === null ? a : k.binary('add', a, null, b, null, n)

/**
 * `[first, second, width]` → `[second, first, width]`: a batch-major sequence to time-major and
 * back (with the two counts swapped).
 */
const swapLeadingAxes = (k: Kernels, x: Data, first: number, second: number, width: number): Data =>
  (k.gatherStrided ?? jsKernels.gatherStrided!)(x, [second, first, width], [width, second * width, 1], 0)

/** p, hs, g or dz in time-major layout, whatever the extent's. */
const timeMajor = (k: Kernels, x: Data, extent: RecurrenceExtent): Data =>
  extent.batchMajor === true ? swapLeadingAxes(k, x, extent.batch, extent.time, extent.hidden) : x

/** A time-major result back in the extent's layout. */
const inLayout = (k: Kernels, x: Data, extent: RecurrenceExtent): Data =>
  extent.batchMajor === true ? swapLeadingAxes(k, x, extent.time, extent.batch, extent.hidden) : x

/**
 * The state entering each step, time-major `[time, batch, hidden]`: h0 then hs shifted by one step
 * in processing order (the rows H_prev of the weight's cotangent H_prevᵀ·dZ).
 */
const enteringStateRows = (hs: Data, h0: Data, extent: RecurrenceExtent): Data => {
  const n = extent.batch * extent.hidden
  const out = allocateLike(hs, extent.time * n)
  if (extent.reverse) {
    out.set(hs.subarray(n), 0)
    out.set(h0, (extent.time - 1) * n)
  } else {
    out.set(h0, 0)
    out.set(hs.subarray(0, (extent.time - 1) * n), n)
  }
  return out
}

/**
 * A recurrent weight's cotangent over all steps from time-major states `hs` and the cotangents `d`
 * of every step's h·w (`[time·batch, width]`): H_prevᵀ·d, or dᵀ·H_prev for a transposed weight.
 */
const weightCotangentOf = (k: Kernels, d: Data, hs: Data, h0: Data, extent: RecurrenceExtent, width: number): Data => {
  const prev = enteringStateRows(hs, h0, extent)
  const rows = extent.time * extent.batch
  return extent.transposed
    ? k.matmul(d, SINGLE, prev, SINGLE, width, rows, extent.hidden, true, false)
    : k.matmul(prev, SINGLE, d, SINGLE, extent.hidden, rows, width, true, false)
}

/** `recurrentForward` on any backend: per step, `σ(p_t + h·w)`. */
export const composedRecurrentForward = (
  k: Kernels, p: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation,
): Data => {
  const n = extent.batch * extent.hidden
  const ps = timeMajor(k, p, extent)
  const hs = allocateLike(p, extent.time * n)
  let h = h0
  for (let s = 0; s < extent.time; s++) {
    const t = stepAt(extent, s)
    const z = k.binary('add', ps.subarray(t * n, (t + 1) * n), null, hiddenProduct(k, h, w, extent, extent.hidden), null, n)
    const index = stepMaskIndex(extent, t)
    h = index === null ? k[activation](z) : select(k, extent, index, k[activation](z), h)
    hs.set(h, t * n)
  }
  return inLayout(k, hs, extent)
}

/**
 * `recurrentBackward` on any backend: dz_t = σ'(h_t)·(g_t + dz_{t+1}·wᵀ), last processed step
 * first, where the final state's cotangent joins g_t of that step (g_t + last, or either alone);
 * the weight's cotangent is one product over all steps. With a mask, a padded row's dz is 0 and
 * its incoming cotangent is carried on in place of dz·wᵀ, down to h0 (`dh0`).
 */
export const composedRecurrentBackward = (
  k: Kernels, g: SequenceCotangent, hs: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation,
  withWeight: boolean,
): RecurrentBackward => {
  const n = extent.batch * extent.hidden
  const gs = g.steps === null ? null : timeMajor(k, g.steps, extent)
  const states = timeMajor(k, hs, extent)
  const dz = allocateLike(hs, extent.time * n)
  let carry: Data | null = null
  for (let s = extent.time - 1; s >= 0; s--) {
    const t = stepAt(extent, s)
    const gt = gs === null ? null : gs.subarray(t * n, (t + 1) * n)
    // The last processed step has no carry; every earlier one has (a missing g_t is zero).
    const incoming = (s === extent.time - 1 ? sumOrEither(k, gt, g.last, n) : sumOrEither(k, gt, carry, n)) ?? allocateLike(hs, n)
    const index = stepMaskIndex(extent, t)
    const grad = activationGrad(k, activation, incoming, states.subarray(t * n, (t + 1) * n))
    const dzt = index === null ? grad : select(k, extent, index, grad, allocateLike(hs, n))
    dz.set(dzt, t * n)
    // The first processed step's cotangent towards h0 is the caller's (only when h0 needs one),
    // unless padding passes some of it straight through.
    carry = s > 0 || index !== null ? hiddenCotangent(k, dzt, w, extent, extent.hidden) : null
    if (index !== null) carry = select(k, extent, index, carry!, incoming)
  }
  const dw = withWeight ? weightCotangentOf(k, dz, states, h0, extent, extent.hidden) : null
  const masked = extent.mask === undefined ? {} : { dh0: carry ?? allocateLike(hs, n) }
  return { dz: inLayout(k, dz, extent), dw, ...masked }
}

/** Step t's `[batch, hidden]` rows of a sequence in the extent's layout, as a contiguous array (a view when time-major). */
export const stepRows = (x: Data, extent: RecurrenceExtent, t: number): Data => {
  const { time, batch, hidden } = extent
  if (extent.batchMajor !== true) return x.subarray(t * batch * hidden, (t + 1) * batch * hidden)
  const out = allocateLike(x, batch * hidden)
  for (let b = 0; b < batch; b++) out.set(x.subarray((b * time + t) * hidden, (b * time + t + 1) * hidden), b * hidden)
  return out
}

/** Inputs per row of a projection weight `[inputs, hidden]`. */
const inputsOf = (wIn: Data, extent: RecurrenceExtent): number => wIn.length / extent.hidden

/** `projectedRecurrentForward` on any backend: p = x·wIn as one product, then `recurrentForward`'s steps. */
export const composedProjectedForward = (
  k: Kernels, x: Data, wIn: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation,
): Data => {
  const p = k.matmul(x, SINGLE, wIn, SINGLE, extent.time * extent.batch, inputsOf(wIn, extent), extent.hidden, false, false)
  return composedRecurrentForward(k, p, h0, w, extent, activation)
}

/** The last processed step's `[batch, hidden]` rows of a sequence in the extent's layout, as an array of their own. */
export const finalRows = (hs: Data, extent: RecurrenceExtent): Data => {
  const rows = stepRows(hs, extent, stepAt(extent, extent.time - 1))
  // stepRows gives a view of hs for a time-major sequence, a fresh array otherwise.
  return rows.buffer === hs.buffer ? rows.slice() : rows
}

/** `projectedRecurrentFinal` on any backend: the whole forward pass, and its last processed step's rows. */
export const composedProjectedFinal = (
  k: Kernels, x: Data, wIn: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation,
): FinalStates => {
  const hs = composedProjectedForward(k, x, wIn, h0, w, extent, activation)
  return { final: finalRows(hs, extent), hs: () => hs }
}

/** `projectedRecurrentBackward` on any backend: dz as in `recurrentBackward`, then one product per cotangent. */
export const composedProjectedBackward = (
  k: Kernels, g: SequenceCotangent, states: SequenceStates, x: Data, wIn: Data, h0: Data, w: Data, extent: RecurrenceExtent,
  activation: RecurrentActivation, wanted: ProjectedWanted,
): ProjectedRecurrentBackward => {
  const { time, batch, hidden } = extent
  const rows = time * batch
  const inputs = inputsOf(wIn, extent)
  const { dz, dw, dh0 } = composedRecurrentBackward(k, g, statesData(states), h0, w, extent, activation, wanted.w)
  return {
    dx: wanted.x ? k.matmul(dz, SINGLE, wIn, SINGLE, rows, hidden, inputs, false, true) : null,
    dwIn: wanted.wIn ? k.matmul(x, SINGLE, dz, SINGLE, inputs, rows, hidden, true, false) : null,
    dh0: wanted.h0 ? dh0 ?? hiddenCotangent(k, stepRows(dz, extent, stepAt(extent, 0)), w, extent, hidden) : null,
    dw,
  }
}

/** Gate g's `[batch, hidden]` block of a `[batch, G·hidden]` row-major matrix (G = `gates`), as a contiguous array. */
const gateOf = (pre: Data, gate: number, batch: number, hidden: number, gates = 4): Data => {
  const out = allocateLike(pre, batch * hidden)
  for (let b = 0; b < batch; b++) out.set(pre.subarray((gates * b + gate) * hidden, (gates * b + gate + 1) * hidden), b * hidden)
  return out
}

/** The inverse of `gateOf` for all G gates: interleaves G `[batch, hidden]` blocks into `[batch, G·hidden]` at `out[offset…]`. */
const interleaveGates = (out: Data, offset: number, gates: readonly Data[], batch: number, hidden: number): void => {
  const count = gates.length
  for (let b = 0; b < batch; b++) {
    for (let gate = 0; gate < count; gate++) out.set(gates[gate].subarray(b * hidden, (b + 1) * hidden), offset + (count * b + gate) * hidden)
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
    const cNew = k.binary('add', k.binary('mul', f, null, c, null, n), null, k.binary('mul', i, null, g, null, n), null, n)
    const tc = k.tanh(cNew)
    const hNew = k.binary('mul', o, null, tc, null, n)
    const index = stepMaskIndex(extent, t)
    ;[h, c] = index === null ? [hNew, cNew] : [select(k, extent, index, hNew, h), select(k, extent, index, cNew, c)]
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
 * dc_prev = dc ⊙ f. With a mask, a padded row's dPre is 0 and it hands on dh and g_c + dc_next.
 */
export const composedLstmBackward = (
  k: Kernels, gh: Data, gc: Data, forward: LstmForward, h0: Data, c0: Data, w: Data, extent: RecurrenceExtent, withWeight: boolean,
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
    const dh: Data = dhNext === null ? at(gh, t) : add(at(gh, t), dhNext)
    const dcOut: Data = dcNext === null ? at(gc, t) : add(at(gc, t), dcNext)
    const dc = add(dcOut, tanhGrad(k, mul(dh, o), tc))
    const gates = [
      sigmoidGrad(k, mul(dc, g), i),
      sigmoidGrad(k, mul(dc, cPrev), f),
      tanhGrad(k, mul(dc, i), g),
      sigmoidGrad(k, mul(dh, tc), o),
    ]
    const index = stepMaskIndex(extent, t)
    const real = index === null ? gates : gates.map((d) => select(k, extent, index, d, allocateLike(gh, n)))
    interleaveGates(dPre, 4 * t * n, real, batch, hidden)
    dhNext = hiddenCotangent(k, dPre.subarray(4 * t * n, 4 * (t + 1) * n), w, extent, 4 * hidden)
    dcNext = mul(dc, f)
    if (index !== null) [dhNext, dcNext] = [select(k, extent, index, dhNext, dh), select(k, extent, index, dcNext, dcOut)]
  }
  const dw = withWeight ? weightCotangentOf(k, dPre, forward.hs, h0, extent, 4 * hidden) : null
  return { dPre, dh0: dhNext ?? allocateLike(gh, n), dc0: dcNext ?? allocateLike(gh, n), dw }
}


/**
 * `gruForward` on any backend: per step, hh = h·w + b, r = σ(p_r + hh_r), z = σ(p_z + hh_z),
 * n = tanh(p_n + r ⊙ hh_n), h' = n + z ⊙ (h − n), each operation rounded as in the fused step
 * (the GRU step in src/nn/cells.ts).
 */
export const composedGruForward = (k: Kernels, p: Data, h0: Data, w: Data, b: Data, extent: RecurrenceExtent): GruForward => {
  const { batch, hidden } = extent
  const n = batch * hidden
  const hs = allocateLike(p, extent.time * n)
  const saved = allocateLike(p, extent.time * 4 * n)
  const bias = repeatRows(b, batch * b.length)
  const add = (x: Data, y: Data): Data => k.binary('add', x, null, y, null, n)
  const mul = (x: Data, y: Data): Data => k.binary('mul', x, null, y, null, n)
  let h = h0
  for (let s = 0; s < extent.time; s++) {
    const t = stepAt(extent, s)
    const pt = p.subarray(3 * t * n, 3 * (t + 1) * n)
    const hh = k.binary('add', hiddenProduct(k, h, w, extent, 3 * hidden), null, bias, null, 3 * n)
    const r = k.sigmoid(add(gateOf(pt, 0, batch, hidden, 3), gateOf(hh, 0, batch, hidden, 3)))
    const z = k.sigmoid(add(gateOf(pt, 1, batch, hidden, 3), gateOf(hh, 1, batch, hidden, 3)))
    const hn = gateOf(hh, 2, batch, hidden, 3)
    const candidate = k.tanh(add(gateOf(pt, 2, batch, hidden, 3), mul(r, hn)))
    const hNew = add(candidate, mul(z, k.binary('sub', h, null, candidate, null, n)))
    const index = stepMaskIndex(extent, t)
    h = index === null ? hNew : select(k, extent, index, hNew, h)
    hs.set(h, t * n)
    for (const [slot, x] of [r, z, candidate, hn].entries()) saved.set(x, (4 * t + slot) * n)
  }
  return { hs, saved }
}

/**
 * `gruBackward` on any backend, last processed step first, rounded as the fused step's VJP: with
 * dh = g_t + dh_next, dn = dh − dh ⊙ z, dz = dh ⊙ (h_prev − n), dn̂ = tanh'·dn, dr̂ = σ'·(dn̂ ⊙ hh_n),
 * dẑ = σ'·dz; dPre_t = [dr̂ | dẑ | dn̂], dHidden_t = [dr̂ | dẑ | dn̂ ⊙ r], dh_prev = dh ⊙ z + dHidden_t·wᵀ.
 * With a mask, a padded row's dPre and dHidden are 0 and its dh_prev is dh.
 */
export const composedGruBackward = (
  k: Kernels, g: Data, forward: GruForward, h0: Data, w: Data, extent: RecurrenceExtent, wanted: GruWanted,
): GruBackward => {
  const { batch, hidden } = extent
  const n = batch * hidden
  const dPre = allocateLike(g, extent.time * 3 * n)
  const dHidden = allocateLike(g, extent.time * 3 * n)
  const { hs, saved } = forward
  const mul = (a: Data, b: Data): Data => k.binary('mul', a, null, b, null, n)
  const at = (x: Data, step: number): Data => x.subarray(step * n, (step + 1) * n)
  let dhNext: Data | null = null
  for (let s = extent.time - 1; s >= 0; s--) {
    const t = stepAt(extent, s)
    const [r, z, candidate, hn] = [0, 1, 2, 3].map((slot) => at(saved, 4 * t + slot))
    const hPrev = s === 0 ? h0 : at(hs, stepAt(extent, s - 1))
    const dh = dhNext === null ? at(g, t) : k.binary('add', at(g, t), null, dhNext, null, n)
    const dn = k.binary('sub', dh, null, mul(dh, z), null, n)
    const dz = mul(dh, k.binary('sub', hPrev, null, candidate, null, n))
    const index = stepMaskIndex(extent, t)
    const real = (x: Data): Data => (index === null ? x : select(k, extent, index, x, allocateLike(g, n)))
    const dan = real(tanhGrad(k, dn, candidate))
    const dar = real(sigmoidGrad(k, mul(dan, hn), r))
    const daz = real(sigmoidGrad(k, dz, z))
    interleaveGates(dPre, 3 * t * n, [dar, daz, dan], batch, hidden)
    interleaveGates(dHidden, 3 * t * n, [dar, daz, real(mul(dan, r))], batch, hidden)
    const dHiddenT = dHidden.subarray(3 * t * n, 3 * (t + 1) * n)
    dhNext = k.binary('add', mul(dh, z), null, hiddenCotangent(k, dHiddenT, w, extent, 3 * hidden), null, n)
    if (index !== null) dhNext = select(k, extent, index, dhNext, dh)
  }
  const dw = wanted.w ? weightCotangentOf(k, dHidden, forward.hs, h0, extent, 3 * hidden) : null
  const db = wanted.b ? (k.sumRows ?? jsKernels.sumRows!)(dHidden, extent.time * batch, 3 * hidden) : null
  return { dPre, dh0: dhNext ?? allocateLike(g, n), dw, db }
}

/** The recurrence kernels that are compositions over the backend `k`. */
export type ComposedRecurrence = Required<Pick<Kernels,
  | 'recurrentForward' | 'recurrentBackward' | 'projectedRecurrentForward' | 'projectedRecurrentFinal' | 'projectedRecurrentBackward'
  | 'lstmForward' | 'lstmBackward' | 'gruForward' | 'gruBackward'
>>

/** All nine recurrence kernels as compositions over the backend `k`. */
export const composedRecurrence = (k: Kernels): ComposedRecurrence => ({
  recurrentForward: (p, h0, w, extent, activation) => composedRecurrentForward(k, p, h0, w, extent, activation),
  projectedRecurrentForward: (x, wIn, h0, w, extent, activation) => composedProjectedForward(k, x, wIn, h0, w, extent, activation),
  projectedRecurrentFinal: (x, wIn, h0, w, extent, activation) => composedProjectedFinal(k, x, wIn, h0, w, extent, activation),
  projectedRecurrentBackward: (g, hs, x, wIn, h0, w, extent, activation, wanted) =>
    composedProjectedBackward(k, g, hs, x, wIn, h0, w, extent, activation, wanted),
  recurrentBackward: (g, hs, h0, w, extent, activation, withWeight) => composedRecurrentBackward(k, g, hs, h0, w, extent, activation, withWeight),
  lstmForward: (p, h0, c0, w, extent) => composedLstmForward(k, p, h0, c0, w, extent),
  lstmBackward: (gh, gc, forward, h0, c0, w, extent, withWeight) => composedLstmBackward(k, gh, gc, forward, h0, c0, w, extent, withWeight),
  gruForward: (p, h0, w, b, extent) => composedGruForward(k, p, h0, w, b, extent),
  gruBackward: (g, forward, h0, w, extent, wanted) => composedGruBackward(k, g, forward, h0, w, extent, wanted),
})
