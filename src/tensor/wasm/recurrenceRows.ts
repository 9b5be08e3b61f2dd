/**
 * @file The time loop of the Elman / RNN kernels over a range of batch rows, on operands already in
 * WebAssembly memory. Rows of a batch never meet in `h_t = σ(p_t + h_{t−1}·w)` or in its backward
 * pass, so a sequence splits into row ranges that run from the first step to the last with no
 * synchronisation: one thread runs every row (recurrence.ts), or the threaded backend hands a range
 * to each thread (threads.ts), and either way each row gets the same operations in the same order,
 * so the results are equal bit for bit. `recurrenceRows` travels to worker threads as source text,
 * so it refers to nothing outside its parameters and JavaScript's globals. Imports only types.
 */
import type { RecurrentActivation } from '../kernels.js'
import type { KernelExports } from './exports.js'

/**
 * What every row job (this Elman / RNN loop, lstmRows.ts, gruRows.ts) starts with: the first six
 * integers of its encoding (`encodeRowJob`), and its matmul scratch.
 */
export interface RowJob {
  readonly dtype: 'float32' | 'float64'
  /** false: the forward pass; true: the backward pass through time. */
  readonly backward: boolean
  readonly time: number
  readonly batch: number
  readonly hidden: number
  readonly reverse: boolean
  /** Matmul scratch of `scratchStride` bytes per thread. */
  readonly scratch: number
  readonly scratchStride: number
}

/**
 * What every row job reads of a run's step mask (`RecurrenceExtent.mask`): `valid`, when `masked`,
 * is a time-major `[time, batch]` region in the job's dtype, 0 for a padded step, where a row keeps
 * its state and, backwards, hands its cotangent straight on with a zero pre-activation cotangent.
 * Read through a view of the memory, which no call within a job grows.
 */
export interface RowMask {
  readonly masked: boolean
  readonly valid: number
}

/** A row job's first six integers: dtype (1 for float64), backward, time, batch, hidden, reverse. */
export const encodeRowJob = (job: RowJob): number[] =>
  [job.dtype === 'float64' ? 1 : 0, job.backward ? 1 : 0, job.time, job.batch, job.hidden, job.reverse ? 1 : 0]

/** Runs an encoded row job on batch rows [start, start + count), with the scratch slice of `thread`. */
export type RowFunction = (
  args: ArrayLike<number>, exports: KernelExports, copy: CopyBytes, thread: number, start: number, count: number,
) => void

/**
 * One recurrence, as the numbers a worker receives (all pointers are byte addresses of time-major
 * regions; see `recurrenceRows`). Forwards, hs holds p on entry, or the job projects the inputs
 * itself (`inputs` > 0); backwards, the pass writes dz.
 */
export interface RecurrenceJob extends RowJob, RowMask {
  readonly activation: RecurrentActivation
  /**
   * `[time, batch, hidden]`: p_t on entry to the forward pass (unless the job projects x), then h_t;
   * the states in the backward one.
   */
  readonly hs: number
  /** `[batch, hidden]`: the state before the first processed step (forward only). */
  readonly h0: number
  /**
   * The weight as this pass multiplies it, packed once by `packWeight` (matmul.ts): op(w) forwards,
   * op(w)ᵀ backwards, where op(w) is w, or wᵀ for PyTorch's weight_hh layout.
   */
  readonly w: number
  /** `[time, batch, hidden]`: the cotangents of the outputs (backward only, when `steps`). */
  readonly g: number
  /** Backward only: whether g holds every step's cotangents (false: none arrived, g is not read). */
  readonly steps: boolean
  /**
   * `[batch, hidden]`: the final state's cotangent, added to the last processed step's (backward
   * only, when `withLast`).
   */
  readonly last: number
  readonly withLast: boolean
  /** `[time, batch, hidden]`: written with dz_t (backward only). */
  readonly dz: number
  /** `[batch, hidden]` each: dz·wᵀ carried to the previous step, zeros and the relu mask (backward only). */
  readonly carry: number
  readonly zeros: number
  readonly mask: number
  /**
   * The caller's sequences are batch-major `[batch, time, hidden]`: the forward pass's p is read from
   * `sequenceIn` (when it projects, x is read in place instead) and its h_t written back there; the
   * backward pass's g is read from `sequenceIn`, its states from `statesIn`, and dz written back to
   * `sequenceIn`. Each thread moves its own rows between these and the time-major regions above, so
   * the reordering is split too.
   */
  readonly staged: boolean
  readonly sequenceIn: number
  readonly statesIn: number
  /** Backward only: the time-major states are in `hs` already (left there by the forward pass), so `statesIn` is not read. */
  readonly statesReady: boolean
  /**
   * Forward only: write the outputs back to `sequenceIn` when staged; false when only the final
   * state is read (from `hs`, time-major), so the reordering is skipped.
   */
  readonly withOutputs: boolean
  /** Backward only: carry the first processed step's dz·wᵀ too, so that `carry` ends as dh0. */
  readonly withState: boolean
  /**
   * Forward only: columns of the inputs x when the job computes p_t = x_t·wIn itself, each step
   * for its own rows (so p never exists as a whole and needs no reordering); 0 when hs holds p.
   */
  readonly inputs: number
  /** The inputs `[batch, time, inputs]` when staged, else `[time, batch, inputs]`. */
  readonly x: number
  /** wIn `[inputs, hidden]`, packed once by `packWeight`. */
  readonly wIn: number
  /** `[batch, hidden]`: a padded row's incoming cotangent, kept across dz's product (backward only, when masked). */
  readonly pass: number
}


/** Activation codes; `recurrenceRows` spells the same list, since its source travels to the workers. */
const ACTIVATIONS: readonly RecurrentActivation[] = ['tanh', 'sigmoid', 'relu']

/** The job as the integers `recurrenceRows` reads (pointers fit: memory stays below 2³¹ bytes). */
export const encodeRecurrence = (job: RecurrenceJob): number[] => [
  ...encodeRowJob(job), ACTIVATIONS.indexOf(job.activation), job.hs, job.h0, job.w, job.g, job.dz, job.carry, job.zeros, job.mask,
  job.scratch, job.scratchStride, job.staged ? 1 : 0, job.sequenceIn, job.statesIn, job.withState ? 1 : 0, job.inputs, job.x, job.wIn,
  job.steps ? 1 : 0, job.last, job.withLast ? 1 : 0, job.statesReady ? 1 : 0, job.withOutputs ? 1 : 0,
  job.masked ? 1 : 0, job.valid, job.pass,
]

/** Integers in an encoded job (the length of `encodeRecurrence`'s list; the control block reserves them). */
export const RECURRENCE_ARGS = 32

/** Copies `bytes` bytes within the module's memory (the thread's own view of it). */
export type CopyBytes = (dst: number, src: number, bytes: number) => void

/**
 * Runs an encoded recurrence on batch rows [start, start + count) (clipped to the batch), with the
 * matmul scratch slice of `thread`. Forward: `h_t = σ(p_t + h_{t−1}·w)` in place of p_t (or with
 * p_t = x_t·wIn computed there first, when the job projects). Backward:
 * `dz_t = σ'(h_t)·(g_t + dz_{t+1}·wᵀ)` (the final state's cotangent joining g_t at the last processed step), and with `withState` dh0 = dz·wᵀ of the first processed step
 * left in `carry` (dw is the caller's). Staged sequences are reordered in and out with the module's strided gather, which
 * writes exactly its output, so threads never touch each other's rows. With a mask, a padded row's
 * state is copied from the step before (forwards), and backwards its dz is 0 and its incoming
 * cotangent is copied on in place of dz·wᵀ: row by row, each thread its own rows.
 */
export const recurrenceRows = (
  args: ArrayLike<number>, exports: KernelExports, copy: CopyBytes, thread: number, start: number, count: number,
): void => {
  const [
    f64, backward, time, batch, hidden, reverse, activationIndex, hs, h0, w, g, dz, carry, zeros, mask, scratch, scratchStride,
    staged, sequenceIn, statesIn, withState, inputs, x, wIn, steps, last, withLast, statesReady, withOutputs, masked, valid, pass,
  ] = Array.from(args)
  const rows = Math.min(count, batch - start)
  if (rows <= 0) return
  const suffix = f64 === 1 ? 'f64' : 'f32'
  const bytes = f64 === 1 ? 8 : 4
  const fn = exports as unknown as Record<string, (...values: number[]) => void>
  const gemm = fn[`gemmPacked_${suffix}`]
  const columns = (exports as unknown as Record<string, { value: number }>)[`tileColumns_${suffix}`].value
  const width = Math.ceil(hidden / columns) * columns
  const gather = fn[`gatherStrided_${suffix}`]
  const activation = ['tanh', 'sigmoid', 'relu'][activationIndex]
  const n = rows * hidden
  const offset = start * hidden * bytes
  const own = scratch + thread * scratchStride
  // Step s's rows of a time-major sequence start at first + s·stride bytes. (No inner functions
  // here: some transpilers wrap named ones in a helper that the workers would not have.)
  const stepBytes = batch * hidden * bytes
  const first = offset + (reverse === 1 ? (time - 1) * stepBytes : 0)
  const stride = reverse === 1 ? -stepBytes : stepBytes
  // This thread's rows of a batch-major sequence are one block; time index t of batch row b sits at
  // block + (b·time + t)·hidden, of the time-major copy at (t·batch + b)·hidden (elements).
  const block = start * time * hidden * bytes
  // The memory as elements, to read the step mask and zero padded rows; step t's mask of this
  // thread's first row is element validRows + t·batch.
  const memory = masked === 1 ? (f64 === 1 ? new Float64Array(exports.memory.buffer) : new Float32Array(exports.memory.buffer)) : null
  const validRows = valid / bytes + start
  const row = hidden * bytes
  if (staged === 1) {
    const ins = backward === 0
      ? (inputs > 0 ? [] : [[sequenceIn, hs]])
      : [...(steps === 1 ? [[sequenceIn, g]] : []), ...(statesReady === 1 ? [] : [[statesIn, hs]])]
    for (const [from, to] of ins) {
      for (let t = 0; t < time; t++) {
        gather(from + block + t * hidden * bytes, to + t * stepBytes + offset, hidden, 1, 1, 0, 1, 0, rows, time * hidden)
      }
    }
  }
  if (backward === 0) {
    const map = fn[`${activation}_${suffix}`]
    // Row b of x at time t: element (b·time + t)·inputs when staged (batch-major), else (t·batch + b)·inputs.
    const xRowStride = staged === 1 ? time * inputs : inputs
    let h = h0 + offset
    for (let step = 0; step < time; step++) {
      const out = hs + first + step * stride
      const t = reverse === 1 ? time - 1 - step : step
      if (inputs > 0) {
        const xAt = x + (staged === 1 ? start * time + t : t * batch + start) * inputs * bytes
        gemm(rows, hidden, inputs, xAt, xRowStride, 1, wIn, width, 0, out, hidden, 0, own)
      }
      gemm(rows, hidden, hidden, h, hidden, 1, w, width, 0, out, hidden, 1, own)
      map(out, out, n)
      if (memory !== null) {
        for (let b = 0; b < rows; b++) if (memory[validRows + t * batch + b] === 0) copy(out + b * row, h + b * row, row)
      }
      h = out
    }
  } else {
    const add = fn[`add_${suffix}`]
    const [ownCarry, ownZeros, ownMask, ownPass] = [carry + offset, zeros + offset, mask + offset, pass + offset]
    for (let step = time - 1; step >= 0; step--) {
      const at = first + step * stride
      const padded = validRows + (reverse === 1 ? time - 1 - step : step) * batch
      const d = dz + at
      const y = hs + at
      // dh = g_t + dz_{next}·wᵀ (at the last step g_t + the final state's cotangent), then
      // dz = σ'·dh, in dz's own place. Without g, the step after wrote dz_{next}·wᵀ there itself.
      if (step === time - 1) {
        // g_t plus the final state's cotangent, or whichever arrived (zeros when neither did).
        copy(d, steps === 1 ? g + at : withLast === 1 ? last + offset : ownZeros, n * bytes)
        if (steps === 1 && withLast === 1) add(d, last + offset, d, n)
      } else if (steps === 1) {
        add(g + at, ownCarry, d, n)
      }
      // A padded row's dh passes on as it is: kept aside while d becomes dz.
      if (memory !== null) {
        for (let b = 0; b < rows; b++) if (memory[padded + b] === 0) copy(ownPass + b * row, d + b * row, row)
      }
      if (activation === 'relu') {
        fn[`greater_${suffix}`](y, ownZeros, ownMask, n)
        fn[`mul_${suffix}`](d, ownMask, d, n)
      } else {
        fn[`${activation}Backward_${suffix}`](d, y, d, n)
      }
      if (memory !== null) {
        for (let b = 0; b < rows; b++) if (memory[padded + b] === 0) memory.fill(0, (d + b * row) / bytes, (d + (b + 1) * row) / bytes)
      }
      const into = step > 0 && steps === 0 ? d - stride : ownCarry
      if (step > 0 || withState === 1) {
        gemm(rows, hidden, hidden, d, hidden, 1, w, width, 0, into, hidden, 0, own)
        if (memory !== null) {
          for (let b = 0; b < rows; b++) if (memory[padded + b] === 0) copy(into + b * row, ownPass + b * row, row)
        }
      }
    }
  }
  // Time-major → batch-major, the outputs (h_t, or dz_t) back over the block: row after row, each
  // row's time indices batch·hidden apart.
  if (staged === 1 && (backward === 1 || withOutputs === 1)) {
    gather((backward === 1 ? dz : hs) + offset, sequenceIn + block, hidden, 1, 1, 0, rows, hidden, time, batch * hidden)
  }
}

/** `CopyBytes` over a memory, as seen from the current thread. */
export const copyBytesIn = (memory: { readonly buffer: ArrayBufferLike }): CopyBytes =>
  (dst, src, bytes) => { new Uint8Array(memory.buffer).copyWithin(dst, src, src + bytes) }

/**
 * A row job's runner on the calling thread alone: every row, with the first scratch slice.
 * @category wasm
 */
export const runOnCaller = <J extends RowJob>(exports: KernelExports, rows: RowFunction, encode: (job: J) => number[]): ((job: J) => void) => {
  const copy = copyBytesIn(exports.memory)
  return (job) => rows(encode(job), exports, copy, 0, 0, job.batch)
}
