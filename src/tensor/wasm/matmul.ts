/**
 * @file The blocked matrix product on the WebAssembly kernels (GotoBLAS/BLIS loop order, run by the
 * module's `gemm`: for each column block of B and each depth block, pack B once; for each row block
 * of A, pack A and let the macro-kernel run the register tiles). Transposes are absorbed by the
 * packing strides, so the VJPs' aᵀ·g and g·bᵀ never materialise a transposed copy. Two entry points:
 * `createPointerMatmul` on operands already in WebAssembly memory (no copies, one call into the
 * module), and `createMatmul`, the `Kernels.matmul` contract on typed arrays (copy in, pointer
 * matmul, copy out). The threaded backend (threads.ts) supplies its own `PointerMatmul`.
 */
import type { DType, Data } from '../Tensor.js'
import { dtypeOf } from '../Tensor.js'
import type { Kernels } from '../kernels.js'
import { type Arena, alignRegion, layout } from './arena.js'
import { BLOCKING, EDGE_TILE_BYTES, MAX_TILE_COLUMNS, MAX_TILE_ROWS, bytesOf } from './blocking.js'
import { type KernelExports, suffixOf } from './exports.js'

// ---- scratch layout ----

/**
 * The scratch regions of one product, as byte offsets from the scratch pointer: the edge tile, the
 * packed A block, the packed B block, and the total. Bounds that hold for any register tile up to
 * MAX_TILE_ROWS × MAX_TILE_COLUMNS, so the size does not depend on the module's tile. The module's
 * `gemm` places its blocks at the same offsets (scripts/wasm/matmulWat.ts).
 */
const scratchLayout = (dtype: DType, m: number, k: number, n: number) => {
  const { kc, mc, nc } = BLOCKING[dtype]
  const bytes = bytesOf(dtype)
  const depth = Math.min(kc, k)
  const packA = EDGE_TILE_BYTES
  const packB = packA + alignRegion((Math.min(mc, m) + MAX_TILE_ROWS) * depth * bytes)
  const total = packB + alignRegion((Math.min(nc, n) + MAX_TILE_COLUMNS) * depth * bytes)
  return { packA, packB, total }
}

/**
 * Bytes of packing scratch that a pointer matmul of op(A)[m × k] · op(B)[k × n] needs: an edge tile,
 * one packed block of A (≤ mc × kc) and one of B (≤ kc × nc) per thread, each 64-byte aligned.
 * Bounded whatever the sizes, since the blocks are: (mc + 16)·kc + (nc + 32)·kc elements per thread
 * (see blocking.ts), plus a 4 KiB edge tile.
 *
 * @param dtype element type of the product
 * @param m rows of op(A) and C
 * @param k inner dimension
 * @param n columns of op(B) and C
 * @param threads threads the product may be split over (a threaded backend's pointer matmul
 *   gives each thread its own scratch); default 1
 * @returns a byte count, a multiple of 64
 * @example const scratch = matmulScratchBytes('float32', 64, 128, 128) // then reserve it in the arena
 * @category wasm
 */
export const matmulScratchBytes = (dtype: DType, m: number, k: number, n: number, threads = 1): number =>
  threads * scratchLayout(dtype, m, k, n).total

// ---- pointer matmul ----

/**
 * `C = [C +] op(A) · op(B)` on operands in WebAssembly memory, all pointers byte addresses:
 * A is stored row-major as [m, k] (as [k, m] when `transposeA`), B as [k, n] ([n, k] when
 * `transposeB`), C as [m, n] (row stride n). With `accumulate` the product is added to C, else C is
 * overwritten (with zeros when k = 0). `scratchPtr` is a 64-byte-aligned region of
 * `matmulScratchBytes(dtype, m, k, n, product.threads)` bytes that overlaps no operand; C must not
 * overlap A or B. The summation order of each element depends only on (dtype, k), not on m, n, the
 * pointers or the threads, so a threaded product equals the single-threaded one bit for bit.
 */
export interface PointerMatmul {
  (
    dtype: DType, aPtr: number, bPtr: number, outPtr: number, m: number, k: number, n: number,
    transposeA: boolean, transposeB: boolean, accumulate: boolean, scratchPtr: number,
  ): void
  /** Threads a product may be split over (1, or the threaded backend's count): size the scratch with it. */
  readonly threads: number
  /** The same product with op(B) packed beforehand by `packWeight` (split over the same threads). */
  readonly packed: PackedMatmul
  /**
   * Says that an m × k · k × n product is coming once its operands are copied in: threads that
   * will share it may get ready meanwhile (a no-op on one thread).
   */
  readonly wake: (m: number, k: number, n: number) => void
}

/**
 * `C = [C +] op(A) · B` with B packed by `packWeight` at `packedPtr` (k × n); the other arguments as
 * `PointerMatmul`'s. Equal bit for bit to the unpacked product: only the packing moved.
 */
export type PackedMatmul = (
  dtype: DType, aPtr: number, packedPtr: number, outPtr: number, m: number, k: number, n: number,
  transposeA: boolean, accumulate: boolean, scratchPtr: number,
) => void

/** Columns of a packed weight: n rounded up to the module's register tile (`tileColumns`). */
export const packedWidth = (exports: KernelExports, dtype: DType, n: number): number => {
  const columns = exports[`tileColumns_${suffixOf(dtype)}`].value
  return Math.ceil(n / columns) * columns
}

/**
 * Bytes that `packWeight` writes for a k × n op(B): k rows of `packedWidth` columns, 64-byte aligned.
 * @category wasm
 */
export const packedWeightBytes = (exports: KernelExports, dtype: DType, k: number, n: number): number =>
  alignRegion(k * packedWidth(exports, dtype, n) * bytesOf(dtype))

/**
 * Packs op(B) (B stored as [k, n], or as [n, k] when `transposeB`) once, for products that reuse it
 * (a recurrent weight multiplies every time step): one depth block of `BLOCKING.kc` rows after
 * another, each in the panels that the module's `packB` writes, so that `gemmPacked` reads exactly
 * what `gemm` would have packed for itself. `packedPtr` must hold `packedWeightBytes(…)` bytes.
 * @category wasm
 */
export const packWeight = (
  exports: KernelExports, dtype: DType, bPtr: number, k: number, n: number, transposeB: boolean, packedPtr: number,
): void => {
  const { kc } = BLOCKING[dtype]
  const [rowB, colB] = transposeB ? [1, k] : [n, 1]
  const bytes = bytesOf(dtype)
  const width = packedWidth(exports, dtype, n)
  const pack = exports[`packB_${suffixOf(dtype)}`]
  for (let pc = 0; pc < k; pc += kc) pack(bPtr + pc * rowB * bytes, colB, rowB, n, Math.min(kc, k - pc), packedPtr + pc * width * bytes)
}

/**
 * The blocked product over a loaded module, on operands already in its memory (no copies): the
 * building block of `createMatmul` and of kernels that keep whole sequences in WebAssembly memory.
 *
 * @param exports the module's exports (its memory is the one the pointers address)
 * @returns the pointer matmul (see `PointerMatmul`)
 * @example
 * const product = createPointerMatmul(exports)
 * product('float32', aPtr, bPtr, cPtr, 64, 128, 128, false, false, false, scratchPtr)
 * @category wasm
 */
export const createPointerMatmul = (exports: KernelExports): PointerMatmul => {
  for (const suffix of ['f32', 'f64'] as const) {
    if (exports[`tileRows_${suffix}`].value > MAX_TILE_ROWS || exports[`tileColumns_${suffix}`].value > MAX_TILE_COLUMNS) {
      throw new Error(`createPointerMatmul: the module's ${suffix} register tile exceeds ${MAX_TILE_ROWS} × ${MAX_TILE_COLUMNS}. Raise MAX_TILE_ROWS / MAX_TILE_COLUMNS in blocking.ts.`)
    }
  }
  const gemm = { float32: exports.gemm_f32, float64: exports.gemm_f64 }
  const gemmPacked = { float32: exports.gemmPacked_f32, float64: exports.gemmPacked_f64 }
  const packed: PackedMatmul = (dtype, aPtr, packedPtr, outPtr, m, k, n, transposeA, accumulate, scratchPtr) => {
    gemmPacked[dtype](
      m, n, k, aPtr, transposeA ? 1 : k, transposeA ? m : 1, packedPtr, packedWidth(exports, dtype, n), 0, outPtr, n, accumulate ? 1 : 0, scratchPtr,
    )
  }
  const product = (
    dtype: DType, aPtr: number, bPtr: number, outPtr: number, m: number, k: number, n: number,
    transposeA: boolean, transposeB: boolean, accumulate: boolean, scratchPtr: number,
  ): void => {
    // Element (i, p) of op(A) sits at i·rowA + p·colA; element (p, j) of op(B) at p·rowB + j·colB.
    gemm[dtype](
      m, n, k, aPtr, transposeA ? 1 : k, transposeA ? m : 1, bPtr, transposeB ? 1 : n, transposeB ? k : 1,
      outPtr, n, accumulate ? 1 : 0, scratchPtr,
    )
  }
  return Object.assign(product, { threads: 1, packed, wake: () => undefined })
}

// ---- the Kernels.matmul contract ----

/** True when batch b's matrix starts at `offsets[0] + b·stride` for every b. */
const isStrided = (offsets: Int32Array, stride: number): boolean => {
  for (let b = 1; b < offsets.length; b++) if (offsets[b] !== offsets[0] + b * stride) return false
  return true
}

/**
 * The `matmul` kernel over a loaded module, with the contract of `Kernels.matmul`:
 * `out[b] = op(A_b) · op(B_b)`, A_b at `a[aOffsets[b]…]`, B_b at `b[bOffsets[b]…]`.
 *
 * float32 products accumulate in float32 lanes (the JavaScript kernel accumulates in doubles), so
 * they differ from it within the usual bound for summing k products, k·2⁻²⁴·Σₚ|a_ip|·|b_pj|.
 * float64 products differ only in summation order. One more difference: jsKernels skips zeros of A,
 * so there 0·∞ adds nothing, while here it adds NaN as IEEE arithmetic says (only non-finite B
 * tells them apart). Operands of different dtypes, and products that would need more than 2 GiB of
 * WebAssembly memory, go to `fallback`.
 *
 * @param exports the module's exports
 * @param arena the scratch layout over the module's memory
 * @param fallback the JavaScript kernel, for what WebAssembly cannot take
 * @param product the pointer matmul to run (default: `createPointerMatmul(exports)`; the threaded
 *   backend passes its split one)
 * @category wasm
 */
export const createMatmul = (
  exports: KernelExports, arena: Arena, fallback: Kernels['matmul'], product: PointerMatmul = createPointerMatmul(exports),
): Kernels['matmul'] => {
  const reused = reusedWeights(exports, arena, product)
  return (a, aOffsets, b, bOffsets, m, k, n, transposeA, transposeB) => {
    const dtype = dtypeOf(a)
    if (dtypeOf(b) !== dtype) return fallback(a, aOffsets, b, bOffsets, m, k, n, transposeA, transposeB)
    const size = aOffsets.length * m * n
    if (size === 0 || k === 0) return dtype === 'float32' ? new Float32Array(size) : new Float64Array(size)
    if (aOffsets.length === 1) {
      const out = reused(a, b, m, k, n, transposeA, transposeB)
      if (out !== null) return out
    }
    // [batch, m, k] · [k, n] with one shared B is a single [batch·m, k] · [k, n] product: bigger
    // blocks and one packing of B (the input projection of a whole sequence takes this path).
    const single = !transposeA && aOffsets.length > 1 && isStrided(aOffsets, m * k) && isStrided(bOffsets, 0)
    const [batches, rows] = single ? [1, m * aOffsets.length] : [aOffsets.length, m]
    const out = inMemory(arena, product, a, b, [], rows, k, n, (ptrs) => {
      const bytes = a.BYTES_PER_ELEMENT
      for (let batch = 0; batch < batches; batch++) {
        const aBase = ptrs.a + aOffsets[batch] * bytes
        const bBase = ptrs.b + bOffsets[batch] * bytes
        product(dtype, aBase, bBase, ptrs.out + batch * m * n * bytes, rows, k, n, transposeA, transposeB, false, 0)
      }
    }, size)
    return out ?? fallback(a, aOffsets, b, bOffsets, m, k, n, transposeA, transposeB)
  }
}

/** Recent right operands a product saw, by identity and how it multiplied them. */
interface WeightUse {
  readonly b: Data
  readonly k: number
  readonly n: number
  readonly transposeB: boolean
}

/** Where a kept packed weight starts at the lowest: 16 MiB, above a loop step's other operands. */
const KEPT_WEIGHT_FROM = 16 * 2 ** 20

/** How many recent right operands are remembered: a step's products (say h·w and, backwards, g·wᵀ and hᵀ·g) interleave. */
const RECENT = 4

/**
 * Products that multiply by the same right operand again and again — a weight in every time step
 * of a loop — pack it once and keep the packed copy in WebAssembly memory (the arena's kept range,
 * laid out past the call's own regions), instead of copying and packing it at every call. Tensors
 * never change, so an array seen again holds the same values; the packed copy is used only while
 * the arena still keeps it. It is made on the second use within the last `RECENT` products, and
 * never in place of another kernel's kept range (a sequence kernel's states waiting for their
 * backward pass). Null when the call is not such a product.
 */
const reusedWeights = (exports: KernelExports, arena: Arena, product: PointerMatmul) => {
  const recent: WeightUse[] = []
  let kept: (WeightUse & { readonly from: number; readonly to: number }) | null = null
  const same = (u: WeightUse, b: Data, k: number, n: number, transposeB: boolean): boolean =>
    u.b === b && u.k === k && u.n === n && u.transposeB === transposeB
  return (a: Data, b: Data, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): Data | null => {
    const dtype = dtypeOf(a)
    const bytes = a.BYTES_PER_ELEMENT
    const { ptrs: [aPtr, outPtr], end } = layout(bytes, [a.length, m * n], alignRegion(matmulScratchBytes(dtype, m, k, n, product.threads)))
    const resident = kept !== null && same(kept, b, k, n, transposeB) && arena.kept(kept.from, kept.to) && end <= kept.from ? kept : null
    if (resident === null) {
      // Another kernel's kept range (a recurrence's states, waiting for its backward pass) is worth more.
      if (arena.keeping() && !(kept !== null && arena.kept(kept.from, kept.to))) return null
      const seen = recent.some((u) => same(u, b, k, n, transposeB))
      if (!seen) recent.unshift({ b, k, n, transposeB })
      recent.length = Math.min(recent.length, RECENT)
      if (!seen) return null
    }
    product.wake(m, k, n)
    let packed = resident
    if (packed === null) {
      // The packed copy goes past this call's regions and past what the other operations of a
      // loop's step lay out (elementwise calls on a few MiB), so they leave it in place; the
      // unpacked operand sits past it while it is packed.
      const from = Math.max(end, KEPT_WEIGHT_FROM)
      const to = from + packedWeightBytes(exports, dtype, k, n)
      if (!arena.reserve(to + alignRegion(b.length * bytes))) return null
      arena.view(dtype, to, b.length).set(b)
      packWeight(exports, dtype, to, k, n, transposeB, from)
      arena.keep(from, to)
      packed = kept = { b, k, n, transposeB, from, to }
    } else if (!arena.reserve(end)) {
      return null
    }
    arena.view(dtype, aPtr, a.length).set(a)
    product.packed(dtype, aPtr, packed.from, outPtr, m, k, n, transposeA, false, 0)
    const out = dtype === 'float32' ? new Float32Array(m * n) : new Float64Array(m * n)
    out.set(arena.view(dtype, outPtr, m * n))
    return out
  }
}

/**
 * The `affine` kernel over a loaded module: `x·w` by the pointer matmul, then the module's `add`
 * puts the bias on each row while the product is still in its memory, so the result equals
 * `createMatmul`'s product followed by the `add` kernel bit for bit, without the product's trip out
 * of the module and back. Operands of different dtypes, k = 0 and products that would need more than
 * 2 GiB of memory go to `fallback`.
 * @category wasm
 */
export const createAffine = (
  exports: KernelExports, arena: Arena, fallback: NonNullable<Kernels['affine']>, product: PointerMatmul = createPointerMatmul(exports),
): NonNullable<Kernels['affine']> =>
  (x, w, bias, m, k, n) => {
    const dtype = dtypeOf(x)
    if (dtypeOf(w) !== dtype || dtypeOf(bias) !== dtype || m * n === 0 || k === 0) return fallback(x, w, bias, m, k, n)
    const add = exports[`add_${suffixOf(dtype)}`]
    const out = inMemory(arena, product, x, w, [bias], m, k, n, (ptrs) => {
      product(dtype, ptrs.a, ptrs.b, ptrs.out, m, k, n, false, false, false, 0)
      const rowBytes = n * x.BYTES_PER_ELEMENT
      for (let row = 0; row < m; row++) add(ptrs.out + row * rowBytes, ptrs.more[0], ptrs.out + row * rowBytes, n)
    }, m * n)
    return out ?? fallback(x, w, bias, m, k, n)
  }

/** Where `inMemory` put the operands and the output. */
interface ProductPointers {
  readonly a: number
  readonly b: number
  readonly more: readonly number[]
  readonly out: number
}

/**
 * Lays out scratch | a | b | more… | out (`size` elements) in the module's memory for a product of
 * `rows × k · k × n`, copies the operands in, lets `run` compute into out, and copies out a fresh
 * array; null when the memory cannot grow.
 */
const inMemory = (
  arena: Arena, product: PointerMatmul, a: Data, b: Data, more: readonly Data[], rows: number, k: number, n: number,
  run: (ptrs: ProductPointers) => void, size: number,
): Data | null => {
  const dtype = dtypeOf(a)
  const bytes = a.BYTES_PER_ELEMENT
  product.wake(rows, k, n)
  const operands = [a, b, ...more]
  const { ptrs, end } = layout(bytes, operands.map((x) => x.length), alignRegion(matmulScratchBytes(dtype, rows, k, n, product.threads)))
  if (!arena.reserve(end + size * bytes)) return null
  operands.forEach((x, i) => arena.view(dtype, ptrs[i], x.length).set(x))
  run({ a: ptrs[0], b: ptrs[1], more: ptrs.slice(2), out: end })
  const out = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size)
  out.set(arena.view(dtype, end, size))
  return out
}
