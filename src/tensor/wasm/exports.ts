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
 * Packs `X[rows × kc]`, element (i, p) at `src + (i·rowStride + p·colStride)·bytes`, into
 * zero-padded k-major panels of tileRows (A) or tileColumns (B, packed as Bᵀ) rows.
 */
export type PackKernel = (src: number, rowStride: number, colStride: number, rows: number, kc: number, dst: number) => void

/** `out[i] = a[i] op b[i]` for `n` elements. */
export type BinaryKernel = (a: number, b: number, out: number, n: number) => void

/** `out[i] = f(x[i])` for `n` elements. */
export type MapKernel = (x: number, out: number, n: number) => void

/** Σ x[i] for `n` elements (the padding to the next 16 bytes must be zero), as a double. */
export type SumKernel = (x: number, n: number) => number

/** The unary functions the module implements: exact ones, then exp, tanh and sigmoid (in f64 lanes). */
export type MapOp = 'neg' | 'abs' | 'square' | 'sqrt' | 'relu' | 'exp' | 'tanh' | 'sigmoid'

/** An exported i32 global. */
export interface WasmGlobal {
  readonly value: number
}

/** The module's exports, as the JavaScript drivers use them (checked by name when loading). */
export type KernelExports = { readonly memory: WasmMemory }
  & { readonly [S in Suffix as `macro_${S}`]: MacroKernel }
  & { readonly [S in Suffix as `packA_${S}` | `packB_${S}`]: PackKernel }
  & { readonly [S in Suffix as `tileRows_${S}` | `tileColumns_${S}`]: WasmGlobal }
  & { readonly [N in `${BinaryOp}_${Suffix}`]: BinaryKernel }
  & { readonly [N in `${MapOp}_${Suffix}`]: MapKernel }
  & { readonly [S in Suffix as `sum_${S}`]: SumKernel }

/** Every function export, to check a module against this layout when it is loaded. */
export const FUNCTION_EXPORTS: readonly string[] = (['f32', 'f64'] as const).flatMap((s) => [
  'macro', 'packA', 'packB', 'add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'greater', 'greaterEqual', 'equal',
  'neg', 'abs', 'square', 'sqrt', 'relu', 'exp', 'tanh', 'sigmoid', 'sum',
].map((name) => `${name}_${s}`))
