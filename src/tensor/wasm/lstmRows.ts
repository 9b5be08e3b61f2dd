/**
 * @file The LSTM time loop over a range of batch rows, on operands already in WebAssembly memory.
 * As in the Elman loop (recurrenceRows.ts), rows of a batch never meet in a step's gates or in its
 * backward pass, so a sequence splits into row ranges that run from the first step to the last
 * with no synchronisation: one thread runs every row (recurrence.ts), or the threaded backend hands a
 * range to each thread (threads.ts), and each row gets the same operations in the same order either
 * way, so the results are equal bit for bit. The recurrent weight is packed once per sequence and
 * only read here. `lstmRows` travels to worker threads as source text, so it refers to nothing
 * outside its parameters and JavaScript's globals. Imports only types and the row jobs' common encoding.
 */
import type { KernelExports } from './exports.js'
import { type CopyBytes, type RowJob, type RowMask, encodeRowJob } from './recurrenceRows.js'

/**
 * One LSTM pass, as the numbers a worker receives. Pointers are byte addresses of time-major
 * regions; `n` below is batch·hidden, a step's [batch, hidden] block.
 */
export interface LstmJob extends RowJob, RowMask {
  /**
   * `[time, batch, 4·hidden]`: forwards, p_t on entry, then the pre-activations p_t + h·w (gates i,
   * f, g, o side by side in each row); backwards, written with their cotangents.
   */
  readonly pre: number
  /** `[time, batch, hidden]`: forwards, h_t written; backwards, the cotangents of h_t. */
  readonly hs: number
  /** `[time, batch, hidden]`: forwards, c_t written; backwards, the states c_t read. */
  readonly cs: number
  /** `[time, batch, hidden]`: the cotangents of c_t (backward only). */
  readonly gc: number
  /** `[time, 5, batch, hidden]`: the gates i, f, g, o and tanh(c_t) of each step, gate-major. */
  readonly saved: number
  /** `[batch, hidden]` each: the states before the first processed step (h0 forward only). */
  readonly h0: number
  readonly c0: number
  /** The recurrent weight as this pass multiplies it, packed by `packWeight` (matmul.ts). */
  readonly w: number
  /**
   * `LSTM_WORK_SLOTS` blocks of n elements: i ⊙ g forwards; backwards dh, dc, dh_next, dc_next, a
   * product, dI, dF, dG and dO, where dh_next and dc_next end as dh0 and dc0.
   */
  readonly work: number
}

/** Blocks of batch·hidden elements that a job's `work` region holds. */
export const LSTM_WORK_SLOTS = 9

/** The work slots that hold dh0 and dc0 after a backward pass. */
export const LSTM_DH0_SLOT = 2
export const LSTM_DC0_SLOT = 3

/** The job as the integers `lstmRows` reads (pointers fit: memory stays below 2³¹ bytes). */
export const encodeLstm = (job: LstmJob): number[] => [
  ...encodeRowJob(job), job.pre, job.hs, job.cs, job.gc, job.saved, job.h0, job.c0, job.w, job.work, job.scratch, job.scratchStride,
  job.masked ? 1 : 0, job.valid,
]

/** Integers in an encoded job (the length of `encodeLstm`'s list; the control block reserves them). */
export const LSTM_ARGS = 19

/**
 * Runs an encoded LSTM pass on batch rows [start, start + count) (clipped to the batch), with the
 * matmul scratch slice of `thread`. Forward: pre = p + h·w, i, f, o = σ(…), g = tanh(…),
 * c_t = f ⊙ c + i ⊙ g, h_t = o ⊙ tanh(c_t). Backward: the cotangents of the pre-activations, and of
 * h and c carried to the step before (dh0 and dc0 in the work slots after the first step). With a
 * mask, a padded row copies h and c from the step before (forwards), and backwards its
 * pre-activations' cotangents are 0 and it hands on dh and g_c + dc_next as they are.
 */
export const lstmRows = (
  args: ArrayLike<number>, exports: KernelExports, copy: CopyBytes, thread: number, start: number, count: number,
): void => {
  const [f64, backward, time, batch, hidden, reverse, pre, hs, cs, gc, saved, h0, c0, w, work, scratch, scratchStride, masked, valid] = Array.from(args)
  const rows = Math.min(count, batch - start)
  if (rows <= 0) return
  const suffix = f64 === 1 ? 'f64' : 'f32'
  const bytes = f64 === 1 ? 8 : 4
  const x = exports as unknown as Record<string, (...values: number[]) => void>
  const gemm = x[`gemmPacked_${suffix}`]
  const [sigmoid, tanh, mul, add] = ['sigmoid', 'tanh', 'mul', 'add'].map((op) => x[`${op}_${suffix}`])
  const [sigmoidBackward, tanhBackward] = ['sigmoidBackward', 'tanhBackward'].map((op) => x[`${op}_${suffix}`])
  const columns = (exports as unknown as Record<string, { value: number }>)[`tileColumns_${suffix}`].value
  const row = hidden * bytes
  const stepBytes = batch * row
  const offset = start * row
  const own = scratch + thread * scratchStride
  // This thread's part of work slot k, and of gate slot k of step t (no inner functions here: some
  // transpilers wrap named ones in a helper that the workers would not have).
  const slots = Array.from({ length: 9 }, (_, k) => work + k * stepBytes + offset)
  const n = rows * hidden
  // The memory as elements, to read the step mask (step t's of this thread's first row at
  // validRows + t·batch) and zero padded rows.
  const memory = masked === 1 ? (f64 === 1 ? new Float64Array(exports.memory.buffer) : new Float32Array(exports.memory.buffer)) : null
  const validRows = valid / bytes + start
  if (backward === 0) {
    const width = Math.ceil((4 * hidden) / columns) * columns
    const ig = slots[0]
    let hPrev = h0 + offset
    let cPrev = c0 + offset
    for (let step = 0; step < time; step++) {
      const t = reverse === 1 ? time - 1 - step : step
      const at = t * stepBytes + offset
      const i = saved + 5 * t * stepBytes + offset
      const f = i + stepBytes, g = i + 2 * stepBytes, o = i + 3 * stepBytes, tc = i + 4 * stepBytes
      const preRows = pre + 4 * at
      gemm(rows, 4 * hidden, hidden, hPrev, hidden, 1, w, width, 0, preRows, 4 * hidden, 1, own)
      // Row b holds the gates i, f, g, o side by side; they are kept gate-major.
      for (let b = 0; b < rows; b++) {
        const from = preRows + 4 * b * row
        sigmoid(from, i + b * row, hidden)
        sigmoid(from + row, f + b * row, hidden)
        tanh(from + 2 * row, g + b * row, hidden)
        sigmoid(from + 3 * row, o + b * row, hidden)
      }
      mul(f, cPrev, cs + at, n)
      mul(i, g, ig, n)
      add(cs + at, ig, cs + at, n)
      tanh(cs + at, tc, n)
      mul(o, tc, hs + at, n)
      if (memory !== null) {
        for (let b = 0; b < rows; b++) {
          if (memory[validRows + t * batch + b] !== 0) continue
          copy(hs + at + b * row, hPrev + b * row, row)
          copy(cs + at + b * row, cPrev + b * row, row)
        }
      }
      hPrev = hs + at
      cPrev = cs + at
    }
    return
  }
  const width = Math.ceil(hidden / columns) * columns
  const [dh, dc, dhNext, dcNext, prod, dI, dF, dG, dO] = slots
  for (let step = time - 1; step >= 0; step--) {
    const t = reverse === 1 ? time - 1 - step : step
    const at = t * stepBytes + offset
    const i = saved + 5 * t * stepBytes + offset
    const f = i + stepBytes, g = i + 2 * stepBytes, o = i + 3 * stepBytes, tc = i + 4 * stepBytes
    const before = reverse === 1 ? t + 1 : t - 1
    const cPrev = step === 0 ? c0 + offset : cs + before * stepBytes + offset
    // dh = g_h + dh_next; dc = (g_c + dc_next) + tanh'(c)·(dh ⊙ o).
    if (step === time - 1) {
      copy(dh, hs + at, n * bytes)
      copy(dcNext, gc + at, n * bytes)
    } else {
      add(hs + at, dhNext, dh, n)
      add(gc + at, dcNext, dcNext, n)
    }
    mul(dh, o, prod, n)
    tanhBackward(prod, tc, dc, n)
    add(dcNext, dc, dc, n)
    mul(dc, g, prod, n)
    sigmoidBackward(prod, i, dI, n)
    mul(dc, cPrev, prod, n)
    sigmoidBackward(prod, f, dF, n)
    mul(dc, i, prod, n)
    tanhBackward(prod, g, dG, n)
    mul(dh, tc, prod, n)
    sigmoidBackward(prod, o, dO, n)
    const preRows = pre + 4 * at
    for (let b = 0; b < rows; b++) {
      copy(preRows + 4 * b * row, dI + b * row, row)
      copy(preRows + (4 * b + 1) * row, dF + b * row, row)
      copy(preRows + (4 * b + 2) * row, dG + b * row, row)
      copy(preRows + (4 * b + 3) * row, dO + b * row, row)
    }
    const padded = validRows + t * batch
    if (memory !== null) {
      for (let b = 0; b < rows; b++) if (memory[padded + b] === 0) memory.fill(0, (preRows + 4 * b * row) / bytes, (preRows + 4 * (b + 1) * row) / bytes)
    }
    gemm(rows, hidden, 4 * hidden, preRows, 4 * hidden, 1, w, width, 0, dhNext, hidden, 0, own)
    if (memory === null) {
      mul(dc, f, dcNext, n)
      continue
    }
    // A padded row hands on dh and g_c + dc_next (in dc_next's place, kept in prod, free by now).
    for (let b = 0; b < rows; b++) {
      if (memory[padded + b] !== 0) continue
      copy(dhNext + b * row, dh + b * row, row)
      copy(prod + b * row, dcNext + b * row, row)
    }
    mul(dc, f, dcNext, n)
    for (let b = 0; b < rows; b++) if (memory[padded + b] === 0) copy(dcNext + b * row, prod + b * row, row)
  }
}
