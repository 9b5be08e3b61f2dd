/**
 * @file Fused recurrent steps: the built-in cells' per-step work as one tape node each, with a
 * hand-written VJP. The forward pass calls the kernels directly in the same order as the unfused
 * composition (so values are identical on a given backend); the VJP is written with differentiable
 * primitives, so `grad(grad(f))` still works. Besides the new carry, a fused node outputs the
 * gate activations its VJP needs (they are then kept, not recomputed); nobody reads those outputs
 * outside, but a second-order differentiation sends cotangents to them, so every VJP below takes
 * them into account. Shapes or dtypes the kernels cannot take directly fall back to the unfused
 * composition (the caller checks `fusable`).
 * Imports ops, primitives and kernels only.
 */
import { add, greater, mul, relu, sigmoid, sigmoidBackward, sub, tanh, tanhBackward } from '../autodiff/ops/elementwise.js'
import { matmulTransposed } from '../autodiff/ops/linalg.js'
import { sum } from '../autodiff/ops/reduce.js'
import { stack } from '../autodiff/ops/structural.js'
import { defineMultiPrimitive, definePrimitive } from '../autodiff/primitive.js'
import { K } from '../tensor/backend.js'
import { stridedIndex } from '../tensor/indexing.js'
import { broadcastStrides } from '../tensor/shape.js'
import { type Data, Tensor } from '../tensor/Tensor.js'

/** The activations a fused Elman / RNN step knows the derivative of. */
export type FusedActivation = 'tanh' | 'relu' | 'sigmoid'

type Cotangent = Tensor | null

let enabled = true

/**
 * Switches the fused steps on or off (on by default) and returns the previous setting. Off, the
 * cells run their unfused composition: the reference the fused steps are tested against.
 */
export const useFusedSteps = (on: boolean): boolean => {
  const previous = enabled
  enabled = on
  return previous
}

/** Whether the built-in cells use their fused steps now. */
export const fusedStepsEnabled = (): boolean => enabled

/** Whether input i's cotangent is read (always, when the caller does not say). */
export const wanted = (needed: readonly boolean[] | undefined, i: number): boolean => needed === undefined || needed[i]
const plus = (a: Cotangent, b: Cotangent): Cotangent => (a === null ? b : b === null ? a : add(a, b))
const times = (a: Cotangent, b: Tensor): Cotangent => (a === null ? null : mul(a, b))
/** Zeros in x's shape and dtype (the cotangent of an output nobody read). */
export const zerosLike = (x: Tensor): Tensor => new Tensor(x.data instanceof Float32Array ? new Float32Array(x.size) : new Float64Array(x.size), x.shape)

const tanhGrad = tanhBackward
const sigmoidGrad = sigmoidBackward
/** g·[z > 0], read off relu(z) > 0 (the same test); like the unfused VJP, the mask carries no gradient. */
const reluGrad = (g: Tensor, r: Tensor): Tensor => mul(g, greater(r, 0))

/** σ'·g for a fused activation, read off its output (the VJP of the activation, differentiable). */
export const activationGrad = (activation: FusedActivation, g: Tensor, out: Tensor): Tensor =>
  activation === 'tanh' ? tanhGrad(g, out) : activation === 'sigmoid' ? sigmoidGrad(g, out) : reluGrad(g, out)

/** Batch offsets of one matrix used by every batch (offset 0 each time), by batch count. */
const sharedOffsets: Int32Array[] = []
const shared = (batches: number): Int32Array => (sharedOffsets[batches] ??= new Int32Array(batches))
const stridedOffsets: Map<number, Int32Array> = new Map()
/** Offsets of `batches` consecutive matrices of `size` elements. */
const consecutive = (batches: number, size: number): Int32Array => {
  const key = batches * 1e9 + size
  let offsets = stridedOffsets.get(key)
  if (offsets === undefined) {
    offsets = new Int32Array(batches)
    for (let b = 0; b < batches; b++) offsets[b] = b * size
    if (stridedOffsets.size < 64) stridedOffsets.set(key, offsets)
  }
  return offsets
}

/** `h·w` for h `[batch, in]` and w `[in, out]` (gates = 0), or per gate for w `[gates, in, out]`. */
const hiddenProduct = (h: Tensor, w: Tensor, gates: number): Data => {
  const [batch, inner] = h.shape
  const out = w.shape[w.rank - 1]
  return gates === 0
    ? K.matmul(h.data, shared(1), w.data, shared(1), batch, inner, out, false, false)
    : K.matmul(h.data, shared(gates), w.data, consecutive(gates, inner * out), batch, inner, out, false, false)
}

const apply = (activation: FusedActivation, z: Data): Data => K[activation](z)

// ---- Elman and RNN: h' = σ(p + h·w) ----

const recurrentStepPrimitive = definePrimitive<FusedActivation>({
  name: 'nn.recurrentStep',
  forward: ([p, h, w], activation) => {
    const z = K.binary('add', p.data, null, hiddenProduct(h, w, 0), null, p.size)
    return new Tensor(apply(activation, z), p.shape)
  },
  // z = p + h·w: dz = σ'·g flows to p unchanged, to h as dz·wᵀ, to w as hᵀ·dz.
  vjp: (g, { inputs: [, h, w], out, params: activation, needed }) => {
    const dz = activationGrad(activation, g, out)
    return [dz, wanted(needed, 1) ? matmulTransposed(dz, w, false, true) : null, wanted(needed, 2) ? matmulTransposed(h, dz, true, false) : null]
  },
})

/**
 * True when the fused kernels can take these operands as they are: one dtype, and the shapes the
 * built-in cells produce (`p [batch, gates?, …]` as documented per step). Otherwise the caller
 * runs the unfused composition, which handles promotion and unusual shapes.
 */
export const fusable = (...xs: readonly Tensor[]): boolean => {
  if (!enabled) return false
  const dtype = xs[0].dtype
  for (const x of xs) if (x.dtype !== dtype) return false
  return true
}

/** The fused name of an activation function, or null when the step cannot be fused for it. */
export const fusedActivationOf = (f: (x: Tensor) => Tensor): FusedActivation | null =>
  f === tanh ? 'tanh' : f === relu ? 'relu' : f === sigmoid ? 'sigmoid' : null

/**
 * One Elman / RNN step as one node: `σ(p + h·w)` with p `[batch, hidden]` (the projected input),
 * h `[batch, hidden]`, w `[hidden, hidden]` (already oriented for `h·w`).
 */
export const recurrentStep = (p: Tensor, h: Tensor, w: Tensor, activation: FusedActivation): Tensor =>
  recurrentStepPrimitive([p, h, w], activation)

/** The shapes `recurrentStep` takes. */
export const recurrentStepFusable = (p: Tensor, h: Tensor, w: Tensor): boolean =>
  fusable(p, h, w) && p.rank === 2 && h.rank === 2 && w.rank === 2 &&
  h.shape[1] === w.shape[0] && p.shape[0] === h.shape[0] && p.shape[1] === w.shape[1]

// ---- LSTM ----

/**
 * Inputs p `[4, batch, hidden]` (gate-major projected input, gates i, f, g, o), h, c `[batch, hidden]`,
 * w `[4, hidden, hidden]`; outputs h', c' and, for the VJP, i, f, g, o and tanh(c').
 */
const lstmStepPrimitive = defineMultiPrimitive<undefined>({
  name: 'nn.lstmStep',
  forward: ([p, h, c, w]) => {
    const n = h.size
    const shape = h.shape
    const pre = K.binary('add', p.data, null, hiddenProduct(h, w, 4), null, p.size)
    const i = K.sigmoid(pre.subarray(0, n))
    const f = K.sigmoid(pre.subarray(n, 2 * n))
    const g = K.tanh(pre.subarray(2 * n, 3 * n))
    const o = K.sigmoid(pre.subarray(3 * n, 4 * n))
    const cNext = K.binary('add', K.binary('mul', f, null, c.data, null, n), null, K.binary('mul', i, null, g, null, n), null, n)
    const tc = K.tanh(cNext)
    const hNext = K.binary('mul', o, null, tc, null, n)
    return [hNext, cNext, i, f, g, o, tc].map((d) => new Tensor(d, shape))
  },
  vjp: ([gh, gc, gi, gf, gg, go, gtc], { inputs: [, h, c, w], outs: [, , i, f, g, o, tc], needed }) => {
    const dtc = plus(times(gh, o), gtc)
    const dOut = plus(times(gh, tc), go)
    const dc = plus(gc, dtc === null ? null : tanhGrad(dtc, tc))
    const di = plus(times(dc, g), gi)
    const df = plus(times(dc, c), gf)
    const dg = plus(times(dc, i), gg)
    const da = [
      di === null ? zerosLike(i) : sigmoidGrad(di, i),
      df === null ? zerosLike(f) : sigmoidGrad(df, f),
      dg === null ? zerosLike(g) : tanhGrad(dg, g),
      dOut === null ? zerosLike(o) : sigmoidGrad(dOut, o),
    ]
    const dPre = stack(da, 0)
    // dh comes back per gate, [4, batch, hidden]; the backward pass sums the gate axis away.
    return [
      dPre,
      wanted(needed, 1) ? matmulTransposed(dPre, w, false, true) : null,
      wanted(needed, 2) ? times(dc, f) : null,
      wanted(needed, 3) ? matmulTransposed(h, dPre, true, false) : null,
    ]
  },
})

/** One LSTM step as one node (see `lstmStepPrimitive`); returns `[h', c']`. */
export const lstmStep = (p: Tensor, h: Tensor, c: Tensor, w: Tensor): [Tensor, Tensor] => {
  const [hNext, cNext] = lstmStepPrimitive([p, h, c, w], undefined)
  return [hNext, cNext]
}

/** The shapes `lstmStep` takes. */
export const lstmStepFusable = (p: Tensor, h: Tensor, c: Tensor, w: Tensor): boolean =>
  fusable(p, h, c, w) && p.rank === 3 && h.rank === 2 && c.rank === 2 && w.rank === 3 && p.shape[0] === 4 && w.shape[0] === 4 &&
  h.shape[0] === p.shape[1] && h.shape[1] === w.shape[1] && w.shape[2] === p.shape[2] && c.shape[0] === h.shape[0] && c.shape[1] === p.shape[2] &&
  h.shape[1] === p.shape[2]

// ---- GRU ----

/**
 * Inputs p `[3, batch, hidden]` (gate-major projected input with b_ih, gates r, z, n), h
 * `[batch, hidden]`, w `[3, hidden, hidden]`, b `[3, 1, hidden]` (b_hh); outputs h' and, for the
 * VJP, r, z, n and hn = h·W_hnᵀ + b_hn.
 */
const gruStepPrimitive = defineMultiPrimitive<undefined>({
  name: 'nn.gruStep',
  forward: ([p, h, w, b]) => {
    const n = h.size
    const shape = h.shape
    const hh = K.binary('add', hiddenProduct(h, w, 3), null, b.data, biasIndex(b.shape, p.shape), p.size)
    const pd = p.data
    const r = K.sigmoid(K.binary('add', pd.subarray(0, n), null, hh.subarray(0, n), null, n))
    const z = K.sigmoid(K.binary('add', pd.subarray(n, 2 * n), null, hh.subarray(n, 2 * n), null, n))
    const hn = hh.slice(2 * n, 3 * n)
    const candidate = K.tanh(K.binary('add', pd.subarray(2 * n, 3 * n), null, K.binary('mul', r, null, hn, null, n), null, n))
    const next = K.binary('add', candidate, null, K.binary('mul', z, null, K.binary('sub', h.data, null, candidate, null, n), null, n), null, n)
    return [next, r, z, candidate, hn].map((d) => new Tensor(d, shape))
  },
  // h' = n + z ⊙ (h − n), n = tanh(a_n), a_n = x_n + r ⊙ hn, r = σ(x_r + h_r), z = σ(x_z + h_z).
  vjp: ([gNext, gr, gz, gn, ghn], { inputs: [, h, w], outs: [, r, z, n, hn], needed }) => {
    const dn = plus(gNext === null ? null : sub(gNext, mul(gNext, z)), gn)
    const dz = plus(gNext === null ? null : mul(gNext, sub(h, n)), gz)
    const dan = dn === null ? zerosLike(n) : tanhGrad(dn, n)
    const dr = plus(mul(dan, hn), gr)
    const dhn = plus(mul(dan, r), ghn) as Tensor
    const dar = dr === null ? zerosLike(r) : sigmoidGrad(dr, r)
    const daz = dz === null ? zerosLike(z) : sigmoidGrad(dz, z)
    const dp = stack([dar, daz, dan], 0)
    const dhh = stack([dar, daz, dhn], 0)
    const dh = wanted(needed, 1) ? plus(times(gNext, z), sum(matmulTransposed(dhh, w, false, true), 0)) : null
    // dhh is the cotangent of h·w + b: the backward pass sums it down to b's [3, 1, hidden].
    return [dp, dh, wanted(needed, 2) ? matmulTransposed(h, dhh, true, false) : null, dhh]
  },
})

const biasIndex = (bias: readonly number[], to: readonly number[]): Int32Array => stridedIndex(to, broadcastStrides(bias, to))

/** One GRU step as one node (see `gruStepPrimitive`); returns h'. */
export const gruStep = (p: Tensor, h: Tensor, w: Tensor, b: Tensor): Tensor => gruStepPrimitive([p, h, w, b], undefined)[0]

/** The shapes `gruStep` takes. */
export const gruStepFusable = (p: Tensor, h: Tensor, w: Tensor, b: Tensor): boolean =>
  fusable(p, h, w, b) && p.rank === 3 && h.rank === 2 && w.rank === 3 && b.rank === 3 && p.shape[0] === 3 && w.shape[0] === 3 &&
  b.shape[0] === 3 && b.shape[1] === 1 && b.shape[2] === p.shape[2] && h.shape[0] === p.shape[1] && h.shape[1] === w.shape[1] &&
  w.shape[2] === p.shape[2] && h.shape[1] === p.shape[2]
