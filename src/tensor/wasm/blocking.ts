/**
 * @file The cache blocking of the WebAssembly matrix product, shared by the module's generator
 * (scripts/wasm/matmulWat.ts bakes it into the driver) and the JavaScript side (which sizes the
 * packing scratch from it). Imports only tensor types.
 */
import type { DType } from '../Tensor.js'

/** Block sizes of one element type, in elements. */
export interface Blocking {
  /** Depth of a block: one packed B panel (kc × tileColumns) stays in L1. */
  readonly kc: number
  /** Rows of a packed A block (mc × kc), which stays in L2; a multiple of every tileRows used. */
  readonly mc: number
  /** Columns of a packed B block (kc × nc). */
  readonly nc: number
}

/** Per dtype; see the measurements in scripts/wasm/matmulWat.ts. */
export const BLOCKING: { readonly [D in DType]: Blocking } = {
  float32: { kc: 256, mc: 128, nc: 4096 },
  float64: { kc: 256, mc: 128, nc: 4096 },
}

/**
 * Upper bound of the register tile's rows that the scratch layout allows for (the module's tile is
 * checked against it when the pointer matmul is created).
 */
export const MAX_TILE_ROWS = 16

/** Upper bound of the register tile's columns, in elements, likewise. */
export const MAX_TILE_COLUMNS = 32

/** Bytes of the scratch tile that edge tiles are computed into: MAX_TILE_ROWS × MAX_TILE_COLUMNS doubles. */
export const EDGE_TILE_BYTES = MAX_TILE_ROWS * MAX_TILE_COLUMNS * 8

/** Bytes of one element. */
export const bytesOf = (dtype: DType): number => (dtype === 'float32' ? 4 : 8)
