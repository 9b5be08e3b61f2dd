/**
 * @file `Kernels.adam` on the WebAssembly module: a leaf's gradient and moments are copied in chunk
 * by chunk, updated in place in f32x4 / f64x2 lanes (bit for bit the JavaScript kernel, which rounds
 * after every operation too), and the update and new moments copied out.
 */
import { type Data, allocate, dtypeOf } from '../Tensor.js'
import type { AdamConstants, AdamStepData, Kernels } from '../kernels.js'
import { type Arena, alignRegion } from './arena.js'
import { type KernelExports, suffixOf } from './exports.js'

/** Elements per chunk: three regions of 2¹⁶ float32 (768 KiB) stay in the core's L2. */
const CHUNK = 1 << 16

/**
 * The Adam kernel over a loaded module. Leaves shorter than `minSize`, of mixed dtypes or that
 * memory cannot hold go to `fallback` (the JavaScript kernel).
 * @category wasm
 */
export const createAdam = (
  exports: KernelExports, arena: Arena, fallback: NonNullable<Kernels['adam']>, minSize: number,
): NonNullable<Kernels['adam']> => (g: Data, m: Data, v: Data, c: AdamConstants): AdamStepData => {
  const dtype = dtypeOf(g)
  const n = g.length
  if (n < minSize || dtypeOf(m) !== dtype || dtypeOf(v) !== dtype || m.length !== n || v.length !== n) return fallback(g, m, v, c)
  const chunk = Math.min(n, CHUNK)
  const region = alignRegion(chunk * g.BYTES_PER_ELEMENT)
  if (!arena.reserve(3 * region)) return fallback(g, m, v, c)
  const [gIn, mIn, vIn] = [0, 1, 2].map((k) => arena.view(dtype, k * region, chunk))
  const out = { update: allocate(dtype, n), m: allocate(dtype, n), v: allocate(dtype, n) }
  const run = exports[`adam_${suffixOf(dtype)}`]
  for (let start = 0; start < n; start += chunk) {
    const length = Math.min(chunk, n - start)
    gIn.set(g.subarray(start, start + length))
    mIn.set(m.subarray(start, start + length))
    vIn.set(v.subarray(start, start + length))
    run(0, region, 2 * region, length, c.b1, 1 - c.b1, c.b2, 1 - c.b2, c.correct1, c.correct2, c.eps)
    out.update.set(gIn.subarray(0, length), start)
    out.m.set(mIn.subarray(0, length), start)
    out.v.set(vIn.subarray(0, length), start)
  }
  return out
}
