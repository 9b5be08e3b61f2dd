/**
 * @file `Kernels.linearRecurrence` and `linearRecurrenceBackward` on the WebAssembly module: the
 * time axis is cut into chunks of rows that fit the core's L2 together; each chunk's operands are
 * copied in, scanned (scripts/wasm/linearRecurrenceWat.ts) and copied out, the state (forwards)
 * or the f64 carry (backwards) staying in memory from one chunk to the next. Bit for bit the
 * JavaScript kernels, which also compute each element in doubles and round it once.
 */
import { type Data, allocate, dtypeOf } from '../Tensor.js'
import type { Kernels, LinearRecurrenceBackward } from '../kernels.js'
import { type Arena, alignRegion, layout } from './arena.js'
import { type KernelExports, suffixOf } from './exports.js'

/** Elements per operand and chunk: five float32 regions of 2¹⁶ (1.25 MiB) stay near the core. */
const CHUNK = 1 << 16

/** Rows per chunk for rows of `size` elements. */
const chunkRows = (time: number, size: number): number => Math.max(1, Math.min(time, Math.floor(CHUNK / size)))

/**
 * The forward kernel over a loaded module. Runs shorter than `minSize` elements, of mixed dtypes or
 * that memory cannot hold go to `fallback` (the JavaScript kernel).
 * @category wasm
 */
export const createLinearRecurrence = (
  exports: KernelExports, arena: Arena, fallback: NonNullable<Kernels['linearRecurrence']>, minSize: number,
): NonNullable<Kernels['linearRecurrence']> => (a: Data, b: Data, h0: Data, time: number, size: number, complex: boolean): Data => {
  const dtype = dtypeOf(a)
  if (time * size < minSize || size === 0 || dtypeOf(b) !== dtype || dtypeOf(h0) !== dtype) return fallback(a, b, h0, time, size, complex)
  const rows = chunkRows(time, size)
  const { ptrs: [pa, pb, pout, pprev], end } = layout(a.BYTES_PER_ELEMENT, [rows * size, rows * size, rows * size, size])
  if (!arena.reserve(end)) return fallback(a, b, h0, time, size, complex)
  const [va, vb, vout] = [pa, pb, pout].map((p) => arena.view(dtype, p, rows * size))
  const vprev = arena.view(dtype, pprev, size)
  const run = exports[`linearRecurrence${complex ? 'Complex' : ''}_${suffixOf(dtype)}`]
  const out = allocate(dtype, time * size)
  vprev.set(h0)
  for (let t0 = 0; t0 < time; t0 += rows) {
    const r = Math.min(rows, time - t0)
    va.set(a.subarray(t0 * size, (t0 + r) * size))
    vb.set(b.subarray(t0 * size, (t0 + r) * size))
    run(pa, pb, pprev, pout, r, size)
    out.set(vout.subarray(0, r * size), t0 * size)
    vprev.set(vout.subarray((r - 1) * size, r * size))
  }
  return out
}

/**
 * The backward kernel over a loaded module, chunks from the last; fallbacks as the forward one.
 * @category wasm
 */
export const createLinearRecurrenceBackward = (
  exports: KernelExports, arena: Arena, fallback: NonNullable<Kernels['linearRecurrenceBackward']>, minSize: number,
): NonNullable<Kernels['linearRecurrenceBackward']> => (g, a, hs, h0, time, size, complex): LinearRecurrenceBackward => {
  const dtype = dtypeOf(a)
  const mixed = [g, hs, h0].some((x) => dtypeOf(x) !== dtype)
  if (time * size < minSize || size === 0 || mixed) return fallback(g, a, hs, h0, time, size, complex)
  const rows = chunkRows(time, size)
  const { ptrs: [pg, pa, pprev, pda, pdb], end } = layout(a.BYTES_PER_ELEMENT, [rows * size, rows * size, rows * size, rows * size, rows * size])
  const pcarry = end
  if (!arena.reserve(pcarry + alignRegion(8 * size))) return fallback(g, a, hs, h0, time, size, complex)
  const [vg, va, vprev, vda, vdb] = [pg, pa, pprev, pda, pdb].map((p) => arena.view(dtype, p, rows * size))
  const carry = arena.view('float64', pcarry, size).fill(0)
  const run = exports[`linearRecurrenceBackward${complex ? 'Complex' : ''}_${suffixOf(dtype)}`]
  const da = allocate(dtype, time * size)
  const db = allocate(dtype, time * size)
  for (let t1 = time; t1 > 0; t1 -= rows) {
    const t0 = Math.max(0, t1 - rows)
    const r = t1 - t0
    vg.set(g.subarray(t0 * size, t1 * size))
    va.set(a.subarray(t0 * size, t1 * size))
    // Row t of prev is h_{t−1}: h0 before the first step.
    if (t0 === 0) {
      vprev.set(h0)
      vprev.set(hs.subarray(0, (t1 - 1) * size), size)
    } else vprev.set(hs.subarray((t0 - 1) * size, (t1 - 1) * size))
    run(pg, pa, pprev, pda, pdb, pcarry, r, size)
    da.set(vda.subarray(0, r * size), t0 * size)
    db.set(vdb.subarray(0, r * size), t0 * size)
  }
  const dh0 = allocate(dtype, size)
  dh0.set(carry)
  return { da, db, dh0 }
}
