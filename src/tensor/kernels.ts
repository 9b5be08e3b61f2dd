/**
 * @file The kernel interface: every numeric loop of the library sits behind it. Typed arrays in,
 * a freshly allocated typed array out; inputs are never written to. Shapes, broadcasting and
 * gradients are decided above this layer, so a kernel sees only flat arrays, sizes and index maps.
 * A WebAssembly backend can replace the JavaScript one with `useKernels`.
 */
import type { DType, Data } from './Tensor.js'

export type UnaryKernel = (x: Data) => Data

/** Elementwise binary operations. Comparisons return 1 or 0 in the inputs' dtype. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'greater' | 'greaterEqual' | 'equal'

/**
 * An index map: `out[i]` reads `x[index[i]]`. `null` means the identity (same shape, no broadcast),
 * which kernels treat as a fast path.
 */
export type IndexMap = Int32Array | null

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
   * Optional: `out[i] = x[offset + Σ_d position_d(i) · strides[d]]` over the row-major positions of
   * `shape` — `gather` with a strided index map, without materialising the map (transposes, slices
   * and broadcasts of large tensors). Callers fall back to `gather(x, stridedIndex(…))`.
   */
  gatherStrided?(x: Data, shape: readonly number[], strides: readonly number[], offset: number): Data
  /**
   * Optional: column sums of x viewed as `[rows, cols]`, `out[j] = Σ_r x[r·cols + j]` (the sum over
   * leading axes, e.g. a bias gradient), with the same accumulation as `sumInto`. Callers fall
   * back to `sumInto`.
   */
  sumRows?(x: Data, rows: number, cols: number): Data
  /**
   * Optional: `g·(1 − t²)`, the tanh VJP from its output t, rounded after each operation exactly as
   * `mul(g, sub(1, square(t)))` is. Callers fall back to that composition.
   */
  tanhBackward?(g: Data, t: Data): Data
  /** Optional: `g·(s·(1 − s))`, the sigmoid VJP from its output s, rounded as the composition is. */
  sigmoidBackward?(g: Data, s: Data): Data
}
