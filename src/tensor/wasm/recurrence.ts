/**
 * @file Whole-sequence recurrent kernels on the WebAssembly module: the operands are copied in
 * once, every time step runs on WebAssembly memory (the pointer matmul accumulates h·w onto the
 * step's projected input in place — except for the GRU, whose h·w + b_hh stays apart because r
 * multiplies its n block — the elementwise exports apply the gates and write straight into the
 * outputs), and the results are copied out once. The recurrent weight is packed for the products
 * once per sequence (`packWeight`), not once per step. The Elman / RNN time loop runs as row jobs
 * (recurrenceRows.ts, split over threads by the threaded backend), and its projected form also
 * computes p = x·wIn and, backwards, dx, dwIn and dh0 in place. Each step makes the same roundings, in
 * the same order, as the composition in ../recurrence.ts; only the products' summation order may
 * differ (as between any two matmuls). The elementwise exports write exactly n elements and may
 * run in place.
 */
import type { DType, Data } from '../Tensor.js'
import { dtypeOf } from '../Tensor.js'
import type { GruBackward, GruForward, LstmBackward, RecurrenceExtent, RecurrentActivation } from '../kernels.js'
import { type ComposedRecurrence, stepAt } from '../recurrence.js'
import { type Arena, alignRegion } from './arena.js'
import { type KernelExports, suffixOf } from './exports.js'
import { type PointerMatmul, matmulScratchBytes, packWeight, packedWeightBytes } from './matmul.js'
import type { RecurrenceJob, RecurrenceRunner } from './recurrenceRows.js'

/** The eight optional recurrence members of `Kernels`, all present. */
export type RecurrenceKernels = ComposedRecurrence

/**
 * Regions laid out one after another from address 0, each padded to 64 bytes (the exports read
 * whole vectors, up to 60 bytes past a range).
 */
const layout = (bytes: number, sizes: readonly number[]): { ptrs: number[]; end: number } => {
  const ptrs: number[] = []
  let end = 0
  for (const size of sizes) {
    ptrs.push(end)
    end += alignRegion(size * bytes)
  }
  return { ptrs, end }
}

/** Everything one kernel call needs to address the module's memory in one dtype. */
interface Session {
  readonly bytes: number
  /** Byte address of the matmul scratch (the end of the laid-out regions). */
  readonly scratch: number
  /** The whole memory as elements of the dtype (valid until the next `reserve`). */
  readonly memory: Data
  /** Copies n elements between byte addresses. */
  copy(dst: number, src: number, n: number): void
  /** Writes `data` at a byte address. */
  put(ptr: number, data: Data): void
  /** Reads n elements at a byte address into a fresh array. */
  take(ptr: number, n: number): Data
  binary(op: 'add' | 'sub' | 'mul', a: number, b: number, out: number, n: number): void
  map(op: 'tanh' | 'sigmoid', x: number, out: number, n: number): void
  /** `out = g·(1 − y²)` (tanh) or `g·(y·(1 − y))` (sigmoid), rounded as the composition is. */
  backward(op: 'tanh' | 'sigmoid', g: number, y: number, out: number, n: number): void
  matmul(a: number, b: number, out: number, m: number, k: number, n: number, transposeB: boolean, accumulate: boolean, transposeA?: boolean): void
  /** Packs op(B) (k × n; B stored [n, k] when `transposeB`) at `packed` for `packedMatmul`. */
  pack(b: number, k: number, n: number, transposeB: boolean, packed: number): void
  /** `matmul` with op(B) packed by `pack`. */
  packedMatmul(a: number, packed: number, out: number, m: number, k: number, n: number, accumulate: boolean): void
}

/** Whether a sequence in the extent's layout is stored differently from time-major. */
const transposes = ({ batchMajor, batch, time }: RecurrenceExtent): boolean => batchMajor === true && batch > 1 && time > 1

/** Elements of the staging region of a sequence: none when it is stored time-major, else the whole sequence. */
const stagingSize = (extent: RecurrenceExtent): number => (transposes(extent) ? extent.time * extent.batch * extent.hidden : 0)

/** A product's sizes: op(A) is m × k, op(B) is k × n. */
type ProductSize = readonly [m: number, k: number, n: number]

/** What an Elman / RNN forward pass starts from: the projected inputs, or the inputs and the projection. */
type ElmanSource = { readonly p: Data } | { readonly x: Data; readonly wIn: Data }

/**
 * The recurrence kernels over a loaded module. Calls whose operands would not fit in WebAssembly
 * memory, or that mix dtypes, go to `fallback` (the composition over the backend's other kernels).
 * `product` may split its products over threads (`product.threads`; the scratch is sized for them),
 * and `runRecurrence` the Elman / RNN time loop over row ranges (recurrenceRows.ts).
 * @category wasm
 */
export const createRecurrenceKernels = (
  exports: KernelExports, arena: Arena, product: PointerMatmul, fallback: RecurrenceKernels,
  runRecurrence: RecurrenceRunner,
): RecurrenceKernels => {
  /** Elements that a packed k × n weight takes (see `packWeight`). */
  const packedSize = (dtype: DType, k: number, n: number): number => packedWeightBytes(exports, dtype, k, n) / (dtype === 'float32' ? 4 : 8)

  /** Reserves `end` bytes plus matmul scratch for the largest of `products`; null when memory cannot grow. */
  const open = (dtype: DType, end: number, ...products: readonly ProductSize[]): Session | null => {
    const scratch = end
    const scratchBytes = Math.max(...products.map(([m, k, n]) => matmulScratchBytes(dtype, m, k, n, product.threads)))
    if (!arena.reserve(scratch + scratchBytes)) return null
    const suffix = suffixOf(dtype)
    const bytes = dtype === 'float32' ? 4 : 8
    const memory = arena.view(dtype, 0, scratch / bytes)
    return {
      bytes,
      scratch,
      memory,
      copy: (dst, src, n) => memory.copyWithin(dst / bytes, src / bytes, src / bytes + n),
      put: (ptr, data) => memory.set(data, ptr / bytes),
      take: (ptr, n) => memory.slice(ptr / bytes, ptr / bytes + n),
      binary: (op, a, b, out, n) => exports[`${op}_${suffix}`](a, b, out, n),
      map: (op, x, out, n) => exports[`${op}_${suffix}`](x, out, n),
      backward: (op, g, y, out, n) => exports[`${op}Backward_${suffix}`](g, y, out, n),
      matmul: (a, b, out, rows, inner, columns, transposeB, accumulate, transposeA = false) =>
        product(dtype, a, b, out, rows, inner, columns, transposeA, transposeB, accumulate, scratch),
      pack: (b, inner, columns, transposeB, packed) => packWeight(exports, dtype, b, inner, columns, transposeB, packed),
      packedMatmul: (a, packed, out, rows, inner, columns, accumulate) =>
        product.packed(dtype, a, packed, out, rows, inner, columns, false, accumulate, scratch),
    }
  }

  /**
   * The Elman / RNN job of a session: the time loop itself, and the reordering of batch-major
   * sequences (copied in as they are, into `staging` regions), run in `runRecurrence`.
   */
  const elmanJob = (s: Session, extent: RecurrenceExtent, activation: RecurrentActivation, backward: boolean, ptrs: Partial<RecurrenceJob>): RecurrenceJob => ({
    dtype: s.bytes === 4 ? 'float32' : 'float64', backward, activation, time: extent.time, batch: extent.batch, hidden: extent.hidden,
    reverse: extent.reverse, hs: 0, h0: 0, w: 0, g: 0, dz: 0, carry: 0, zeros: 0, mask: 0,
    scratch: s.scratch, scratchStride: matmulScratchBytes(s.bytes === 4 ? 'float32' : 'float64', extent.batch, extent.hidden, extent.hidden),
    staged: transposes(extent), sequenceIn: 0, statesIn: 0, withState: false,
    ...ptrs,
  })

  /**
   * The Elman / RNN forward pass, from p or from x and the projection wIn (p = x·wIn computed in
   * place of p, so it never leaves the module); null when the memory cannot grow.
   */
  const elmanForward = (source: ElmanSource, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation): Data | null => {
    const first = 'p' in source ? source.p : source.x
    const dtype = dtypeOf(first)
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const inputs = 'p' in source ? 0 : source.wIn.length / hidden
    const { ptrs: [hsPtr, h0Ptr, wPtr, packedPtr, staging, xPtr, wInPtr], end } = layout(
      first.BYTES_PER_ELEMENT,
      [time * n, n, w.length, packedSize(dtype, hidden, hidden), stagingSize(extent), time * batch * inputs, inputs * hidden],
    )
    const operands = 'p' in source ? [h0, w] : [source.wIn, h0, w]
    const s = operands.every((x) => dtypeOf(x) === dtype) ? open(dtype, end, [batch, hidden, hidden], [time * batch, inputs, hidden]) : null
    if (s === null) return null
    // The outputs start as the projected inputs: h_t = σ(p_t + h·w) replaces p_t in place.
    const staged = transposes(extent)
    const pPtr = staged ? staging : hsPtr
    if ('p' in source) {
      s.put(pPtr, source.p)
    } else {
      s.put(xPtr, source.x)
      s.put(wInPtr, source.wIn)
      s.matmul(xPtr, wInPtr, pPtr, time * batch, inputs, hidden, false, false)
    }
    s.put(h0Ptr, h0)
    s.put(wPtr, w)
    s.pack(wPtr, hidden, hidden, extent.transposed, packedPtr)
    runRecurrence(elmanJob(s, extent, activation, false, { hs: hsPtr, h0: h0Ptr, w: packedPtr, sequenceIn: staging }))
    return s.take(pPtr, time * n)
  }

  const recurrentForward: RecurrenceKernels['recurrentForward'] = (p, h0, w, extent, activation) =>
    elmanForward({ p }, h0, w, extent, activation) ?? fallback.recurrentForward(p, h0, w, extent, activation)

  const projectedRecurrentForward: RecurrenceKernels['projectedRecurrentForward'] = (x, wIn, h0, w, extent, activation) =>
    elmanForward({ x, wIn }, h0, w, extent, activation) ?? fallback.projectedRecurrentForward(x, wIn, h0, w, extent, activation)

  /**
   * The Elman / RNN backward pass through time, with `more` operands copied in after the usual ones
   * (regions of `moreSizes` elements; their pointers come back as `more`) and scratch for `products`.
   * Returns the session, the address of dz in the extent's layout, the carry (dh0 when `withState`),
   * and `weight()`, which computes and takes dw; null when the memory cannot grow.
   */
  const elmanBackward = (
    g: Data, hs: Data, h0: Data, w: Data, extent: RecurrenceExtent, activation: RecurrentActivation, withState: boolean,
    more: readonly Data[], moreSizes: readonly number[], ...products: readonly ProductSize[]
  ) => {
    const dtype = dtypeOf(g)
    const { time, batch, hidden, reverse } = extent
    const n = batch * hidden
    // h0 sits right before hs (after it when reversed), so the states entering the steps, in
    // processing order, are one contiguous [time·batch, hidden] matrix: H_prev of dw = H_prevᵀ·dZ.
    const { ptrs: [gPtr, statesPtr, dzPtr, wPtr, packedPtr, carry, zeros, mask, dwPtr, staging, statesStaging, ...morePtrs], end } = layout(
      g.BYTES_PER_ELEMENT,
      [
        time * n, (time + 1) * n, time * n, w.length, packedSize(dtype, hidden, hidden), n, n, n, hidden * hidden,
        stagingSize(extent), stagingSize(extent), ...moreSizes,
      ],
    )
    const s = [hs, h0, w, ...more].every((x) => dtypeOf(x) === dtype)
      ? open(dtype, end, [batch, hidden, hidden], [hidden, time * batch, hidden], ...products)
      : null
    if (s === null) return null
    const hsPtr = reverse ? statesPtr : statesPtr + n * s.bytes
    const staged = transposes(extent)
    s.put(staged ? staging : gPtr, g)
    s.put(staged ? statesStaging : hsPtr, hs)
    s.put(reverse ? hsPtr + time * n * s.bytes : statesPtr, h0)
    s.put(wPtr, w)
    more.forEach((x, i) => s.put(morePtrs[i], x))
    s.memory.fill(0, zeros / s.bytes, zeros / s.bytes + n)
    // dz·op(w)ᵀ, where op(w) is w (wᵀ when transposed).
    s.pack(wPtr, hidden, hidden, !extent.transposed, packedPtr)
    runRecurrence(elmanJob(s, extent, activation, true, {
      hs: hsPtr, w: packedPtr, g: gPtr, dz: dzPtr, carry, zeros, mask, sequenceIn: staging, statesIn: statesStaging, withState,
    }))
    const weight = (): Data => {
      const prev = reverse ? hsPtr + n * s.bytes : statesPtr
      if (extent.transposed) s.matmul(dzPtr, prev, dwPtr, hidden, time * batch, hidden, false, false, true)
      else s.matmul(prev, dzPtr, dwPtr, hidden, time * batch, hidden, false, false, true)
      return s.take(dwPtr, hidden * hidden)
    }
    return { s, dz: staged ? staging : dzPtr, carry, weight, more: morePtrs }
  }

  const recurrentBackward: RecurrenceKernels['recurrentBackward'] = (g, hs, h0, w, extent, activation, withWeight) => {
    const run = elmanBackward(g, hs, h0, w, extent, activation, false, [], [])
    if (run === null) return fallback.recurrentBackward(g, hs, h0, w, extent, activation, withWeight)
    const dz = run.s.take(run.dz, extent.time * extent.batch * extent.hidden)
    return { dz, dw: withWeight ? run.weight() : null }
  }

  const projectedRecurrentBackward: RecurrenceKernels['projectedRecurrentBackward'] = (g, hs, x, wIn, h0, w, extent, activation, wanted) => {
    const { time, batch, hidden } = extent
    const rows = time * batch
    const inputs = wIn.length / hidden
    const run = elmanBackward(
      g, hs, h0, w, extent, activation, wanted.h0, [x, wIn], [rows * inputs, inputs * hidden, rows * inputs, inputs * hidden],
      [inputs, rows, hidden], [rows, hidden, inputs],
    )
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

  const lstmForward: RecurrenceKernels['lstmForward'] = (p, h0, c0, w, extent) => {
    const dtype = dtypeOf(p)
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const { ptrs: [pPtr, hsPtr, csPtr, savedPtr, h0Ptr, c0Ptr, wPtr, packedPtr, ig], end } = layout(
      p.BYTES_PER_ELEMENT, [4 * time * n, time * n, time * n, 5 * time * n, n, n, w.length, packedSize(dtype, hidden, 4 * hidden), n],
    )
    const s = [h0, c0, w].every((x) => dtypeOf(x) === dtype) ? open(dtype, end, [batch, hidden, 4 * hidden]) : null
    if (s === null) return fallback.lstmForward(p, h0, c0, w, extent)
    const row = hidden * s.bytes
    s.put(pPtr, p)
    s.put(h0Ptr, h0)
    s.put(c0Ptr, c0)
    s.put(wPtr, w)
    s.pack(wPtr, hidden, 4 * hidden, extent.transposed, packedPtr)
    let hPrev = h0Ptr
    let cPrev = c0Ptr
    for (let step = 0; step < time; step++) {
      const t = stepAt(extent, step)
      const at = t * n * s.bytes
      const [i, f, g, o, tc] = [0, 1, 2, 3, 4].map((slot) => savedPtr + (5 * t + slot) * n * s.bytes)
      // The step's pre-activations, p_t + h·w, in place of p_t (read once, by the gates below).
      const pre = pPtr + 4 * at
      s.packedMatmul(hPrev, packedPtr, pre, batch, hidden, 4 * hidden, true)
      // Row b of pre holds the gates i, f, g, o side by side; they are kept gate-major.
      for (let b = 0; b < batch; b++) {
        const from = pre + 4 * b * row
        s.map('sigmoid', from, i + b * row, hidden)
        s.map('sigmoid', from + row, f + b * row, hidden)
        s.map('tanh', from + 2 * row, g + b * row, hidden)
        s.map('sigmoid', from + 3 * row, o + b * row, hidden)
      }
      // c_t = f ⊙ c + i ⊙ g, h_t = o ⊙ tanh(c_t), written in place in the outputs.
      s.binary('mul', f, cPrev, csPtr + at, n)
      s.binary('mul', i, g, ig, n)
      s.binary('add', csPtr + at, ig, csPtr + at, n)
      s.map('tanh', csPtr + at, tc, n)
      s.binary('mul', o, tc, hsPtr + at, n)
      hPrev = hsPtr + at
      cPrev = csPtr + at
    }
    return { hs: s.take(hsPtr, time * n), cs: s.take(csPtr, time * n), saved: s.take(savedPtr, 5 * time * n) }
  }

  const lstmBackward: RecurrenceKernels['lstmBackward'] = (gh, gc, forward, c0, w, extent): LstmBackward => {
    const dtype = dtypeOf(gh)
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const {
      ptrs: [ghPtr, gcPtr, csPtr, savedPtr, dPrePtr, c0Ptr, wPtr, packedPtr, dh, dc, dhNext, dcNext, prod, dI, dF, dG, dO], end,
    } = layout(gh.BYTES_PER_ELEMENT, [
      time * n, time * n, time * n, 5 * time * n, 4 * time * n, n, w.length, packedSize(dtype, 4 * hidden, hidden), n, n, n, n, n, n, n, n, n,
    ])
    const s = [gc, forward.cs, forward.saved, c0, w].every((x) => dtypeOf(x) === dtype) ? open(dtype, end, [batch, 4 * hidden, hidden]) : null
    if (s === null) return fallback.lstmBackward(gh, gc, forward, c0, w, extent)
    const row = hidden * s.bytes
    s.put(ghPtr, gh)
    s.put(gcPtr, gc)
    s.put(csPtr, forward.cs)
    s.put(savedPtr, forward.saved)
    s.put(c0Ptr, c0)
    s.put(wPtr, w)
    s.pack(wPtr, 4 * hidden, hidden, !extent.transposed, packedPtr)
    for (let step = time - 1; step >= 0; step--) {
      const t = stepAt(extent, step)
      const at = t * n * s.bytes
      const [i, f, g, o, tc] = [0, 1, 2, 3, 4].map((slot) => savedPtr + (5 * t + slot) * n * s.bytes)
      const cPrev = step === 0 ? c0Ptr : csPtr + stepAt(extent, step - 1) * n * s.bytes
      // dh = g_h + dh_next; dc = (g_c + dc_next) + tanh'(c)·(dh ⊙ o).
      if (step === time - 1) {
        s.copy(dh, ghPtr + at, n)
        s.copy(dcNext, gcPtr + at, n)
      } else {
        s.binary('add', ghPtr + at, dhNext, dh, n)
        s.binary('add', gcPtr + at, dcNext, dcNext, n)
      }
      s.binary('mul', dh, o, prod, n)
      s.backward('tanh', prod, tc, dc, n)
      s.binary('add', dcNext, dc, dc, n)
      s.binary('mul', dc, g, prod, n)
      s.backward('sigmoid', prod, i, dI, n)
      s.binary('mul', dc, cPrev, prod, n)
      s.backward('sigmoid', prod, f, dF, n)
      s.binary('mul', dc, i, prod, n)
      s.backward('tanh', prod, g, dG, n)
      s.binary('mul', dh, tc, prod, n)
      s.backward('sigmoid', prod, o, dO, n)
      const dPre = dPrePtr + 4 * at
      for (let b = 0; b < batch; b++) {
        for (const [k, d] of [dI, dF, dG, dO].entries()) s.copy(dPre + (4 * b + k) * row, d + b * row, hidden)
      }
      s.packedMatmul(dPre, packedPtr, dhNext, batch, 4 * hidden, hidden, false)
      s.binary('mul', dc, f, dcNext, n)
    }
    return { dPre: s.take(dPrePtr, 4 * time * n), dh0: s.take(dhNext, n), dc0: s.take(dcNext, n) }
  }

  const gruForward: RecurrenceKernels['gruForward'] = (p, h0, w, b, extent): GruForward => {
    const dtype = dtypeOf(p)
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const { ptrs: [pPtr, hsPtr, savedPtr, h0Ptr, wPtr, packedPtr, bias, hh, prod], end } = layout(
      p.BYTES_PER_ELEMENT, [3 * time * n, time * n, 4 * time * n, n, w.length, packedSize(dtype, hidden, 3 * hidden), 3 * n, 3 * n, n],
    )
    const s = [h0, w, b].every((x) => dtypeOf(x) === dtype) ? open(dtype, end, [batch, hidden, 3 * hidden]) : null
    if (s === null) return fallback.gruForward(p, h0, w, b, extent)
    const row = hidden * s.bytes
    s.put(pPtr, p)
    s.put(h0Ptr, h0)
    s.put(wPtr, w)
    s.pack(wPtr, hidden, 3 * hidden, extent.transposed, packedPtr)
    // b_hh repeated over the batch once, so adding it to hh is one call per step.
    for (let r = 0; r < batch; r++) s.put(bias + 3 * r * row, b)
    let hPrev = h0Ptr
    for (let step = 0; step < time; step++) {
      const t = stepAt(extent, step)
      const at = t * n * s.bytes
      const [r, z, candidate, hn] = [0, 1, 2, 3].map((slot) => savedPtr + (4 * t + slot) * n * s.bytes)
      // hh = h·w + b stays apart from p_t: r multiplies its n block, b_hn included.
      s.packedMatmul(hPrev, packedPtr, hh, batch, hidden, 3 * hidden, false)
      s.binary('add', hh, bias, hh, 3 * n)
      // Row b of p_t and hh holds the gates r, z, n side by side; the saved gates are kept gate-major.
      for (let b = 0; b < batch; b++) {
        const pRow = pPtr + 3 * at + 3 * b * row
        const hhRow = hh + 3 * b * row
        s.binary('add', pRow, hhRow, r + b * row, hidden)
        s.binary('add', pRow + row, hhRow + row, z + b * row, hidden)
        s.copy(hn + b * row, hhRow + 2 * row, hidden)
        s.copy(candidate + b * row, pRow + 2 * row, hidden)
      }
      s.map('sigmoid', r, r, n)
      s.map('sigmoid', z, z, n)
      // n = tanh(p_n + r ⊙ hh_n), h_t = n + z ⊙ (h − n), written in place in the outputs.
      s.binary('mul', r, hn, prod, n)
      s.binary('add', candidate, prod, candidate, n)
      s.map('tanh', candidate, candidate, n)
      s.binary('sub', hPrev, candidate, prod, n)
      s.binary('mul', z, prod, prod, n)
      s.binary('add', candidate, prod, hsPtr + at, n)
      hPrev = hsPtr + at
    }
    return { hs: s.take(hsPtr, time * n), saved: s.take(savedPtr, 4 * time * n) }
  }

  const gruBackward: RecurrenceKernels['gruBackward'] = (g, forward, h0, w, extent): GruBackward => {
    const dtype = dtypeOf(g)
    const { time, batch, hidden } = extent
    const n = batch * hidden
    const {
      ptrs: [gPtr, hsPtr, savedPtr, dPrePtr, dHiddenPtr, h0Ptr, wPtr, packedPtr, dh, dhNext, prod, dn, dz, dan, dar, daz, dhn], end,
    } = layout(g.BYTES_PER_ELEMENT, [
      time * n, time * n, 4 * time * n, 3 * time * n, 3 * time * n, n, w.length, packedSize(dtype, 3 * hidden, hidden), n, n, n, n, n, n, n, n, n,
    ])
    const s = [forward.hs, forward.saved, h0, w].every((x) => dtypeOf(x) === dtype) ? open(dtype, end, [batch, 3 * hidden, hidden]) : null
    if (s === null) return fallback.gruBackward(g, forward, h0, w, extent)
    const row = hidden * s.bytes
    s.put(gPtr, g)
    s.put(hsPtr, forward.hs)
    s.put(savedPtr, forward.saved)
    s.put(h0Ptr, h0)
    s.put(wPtr, w)
    s.pack(wPtr, 3 * hidden, hidden, !extent.transposed, packedPtr)
    for (let step = time - 1; step >= 0; step--) {
      const t = stepAt(extent, step)
      const at = t * n * s.bytes
      const [r, z, candidate, hn] = [0, 1, 2, 3].map((slot) => savedPtr + (4 * t + slot) * n * s.bytes)
      const hPrev = step === 0 ? h0Ptr : hsPtr + stepAt(extent, step - 1) * n * s.bytes
      // dh = g_t + dh_next; dn = dh − dh ⊙ z; dz = dh ⊙ (h_prev − n).
      if (step === time - 1) s.copy(dh, gPtr + at, n)
      else s.binary('add', gPtr + at, dhNext, dh, n)
      // dh ⊙ z goes to dh_next's place (read above, free now): it is also dh_prev's first term.
      s.binary('mul', dh, z, dhNext, n)
      s.binary('sub', dh, dhNext, dn, n)
      s.binary('sub', hPrev, candidate, prod, n)
      s.binary('mul', dh, prod, dz, n)
      s.backward('tanh', dn, candidate, dan, n)
      s.binary('mul', dan, hn, prod, n)
      s.backward('sigmoid', prod, r, dar, n)
      s.backward('sigmoid', dz, z, daz, n)
      s.binary('mul', dan, r, dhn, n)
      const dPre = dPrePtr + 3 * at
      const dHidden = dHiddenPtr + 3 * at
      for (let b = 0; b < batch; b++) {
        for (const [k, d] of [dar, daz, dan].entries()) s.copy(dPre + (3 * b + k) * row, d + b * row, hidden)
        for (const [k, d] of [dar, daz, dhn].entries()) s.copy(dHidden + (3 * b + k) * row, d + b * row, hidden)
      }
      // dh_prev = dh ⊙ z + dHidden_t·wᵀ, the product accumulated onto the first term in place.
      s.packedMatmul(dHidden, packedPtr, dhNext, batch, 3 * hidden, hidden, true)
    }
    return { dPre: s.take(dPrePtr, 3 * time * n), dHidden: s.take(dHiddenPtr, 3 * time * n), dh0: s.take(dhNext, n) }
  }

  return {
    recurrentForward, recurrentBackward, projectedRecurrentForward, projectedRecurrentBackward, lstmForward, lstmBackward, gruForward, gruBackward,
  }
}
