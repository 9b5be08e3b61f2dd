/**
 * @file Elementwise kernels on the WebAssembly module: binary operations, neg / abs / square / sqrt /
 * relu, exp / tanh / sigmoid, the tanh and sigmoid VJPs, full sums, column sums and strided gathers.
 * Each copies its operands into WebAssembly memory (large ones chunk by chunk) and the result out,
 * so it pays only above a size threshold (see `Thresholds`); below it, and for broadcasts other
 * than scalars and repeated rows, the JavaScript kernel runs.
 */
import type { DType, Data } from '../Tensor.js'
import { dtypeOf } from '../Tensor.js'
import type { BinaryOp, IndexMap, Kernels, UnaryKernel } from '../kernels.js'
import { collapseAxes } from '../indexing.js'
import { type Arena, alignRegion, layout } from './arena.js'
import type { WasmMemory } from './webAssembly.js'
import {
  type BackwardOp, type BinaryKernel, type GatherKernel, type KernelExports, type MapKernel, type MapOp, suffixOf,
} from './exports.js'

/** Smallest element count sent to WebAssembly, per kind of kernel (below it, copying costs more). */
export interface Thresholds {
  /**
   * Binary operations, the activation VJPs, column sums (`sumRows`) and the exact unary operations
   * (neg, abs, square, sqrt, relu): the streaming kernels, about one operation per element.
   */
  readonly binary: number
  /** exp, tanh, sigmoid. */
  readonly math: number
  /** Full sums (`sumInto` with one output). */
  readonly sum: number
  /** Strided gathers (`gatherStrided`: transposes, slices, broadcasts), by output size. */
  readonly gather: number
}

const allocateLike = (x: Data, size: number): Data => (x instanceof Float32Array ? new Float32Array(size) : new Float64Array(size))

/** A view of the whole memory in a dtype, at least `bytes` long (call it after the call's last `reserve`). */
type WholeMemory = (dtype: DType, bytes: number) => Data

/**
 * Whole-memory views, kept between calls and rebuilt only when shorter than needed: growing the
 * memory detaches them (or, for a shared memory, leaves them short). Making a view per operand and
 * reading `memory.buffer` cost about as much as a small kernel itself.
 */
const wholeMemory = (memory: WasmMemory): WholeMemory => {
  let f32 = new Float32Array(0)
  let f64 = new Float64Array(0)
  return (dtype, bytes) => {
    if (dtype === 'float32') {
      if (f32.byteLength < bytes) f32 = new Float32Array(memory.buffer)
      return f32
    }
    if (f64.byteLength < bytes) f64 = new Float64Array(memory.buffer)
    return f64
  }
}

/** The result of a call: `size` elements at byte address `ptr`, copied into a fresh array that owns its buffer. */
const copyOut = (m: Data, ptr: number, size: number): Data => {
  const start = ptr / m.BYTES_PER_ELEMENT
  return m.slice(start, start + size)
}

/** The export of `name` for each dtype, looked up once instead of by a built string per call. */
const perDtype = <K>(exports: KernelExports, name: string): Record<DType, K> => {
  const table = exports as unknown as Record<string, K>
  return { float32: table[`${name}_${suffixOf('float32')}`], float64: table[`${name}_${suffixOf('float64')}`] }
}

/**
 * Bytes per operand of one pass of a streaming kernel. Larger operands go through in chunks, so
 * that the regions in WebAssembly memory stay in cache and main memory sees each operand once, as
 * in the JavaScript loop: measured on 2²¹ float32 additions, 5.1 ns per element in one pass and
 * 2.6 in chunks of 2¹⁶.
 */
const CHUNK_BYTES = 1 << 18

/** Writes elements [start, start + length) of each operand into its region (region k at k·region bytes). */
type WriteChunk = (m: Data, start: number, length: number, region: number) => void

/**
 * An elementwise kernel over `size` elements of `dtype`, `inputs` operand regions and one output
 * region: `write` lays the operands of a chunk out, `run(region, length)` computes it into region
 * number `inputs`, and the chunk is copied into the result. Undefined when memory cannot grow.
 */
const streamed = (
  memory: WholeMemory, arena: Arena, dtype: DType, size: number, inputs: number,
  write: WriteChunk, run: (region: number, length: number) => void,
): Data | undefined => {
  const bytes = dtype === 'float32' ? 4 : 8
  const chunk = Math.min(size, CHUNK_BYTES / bytes)
  const region = alignRegion(chunk * bytes)
  if (!arena.reserve((inputs + 1) * region)) return undefined
  const m = memory(dtype, (inputs + 1) * region)
  const at = (inputs * region) / bytes
  if (chunk === size) {
    write(m, 0, size, region)
    run(region, size)
    return m.slice(at, at + size)
  }
  const out = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size)
  for (let start = 0; start < size; start += chunk) {
    const length = Math.min(chunk, size - start)
    write(m, start, length, region)
    run(region, length)
    out.set(m.subarray(at, at + length), start)
  }
  return out
}

/** Writes elements [start, start + length) of x at byte address `ptr` of `m`. */
const writeRange = (m: Data, x: Data, ptr: number, start: number, length: number): void => {
  m.set(start === 0 && length === x.length ? x : x.subarray(start, start + length), ptr / m.BYTES_PER_ELEMENT)
}

// ---- binary operations ----

/** How an operand of `binary` covers the output: as is, one value everywhere, or repeated rows. */
type Spread = 'identity' | 'scalar' | 'rows'

/**
 * What an index map was found to be, per operand length (the output size is the map's length).
 * Index maps are shared and read-only (tensor/indexing.ts caches them), so a map met at every time
 * step is scanned once.
 */
const spreads = new WeakMap<Int32Array, Map<number, Spread | undefined>>()

/**
 * The spread of operand `x` under its index map, or undefined for any other map. A scalar needs no
 * scan (its only valid index is 0); rows (`index[i] = i mod x.length`, e.g. a bias added to a batch)
 * are verified in one pass over the index map, remembered for the next call with the same map.
 */
const spreadOf = (x: Data, index: IndexMap, size: number): Spread | undefined => {
  if (index === null) return 'identity'
  if (x.length === 1) return 'scalar'
  if (index.length !== size) return isRows(index, x.length, size) ? 'rows' : undefined
  let known = spreads.get(index)
  if (known?.has(x.length)) return known.get(x.length)
  const spread = isRows(index, x.length, size) ? 'rows' : undefined
  if (known === undefined) spreads.set(index, (known = new Map()))
  known.set(x.length, spread)
  return spread
}

/** Whether `index[i] = i mod period` for every i < size. */
const isRows = (index: Int32Array, period: number, size: number): boolean => {
  if (period === 0 || size % period !== 0) return false
  for (let i = 0, j = 0; i < size; i++) {
    if (index[i] !== j) return false
    j = j + 1 === period ? 0 : j + 1
  }
  return true
}

/** Writes elements [start, start + length) of operand `x` spread over the output into `m` at byte address `ptr`. */
const writeSpread = (m: Data, x: Data, spread: Spread, ptr: number, start: number, length: number): void => {
  const at = ptr / m.BYTES_PER_ELEMENT
  if (spread === 'identity') return writeRange(m, x, ptr, start, length)
  if (spread === 'scalar') return void m.fill(x[0], at, at + length)
  // Rows: output element i reads x[i mod period]; a chunk may start and end inside a period.
  const period = x.length
  for (let i = 0; i < length;) {
    const phase = (start + i) % period
    const run = Math.min(period - phase, length - i)
    m.set(phase === 0 && run === period ? x : x.subarray(phase, phase + run), at + i)
    i += run
  }
}

/**
 * `Kernels.binary` for operands of one dtype that are same-shape, scalars or repeated rows; other
 * index maps, mixed dtypes and sizes below `minSize` go to `fallback`.
 */
export const createBinary = (
  exports: KernelExports, arena: Arena, fallback: Kernels['binary'], minSize: number,
): Kernels['binary'] => {
  const ops = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'greater', 'greaterEqual', 'equal'] as const satisfies readonly BinaryOp[]
  const kernels = Object.fromEntries(ops.map((op) => [op, perDtype<BinaryKernel>(exports, op)])) as Record<BinaryOp, Record<DType, BinaryKernel>>
  const memory = wholeMemory(exports.memory)
  return (op, a, ai, b, bi, size) => {
    const dtype = dtypeOf(a)
    if (size < minSize || dtypeOf(b) !== dtype) return fallback(op, a, ai, b, bi, size)
    const aSpread = spreadOf(a, ai, size)
    const bSpread = aSpread === undefined ? undefined : spreadOf(b, bi, size)
    if (aSpread === undefined || bSpread === undefined) return fallback(op, a, ai, b, bi, size)
    const kernel = kernels[op][dtype]
    return streamed(memory, arena, dtype, size, 2, (m, start, length, region) => {
      writeSpread(m, a, aSpread, 0, start, length)
      writeSpread(m, b, bSpread, region, start, length)
    }, (region, length) => kernel(0, region, 2 * region, length)) ?? fallback(op, a, ai, b, bi, size)
  }
}

// ---- unary operations and activation VJPs ----

/** A unary kernel computed by the module's `op` above `minSize` elements, by `fallback` below. */
export const createUnary = (
  exports: KernelExports, arena: Arena, op: MapOp, fallback: UnaryKernel, minSize: number,
): UnaryKernel => {
  const kernel = perDtype<MapKernel>(exports, op)
  const memory = wholeMemory(exports.memory)
  return (x) => {
    if (x.length < minSize) return fallback(x)
    const run = kernel[dtypeOf(x)]
    return streamed(memory, arena, dtypeOf(x), x.length, 1, (m, start, length) => writeRange(m, x, 0, start, length),
      (region, length) => run(0, region, length)) ?? fallback(x)
  }
}

/**
 * `Kernels.tanhBackward` / `sigmoidBackward` computed by the module above `minSize` elements (bit for
 * bit the JavaScript kernels' values: both round after every operation); below it, for operands of
 * different lengths or dtypes, `fallback`.
 */
export const createBackward = (
  exports: KernelExports, arena: Arena, op: BackwardOp, fallback: (g: Data, y: Data) => Data, minSize: number,
): ((g: Data, y: Data) => Data) => {
  const kernel = perDtype<BinaryKernel>(exports, op)
  const memory = wholeMemory(exports.memory)
  return (g, y) => {
    const dtype = dtypeOf(g)
    if (g.length < minSize || y.length !== g.length || dtypeOf(y) !== dtype) return fallback(g, y)
    const run = kernel[dtype]
    return streamed(memory, arena, dtype, g.length, 2, (m, start, length, region) => {
      writeRange(m, g, 0, start, length)
      writeRange(m, y, region, start, length)
    }, (region, length) => run(0, region, 2 * region, length)) ?? fallback(g, y)
  }
}

// ---- reductions ----

/**
 * `Kernels.sumInto`: a full reduction (`outSize` = 1, so every index is 0) runs in the module;
 * partial reductions go to `fallback`.
 */
export const createSumInto = (
  exports: KernelExports, arena: Arena, fallback: Kernels['sumInto'], minSize: number,
): Kernels['sumInto'] => {
  const sum = perDtype<(x: number, n: number) => number>(exports, 'sum')
  const memory = wholeMemory(exports.memory)
  return (x, index, outSize) => {
    if (outSize !== 1 || x.length < minSize) return fallback(x, index, outSize)
    const dtype = dtypeOf(x)
    const padded = alignRegion(x.length * x.BYTES_PER_ELEMENT) / x.BYTES_PER_ELEMENT
    if (!arena.reserve(padded * x.BYTES_PER_ELEMENT)) return fallback(x, index, outSize)
    const m = memory(dtype, padded * x.BYTES_PER_ELEMENT)
    m.set(x, 0)
    m.fill(0, x.length, padded) // the module reads whole vectors: the padding must add nothing
    const out = allocateLike(x, 1)
    out[0] = sum[dtype](0, x.length)
    return out
  }
}

/**
 * `Kernels.sumRows`: column sums of x viewed as `[rows, cols]` in the module, accumulated in float64
 * over the rows in order, as the JavaScript kernel does, so the result is the same bit for bit.
 * Fewer than `minSize` elements go to `fallback`.
 */
export const createSumRows = (
  exports: KernelExports, arena: Arena, fallback: NonNullable<Kernels['sumRows']>, minSize: number,
): NonNullable<Kernels['sumRows']> => {
  const sumRows = perDtype<(x: number, rows: number, cols: number, acc: number) => void>(exports, 'sumRows')
  const memory = wholeMemory(exports.memory)
  return (x, rows, cols) => {
    if (x.length < minSize || x.length !== rows * cols) return fallback(x, rows, cols)
    const dtype = dtypeOf(x)
    // Bands of whole rows, so that each column still adds its rows in order across bands.
    const band = Math.min(rows, Math.max(1, Math.floor(CHUNK_BYTES / x.BYTES_PER_ELEMENT / cols)))
    const region = alignRegion(band * cols * x.BYTES_PER_ELEMENT)
    const end = region + alignRegion(8 * cols)
    if (!arena.reserve(end)) return fallback(x, rows, cols)
    const m = memory(dtype, end)
    const sums = memory('float64', end)
    sums.fill(0, region / 8, region / 8 + cols)
    for (let r = 0; r < rows; r += band) {
      const count = Math.min(band, rows - r)
      writeRange(m, x, 0, r * cols, count * cols)
      sumRows[dtype](0, count, cols, region)
    }
    // float32: rounded once from the float64 sums, as Float32Array.from does in the JavaScript kernel.
    return dtype === 'float64' ? copyOut(sums, region, cols) : Float32Array.from(sums.subarray(region / 8, region / 8 + cols))
  }
}

/**
 * `Kernels.scatterRows`: each row of x added into its output row in the module with the `sumRows`
 * export on one row (f64 accumulators, rows in order), so the result is the JavaScript kernel's
 * bit for bit. x goes in by bands of rows; fewer than `minSize` elements go to `fallback`.
 */
export const createScatterRows = (
  exports: KernelExports, arena: Arena, fallback: NonNullable<Kernels['scatterRows']>, minSize: number,
): NonNullable<Kernels['scatterRows']> => {
  const addRow = perDtype<(x: number, rows: number, cols: number, acc: number) => void>(exports, 'sumRows')
  const memory = wholeMemory(exports.memory)
  return (x, to, outRows, cols) => {
    if (x.length < minSize || x.length !== to.length * cols) return fallback(x, to, outRows, cols)
    const dtype = dtypeOf(x)
    const rowBytes = cols * x.BYTES_PER_ELEMENT
    const band = Math.min(to.length, Math.max(1, Math.floor(CHUNK_BYTES / rowBytes)))
    const region = alignRegion(band * rowBytes)
    const end = region + alignRegion(8 * outRows * cols)
    if (!arena.reserve(end)) return fallback(x, to, outRows, cols)
    const m = memory(dtype, end)
    const sums = memory('float64', end)
    sums.fill(0, region / 8, region / 8 + outRows * cols)
    const run = addRow[dtype]
    for (let r = 0; r < to.length; r += band) {
      const count = Math.min(band, to.length - r)
      writeRange(m, x, 0, r * cols, count * cols)
      for (let p = 0; p < count; p++) run(p * rowBytes, 1, cols, region + 8 * to[r + p] * cols)
    }
    const out = sums.subarray(region / 8, region / 8 + outRows * cols)
    return dtype === 'float64' ? out.slice() : new Float32Array(out)
  }
}

// ---- data movement ----

/** Axes of a collapsed view the module's gather walks besides its rows (see scripts/wasm/elementwiseWat.ts). */
const GATHER_OUTER_AXES = 3

/**
 * Rows at least this long that are contiguous or broadcast go to the JavaScript kernel, whose
 * block copy or fill per row is one pass where the module needs three (copy in, gather, copy out).
 */
const LONG_ROW = 256

/** Views whose span in x exceeds this many times their size go to the JavaScript kernel. */
const SPARSE_SPAN = 4

/**
 * `Kernels.gatherStrided` in the module for outputs of at least `minSize` elements whose view
 * collapses (tensor/indexing.ts) to at most four axes, which covers every transpose of up to four
 * axes, slices and broadcasts, unless its rows are long block copies or fills or it reads a small
 * part of a long span of x; others go to `fallback`. Only the part of x the view reads is copied
 * in; the values are moved bit for bit.
 */
export const createGatherStrided = (
  exports: KernelExports, arena: Arena, fallback: NonNullable<Kernels['gatherStrided']>, minSize: number,
): NonNullable<Kernels['gatherStrided']> => {
  const gather = perDtype<GatherKernel>(exports, 'gatherStrided')
  const memory = wholeMemory(exports.memory)
  return (x, shape, strides, offset) => {
    let size = 1
    for (let d = 0; d < shape.length; d++) size *= shape[d]
    if (size < minSize || size === 0) return fallback(x, shape, strides, offset)
    const view = collapseAxes(shape, strides)
    const rank = view.shape.length
    if (rank === 0 || rank > GATHER_OUTER_AXES + 1) return fallback(x, shape, strides, offset)
    const n = view.shape[rank - 1]
    const step = view.strides[rank - 1]
    if (n >= LONG_ROW && step <= 1) return fallback(x, shape, strides, offset)
    let span = 1 // elements from x[offset] to the last one read
    for (let d = 0; d < rank; d++) span += (view.shape[d] - 1) * view.strides[d]
    // A sparse view (one step of a sequence, a few columns) would copy in far more than it reads.
    if (span > SPARSE_SPAN * size) return fallback(x, shape, strides, offset)
    const dtype = dtypeOf(x)
    const inRegion = alignRegion(span * x.BYTES_PER_ELEMENT)
    const end = inRegion + alignRegion(size * x.BYTES_PER_ELEMENT)
    if (!arena.reserve(end)) return fallback(x, shape, strides, offset)
    const m = memory(dtype, end)
    m.set(offset === 0 && span === x.length ? x : x.subarray(offset, offset + span), 0)
    const outer = GATHER_OUTER_AXES - (rank - 1) // leading axes of length 1 pad the view to four
    const axis = (k: number): [number, number] => (k < outer ? [1, 0] : [view.shape[k - outer], view.strides[k - outer]])
    const [n1, s1] = axis(0)
    const [n2, s2] = axis(1)
    const [n3, s3] = axis(2)
    gather[dtype](0, inRegion, n, step, n1, s1, n2, s2, n3, s3)
    return copyOut(m, inRegion, size)
  }
}

/**
 * Fewest row pieces (rows × parts) that `concatRows` sends to the module: JavaScript's cost is per
 * piece (≈ 4 ns per element of a short row, C1's [x, c, 1]), while a few long pieces (stacking
 * weights, rows = 1) are block copies there, one pass each.
 */
const MANY_PIECES = 256

/**
 * `Kernels.concatRows` in the module for results of at least `minSize` elements in many short row
 * pieces: each part is copied in, gathered into its columns of the result (rows `Σ widths` apart),
 * and the result copied out. The others go to `fallback`.
 */
export const createConcatRows = (
  exports: KernelExports, arena: Arena, fallback: NonNullable<Kernels['concatRows']>, minSize: number,
): NonNullable<Kernels['concatRows']> => {
  const gather = perDtype<GatherKernel>(exports, 'gatherStrided')
  const memory = wholeMemory(exports.memory)
  return (parts, widths, rows) => {
    let width = 0
    for (const w of widths) width += w
    const size = rows * width
    const dtype = dtypeOf(parts[0])
    const few = rows * parts.length < MANY_PIECES || widths.every((w) => w >= LONG_ROW)
    if (size < minSize || few || parts.some((x) => dtypeOf(x) !== dtype)) return fallback(parts, widths, rows)
    const bytes = parts[0].BYTES_PER_ELEMENT
    const { ptrs: at, end: out } = layout(bytes, parts.map((x) => x.length))
    const end = out + alignRegion(size * bytes)
    if (!arena.reserve(end)) return fallback(parts, widths, rows)
    const m = memory(dtype, end)
    parts.forEach((x, j) => m.set(x, at[j] / bytes))
    for (let j = 0, start = 0; j < parts.length; start += widths[j], j++) {
      if (widths[j] > 0) gather[dtype](at[j], out + start * bytes, widths[j], 1, 1, 0, 1, 0, rows, widths[j], width)
    }
    return copyOut(m, out, size)
  }
}
