/**
 * @file The export layout of the kernels module (written by scripts/wasm/): names and argument
 * order. Pointers are byte addresses into `memory`; sizes and strides are in elements. Every
 * function exists once per element type, suffixed `_f32` or `_f64`.
 */
import type { DType } from '../Tensor.js'
import type { BinaryOp } from '../kernels.js'
import type { WasmMemory } from './webAssembly.js'

/** Export-name suffix of a dtype. */
export type Suffix = 'f32' | 'f64'

/** The export-name suffix of `dtype`'s kernels. */
export const suffixOf = (dtype: DType): Suffix => (dtype === 'float32' ? 'f32' : 'f64')

/** `C[mc × nc] (+)= Apacked · Bpacked` over packed panels; `ldc` = C's row stride. */
export type MacroKernel = (
  mc: number, nc: number, kc: number, ap: number, bp: number, c: number, ldc: number, accumulate: number, tile: number,
) => void

/**
 * The whole blocked product `C[m × n] (+)= op(A) · op(B)`: element (i, p) of op(A) at
 * `a + (i·rowA + p·colA)·bytes`, (p, j) of op(B) at `b + (p·rowB + j·colB)·bytes`, C's row stride
 * `ldc`; `scratch` as sized by `matmulScratchBytes`.
 */
export type GemmKernel = (
  m: number, n: number, k: number, a: number, rowA: number, colA: number, b: number, rowB: number, colB: number,
  c: number, ldc: number, accumulate: number, scratch: number,
) => void

/**
 * `gemm` with op(B) packed beforehand (src/tensor/wasm/matmul.ts's `packWeight`): `packed` holds
 * k rows of `width` packed columns, and C's n columns are those from `column` on (a multiple of the
 * register tile's columns).
 */
export type GemmPackedKernel = (
  m: number, n: number, k: number, a: number, rowA: number, colA: number, packed: number, width: number, column: number,
  c: number, ldc: number, accumulate: number, scratch: number,
) => void

/**
 * Packs `X[rows × kc]`, element (i, p) at `src + (i·rowStride + p·colStride)·bytes`, into
 * zero-padded k-major panels of tileRows (A) or tileColumns (B, packed as Bᵀ) rows.
 */
export type PackKernel = (src: number, rowStride: number, colStride: number, rows: number, kc: number, dst: number) => void

/** `out[i] = a[i] op b[i]` for `n` elements (exactly n written; whole vectors read). */
export type BinaryKernel = (a: number, b: number, out: number, n: number) => void

/** `out[i] = f(x[i])` for `n` elements (exactly n written; whole vectors read, so in place is fine). */
export type MapKernel = (x: number, out: number, n: number) => void

/** The activation VJPs from the forward output y: `g·(1 − y²)` (tanh) and `g·(y·(1 − y))` (sigmoid). */
export type BackwardOp = 'tanhBackward' | 'sigmoidBackward'

/** `out[i] = op(g[i], y[i])` for `n` elements, rounded after each operation as the composition is. */
export type BackwardKernel = (g: number, y: number, out: number, n: number) => void

/** `acc[j] += Σ_r x[r·cols + j]` over the rows in order, accumulated in float64 (`acc` is float64). */
export type SumRowsKernel = (x: number, rows: number, cols: number, acc: number) => void

/**
 * Rows of `n` elements `x[i1·s1 + i2·s2 + i3·s3 + j·step]` written to `out`, each row starting
 * `outStride` elements after the previous one (strides in elements; omitted or 0: n, one after
 * another). Exactly n1·n2·n3·n elements are written.
 */
export type GatherKernel = (
  x: number, out: number, n: number, step: number, n1: number, s1: number, n2: number, s2: number, n3: number, s3: number,
  outStride?: number,
) => void

/**
 * One Adam step in place on three padded regions of n elements: m and v become the new moments, g
 * the update (see scripts/wasm/adamWat.ts); the constants are β₁, 1 − β₁, β₂, 1 − β₂, ĉ₁, ĉ₂, ε.
 */
export type AdamKernel = (
  g: number, m: number, v: number, n: number, b1: number, mb1: number, b2: number, mb2: number, c1: number, c2: number, eps: number,
) => void

/**
 * Runs a fused elementwise program (src/tensor/fused.ts) laid out in memory: `count` instructions
 * of four i32 (opcode, result slot, argument slots) at `code`, `slotCount` slots of four i32 (base
 * address, row stride and chunk step in bytes, a word the kernel uses) at `slots`, over `rows` rows
 * of `cols` columns in chunks of `chunk`.
 */
export type FusedKernel = (code: number, count: number, slots: number, slotCount: number, rows: number, cols: number, chunk: number) => void

/**
 * Rows of `size` elements, each `a_t ⊙ h_{t−1} + b_t` (complex pairs in the `Complex` form): h_{−1} is
 * the row at `prev`, then the rows written before (scripts/wasm/linearRecurrenceWat.ts).
 */
export type LinearRecurrenceKernel = (a: number, b: number, prev: number, out: number, time: number, size: number) => void

/**
 * The reverse recurrence from the last row: db_t = λ_t = g_t + carry, da_t = λ_t ⊙ h̅_{t−1} (row t of
 * `prev`), carry = a̅_t ⊙ λ_t, with `carry` `size` f64 carried in and out.
 */
export type LinearRecurrenceBackwardKernel = (g: number, a: number, prev: number, da: number, db: number, carry: number, time: number, size: number) => void

/** Σ x[i] for `n` elements (the padding to the next 16 bytes must be zero), as a double. */
export type SumKernel = (x: number, n: number) => number

/** The unary functions the module implements: exact ones, then exp, tanh and sigmoid. */
export type MapOp = 'neg' | 'abs' | 'square' | 'sqrt' | 'relu' | 'exp' | 'tanh' | 'sigmoid'

/** An exported i32 global. */
export interface WasmGlobal {
  readonly value: number
}

/** The module's exports, as the JavaScript drivers use them (checked by name when loading). */
export type KernelExports = { readonly memory: WasmMemory }
  & { readonly [S in Suffix as `macro_${S}`]: MacroKernel }
  & { readonly [S in Suffix as `gemm_${S}`]: GemmKernel }
  & { readonly [S in Suffix as `gemmPacked_${S}`]: GemmPackedKernel }
  & { readonly [S in Suffix as `packA_${S}` | `packB_${S}`]: PackKernel }
  & { readonly [S in Suffix as `tileRows_${S}` | `tileColumns_${S}`]: WasmGlobal }
  & { readonly [N in `${BinaryOp}_${Suffix}`]: BinaryKernel }
  & { readonly [N in `${MapOp}_${Suffix}`]: MapKernel }
  & { readonly [S in Suffix as `sum_${S}`]: SumKernel }
  & { readonly [N in `${BackwardOp}_${Suffix}`]: BackwardKernel }
  & { readonly [S in Suffix as `sumRows_${S}`]: SumRowsKernel }
  & { readonly [S in Suffix as `gatherStrided_${S}`]: GatherKernel }
  & { readonly [S in Suffix as `adam_${S}`]: AdamKernel }
  & { readonly [S in Suffix as `linearRecurrence_${S}` | `linearRecurrenceComplex_${S}`]: LinearRecurrenceKernel }
  & { readonly [S in Suffix as `linearRecurrenceBackward_${S}` | `linearRecurrenceBackwardComplex_${S}`]: LinearRecurrenceBackwardKernel }
  & { readonly [S in Suffix as `fused_${S}`]: FusedKernel }

/** Every function export, to check a module against this layout when it is loaded. */
export const FUNCTION_EXPORTS: readonly string[] = (['f32', 'f64'] as const).flatMap((s) => [
  'gemm', 'gemmPacked', 'macro', 'packA', 'packB', 'add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'greater', 'greaterEqual', 'equal',
  'neg', 'abs', 'square', 'sqrt', 'relu', 'exp', 'tanh', 'sigmoid', 'sum', 'tanhBackward', 'sigmoidBackward', 'sumRows', 'gatherStrided', 'adam', 'fused',
  'linearRecurrence', 'linearRecurrenceComplex', 'linearRecurrenceBackward', 'linearRecurrenceBackwardComplex',
].map((name) => `${name}_${s}`))
