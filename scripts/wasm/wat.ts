/**
 * @file Helpers for writing WebAssembly text from TypeScript (build-time only): the element types
 * the kernels are instantiated for, and tiny S-expression builders. Kept deliberately thin, so the
 * generated text reads like hand-written WAT.
 */

/** One element type of the kernels and the tuning of its kernels. */
export interface LaneType {
  /** Scalar type: f32 or f64. */
  readonly scalar: 'f32' | 'f64'
  /** 128-bit vector shape: f32x4 or f64x2. */
  readonly vector: 'f32x4' | 'f64x2'
  readonly bytes: 4 | 8
  readonly lanes: 4 | 2
  /** Rows of the matmul register tile (the micro-kernel's MR). */
  readonly tileRows: number
  /** Vectors per tile row; the tile is tileRows × (tileVectors·lanes) elements. */
  readonly tileVectors: number
}

export const f32: LaneType = { scalar: 'f32', vector: 'f32x4', bytes: 4, lanes: 4, tileRows: 4, tileVectors: 2 }
export const f64: LaneType = { scalar: 'f64', vector: 'f64x2', bytes: 8, lanes: 2, tileRows: 4, tileVectors: 2 }

/** Columns of the matmul register tile (the micro-kernel's NR). */
export const tileColumns = (t: LaneType): number => t.tileVectors * t.lanes

/** log₂ of the element size: the shift from an element index to a byte offset. */
export const shiftOf = (t: LaneType): number => Math.log2(t.bytes)

/** [0, 1, …, n − 1]: the unrolled rows, vectors and chains. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)
/** `(local.get $name)` */
export const get = (name: string): string => `(local.get $${name})`
/** `(local.set $name value)` */
export const set = (name: string, value: string): string => `(local.set $${name} ${value})`
/** `(i32.const value)` */
export const i32 = (value: number): string => `(i32.const ${value})`

/** An f64 constant written in hexadecimal, so the assembler does not round it a second time. */
export const hexFloat = (value: number): string => {
  if (value === 0) return Object.is(value, -0) ? '-0x0p+0' : '0x0p+0'
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : value < 0 ? '-inf' : 'nan'
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, value)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  const sign = hi >>> 31 ? '-' : ''
  const exponent = ((hi >>> 20) & 0x7ff) - 1023
  if (exponent === -1023) throw new Error(`hexFloat: subnormal constant ${value} is not supported.`)
  const mantissa = ((BigInt(hi & 0xfffff) << 32n) | BigInt(lo)).toString(16).padStart(13, '0')
  return `${sign}0x1.${mantissa}p${exponent >= 0 ? '+' : ''}${exponent}`
}

/** An f64x2 constant with both lanes equal to `value`. */
export const f64x2 = (value: number): string => `(v128.const f64x2 ${hexFloat(value)} ${hexFloat(value)})`
