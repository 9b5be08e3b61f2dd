/**
 * @file The blocked matrix product on the WebAssembly kernels (GotoBLAS/BLIS loop order): for each
 * column block of B and each depth block, pack B once; for each row block of A, pack A and let the
 * module's macro-kernel run the register tiles. Transposes are absorbed by the packing strides, so
 * the VJPs' aᵀ·g and g·bᵀ never materialise a transposed copy.
 */
import type { Data } from '../Tensor.js'
import { dtypeOf } from '../Tensor.js'
import type { Kernels } from '../kernels.js'
import { type Arena, alignRegion } from './arena.js'
import { type KernelExports, suffixOf } from './exports.js'

/**
 * Block sizes in elements. A depth block of KC keeps one packed B panel (KC × tileColumns) in L1
 * while a packed A block (MC × KC) streams from L2; NC only bounds the packed B block.
 */
const KC = 256
const MC = 128
const NC = 4096

const roundUp = (x: number, to: number): number => Math.ceil(x / to) * to

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
 * @category wasm
 */
export const createMatmul = (exports: KernelExports, arena: Arena, fallback: Kernels['matmul']): Kernels['matmul'] =>
  (a, aOffsets, b, bOffsets, m, k, n, transposeA, transposeB) => {
    const dtype = dtypeOf(a)
    if (dtypeOf(b) !== dtype) return fallback(a, aOffsets, b, bOffsets, m, k, n, transposeA, transposeB)
    let batches = aOffsets.length
    let rows = m
    // [batch, m, k] · [k, n] with one shared B is a single [batch·m, k] · [k, n] product: bigger
    // blocks and one packing of B (the input projection of a whole sequence takes this path).
    if (!transposeA && batches > 1 && isStrided(aOffsets, m * k) && isStrided(bOffsets, 0)) {
      rows = m * batches
      batches = 1
    }
    const suffix = suffixOf(dtype)
    const tileRows = exports[`tileRows_${suffix}`].value
    const tileColumns = exports[`tileColumns_${suffix}`].value
    const bytes = a.BYTES_PER_ELEMENT
    const size = aOffsets.length * m * n
    // Layout: scratch tile | packed A block | packed B block | a | b | out.
    const mcMax = Math.floor(MC / tileRows) * tileRows
    const kcMax = Math.min(KC, k)
    const packAPtr = alignRegion(tileRows * tileColumns * bytes)
    const packBPtr = packAPtr + alignRegion(roundUp(Math.min(mcMax, rows), tileRows) * kcMax * bytes)
    const aPtr = packBPtr + alignRegion(roundUp(Math.min(NC, n), tileColumns) * kcMax * bytes)
    const bPtr = aPtr + alignRegion(a.length * bytes)
    const outPtr = bPtr + alignRegion(b.length * bytes)
    if (size === 0 || k === 0) return dtype === 'float32' ? new Float32Array(size) : new Float64Array(size)
    if (!arena.reserve(outPtr + size * bytes)) return fallback(a, aOffsets, b, bOffsets, m, k, n, transposeA, transposeB)
    arena.view(dtype, aPtr, a.length).set(a)
    arena.view(dtype, bPtr, b.length).set(b)
    const macro = exports[`macro_${suffix}`]
    const packA = exports[`packA_${suffix}`]
    const packB = exports[`packB_${suffix}`]
    // Element (i, p) of op(A) sits at i·rowA + p·colA; element (p, j) of op(B) at p·rowB + j·colB.
    const [rowA, colA] = transposeA ? [1, m] : [k, 1]
    const [rowB, colB] = transposeB ? [1, k] : [n, 1]
    for (let batch = 0; batch < batches; batch++) {
      const aBase = aPtr + aOffsets[batch] * bytes
      const bBase = bPtr + bOffsets[batch] * bytes
      const cBase = outPtr + batch * m * n * bytes
      for (let jc = 0; jc < n; jc += NC) {
        const nc = Math.min(NC, n - jc)
        for (let pc = 0; pc < k; pc += KC) {
          const kc = Math.min(KC, k - pc)
          packB(bBase + (pc * rowB + jc * colB) * bytes, colB, rowB, nc, kc, packBPtr)
          for (let ic = 0; ic < rows; ic += mcMax) {
            const mc = Math.min(mcMax, rows - ic)
            packA(aBase + (ic * rowA + pc * colA) * bytes, rowA, colA, mc, kc, packAPtr)
            // The first depth block stores into C, later ones add to it.
            macro(mc, nc, kc, packAPtr, packBPtr, cBase + (ic * n + jc) * bytes, n, pc > 0 ? 1 : 0, 0)
          }
        }
      }
    }
    const out = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size)
    out.set(arena.view(dtype, outPtr, size))
    return out
  }
