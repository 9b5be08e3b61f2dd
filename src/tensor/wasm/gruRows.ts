/**
 * @file The GRU time loop over a range of batch rows, on operands already in WebAssembly memory:
 * the GRU's counterpart of lstmRows.ts (rows never meet, so row ranges run on different threads
 * with results equal bit for bit to one thread's). `gruRows` travels to worker threads as source
 * text, so it refers to nothing outside its parameters and JavaScript's globals. Imports only types
 * and the row jobs' common encoding.
 */
import type { KernelExports } from './exports.js'
import { type CopyBytes, type RowJob, type RowMask, encodeRowJob } from './recurrenceRows.js'

/**
 * One GRU pass, as the numbers a worker receives. Pointers are byte addresses of time-major
 * regions; `n` below is batch·hidden, a step's [batch, hidden] block.
 */
export interface GruJob extends RowJob, RowMask {
  /**
   * `[time, batch, 3·hidden]`: forwards, the projected inputs p_t (gates r, z, n side by side in each
   * row), read; backwards, written with the cotangents of p.
   */
  readonly pre: number
  /** `[time, batch, hidden]`: forwards, h_t written; backwards, the states h_t read. */
  readonly hs: number
  /** `[time, batch, hidden]`: the cotangents of h_t (backward only). */
  readonly g: number
  /** `[time, 4, batch, hidden]`: r, z, the candidate n and hh_n = (h·w + b)_n of each step, gate-major. */
  readonly saved: number
  /** `[batch, hidden]`: the state before the first processed step. */
  readonly h0: number
  /** The recurrent weight as this pass multiplies it, packed by `packWeight` (matmul.ts). */
  readonly w: number
  /**
   * Forwards, `[batch, 3·hidden]`: b_hh repeated over the rows; backwards, `[time, batch, 3·hidden]`:
   * written with the cotangents of h·w + b_hh.
   */
  readonly side: number
  /**
   * `GRU_WORK_SLOTS` blocks of n elements: forwards hh (three blocks) and a product; backwards dh,
   * dh_next, a product, dn, dz, dan, dar, daz and dhn, where dh_next ends as dh0.
   */
  readonly work: number
}

/** Blocks of batch·hidden elements that a backward job's `work` region holds (a forward one uses 4). */
export const GRU_WORK_SLOTS = 9

/** The work slot that holds dh0 after a backward pass. */
export const GRU_DH0_SLOT = 1

/** The job as the integers `gruRows` reads (pointers fit: memory stays below 2³¹ bytes). */
export const encodeGru = (job: GruJob): number[] => [
  ...encodeRowJob(job), job.pre, job.hs, job.g, job.saved, job.h0, job.w, job.side, job.work, job.scratch, job.scratchStride,
  job.masked ? 1 : 0, job.valid,
]

/** Integers in an encoded job (the length of `encodeGru`'s list; the control block reserves them). */
export const GRU_ARGS = 18

/**
 * Runs an encoded GRU pass on batch rows [start, start + count) (clipped to the batch), with the
 * matmul scratch slice of `thread`. Forward: hh = h·w + b_hh, r, z = σ(p + hh), n = tanh(p_n + r ⊙ hh_n),
 * h_t = n + z ⊙ (h − n). Backward: the cotangents of p and of hh, and of h carried to the step
 * before (dh0 in a work slot after the first step). With a mask, a padded row copies h from the
 * step before (forwards), and backwards its cotangents of p and hh are 0 and it hands on dh.
 */
export const gruRows = (
  args: ArrayLike<number>, exports: KernelExports, copy: CopyBytes, thread: number, start: number, count: number,
): void => {
  const [f64, backward, time, batch, hidden, reverse, pre, hs, g, saved, h0, w, side, work, scratch, scratchStride, masked, valid] = Array.from(args)
  const rows = Math.min(count, batch - start)
  if (rows <= 0) return
  const suffix = f64 === 1 ? 'f64' : 'f32'
  const bytes = f64 === 1 ? 8 : 4
  const x = exports as unknown as Record<string, (...values: number[]) => void>
  const gemm = x[`gemmPacked_${suffix}`]
  const [sigmoid, tanh, mul, add, sub] = ['sigmoid', 'tanh', 'mul', 'add', 'sub'].map((op) => x[`${op}_${suffix}`])
  const [sigmoidBackward, tanhBackward] = ['sigmoidBackward', 'tanhBackward'].map((op) => x[`${op}_${suffix}`])
  const columns = (exports as unknown as Record<string, { value: number }>)[`tileColumns_${suffix}`].value
  const row = hidden * bytes
  const stepBytes = batch * row
  const offset = start * row
  const own = scratch + thread * scratchStride
  const n = rows * hidden
  // This thread's part of work slot k (9 is GRU_WORK_SLOTS; no inner functions here: some
  // transpilers wrap named ones in a helper that the workers would not have).
  const slots = Array.from({ length: 9 }, (_, k) => work + k * stepBytes + offset)
  // The memory as elements, to read the step mask (step t's of this thread's first row at
  // validRows + t·batch) and zero padded rows.
  const memory = masked === 1 ? (f64 === 1 ? new Float64Array(exports.memory.buffer) : new Float32Array(exports.memory.buffer)) : null
  const validRows = valid / bytes + start
  if (backward === 0) {
    const width = Math.ceil((3 * hidden) / columns) * columns
    // hh fills the first three slots as this thread's [rows, 3·hidden] block.
    const hh = work + 3 * offset
    const prod = slots[3]
    let hPrev = h0 + offset
    for (let step = 0; step < time; step++) {
      const t = reverse === 1 ? time - 1 - step : step
      const at = t * stepBytes + offset
      const r = saved + 4 * t * stepBytes + offset
      const z = r + stepBytes, candidate = r + 2 * stepBytes, hn = r + 3 * stepBytes
      // hh = h·w + b stays apart from p_t: r multiplies its n block, b_hn included.
      gemm(rows, 3 * hidden, hidden, hPrev, hidden, 1, w, width, 0, hh, 3 * hidden, 0, own)
      add(hh, side + 3 * offset, hh, 3 * n)
      // Row b of p_t and hh holds the gates r, z, n side by side; the saved gates are kept gate-major.
      for (let b = 0; b < rows; b++) {
        const pRow = pre + 3 * at + 3 * b * row
        const hhRow = hh + 3 * b * row
        add(pRow, hhRow, r + b * row, hidden)
        add(pRow + row, hhRow + row, z + b * row, hidden)
        copy(hn + b * row, hhRow + 2 * row, row)
        copy(candidate + b * row, pRow + 2 * row, row)
      }
      sigmoid(r, r, n)
      sigmoid(z, z, n)
      // n = tanh(p_n + r ⊙ hh_n), h_t = n + z ⊙ (h − n), written in place in the outputs.
      mul(r, hn, prod, n)
      add(candidate, prod, candidate, n)
      tanh(candidate, candidate, n)
      sub(hPrev, candidate, prod, n)
      mul(z, prod, prod, n)
      add(candidate, prod, hs + at, n)
      if (memory !== null) {
        for (let b = 0; b < rows; b++) if (memory[validRows + t * batch + b] === 0) copy(hs + at + b * row, hPrev + b * row, row)
      }
      hPrev = hs + at
    }
    return
  }
  const width = Math.ceil(hidden / columns) * columns
  const [dh, dhNext, prod, dn, dz, dan, dar, daz, dhn] = slots
  for (let step = time - 1; step >= 0; step--) {
    const t = reverse === 1 ? time - 1 - step : step
    const at = t * stepBytes + offset
    const r = saved + 4 * t * stepBytes + offset
    const z = r + stepBytes, candidate = r + 2 * stepBytes, hn = r + 3 * stepBytes
    const before = reverse === 1 ? t + 1 : t - 1
    const hPrev = step === 0 ? h0 + offset : hs + before * stepBytes + offset
    // dh = g_t + dh_next; dn = dh − dh ⊙ z; dz = dh ⊙ (h_prev − n).
    if (step === time - 1) copy(dh, g + at, n * bytes)
    else add(g + at, dhNext, dh, n)
    // dh ⊙ z goes to dh_next's place (read above, free now): it is also dh_prev's first term.
    mul(dh, z, dhNext, n)
    sub(dh, dhNext, dn, n)
    sub(hPrev, candidate, prod, n)
    mul(dh, prod, dz, n)
    tanhBackward(dn, candidate, dan, n)
    mul(dan, hn, prod, n)
    sigmoidBackward(prod, r, dar, n)
    sigmoidBackward(dz, z, daz, n)
    mul(dan, r, dhn, n)
    const dPre = pre + 3 * at
    const dHidden = side + 3 * at
    for (let b = 0; b < rows; b++) {
      copy(dPre + 3 * b * row, dar + b * row, row)
      copy(dPre + (3 * b + 1) * row, daz + b * row, row)
      copy(dPre + (3 * b + 2) * row, dan + b * row, row)
      copy(dHidden + 3 * b * row, dar + b * row, row)
      copy(dHidden + (3 * b + 1) * row, daz + b * row, row)
      copy(dHidden + (3 * b + 2) * row, dhn + b * row, row)
    }
    const padded = validRows + t * batch
    if (memory !== null) {
      for (let b = 0; b < rows; b++) {
        if (memory[padded + b] !== 0) continue
        memory.fill(0, (dPre + 3 * b * row) / bytes, (dPre + 3 * (b + 1) * row) / bytes)
        memory.fill(0, (dHidden + 3 * b * row) / bytes, (dHidden + 3 * (b + 1) * row) / bytes)
      }
    }
    // dh_prev = dh ⊙ z + dHidden_t·wᵀ, the product accumulated onto the first term in place.
    gemm(rows, hidden, 3 * hidden, dHidden, 3 * hidden, 1, w, width, 0, dhNext, hidden, 1, own)
    // A padded row hands on dh as it is.
    if (memory !== null) {
      for (let b = 0; b < rows; b++) if (memory[padded + b] === 0) copy(dhNext + b * row, dh + b * row, row)
    }
  }
}
