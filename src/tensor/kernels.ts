/**
 * @file The kernel interface: every numeric loop of the library sits behind it. Typed arrays in,
 * a freshly allocated typed array out; inputs are never written to. Shapes, broadcasting and
 * gradients are decided above this layer, so a kernel sees only flat arrays, sizes and index maps.
 * Backends are installed with `useKernels`, which checks them and completes the optional kernels
 * (complete.ts); the default is the WebAssembly one.
 */
import type { DType, Data } from './Tensor.js'
import type { FusedProgram } from './fused.js'

export type UnaryKernel = (x: Data) => Data

/** Elementwise binary operations. Comparisons return 1 or 0 in the inputs' dtype. @category kernels */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'greater' | 'greaterEqual' | 'equal'

/**
 * An index map: `out[i]` reads `x[index[i]]`. `null` means the identity (same shape, no broadcast),
 * which kernels treat as a fast path.
 * @category kernels
 */
export type IndexMap = Int32Array | null

/** The activations of a whole-sequence Elman / RNN kernel. @category kernels */
export type RecurrentActivation = 'tanh' | 'relu' | 'sigmoid'

/**
 * The extent of a whole-sequence recurrent kernel: `time` steps of `batch` rows and `hidden`
 * units. With `reverse` the steps run from the last to the first (outputs stay in time order).
 * With `transposed` the recurrent weight is given as `[gates·hidden, hidden]` and the product is
 * `h·wᵀ` (PyTorch's `weight_hh` as stored); otherwise it is `[hidden, gates·hidden]` and `h·w`.
 * @category kernels
 */
export interface RecurrenceExtent {
  readonly time: number
  readonly batch: number
  readonly hidden: number
  readonly reverse: boolean
  readonly transposed: boolean
  /**
   * The Elman / RNN kernels only: p, hs, g and dz are `[batch, time, hidden]` (a batch-first
   * layer's own layout, so it needs no transposes) instead of `[time, batch, hidden]`. Default false.
   */
  readonly batchMajor?: boolean
  /**
   * Which steps of each row are real, `[time, batch]` (`[batch, time]` when `batchMajor`): non-zero
   * for a real step, 0 for padding, where the row's state is carried unchanged (h, and c for the
   * LSTM): every kernel's states hold `state_t = m_t ? new_t : state_{t−1}`, so the final state is
   * each row's state after its own last real step. Backwards, a padded step hands its state's
   * cotangent straight to the step before and its pre-activations' cotangents (dz, dPre, the GRU's
   * dHidden) are 0, so the weights' cotangents leave it out. Absent: every step is real.
   */
  readonly mask?: Data
}

/** The backward result of a whole-sequence Elman / RNN kernel. */
/**
 * The cotangents reaching an Elman / RNN sequence's outputs: `steps`, those of every h_t in p's
 * layout, and `last`, that of the final state alone (the last processed step's h, `[batch, hidden]`,
 * added to that step's); null where none arrived. A loss on the final state alone (a last-step
 * readout) then needs no sequence of zeros.
 * @category kernels
 */
export interface SequenceCotangent {
  readonly steps: Data | null
  readonly last: Data | null
}

/**
 * A sequence run for its final state alone (`projectedRecurrentFinal`): the states of every step
 * stay with the backend, and `hs()` gives them in the extent's layout (copied out, or recomputed
 * when the backend no longer holds them). The backward kernels take it in place of `hs`.
 */
export interface FinalStates {
  /** The state after the last processed step, `[batch, hidden]`. */
  readonly final: Data
  /** Every step's outputs, as `projectedRecurrentForward` returns them. */
  readonly hs: () => Data
}

/** Every step's states: as an array, or held by the backend behind a final state. */
export type SequenceStates = Data | FinalStates

/** What a recurrent kernel's backward pass returns. @category kernels */
export interface RecurrentBackward {
  /** The cotangent of every step's pre-activation (= of the projected input p), in p's layout. */
  readonly dz: Data
  /**
   * The recurrent weight's cotangent summed over all steps, `Σ_t h_{t−1}ᵀ·dz_t` (`Σ_t dz_tᵀ·h_{t−1}`
   * for a transposed weight) with h_{−1} = h0 in processing order, when asked for; else null.
   */
  readonly dw: Data | null
  /**
   * With `extent.mask` only: the initial state's cotangent. A padded first step hands its incoming
   * cotangent straight to h0, which dz alone does not show (without a mask, h0's cotangent is the
   * caller's `dz_first·wᵀ`).
   */
  readonly dh0?: Data
}

/** Which cotangents a projected Elman / RNN backward kernel computes. @category kernels */
export interface ProjectedWanted {
  readonly x: boolean
  readonly wIn: boolean
  readonly h0: boolean
  readonly w: boolean
}

/** The backward result of a whole-sequence Elman / RNN kernel with its input projection: each cotangent asked for, else null. @category kernels */
export interface ProjectedRecurrentBackward {
  /** The inputs' cotangent `dZ·w_inᵀ`, in x's layout. */
  readonly dx: Data | null
  /** The projection's cotangent `Xᵀ·dZ`, summed over all steps and rows. */
  readonly dwIn: Data | null
  /** The initial state's cotangent, dz of the first processed step times wᵀ. */
  readonly dh0: Data | null
  /** The recurrent weight's cotangent, as `RecurrentBackward.dw`. */
  readonly dw: Data | null
}

/** The forward result of a whole-sequence LSTM kernel. @category kernels */
export interface LstmForward {
  /** `[time, batch, hidden]` hidden states. */
  readonly hs: Data
  /** `[time, batch, hidden]` cell states. */
  readonly cs: Data
  /** `[time, 5, batch, hidden]`: the gates i, f, g, o and tanh(c) of each step, kept for the backward pass. */
  readonly saved: Data
}

/** The backward result of a whole-sequence LSTM kernel. @category kernels */
export interface LstmBackward {
  /** `[time, batch, 4·hidden]`: the cotangent of every step's gate pre-activations (= of the projected input). */
  readonly dPre: Data
  /** `[batch, hidden]` cotangents of the initial hidden and cell state. */
  readonly dh0: Data
  readonly dc0: Data
  /** With `withWeight`, the recurrent weight's cotangent as one product over all steps (H_prevᵀ·dPre, or its transpose); else null. */
  readonly dw: Data | null
}

/**
 * The forward result of a whole-sequence GRU kernel (PyTorch's gates r, z, n; per step
 * hh = h_{t−1}·W_hhᵀ + b_hh, r = σ(p_r + hh_r), z = σ(p_z + hh_z), n = tanh(p_n + r ⊙ hh_n),
 * h_t = n + z ⊙ (h_{t−1} − n)).
 * @category kernels
 */
export interface GruForward {
  /** `[time, batch, hidden]` hidden states. */
  readonly hs: Data
  /** `[time, 4, batch, hidden]`: r, z, n and hh_n of each step, kept for the backward pass. */
  readonly saved: Data
}

/** Which of the recurrent weight's and b_hh's cotangents a GRU backward kernel computes. */
export interface GruWanted {
  readonly w: boolean
  readonly b: boolean
}

/** The backward result of a whole-sequence GRU kernel. @category kernels */
export interface GruBackward {
  /** `[time, batch, 3·hidden]`: the cotangent of every step's projected input p_t, [dr̂ | dẑ | dn̂] per row (pre-activations). */
  readonly dPre: Data
  /** `[batch, hidden]` cotangent of the initial hidden state. */
  readonly dh0: Data
  /**
   * When wanted, the recurrent weight's cotangent: one product over all steps of the entering states
   * and dHidden, the cotangent of every step's hh = h·w + b_hh ([dr̂ | dẑ | dn̂ ⊙ r] per row); else null.
   */
  readonly dw: Data | null
  /** When wanted, b_hh's cotangent: dHidden summed over steps and rows; else null. */
  readonly db: Data | null
}

/**
 * A kernel backend. Members marked Optional may be left out: installing the backend completes it
 * with each one's composition over its other kernels (complete.ts, with the bits the operations
 * had before the kernel existed), so callers always find every kernel.
 * @category kernels
 */
export interface Kernels {
  readonly name: string
  neg: UnaryKernel
  exp: UnaryKernel
  log: UnaryKernel
  sqrt: UnaryKernel
  abs: UnaryKernel
  sign: UnaryKernel
  square: UnaryKernel
  tanh: UnaryKernel
  sigmoid: UnaryKernel
  softplus: UnaryKernel
  relu: UnaryKernel
  leakyRelu(x: Data, slope: number): Data
  pow(x: Data, exponent: number): Data
  cast(x: Data, dtype: DType): Data
  /** `out[i] = a[ai[i]] op b[bi[i]]` for `i < size`. */
  binary(op: BinaryOp, a: Data, ai: IndexMap, b: Data, bi: IndexMap, size: number): Data
  /** `out[i] = cond[ci[i]] !== 0 ? a[ai[i]] : b[bi[i]]`. */
  where(cond: Data, ci: IndexMap, a: Data, ai: IndexMap, b: Data, bi: IndexMap, size: number): Data
  /** Sums `x[i]` into `out[index[i]]`, `out` of length `outSize`. */
  sumInto(x: Data, index: Int32Array, outSize: number): Data
  /** Maximum of the `x[i]` that share `index[i]`. */
  maxInto(x: Data, index: Int32Array, outSize: number): Data
  /** Index of the first maximum along the middle axis of x viewed as `[outer, n, inner]`. */
  argmax(x: Data, outer: number, n: number, inner: number): Data
  /** `out[i] = x[index[i]]`: transposes, slices and broadcasts are all index maps. */
  gather(x: Data, index: Int32Array): Data
  /** `out[index[i]] += x[i]`, `out` zero-initialised of length `outSize`: the adjoint of `gather`. */
  scatterAdd(x: Data, index: Int32Array, outSize: number): Data
  /**
   * Batched matrix product `out[b] = op(a[b]) · op(b[b])` with op = transpose when the flag is set;
   * `aOffsets[b]`, `bOffsets[b]` give where each batch's matrix starts (broadcast batches repeat).
   */
  matmul(
    a: Data, aOffsets: Int32Array, b: Data, bOffsets: Int32Array,
    m: number, k: number, n: number, transposeA: boolean, transposeB: boolean,
  ): Data
  /**
   * Optional: `x·w + bias` for x `[m, k]`, w `[k, n]` and bias `[n]` added to every row: a dense
   * layer or an input projection in one call, equal bit for bit to this backend's `matmul` followed
   * by `binary('add', …)` with the bias repeated over the rows. Completed as that composition
   * (`composedAffine`).
   */
  affine?(x: Data, w: Data, bias: Data, m: number, k: number, n: number): Data
  /**
   * Optional: `out[i] = x[offset + Σ_d position_d(i) · strides[d]]` over the row-major positions of
   * `shape` — `gather` with a strided index map, without materialising the map (transposes, slices
   * and broadcasts of large tensors). Completed as `gather(x, stridedIndex(…))`.
   */
  gatherStrided?(x: Data, shape: readonly number[], strides: readonly number[], offset: number): Data
  /**
   * Optional: parts `[rows, widths[j]]` (one dtype) side by side, `[rows, Σ widths]`: a
   * concatenation viewed as rows of the axes before it. Completed as the JavaScript kernel.
   */
  concatRows?(parts: readonly Data[], widths: readonly number[], rows: number): Data
  /**
   * Optional: the inverse of `gatherStrided` for a view that writes each position at most once (a
   * slice's VJP, padding with zeros): zeros of `outSize`, then `out[offset + Σ_d position_d(i) ·
   * strides[d]] = x[i]`. Completed as `scatterAdd(x, stridedIndex(…), outSize)`.
   */
  scatterStrided?(x: Data, shape: readonly number[], strides: readonly number[], offset: number, outSize: number): Data
  /**
   * Optional: column sums of x viewed as `[rows, cols]`, `out[j] = Σ_r x[r·cols + j]` (the sum over
   * leading axes, e.g. a bias gradient), with the same accumulation as `sumInto`. Completed as
   * `sumInto`.
   */
  sumRows?(x: Data, rows: number, cols: number): Data
  /**
   * Optional: row sums of x viewed as `[rows, cols]`, `out[r] = Σ_j x[r·cols + j]` (the sum over
   * trailing axes, e.g. of a loss over classes), with the same accumulation as `sumInto`. Completed
   * as `sumInto`.
   */
  sumColumns?(x: Data, rows: number, cols: number): Data
  /**
   * Optional: rows of x (`[to.length, cols]`) added into rows of a zeroed `[outRows, cols]` output,
   * `out[to[p]] += x[p]`, accumulated in float64 in order of p and rounded once to x's dtype: `Aᵀ·X`
   * for a one-hot A (see selection.ts). Completed as the JavaScript kernel.
   */
  scatterRows?(x: Data, to: Int32Array, outRows: number, cols: number): Data
  /** Optional: row maxima of x viewed as `[rows, cols]`, with `maxInto`'s NaN rule. Completed as `maxInto`. */
  maxColumns?(x: Data, rows: number, cols: number): Data
  /**
   * Optional: `g·(1 − t²)`, the tanh VJP from its output t, rounded after each operation exactly as
   * `mul(g, sub(1, square(t)))` is. Completed as that composition.
   */
  tanhBackward?(g: Data, t: Data): Data
  /** Optional: `g·(s·(1 − s))`, the sigmoid VJP from its output s, rounded as the composition is. */
  sigmoidBackward?(g: Data, s: Data): Data
  /**
   * Optional: a whole Elman / RNN sequence, `h_t = σ(p_t + h_{t−1}·w)` from `h0` for every step,
   * with `p` `[time, batch, hidden]` (`[batch, time, hidden]` when `extent.batchMajor`); returns the
   * hidden states in p's layout. Completed as a composition of the other kernels
   * (src/tensor/recurrence.ts), as are the other sequence kernels.
   */
  recurrentForward?(p: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation): Data
  /**
   * Optional: the backward pass through time of `recurrentForward` from the cotangents `g` of its
   * outputs `hs` (in p's layout) and of its final state: `dz`, the cotangent of every step's
   * pre-activation (dz_t = σ'·(g_t + dz_{t+1}·wᵀ) in processing order), and with `withWeight` the
   * weight's cotangent as one product over all steps.
   */
  recurrentBackward?(
    g: SequenceCotangent, hs: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation, withWeight: boolean,
  ): RecurrentBackward
  /**
   * Optional: `recurrentForward` with the input projection inside: p = x·wIn for x
   * `[time, batch, inputs]` (`[batch, time, inputs]` when `extent.batchMajor`) and wIn
   * `[inputs, hidden]`, so the projected sequence never leaves the kernel. Completed as a matmul
   * and `recurrentForward`'s composition.
   */
  projectedRecurrentForward?(x: Data, wIn: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation): Data
  /**
   * Optional: `projectedRecurrentForward` for its final state alone, when nothing reads the other
   * steps' outputs (a last-step readout): a backend that keeps the states in its own memory need not
   * copy them out or reorder them. Completed as `projectedRecurrentForward`'s composition.
   */
  projectedRecurrentFinal?(x: Data, wIn: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation): FinalStates
  /**
   * Optional: the backward pass of `projectedRecurrentForward` (or `projectedRecurrentFinal`, whose
   * result stands for hs), straight to the cotangents of its four operands (those `wanted`): dz as
   * in `recurrentBackward` stays inside the kernel.
   */
  projectedRecurrentBackward?(
    g: SequenceCotangent, hs: SequenceStates, x: Data, wIn: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation,
    wanted: ProjectedWanted,
  ): ProjectedRecurrentBackward
  /** Optional: a whole LSTM sequence from the projected inputs `p` `[time, batch, 4·hidden]` (gates i, f, g, o). */
  lstmForward?(p: Data, h0: Data, c0: Data, w: Data, extent: RecurrenceExtent): LstmForward
  /**
   * Optional: the backward pass through time of `lstmForward`, from the cotangents of `hs` and `cs`
   * (`forward` is what `lstmForward` returned for h0, c0 and w); with `withWeight`, also w's cotangent.
   */
  lstmBackward?(
    gh: Data, gc: Data, forward: LstmForward, h0: Data, c0: Data, w: Data, extent: RecurrenceExtent, withWeight: boolean,
  ): LstmBackward
  /**
   * Optional: a whole GRU sequence from the projected inputs `p` `[time, batch, 3·hidden]` (x·W_ihᵀ + b_ih,
   * gates r, z, n per row), `h0` `[batch, hidden]`, the recurrent weight `w` and b_hh `b` `[3·hidden]`:
   * per step hh = h·w + b, r = σ(p_r + hh_r), z = σ(p_z + hh_z), n = tanh(p_n + r ⊙ hh_n),
   * h' = n + z ⊙ (h − n). b stays inside hh because r multiplies b_hn.
   */
  gruForward?(p: Data, h0: Data, w: Data, b: Data, extent: RecurrenceExtent): GruForward
  /**
   * Optional: the backward pass through time of `gruForward` from the cotangents `g` of `hs`, last
   * processed step first: with dh = g_t + dh_next, dn = dh − dh ⊙ z, dz = dh ⊙ (h_prev − n),
   * dn̂ = tanh'·dn, dr̂ = σ'·(dn̂ ⊙ hh_n), dẑ = σ'·dz; then dh_prev = dh ⊙ z + dHidden_t·wᵀ. `forward`
   * is what `gruForward` returned for h0 and w; the cotangents of w and b are computed when `wanted`.
   */
  gruBackward?(g: Data, forward: GruForward, h0: Data, w: Data, extent: RecurrenceExtent, wanted: GruWanted): GruBackward
  /**
   * Optional: the first-order linear recurrence `h_t = a_t ⊙ h_{t−1} + b_t` from `h0` over `time`
   * steps of `size` entries each (a and b `[time, size]`, h0 `[size]`), returning every h_t as
   * `[time, size]`. With `complex`, consecutive entries are (re, im) pairs (size even) and ⊙ is the
   * complex product. Each step is computed in doubles and rounded once when stored; the next step
   * reads the stored (rounded) state, so the outputs are exactly the states the backward kernel
   * sees. Completed as the JavaScript kernel.
   */
  linearRecurrence?(a: Data, b: Data, h0: Data, time: number, size: number, complex: boolean): Data
  /**
   * Optional: the backward pass of `linearRecurrence` from the cotangents `g` of its outputs `hs`,
   * last step first: `λ_t = g_t + a_{t+1} ⊙ λ_{t+1}` (λ_T = 0), `da_t = λ_t ⊙ h_{t−1}` (h_{−1} = h0),
   * `db_t = λ_t`, `dh0 = a_0 ⊙ λ_0`; with `complex`, a and h enter conjugated (`a̅_{t+1} ⊙ λ_{t+1}`,
   * `λ_t ⊙ h̅_{t−1}`, `a̅_0 ⊙ λ_0`), the gradient of a real loss through the pairs of reals.
   * Completed as the JavaScript kernel.
   */
  linearRecurrenceBackward?(g: Data, a: Data, hs: Data, h0: Data, time: number, size: number, complex: boolean): LinearRecurrenceBackward
  /**
   * Optional: one Adam step on one leaf, g, m and v of one dtype and length:
   * `m' = m·β₁ + g·(1 − β₁)`, `v' = v·β₂ + g²·(1 − β₂)`, `update = (m'·ĉ₁) / (√(v'·ĉ₂) + ε)`,
   * each operation rounded to the dtype with the constants in it, so the result equals the
   * composition of elementwise ops bit for bit. Completed as that composition.
   */
  adam?(g: Data, m: Data, v: Data, constants: AdamConstants): AdamStepData
  /**
   * Optional: a fused elementwise program (tensor/fused.ts) over `inputs` of one dtype: a chain of
   * elementwise operations in one call, whose intermediates never become arrays. Returns the
   * program's outputs. Completed as the JavaScript interpreter, the reference every backend's
   * programs are tested against.
   */
  fused?(program: FusedProgram, inputs: readonly Data[]): Data[]
}

/** The cotangents of `linearRecurrence`'s operands: da and db `[time, size]`, dh0 `[size]`. @category kernels */
export interface LinearRecurrenceBackward {
  readonly da: Data
  readonly db: Data
  readonly dh0: Data
}

/** Adam's constants for one step t: decays, ε, and the bias corrections ĉ₁ = 1/(1 − β₁ᵗ), ĉ₂ = 1/(1 − β₂ᵗ). */
export interface AdamConstants {
  readonly b1: number
  readonly b2: number
  readonly eps: number
  readonly correct1: number
  readonly correct2: number
}

/** One leaf's Adam update and new moments. */
export interface AdamStepData {
  readonly update: Data
  readonly m: Data
  readonly v: Data
}
