/**
 * @file The Linear Recurrent Unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks
 * for Long Sequences"): a complex diagonal recurrence with an exponential parameterisation of its
 * eigenvalues, initialised on a ring, normalised input, and a real readout with a skip term.
 * 'sequential' runs its cell through the shared machinery (`recurrent`); 'parallel' computes every
 * step's input term at once and runs `linearRecurrence` over complex pairs (`linearCore`).
 * Imports ops, transforms and the recurrent machinery.
 */
import { ValueError } from '../errors.js'
import { add, exp, log, mul, neg, square, sub } from '../autodiff/ops/elementwise.js'
import { broadcastTo, concat, reshape, slice, stack, stopGradient, transpose } from '../autodiff/ops/structural.js'
import { type Key, normal, splitKey, uniform } from '../random/random.js'
import { full, tensor, zeros } from '../tensor/creation.js'
import { type DType, Tensor } from '../tensor/Tensor.js'
import { linearRecurrence } from '../transforms/linearRecurrence.js'
import type { ParamShapes, Params } from './init.js'
import { type HiddenState, type TorchRecurrentOptions, torchLayers } from './layers.js'
import { type LinearForm, linearCore } from './linearCore.js'
import { affine } from './project.js'
import { type CellSizes, type CellSpec, type RecurrentCore, type RecurrentLayer, checkSize, recurrent } from './recurrent.js'

// ---- cos and sin from ops ----

/** Taylor coefficients of cos and sin/x in u = x², to degree 16 and 17: below 1e-17 for |x| ≤ π/4. */
const COS = Array.from({ length: 9 }, (_, k) => (-1) ** k / factorial(2 * k))
const SIN = Array.from({ length: 9 }, (_, k) => (-1) ** k / factorial(2 * k + 1))
function factorial(n: number): number {
  let f = 1
  for (let i = 2; i <= n; i++) f *= i
  return f
}

/** Σ c_k·u^k by Horner's rule. */
const horner = (u: Tensor, coefficients: readonly number[]): Tensor =>
  coefficients.slice(0, -1).reduceRight((acc, c) => add(mul(acc, u), c), full(u.shape, coefficients[coefficients.length - 1], { dtype: u.dtype }))

/**
 * cos θ and sin θ written with elementwise ops (there is no trigonometric primitive), so every
 * order of differentiation goes through them: θ less the nearest multiple of 2π (a constant, so the
 * derivative is unchanged), quartered, Taylor polynomials, then the double-angle formulas twice.
 * Within a few ulps of Math.cos and Math.sin.
 */
const cosSin = (theta: Tensor): { cos: Tensor; sin: Tensor } => {
  const turns = stopGradient(theta).data.map((v) => 2 * Math.PI * Math.round(v / (2 * Math.PI)))
  const x = mul(sub(theta, new Tensor(turns, theta.shape)), 0.25)
  const u = square(x)
  let c = horner(u, COS)
  let s = mul(x, horner(u, SIN))
  for (let i = 0; i < 2; i++) [c, s] = [sub(square(c), square(s)), mul(mul(c, s), 2)]
  return { cos: c, sin: s }
}

// ---- the layer's equations ----

/** λ = exp(−exp(ν_log) + i·exp(θ_log)) as (re, im) pairs `[state, 2]`. */
const eigenvalues = (p: Params): Tensor => {
  const modulus = exp(neg(exp(p.nu_log)))
  const { cos, sin } = cosSin(exp(p.theta_log))
  return stack([mul(modulus, cos), mul(modulus, sin)], -1)
}

/**
 * γ ⊙ (B_re + i·B_im) as one real matrix `[in, 2·state]` whose columns alternate re and im, so
 * one product gives the input term as (re, im) pairs.
 */
const inputMatrix = (p: Params): Tensor => {
  const gamma = exp(p.gamma_log)
  const pairs = stack([mul(transpose(p.B_re), gamma), mul(transpose(p.B_im), gamma)], -1) // [in, state, 2]
  return reshape(pairs, [p.B_re.shape[1], 2 * p.B_re.shape[0]])
}

/** Re(C·h) for h as pairs `[..., 2·state]`: one real matrix `[2·state, out]` whose rows alternate C_reᵀ and −C_imᵀ. */
const readoutMatrix = (p: Params): Tensor => {
  const rows = stack([transpose(p.C_re), neg(transpose(p.C_im))], 1) // [state, 2, out]
  return reshape(rows, [2 * p.C_re.shape[1], p.C_re.shape[0]])
}

/** y = Re(C·h) + D ⊙ x (D `[out]`), or + x·Dᵀ when the input and output sizes differ (D `[out, in]`). */
const readout = (p: Params, xs: Tensor, hs: Tensor): Tensor => {
  const skip = p.D.rank === 1 ? mul(xs, p.D) : affine('nn.lru', xs, transpose(p.D))
  return add(affine('nn.lru', hs, readoutMatrix(p)), skip)
}

/** λ ⊙ h for h `[batch, 2·state]` as pairs: the complex product, written with ops (the step-by-step reference). */
const rotate = (lambda: Tensor, h: Tensor): Tensor => {
  const [batch, width] = h.shape
  const pairs = reshape(h, [batch, width / 2, 2])
  const part = (x: Tensor, k: 0 | 1): Tensor => slice(x, [...x.shape.slice(0, -1).map((d) => [0, d] as const), [k, k + 1]])
  const [hr, hi, lr, li] = [part(pairs, 0), part(pairs, 1), part(lambda, 0), part(lambda, 1)]
  return reshape(concat([sub(mul(lr, hr), mul(li, hi)), add(mul(lr, hi), mul(li, hr))], -1), h.shape)
}

// ---- parameters ----

/** Options of `nn.lru`. */
export interface LruOptions extends Omit<TorchRecurrentOptions, 'init'> {
  /** Complex state entries N per layer and direction (default hiddenSize). */
  readonly stateSize?: number
  /** Smallest and largest |λ| of the ring initialisation, 0 ≤ rMin < rMax ≤ 1 (default 0 and 1, the paper's code). */
  readonly rMin?: number
  readonly rMax?: number
  /** Largest initial phase arg λ, in radians (default 2π: the whole ring). */
  readonly maxPhase?: number
  /**
   * 'parallel' (default): every step's input term at once, then `linearRecurrence` over complex
   * pairs. 'sequential': the cell run by `scan` one step at a time (the reference; as generation runs it).
   */
  readonly mode?: 'parallel' | 'sequential'
}

interface Ring {
  readonly stateSize: number
  readonly rMin: number
  readonly rMax: number
  readonly maxPhase: number
}

const shapesOf = (stateSize: number) => ({ inputSize, hiddenSize }: CellSizes): ParamShapes => ({
  nu_log: [stateSize],
  theta_log: [stateSize],
  gamma_log: [stateSize],
  B_re: [stateSize, inputSize],
  B_im: [stateSize, inputSize],
  C_re: [hiddenSize, stateSize],
  C_im: [hiddenSize, stateSize],
  D: inputSize === hiddenSize ? [hiddenSize] : [hiddenSize, inputSize],
})

/**
 * The paper's initialisation: |λ| uniform on the ring r_min ≤ |λ| ≤ r_max (by area) and
 * arg λ ~ U[0, max_phase], so ν_log = log(−½·log(u₁(r_max² − r_min²) + r_min²)),
 * θ_log = log(max_phase·u₂); γ_log = log √(1 − |λ|²); B ~ N(0, 1/(2·in)) (each of re, im),
 * C ~ N(0, 1/state), D ~ N(0, 1) (N(0, 1/in) when it is a matrix).
 */
const ringInit = (ring: Ring, sizes: CellSizes) => (key: Key, options: { readonly dtype?: DType } = {}): Params => {
  const dtype = options.dtype ?? 'float64'
  const n = ring.stateSize
  const [k1, k2, kBr, kBi, kCr, kCi, kD] = splitKey(key, 7)
  const u1 = uniform(k1, [n]).data
  const u2 = uniform(k2, [n]).data
  const nuLog = Float64Array.from(u1, (u) => Math.log(-0.5 * Math.log(u * (ring.rMax ** 2 - ring.rMin ** 2) + ring.rMin ** 2)))
  const thetaLog = Float64Array.from(u2, (u) => Math.log(ring.maxPhase * u))
  const gammaLog = Float64Array.from(nuLog, (v) => 0.5 * Math.log(1 - Math.exp(-2 * Math.exp(v))))
  const shapes = shapesOf(n)(sizes)
  const drawn = (k: Key, shape: readonly number[], std: number): Tensor => mul(normal(k, shape, { dtype }), std)
  const of = (values: Float64Array): Tensor => new Tensor(dtype === 'float32' ? Float32Array.from(values) : values, [n])
  return {
    nu_log: of(nuLog),
    theta_log: of(thetaLog),
    gamma_log: of(gammaLog),
    B_re: drawn(kBr, shapes.B_re, 1 / Math.sqrt(2 * sizes.inputSize)),
    B_im: drawn(kBi, shapes.B_im, 1 / Math.sqrt(2 * sizes.inputSize)),
    C_re: drawn(kCr, shapes.C_re, 1 / Math.sqrt(n)),
    C_im: drawn(kCi, shapes.C_im, 1 / Math.sqrt(n)),
    D: drawn(kD, shapes.D, shapes.D.length === 1 ? 1 : 1 / Math.sqrt(sizes.inputSize)),
  }
}

/** The LRU cell: `h_t = λ ⊙ h_{t−1} + γ ⊙ (B·x_t)`, `y_t = Re(C·h_t) + D ⊙ x_t`, state as pairs `[batch, 2·state]`. */
const lruSpec = (stateSize: number): CellSpec<{ h: Tensor }> => ({
  name: 'nn.lru',
  params: shapesOf(stateSize),
  cell: (p, { h }, x) => {
    const next = add(rotate(eigenvalues(p), h), affine('nn.lru', x, inputMatrix(p)))
    return [{ h: next }, readout(p, x, next)]
  },
  initialCarry: (state, batch, _sizes, dtype) => ({ h: state?.h ?? zeros([batch, 2 * stateSize], { dtype }) }),
})

/** Every state by one `linearRecurrence` over complex pairs; padded steps are the identity (λ = 1, input 0). */
const parallelStates: LinearForm['states'] = (p, xs, mask, h0) => {
  const [time, batch] = xs.shape
  const b = affine('nn.lru', xs, inputMatrix(p)) // [time, batch, 2·state]
  const n = b.shape[2] / 2
  const pairs = [time, batch, n, 2]
  const lambda = reshape(eigenvalues(p), [1, 1, n, 2])
  const m = mask === null ? null : reshape(mask, [time, batch, 1, 1])
  const a = m === null ? broadcastTo(lambda, pairs) : add(mul(lambda, m), mul(sub(1, m), tensor([1, 0], { dtype: b.dtype })))
  const input = reshape(m === null ? b : mul(b, mask!), pairs)
  const start = h0 === null ? zeros([batch, n, 2], { dtype: b.dtype }) : reshape(h0, [batch, n, 2])
  return reshape(linearRecurrence(a, input, start, { complex: true }), [time, batch, 2 * n])
}

const checkRing = (options: LruOptions, hiddenSize: number): Ring => {
  const stateSize = checkSize('nn.lru', 'stateSize', options.stateSize ?? hiddenSize)
  const rMin = options.rMin ?? 0
  const rMax = options.rMax ?? 1
  const maxPhase = options.maxPhase ?? 2 * Math.PI
  if (!(rMin >= 0 && rMin < rMax && rMax <= 1)) throw new ValueError(`nn.lru: the ring needs 0 ≤ rMin < rMax ≤ 1, got rMin ${rMin} and rMax ${rMax}.`)
  if (!(maxPhase > 0) || !Number.isFinite(maxPhase)) throw new ValueError(`nn.lru: maxPhase must be a positive number of radians, got ${maxPhase}.`)
  return { stateSize, rMin, rMax, maxPhase }
}

/**
 * The Linear Recurrent Unit (Orvieto et al. 2023): a complex diagonal linear recurrence
 *
 *   λ = exp(−exp(ν_log) + i·exp(θ_log)),  γ = exp(γ_log),
 *   h_t = λ ⊙ h_{t−1} + γ ⊙ ((B_re + i·B_im)·x_t),   y_t = Re((C_re + i·C_im)·h_t) + D ⊙ x_t,
 *
 * with the paper's ring initialisation (`rMin` ≤ |λ| ≤ `rMax`, arg λ ≤ `maxPhase`) and
 * normalisation γ initialised to √(1 − |λ|²). Choices: as in the paper's code, γ_log is a parameter
 * of its own (initialised from λ, then trained); when the input and output sizes differ (a first
 * layer, or after a bidirectional one) D is a matrix `[out, in]` (y gets x·Dᵀ), since D ⊙ x needs
 * equal sizes. The paper's surrounding block (normalisation, MLP, residual) is left to the model.
 * Parameters (suffixed `_l{k}[_reverse]`): `nu_log`, `theta_log`, `gamma_log` `[state]`, `B_re`,
 * `B_im` `[state, in_k]`, `C_re`, `C_im` `[hidden, state]`, `D` `[hidden]` or `[hidden, in_k]`. Outputs
 * `[batch, time, hidden × directions]`; state `{ h: [layers × directions, batch, 2·state] }`, each
 * complex entry as consecutive (re, im). `mode` 'parallel' (default) or 'sequential' give the same
 * outputs and gradients.
 * @example nn.lru({ inputSize: 16, hiddenSize: 16, stateSize: 64, rMin: 0.9, rMax: 0.999, maxPhase: Math.PI / 10 })
 * @category layers
 */
export const lru = (options: LruOptions): RecurrentLayer<HiddenState> => {
  const mode = options.mode ?? 'parallel'
  if (mode !== 'parallel' && mode !== 'sequential') throw new ValueError(`nn.lru: mode must be 'parallel' or 'sequential', got ${JSON.stringify(mode)}.`)
  const ring = checkRing(options, checkSize('nn.lru', 'hiddenSize', options.hiddenSize))
  const spec = lruSpec(ring.stateSize)
  return torchLayers<{ h: Tensor }, HiddenState>(spec, options, (sizes) => {
    const cellSizes = { inputSize: sizes.inputSize, hiddenSize: sizes.hiddenSize }
    const sequential: RecurrentCore = { ...recurrent(spec, sizes), stateSizes: [2 * ring.stateSize], init: ringInit(ring, cellSizes) }
    return mode === 'sequential' ? sequential : linearCore('nn.lru', spec.params(cellSizes), { states: parallelStates, readout }, sequential)
  })
}
