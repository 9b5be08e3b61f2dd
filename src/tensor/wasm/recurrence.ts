/**
 * @file Whole-sequence recurrent kernels on the WebAssembly module: the operands are copied in
 * once, the recurrent weight is packed once for all the steps' products (`packWeight`), every time
 * step runs on WebAssembly memory, and the results are copied out once. The time loops themselves
 * are row jobs (recurrenceRows.ts for Elman / RNN, lstmRows.ts, gruRows.ts), which the threaded
 * backend splits into ranges of batch rows; the projected Elman form computes p_t = x_t·wIn in its
 * row job, step by step, and, backwards, dx, dwIn and dh0 here. A forward pass leaves its states
 * (and an LSTM or GRU its gates) in memory, where its backward pass reads them unless another call
 * has laid operands over them since, and every backward pass computes the recurrent weight's
 * cotangent there as one product over all steps. A step mask (`RecurrenceExtent.mask`) is copied
 * in time-major once per call, and the row jobs read it per step and row. Each step makes the same roundings, in the same
 * order, as the composition in ../recurrence.ts; only the products' summation order may differ (as
 * between any two matmuls).
 * The elementwise exports write exactly n elements and may run in place.
 */
import type { DType, Data } from '../Tensor.js'
import { dtypeOf } from '../Tensor.js'
import type {
  FinalStates, GruBackward, GruForward, LstmBackward, LstmForward, RecurrenceExtent, RecurrentActivation, SequenceCotangent, SequenceStates,
} from '../kernels.js'
import { type ComposedRecurrence, stepAt, statesData } from '../recurrence.js'
import { type Arena, alignRegion, layout } from './arena.js'
import { type KernelExports, suffixOf } from './exports.js'
import { type PointerMatmul, matmulScratchBytes, packWeight, packedWeightBytes } from './matmul.js'
import { GRU_DH0_SLOT, GRU_WORK_SLOTS, type GruJob, encodeGru, gruRows } from './gruRows.js'
import { LSTM_DC0_SLOT, LSTM_DH0_SLOT, LSTM_WORK_SLOTS, type LstmJob, encodeLstm, lstmRows } from './lstmRows.js'
import { type RecurrenceJob, encodeRecurrence, recurrenceRows, runOnCaller } from './recurrenceRows.js'

/** The nine optional recurrence members of `Kernels`, all present. */
export type RecurrenceKernels = ComposedRecurrence

/** Everything one kernel call needs to address the module's memory in one dtype. */
interface Session {
  readonly bytes: number
  /** Byte address of the matmul scratch (the end of the laid-out regions). */
  readonly scratch: number
  /** The whole memory as elements of the dtype (valid until the next `reserve`). */
  readonly memory: Data
  /** Writes `data` at a byte address. */
  put(ptr: number, data: Data): void
  /** Reads n elements at a byte address into a fresh array. */
  take(ptr: number, n: number): Data
  matmul(a: number, b: number, out: number, m: number, k: number, n: number, transposeB: boolean, accumulate: boolean, transposeA?: boolean): void
  /** Packs op(B) (k × n; B stored [n, k] when `transposeB`) at `packed` for the row jobs' products. */
  pack(b: number, k: number, n: number, transposeB: boolean, packed: number): void
}

/** Whether a sequence in the extent's layout is stored differently from time-major. */
const transposes = ({ batchMajor, batch, time }: RecurrenceExtent): boolean => batchMajor === true && batch > 1 && time > 1

/** Elements of the region of a run's step mask: none without one, else `[time, batch]`. */
const maskSize = ({ mask, time, batch }: RecurrenceExtent): number => (mask === undefined ? 0 : time * batch)

/**
 * Copies the extent's step mask, if any, time-major to `ptr` (as the row jobs read it, in the
 * session's dtype); the jobs' mask fields.
 */
const putMask = (s: Session, extent: RecurrenceExtent, ptr: number): { masked: boolean; valid: number } => {
  const { mask, time, batch } = extent
  if (mask === undefined) return { masked: false, valid: 0 }
  if (mask.length !== time * batch) {
    throw new Error(`recurrence kernels: extent.mask must hold time·batch = ${time * batch} values ([time, batch], or [batch, time] when batchMajor), got ${mask.length}.`)
  }
  const at = ptr / s.bytes
  if (extent.batchMajor !== true) s.memory.set(mask, at)
  else for (let b = 0; b < batch; b++) for (let t = 0; t < time; t++) s.memory[at + t * batch + b] = mask[b * time + t]
  return { masked: true, valid: ptr }
}

/** Elements of the staging region of a sequence: none when it is stored time-major, else the whole sequence. */
const stagingSize = (extent: RecurrenceExtent): number => (transposes(extent) ? extent.time * extent.batch * extent.hidden : 0)

/** A product's sizes: op(A) is m × k, op(B) is k × n. */
type ProductSize = readonly [m: number, k: number, n: number]

/**
 * The largest product of an Elman / RNN row job, which sizes each thread's matmul scratch: a step's
 * h·w, or its x_t·wIn when the job projects wider inputs.
 */
const rowProduct = ({ batch, hidden }: RecurrenceExtent, inputs: number): ProductSize => [batch, Math.max(hidden, inputs), hidden]

/** What an Elman / RNN forward pass starts from: the projected inputs, or the inputs and the projection. */
type ElmanSource = { readonly p: Data } | { readonly x: Data; readonly wIn: Data }

/** The time loops that run over ranges of batch rows, each job to its end, on one thread or split over several. */
export interface RowRunners {
  /** The Elman / RNN loop (recurrenceRows.ts). */
  readonly recurrence: (job: RecurrenceJob) => void
  /** The LSTM loop (lstmRows.ts). */
  readonly lstm: (job: LstmJob) => void
  /** The GRU loop (gruRows.ts). */
  readonly gru: (job: GruJob) => void
  /**
   * Says, as a kernel starts and before its copies in, that a row job over this extent is coming
   * (`gates` recurrent products per step): threads that will run its rows may get ready meanwhile.
   */
  readonly wake: (extent: RecurrenceExtent, gates: number) => void
}

/**
 * The row jobs on the calling thread alone (the single-threaded backend, and the threaded one's
 * small sequences).
 * @category wasm
 */
export const runRowsOnCaller = (exports: KernelExports): RowRunners => ({
  recurrence: runOnCaller(exports, recurrenceRows, encodeRecurrence),
  lstm: runOnCaller(exports, lstmRows, encodeLstm),
  gru: runOnCaller(exports, gruRows, encodeGru),
  wake: () => undefined,
})

/**
 * The recurrence kernels over a loaded module. Calls whose operands would not fit in WebAssembly
 * memory, or that mix dtypes, go to `fallback` (the composition over the backend's other kernels).
 * `product` may split its products over threads (`product.threads`; the scratch is sized for them),
 * and `runners` the Elman / RNN, LSTM and GRU time loops over row ranges.
 * @category wasm
 */
export const createRecurrenceKernels = (
  exports: KernelExports, arena: Arena, product: PointerMatmul, fallback: RecurrenceKernels,
  { recurrence: runRecurrence, lstm: runLstm, gru: runGru, wake }: RowRunners,
): RecurrenceKernels => {
  /** Elements that a packed k × n weight takes (see `packWeight`). */
  const packedSize = (dtype: DType, k: number, n: number): number => packedWeightBytes(exports, dtype, k, n) / (dtype === 'float32' ? 4 : 8)

  /** Bytes of matmul scratch for the largest of `products` (split over the threads). */
  const scratchBytes = (dtype: DType, products: readonly ProductSize[]): number =>
    Math.max(...products.map(([m, k, n]) => matmulScratchBytes(dtype, m, k, n, product.threads)))

  /**
   * Reserves `end` bytes plus matmul scratch for the largest of `products`, and at least
   * `reserveTo` bytes (regions laid out past the scratch); null when memory cannot grow.
   */
  const open = (dtype: DType, end: number, products: readonly ProductSize[], reserveTo = 0): Session | null => {
    const scratch = end
    const reserved = Math.max(scratch + scratchBytes(dtype, products), reserveTo)
    if (!arena.reserve(reserved)) return null
    const bytes = dtype === 'float32' ? 4 : 8
    const memory = arena.view(dtype, 0, reserved / bytes)
    return {
      bytes,
      scratch,
      memory,
      put: (ptr, data) => memory.set(data, ptr / bytes),
      take: (ptr, n) => memory.slice(ptr / bytes, ptr / bytes + n),
      matmul: (a, b, out, rows, inner, columns, transposeB, accumulate, transposeA = false) =>
        product(dtype, a, b, out, rows, inner, columns, transposeA, transposeB, accumulate, scratch),
      pack: (b, inner, columns, transposeB, packed) => packWeight(exports, dtype, b, inner, columns, transposeB, packed),
    }
  }

  /** h0's and hs's addresses in a states block at `states` (h0 first in processing order). */
  const statesAt = (states: number, bytes: number, { time, batch, hidden, reverse }: RecurrenceExtent): [hs: number, h0: number] =>
    reverse ? [states, states + time * batch * hidden * bytes] : [states + batch * hidden * bytes, states]

  /**
   * In a states block at `states`, the states entering the steps as one time-major `[time·batch,
   * hidden]` matrix: h0 and hs shifted by one step (h0 sits last when the steps run in reverse).
   */
  const enteringStates = (states: number, bytes: number, { batch, hidden, reverse }: RecurrenceExtent): number =>
    reverse ? states + batch * hidden * bytes : states

  /**
   * A recurrent weight's cotangent, one product over all steps, taken out of `out`: prevᵀ·d (dᵀ·prev
   * for a transposed weight) from the entering states `prev` and the cotangents `d` of every step's
   * h·w, `[time·batch, width]`.
   */
  const weightCotangentAt = (s: Session, extent: RecurrenceExtent, width: number, prev: number, d: number, out: number): Data => {
    const rows = extent.time * extent.batch
    if (extent.transposed) s.matmul(d, prev, out, width, rows, extent.hidden, false, false, true)
    else s.matmul(prev, d, out, extent.hidden, rows, width, false, false, true)
    return s.take(out, width * extent.hidden)
  }

  /**
   * The Elman / RNN job of a session: the time loop itself, and the reordering of batch-major
   * sequences (copied in as they are, into `staging` regions), run in `runRecurrence`.
   */
  const elmanJob = (s: Session, extent: RecurrenceExtent, activation: RecurrentActivation, backward: boolean, ptrs: Partial<RecurrenceJob>): RecurrenceJob => ({
    dtype: s.bytes === 4 ? 'float32' : 'float64', backward, activation, time: extent.time, batch: extent.batch, hidden: extent.hidden,
    reverse: extent.reverse, hs: 0, h0: 0, w: 0, g: 0, steps: false, last: 0, withLast: false, dz: 0, carry: 0, zeros: 0, mask: 0,
    masked: false, valid: 0, pass: 0,
    scratch: s.scratch, scratchStride: matmulScratchBytes(s.bytes === 4 ? 'float32' : 'float64', ...rowProduct(extent, ptrs.inputs ?? 0)),
    staged: transposes(extent), sequenceIn: 0, statesIn: 0, statesReady: false, withState: false, inputs: 0, x: 0, wIn: 0,
    withOutputs: true, ...ptrs,
  })

  /**
   * The regions of an Elman / RNN backward pass (see `elmanBackward`), and the products it runs:
   * with `inputs`, those of the projection too; without `states`, no region for the states (they
   * are where the forward pass left them).
   */
  const elmanBackwardPlan = (
    dtype: DType, extent: RecurrenceExtent, wLength: number, inputs: number, g: { readonly steps: boolean; readonly last: boolean },
    states: boolean,
  ) => {
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const rows = time * batch
    const { ptrs, end } = layout(dtype === 'float32' ? 4 : 8, [
      g.steps ? time * n : 0, g.last ? n : 0, states ? (time + 1) * n : 0, time * n, wLength, packedSize(dtype, hidden, hidden),
      n, n, n, hidden * hidden, stagingSize(extent), stagingSize(extent), maskSize(extent), extent.mask === undefined ? 0 : n,
      ...(inputs > 0 ? [rows * inputs, inputs * hidden, rows * inputs, inputs * hidden] : []),
    ])
    const products: ProductSize[] = [[batch, hidden, hidden], [hidden, rows, hidden]]
    if (inputs > 0) products.push([inputs, rows, hidden], [rows, hidden, inputs])
    return { ptrs, end, products, reserved: end + scratchBytes(dtype, products) }
  }

  /**
   * The states the last forward pass left in memory for its backward pass: h0 and every h_t,
   * time-major, in the byte range [from, to) that the arena keeps, as the backward pass lays its
   * own states out (h0 first in processing order). `hs` and `h0` are the arrays the pass returned
   * (or its `FinalStates`) and read: a backward pass given the same ones (and extent) reads the
   * states from there instead of copying and reordering hs in again. Any call that lays operands
   * out over the range ends it.
   */
  let resident: { readonly hs: SequenceStates; readonly h0: Data; readonly key: string; readonly from: number; readonly to: number } | null = null
  const residentKey = (dtype: DType, { time, batch, hidden, reverse }: RecurrenceExtent): string => `${dtype} ${time} ${batch} ${hidden} ${reverse}`

  /**
   * The Elman / RNN forward pass, from p or from x and the projection wIn (p_t = x_t·wIn computed
   * by the row job, so p never exists as a whole); null when the memory cannot grow. The states are
   * laid out past everything this pass and its backward pass use (see `resident`). Returns every
   * h_t in p's layout or, with `final`, the last processed step's h alone, its states left in
   * memory (and recomputed by a full pass if asked for after they are gone).
   */
  function elmanForward(source: ElmanSource, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation, final: false): Data | null
  function elmanForward(source: ElmanSource, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation, final: true): FinalStates | null
  function elmanForward(
    source: ElmanSource, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation, final: boolean,
  ): Data | FinalStates | null {
    wake(extent, 1)
    const first = 'p' in source ? source.p : source.x
    const dtype = dtypeOf(first)
    const { time, batch, hidden, reverse } = extent
    const n = batch * hidden
    const bytes = first.BYTES_PER_ELEMENT
    const inputs = 'p' in source ? 0 : source.wIn.length / hidden
    const { ptrs: [wPtr, packedPtr, staging, xPtr, wInPtr, wInPackedPtr, maskPtr], end } = layout(
      bytes,
      [
        w.length, packedSize(dtype, hidden, hidden), stagingSize(extent), time * batch * inputs, inputs * hidden, packedSize(dtype, inputs, hidden),
        maskSize(extent),
      ],
    )
    const products = [rowProduct(extent, inputs)]
    const backward = elmanBackwardPlan(dtype, extent, w.length, inputs, { steps: true, last: true }, false)
    const from = alignRegion(Math.max(end + scratchBytes(dtype, products), backward.reserved))
    const to = from + alignRegion((time + 1) * n * bytes)
    const operands = 'p' in source ? [h0, w] : [source.wIn, h0, w]
    const s = operands.every((x) => dtypeOf(x) === dtype) ? open(dtype, end, products, to) : null
    if (s === null) return null
    const [hsPtr, h0Ptr] = reverse ? [from, from + time * n * bytes] : [from + n * bytes, from]
    // The outputs start as the projected inputs (h_t = σ(p_t + h·w) replaces p_t in place), or the
    // row job writes each p_t there itself. Batch-major outputs end in the staging region.
    const staged = transposes(extent)
    const outPtr = staged ? staging : hsPtr
    if ('p' in source) {
      s.put(outPtr, source.p)
    } else {
      s.put(xPtr, source.x)
      s.put(wInPtr, source.wIn)
      s.pack(wInPtr, inputs, hidden, false, wInPackedPtr)
    }
    s.put(h0Ptr, h0)
    s.put(wPtr, w)
    s.pack(wPtr, hidden, hidden, extent.transposed, packedPtr)
    runRecurrence(elmanJob(s, extent, activation, false, {
      hs: hsPtr, h0: h0Ptr, w: packedPtr, sequenceIn: staging, inputs, x: xPtr, wIn: wInPackedPtr, withOutputs: !final, ...putMask(s, extent, maskPtr),
    }))
    let all: Data | null = null
    const hs: SequenceStates = final
      ? {
        final: s.take(hsPtr + stepAt(extent, time - 1) * n * bytes, n),
        hs: () => (all ??= elmanForward(source, h0, w, extent, activation, false) ?? fallbackForward(source, h0, w, extent, activation)),
      }
      : s.take(outPtr, time * n)
    arena.keep(from, to)
    resident = { hs, h0, key: residentKey(dtype, extent), from, to }
    return hs
  }

  const fallbackForward = (source: ElmanSource, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation): Data =>
    'p' in source
      ? fallback.recurrentForward(source.p, h0, w, extent, activation)
      : fallback.projectedRecurrentForward(source.x, source.wIn, h0, w, extent, activation)

  const recurrentForward: RecurrenceKernels['recurrentForward'] = (p, h0, w, extent, activation) =>
    elmanForward({ p }, h0, w, extent, activation, false) ?? fallbackForward({ p }, h0, w, extent, activation)

  const projectedRecurrentForward: RecurrenceKernels['projectedRecurrentForward'] = (x, wIn, h0, w, extent, activation) =>
    elmanForward({ x, wIn }, h0, w, extent, activation, false) ?? fallbackForward({ x, wIn }, h0, w, extent, activation)

  const projectedRecurrentFinal: RecurrenceKernels['projectedRecurrentFinal'] = (x, wIn, h0, w, extent, activation) =>
    elmanForward({ x, wIn }, h0, w, extent, activation, true) ?? fallback.projectedRecurrentFinal(x, wIn, h0, w, extent, activation)

  /**
   * The Elman / RNN backward pass through time, with `more` operands (x and wIn, when the pass has
   * the projection's `inputs`) copied in after the usual ones; their pointers come back as `more`,
   * followed by those of dx and dwIn. Returns the session, the address of dz in the extent's layout,
   * the carry (dh0 when `withState`), and `weight()`, which computes and takes dw; null when the
   * memory cannot grow.
   */
  const elmanBackward = (
    g: SequenceCotangent, states: SequenceStates, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation,
    withState: boolean, inputs: number, more: readonly Data[],
  ) => {
    wake(extent, 1)
    const dtype = dtypeOf('final' in states ? states.final : states)
    const { time, batch, hidden, reverse } = extent
    const n = batch * hidden
    const given = { steps: g.steps !== null, last: g.last !== null }
    // The states where the forward pass of these hs left them, if no call has overwritten them and
    // this pass's own regions stay below them.
    const withoutStates = elmanBackwardPlan(dtype, extent, w.length, inputs, given, false)
    const leftFor = (hs: SequenceStates) =>
      resident !== null && resident.hs === hs && resident.h0 === h0 && resident.key === residentKey(dtype, extent) &&
      arena.kept(resident.from, resident.to) && withoutStates.reserved <= resident.from
        ? resident
        : null
    // States held behind a final state but gone since are recomputed, which leaves them in memory again.
    const found = leftFor(states)
    const hs = found === null ? statesData(states) : states
    const left = found ?? leftFor(hs)
    // h0 sits right before hs (after it when reversed), so the states entering the steps, in
    // processing order, are one contiguous [time·batch, hidden] matrix: H_prev of dw = H_prevᵀ·dZ.
    // A final-state cotangent alone needs no region (nor copy, nor reordering) for g.
    const {
      ptrs: [gPtr, lastPtr, ownStates, dzPtr, wPtr, packedPtr, carry, zeros, mask, dwPtr, staging, statesStaging, maskPtr, pass, ...morePtrs], end, products,
    } = left === null ? elmanBackwardPlan(dtype, extent, w.length, inputs, given, true) : withoutStates
    const s = [h0, w, ...[g.steps, g.last].filter((x): x is Data => x !== null), ...more].every((x) => dtypeOf(x) === dtype)
      ? open(dtype, end, products)
      : null
    if (s === null) return null
    const statesPtr = left === null ? ownStates : left.from
    const hsPtr = reverse ? statesPtr : statesPtr + n * s.bytes
    const staged = transposes(extent)
    if (g.steps !== null) s.put(staged ? staging : gPtr, g.steps)
    if (g.last !== null) s.put(lastPtr, g.last)
    if (left === null) {
      s.put(staged ? statesStaging : hsPtr, statesData(hs))
      s.put(reverse ? hsPtr + time * n * s.bytes : statesPtr, h0)
    }
    s.put(wPtr, w)
    more.forEach((x, i) => s.put(morePtrs[i], x))
    s.memory.fill(0, zeros / s.bytes, zeros / s.bytes + n)
    // dz·op(w)ᵀ, where op(w) is w (wᵀ when transposed).
    s.pack(wPtr, hidden, hidden, !extent.transposed, packedPtr)
    runRecurrence(elmanJob(s, extent, activation, true, {
      hs: hsPtr, w: packedPtr, g: gPtr, steps: given.steps, last: lastPtr, withLast: given.last, dz: dzPtr, carry, zeros, mask,
      sequenceIn: staging, statesIn: statesStaging, statesReady: left !== null, withState, pass, ...putMask(s, extent, maskPtr),
    }))
    const weight = (): Data => weightCotangentAt(s, extent, hidden, enteringStates(statesPtr, s.bytes, extent), dzPtr, dwPtr)
    return { s, dz: staged ? staging : dzPtr, carry, weight, more: morePtrs }
  }

  const recurrentBackward: RecurrenceKernels['recurrentBackward'] = (g, hs, h0, w, extent, activation, withWeight) => {
    // With a mask, h0's cotangent is not dz's alone (see RecurrentBackward.dh0): the job carries it.
    const masked = extent.mask !== undefined
    const run = elmanBackward(g, hs, h0, w, extent, activation, masked, 0, [])
    if (run === null) return fallback.recurrentBackward(g, hs, h0, w, extent, activation, withWeight)
    const dz = run.s.take(run.dz, extent.time * extent.batch * extent.hidden)
    const dh0 = masked ? { dh0: run.s.take(run.carry, extent.batch * extent.hidden) } : {}
    return { dz, dw: withWeight ? run.weight() : null, ...dh0 }
  }

  const projectedRecurrentBackward: RecurrenceKernels['projectedRecurrentBackward'] = (g, hs, x, wIn, h0, w, extent, activation, wanted) => {
    const { time, batch, hidden } = extent
    const rows = time * batch
    const inputs = wIn.length / hidden
    const run = elmanBackward(g, hs, h0, w, extent, activation, wanted.h0, inputs, [x, wIn])
    if (run === null) return fallback.projectedRecurrentBackward(g, hs, x, wIn, h0, w, extent, activation, wanted)
    const { s, dz } = run
    const [xPtr, wInPtr, dxPtr, dwInPtr] = run.more
    // dz is in x's layout, so the projection's products pair their rows as they are.
    if (wanted.wIn) s.matmul(xPtr, dz, dwInPtr, inputs, rows, hidden, false, false, true)
    if (wanted.x) s.matmul(dz, wInPtr, dxPtr, rows, hidden, inputs, true, false)
    return {
      dx: wanted.x ? s.take(dxPtr, rows * inputs) : null,
      dwIn: wanted.wIn ? s.take(dwInPtr, inputs * hidden) : null,
      dh0: wanted.h0 ? s.take(run.carry, batch * hidden) : null,
      dw: wanted.w ? run.weight() : null,
    }
  }

  /** An LSTM job of a session; the rest of its fields come from the caller. */
  const lstmJob = (s: Session, extent: RecurrenceExtent, backward: boolean, product: ProductSize, ptrs: Partial<LstmJob>): LstmJob => ({
    dtype: s.bytes === 4 ? 'float32' : 'float64', backward, time: extent.time, batch: extent.batch, hidden: extent.hidden,
    reverse: extent.reverse, pre: 0, hs: 0, cs: 0, gc: 0, saved: 0, h0: 0, c0: 0, w: 0, work: 0, masked: false, valid: 0,
    scratch: s.scratch, scratchStride: matmulScratchBytes(s.bytes === 4 ? 'float32' : 'float64', ...product),
    ...ptrs,
  })

  /** The regions an LSTM forward pass leaves for its backward pass: h0 and hs (one block, in processing order), cs, the gates and c0. */
  const lstmStateSizes = ({ time, batch, hidden }: RecurrenceExtent): number[] => {
    const n = batch * hidden
    return [(time + 1) * n, time * n, 5 * time * n, n]
  }

  /**
   * The regions of an LSTM backward pass and the products it runs (the steps', and w's cotangent);
   * without `states`, none for what the forward pass left in memory (see `lstmStateSizes`).
   */
  const lstmBackwardPlan = (dtype: DType, extent: RecurrenceExtent, wLength: number, states: boolean) => {
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const rows = time * batch
    const { ptrs, end } = layout(dtype === 'float32' ? 4 : 8, [
      time * n, time * n, 4 * time * n, wLength, packedSize(dtype, 4 * hidden, hidden), LSTM_WORK_SLOTS * n, wLength, maskSize(extent),
      ...(states ? lstmStateSizes(extent) : []),
    ])
    const products: ProductSize[] = [[batch, 4 * hidden, hidden], [hidden, rows, 4 * hidden], [4 * hidden, rows, hidden]]
    return { ptrs, end, products, reserved: end + scratchBytes(dtype, products) }
  }

  /**
   * The LSTM or GRU forward pass whose states and gates the arena keeps (one range at a time), laid
   * out past everything its backward pass uses; `forward` is the object it returned, which the
   * backward pass is given again.
   */
  let gatesKept: {
    readonly forward: object; readonly key: string; readonly from: number; readonly to: number
    /** Marks the gates as read by a backward pass: from then on they need not be copied out. */
    readonly use: () => void
  } | null = null

  /**
   * The result of an LSTM or GRU forward pass that left its states and gates in [from, to), built
   * by `build` around a reader of the gates (`length` elements at `savedPtr`). The gates stay in
   * memory for the backward pass, which reads them there. They are copied out only when read, or
   * when a later call is about to lay operands over them before a backward pass has used them;
   * after that, reading them runs the forward pass again (`rerun`: its operands are never written,
   * so it gives the same gates).
   */
  const leaveGates = <F extends object>(
    dtype: DType, extent: RecurrenceExtent, [from, to]: readonly [number, number], savedPtr: number, length: number,
    build: (saved: () => Data) => F, rerun: () => Data,
  ): F => {
    let saved: Data | null = null
    let used = false
    const copy = (): Data => arena.view(dtype, savedPtr, length).slice()
    const forward: F = build(() => (saved ??= gatesKept?.forward === forward && arena.kept(from, to) ? copy() : rerun()))
    arena.keep(from, to, () => {
      if (!used) saved ??= copy()
    })
    gatesKept = { forward, key: residentKey(dtype, extent), from, to, use: () => { used = true } }
    return forward
  }

  /** What `forward` left in memory, while it is still there and a backward pass of `reserved` bytes stays below it; else null. */
  const keptFor = (forward: object, dtype: DType, extent: RecurrenceExtent, reserved: number) =>
    gatesKept !== null && gatesKept.forward === forward && gatesKept.key === residentKey(dtype, extent) &&
    arena.kept(gatesKept.from, gatesKept.to) && reserved <= gatesKept.from
      ? gatesKept
      : null

  /**
   * Column sums of the `[rows, cols]` matrix at `ptr`, accumulated in float64 at `acc` (8·cols
   * bytes) over the rows in order and rounded once, as `Kernels.sumRows` computes them.
   */
  const columnSums = (dtype: DType, ptr: number, rows: number, cols: number, acc: number): Data => {
    const sums = arena.view('float64', acc, cols)
    sums.fill(0)
    exports[`sumRows_${suffixOf(dtype)}`](ptr, rows, cols, acc)
    return dtype === 'float64' ? sums.slice() : Float32Array.from(sums)
  }

  const lstmForward: RecurrenceKernels['lstmForward'] = (p, h0, c0, w, extent) => {
    wake(extent, 4)
    const dtype = dtypeOf(p)
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const bytes = p.BYTES_PER_ELEMENT
    const { ptrs: [pPtr, wPtr, packedPtr, work, maskPtr], end } = layout(
      bytes, [4 * time * n, w.length, packedSize(dtype, hidden, 4 * hidden), n, maskSize(extent)],
    )
    const product: ProductSize = [batch, hidden, 4 * hidden]
    const from = alignRegion(Math.max(end + scratchBytes(dtype, [product]), lstmBackwardPlan(dtype, extent, w.length, false).reserved))
    const { ptrs: [statesPtr, csPtr, savedPtr, c0Ptr], end: to } = layout(bytes, lstmStateSizes(extent), from)
    const s = [h0, c0, w].every((x) => dtypeOf(x) === dtype) ? open(dtype, end, [product], to) : null
    if (s === null) return fallback.lstmForward(p, h0, c0, w, extent)
    const [hsPtr, h0Ptr] = statesAt(statesPtr, bytes, extent)
    s.put(pPtr, p)
    s.put(h0Ptr, h0)
    s.put(c0Ptr, c0)
    s.put(wPtr, w)
    s.pack(wPtr, hidden, 4 * hidden, extent.transposed, packedPtr)
    runLstm(lstmJob(s, extent, false, product, {
      pre: pPtr, hs: hsPtr, cs: csPtr, saved: savedPtr, h0: h0Ptr, c0: c0Ptr, w: packedPtr, work, ...putMask(s, extent, maskPtr),
    }))
    const [hs, cs] = [s.take(hsPtr, time * n), s.take(csPtr, time * n)]
    return leaveGates(
      dtype, extent, [from, to], savedPtr, 5 * time * n, (saved) => ({ hs, cs, get saved() { return saved() } }),
      () => lstmForward(p, h0, c0, w, extent).saved,
    )
  }

  const lstmBackward: RecurrenceKernels['lstmBackward'] = (gh, gc, forward, h0, c0, w, extent, withWeight): LstmBackward => {
    wake(extent, 4)
    const dtype = dtypeOf(gh)
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const withoutStates = lstmBackwardPlan(dtype, extent, w.length, false)
    const left = keptFor(forward, dtype, extent, withoutStates.reserved)
    const { ptrs: [ghPtr, gcPtr, dPrePtr, wPtr, packedPtr, work, dwPtr, maskPtr, ...ownStates], end, products } = left === null
      ? lstmBackwardPlan(dtype, extent, w.length, true)
      : withoutStates
    // The gates are read before this pass lays its operands out: when they are gone from memory,
    // reading them runs the forward pass again, which would overwrite this pass's regions.
    const saved = left === null ? forward.saved : null
    const s = [gc, forward.hs, forward.cs, h0, c0, w].every((x) => dtypeOf(x) === dtype) ? open(dtype, end, products) : null
    if (s === null) return fallback.lstmBackward(gh, gc, forward, h0, c0, w, extent, withWeight)
    const [statesPtr, csPtr, savedPtr, c0Ptr] = left === null ? ownStates : layout(s.bytes, lstmStateSizes(extent), left.from).ptrs
    const [hsPtr, h0Ptr] = statesAt(statesPtr, s.bytes, extent)
    s.put(ghPtr, gh)
    s.put(gcPtr, gc)
    if (left === null) {
      s.put(csPtr, forward.cs)
      s.put(savedPtr, saved!)
      s.put(c0Ptr, c0)
      if (withWeight) {
        s.put(hsPtr, forward.hs)
        s.put(h0Ptr, h0)
      }
    }
    s.put(wPtr, w)
    s.pack(wPtr, 4 * hidden, hidden, !extent.transposed, packedPtr)
    runLstm(lstmJob(s, extent, true, [batch, 4 * hidden, hidden], {
      pre: dPrePtr, hs: ghPtr, cs: csPtr, gc: gcPtr, saved: savedPtr, c0: c0Ptr, w: packedPtr, work, ...putMask(s, extent, maskPtr),
    }))
    left?.use()
    const dw = withWeight ? weightCotangentAt(s, extent, 4 * hidden, enteringStates(statesPtr, s.bytes, extent), dPrePtr, dwPtr) : null
    const slot = (k: number): number => work + k * n * s.bytes
    return { dPre: s.take(dPrePtr, 4 * time * n), dh0: s.take(slot(LSTM_DH0_SLOT), n), dc0: s.take(slot(LSTM_DC0_SLOT), n), dw }
  }

  /** A GRU job of a session; the rest of its fields come from the caller. */
  const gruJob = (s: Session, extent: RecurrenceExtent, backward: boolean, product: ProductSize, ptrs: Partial<GruJob>): GruJob => ({
    dtype: s.bytes === 4 ? 'float32' : 'float64', backward, time: extent.time, batch: extent.batch, hidden: extent.hidden,
    reverse: extent.reverse, pre: 0, hs: 0, g: 0, saved: 0, h0: 0, w: 0, side: 0, work: 0, masked: false, valid: 0,
    scratch: s.scratch, scratchStride: matmulScratchBytes(s.bytes === 4 ? 'float32' : 'float64', ...product),
    ...ptrs,
  })

  /** The regions a GRU forward pass leaves for its backward pass: h0 and hs (one block, in processing order) and the gates. */
  const gruStateSizes = ({ time, batch, hidden }: RecurrenceExtent): number[] => {
    const n = batch * hidden
    return [(time + 1) * n, 4 * time * n]
  }

  /**
   * The regions of a GRU backward pass and the products it runs (the steps', and w's cotangent);
   * without `states`, none for what the forward pass left in memory (see `gruStateSizes`).
   */
  const gruBackwardPlan = (dtype: DType, extent: RecurrenceExtent, wLength: number, states: boolean) => {
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const rows = time * batch
    const { ptrs, end } = layout(dtype === 'float32' ? 4 : 8, [
      // g, dPre, dHidden, w, w packed, work, dw, db's float64 sums (3·hidden doubles), the mask, [the states].
      time * n, 3 * time * n, 3 * time * n, wLength, packedSize(dtype, 3 * hidden, hidden), GRU_WORK_SLOTS * n, wLength,
      dtype === 'float32' ? 6 * hidden : 3 * hidden, maskSize(extent), ...(states ? gruStateSizes(extent) : []),
    ])
    const products: ProductSize[] = [[batch, 3 * hidden, hidden], [hidden, rows, 3 * hidden], [3 * hidden, rows, hidden]]
    return { ptrs, end, products, reserved: end + scratchBytes(dtype, products) }
  }

  const gruForward: RecurrenceKernels['gruForward'] = (p, h0, w, b, extent): GruForward => {
    wake(extent, 3)
    const dtype = dtypeOf(p)
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const bytes = p.BYTES_PER_ELEMENT
    const { ptrs: [pPtr, wPtr, packedPtr, bias, work, maskPtr], end } = layout(
      bytes, [3 * time * n, w.length, packedSize(dtype, hidden, 3 * hidden), 3 * n, 4 * n, maskSize(extent)],
    )
    const product: ProductSize = [batch, hidden, 3 * hidden]
    const from = alignRegion(Math.max(end + scratchBytes(dtype, [product]), gruBackwardPlan(dtype, extent, w.length, false).reserved))
    const { ptrs: [statesPtr, savedPtr], end: to } = layout(bytes, gruStateSizes(extent), from)
    const s = [h0, w, b].every((x) => dtypeOf(x) === dtype) ? open(dtype, end, [product], to) : null
    if (s === null) return fallback.gruForward(p, h0, w, b, extent)
    const [hsPtr, h0Ptr] = statesAt(statesPtr, bytes, extent)
    s.put(pPtr, p)
    s.put(h0Ptr, h0)
    s.put(wPtr, w)
    s.pack(wPtr, hidden, 3 * hidden, extent.transposed, packedPtr)
    // b_hh repeated over the batch once, so adding it to hh is one call per step.
    for (let r = 0; r < batch; r++) s.put(bias + 3 * r * hidden * s.bytes, b)
    runGru(gruJob(s, extent, false, product, {
      pre: pPtr, hs: hsPtr, saved: savedPtr, h0: h0Ptr, w: packedPtr, side: bias, work, ...putMask(s, extent, maskPtr),
    }))
    const hs = s.take(hsPtr, time * n)
    return leaveGates(
      dtype, extent, [from, to], savedPtr, 4 * time * n, (saved) => ({ hs, get saved() { return saved() } }),
      () => gruForward(p, h0, w, b, extent).saved,
    )
  }

  const gruBackward: RecurrenceKernels['gruBackward'] = (g, forward, h0, w, extent, wanted): GruBackward => {
    wake(extent, 3)
    const dtype = dtypeOf(g)
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const withoutStates = gruBackwardPlan(dtype, extent, w.length, false)
    const left = keptFor(forward, dtype, extent, withoutStates.reserved)
    const { ptrs: [gPtr, dPrePtr, dHiddenPtr, wPtr, packedPtr, work, dwPtr, dbPtr, maskPtr, ...ownStates], end, products } = left === null
      ? gruBackwardPlan(dtype, extent, w.length, true)
      : withoutStates
    // Read before this pass lays its operands out (see lstmBackward).
    const saved = left === null ? forward.saved : null
    const s = [forward.hs, h0, w].every((x) => dtypeOf(x) === dtype) ? open(dtype, end, products) : null
    if (s === null) return fallback.gruBackward(g, forward, h0, w, extent, wanted)
    const [statesPtr, savedPtr] = left === null ? ownStates : layout(s.bytes, gruStateSizes(extent), left.from).ptrs
    const [hsPtr, h0Ptr] = statesAt(statesPtr, s.bytes, extent)
    s.put(gPtr, g)
    if (left === null) {
      s.put(hsPtr, forward.hs)
      s.put(h0Ptr, h0)
      s.put(savedPtr, saved!)
    }
    s.put(wPtr, w)
    s.pack(wPtr, 3 * hidden, hidden, !extent.transposed, packedPtr)
    runGru(gruJob(s, extent, true, [batch, 3 * hidden, hidden], {
      pre: dPrePtr, hs: hsPtr, g: gPtr, saved: savedPtr, h0: h0Ptr, w: packedPtr, side: dHiddenPtr, work, ...putMask(s, extent, maskPtr),
    }))
    left?.use()
    const dh0 = work + GRU_DH0_SLOT * n * s.bytes
    return {
      dPre: s.take(dPrePtr, 3 * time * n),
      dh0: s.take(dh0, n),
      dw: wanted.w ? weightCotangentAt(s, extent, 3 * hidden, enteringStates(statesPtr, s.bytes, extent), dHiddenPtr, dwPtr) : null,
      db: wanted.b ? columnSums(dtype, dHiddenPtr, time * batch, 3 * hidden, dbPtr) : null,
    }
  }

  return {
    recurrentForward, recurrentBackward, projectedRecurrentForward, projectedRecurrentFinal, projectedRecurrentBackward, lstmForward, lstmBackward,
    gruForward, gruBackward,
  }
}
