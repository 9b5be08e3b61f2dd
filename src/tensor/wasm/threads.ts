/**
 * @file The threaded WebAssembly backend: the kernels over a shared memory, whose large matrix
 * products and recurrent sequences (Elman / RNN, LSTM, GRU) are split between the calling thread and
 * worker threads.
 * Calls stay synchronous: the caller publishes the job in a shared control block, wakes the
 * workers, computes chunks itself, and waits (Atomics.wait) until every chunk is done. A product's
 * chunks are row ranges (or column ranges) of C, a sequence's are ranges of batch rows, each run
 * through every time step (recurrenceRows.ts, lstmRows.ts, gruRows.ts); chunks are taken from a shared ticket counter, so a
 * busy core slows the split down instead of stalling it. Each product chunk is the same blocked
 * `gemm` on a sub-range, and an element's summation order depends only on k; each batch row of a
 * sequence gets the same operations whichever thread runs it: results equal the single-threaded
 * backend's bit for bit.
 *
 * No Node-only API here: workers come from an injected `WorkerFactory` (the Node one lives in
 * src/nodeThreads.ts; browsers pass a Web Worker factory). Imports only tensor/ and wasm/ modules.
 */
import type { DType } from '../Tensor.js'
import type { Kernels } from '../kernels.js'
import type { KernelExports } from './exports.js'
import { type PackedMatmul, type PointerMatmul, createPointerMatmul, matmulScratchBytes, packedWidth } from './matmul.js'
import { GRU_ARGS, encodeGru, gruRows } from './gruRows.js'
import { LSTM_ARGS, encodeLstm, lstmRows } from './lstmRows.js'
import { type RowRunners, runRowsOnCaller } from './recurrence.js'
import {
  type CopyBytes, RECURRENCE_ARGS, type RowJob, copyBytesIn, encodeRecurrence, recurrenceRows,
} from './recurrenceRows.js'
import { type WasmKernelOptions, compileSharedBuild, kernelsFromInstance } from './wasmKernels.js'
import type { WasmInstance, WasmMemory, WasmModule, WebAssemblyApi } from './webAssembly.js'

// ---- workers ----

/** A started worker thread, as far as the pool needs it (Node's `Worker` and the Web `Worker` both fit). @category kernels */
export interface ThreadWorker {
  postMessage(message: unknown): void
  terminate(): unknown
}

/**
 * Starts a worker that runs `entry`, the source text of a JavaScript function `(message) => void`,
 * on the first message it receives, and returns it. The worker must not keep its host alive on its
 * own (Node: `unref()`). The function uses only WebAssembly and Atomics, so it runs anywhere.
 *
 * @example
 * // A browser (the page must be cross-origin isolated for SharedArrayBuffer):
 * const webWorkers: WorkerFactory = (entry) =>
 *   new Worker(URL.createObjectURL(new Blob([`onmessage = (e) => (${entry})(e.data)`], { type: 'text/javascript' })))
 * @category kernels
 */
export type WorkerFactory = (entry: string) => ThreadWorker

// ---- the control block ----

/** Int32 slots of the control block (a SharedArrayBuffer); the hot counters sit on their own cache lines. */
const SEQ = 0 // job number, doubled; odd while the caller writes the arguments
const READY = 1 // workers that have instantiated the module
const SLEEPING = 2 // workers blocked in Atomics.wait (the caller wakes them only then)
const FAILED = 3 // set by a worker whose chunk threw
const ARGS = 4 // the job: a header (operation, chunk, first and end ticket), then its arguments in `runChunks`' order
const HEADER = 4
const ARG_COUNT = HEADER + Math.max(15, RECURRENCE_ARGS, LSTM_ARGS, GRU_ARGS)
const WORKER_CHUNKS = ARGS + ARG_COUNT // chunks computed by workers so far (diagnostics); below NEXT
const LINE = 16 // int32 slots per 64-byte cache line
const NEXT = Math.ceil((WORKER_CHUNKS + 1) / LINE) * LINE // the ticket counter: chunk tickets are handed out in increasing order, never reused
const DONE = NEXT + LINE // completed tickets
const CONTROL_SLOTS = DONE + LINE
/**
 * The operation slot (the first argument): 0 gemm_f32, 1 gemm_f64, STOP ends the workers, RECURRENCE
 * runs rows of an Elman / RNN sequence, 4 gemmPacked_f32 and 5 gemmPacked_f64, LSTM and GRU rows of
 * an LSTM or GRU one.
 */
const STOP = 2
const RECURRENCE = 3
const PACKED = 4
const LSTM = 6
const GRU = 7

/** The counters `runChunks` touches, passed in because its source text travels to the workers. */
interface CounterSlots {
  readonly next: number
  readonly done: number
  readonly failed: number
  readonly workerChunks: number
}

const COUNTERS: CounterSlots = { next: NEXT, done: DONE, failed: FAILED, workerChunks: WORKER_CHUNKS }

/**
 * Runs the chunks of the published job (`args`: the header, then a product's arguments as
 * destructured below, or an encoded recurrence) whose tickets this thread wins, `thread` picking
 * its scratch slice: a product's chunk is a row or column range of C, a recurrence's a range of
 * batch rows run through every step (`rows`, recurrenceRows.ts). Tickets are compared by wrapping
 * differences, so the counter may overflow. The workers receive this function as source text
 * (`toString`), so it must refer to nothing outside its parameters and JavaScript's globals.
 */
const runChunks = (
  control: Int32Array, args: Int32Array, exports: KernelExports, copy: CopyBytes, thread: number, slots: CounterSlots,
  rows: typeof recurrenceRows, lstm: typeof lstmRows, gru: typeof gruRows,
): void => {
  // A product's arguments (a recurrence reads its own from the body). Literals below, not the
  // constants, since this source travels: 3 is RECURRENCE, 6 LSTM, 7 GRU, 4 the HEADER's length.
  // A packed product (4, 5) carries the packed weight and its width where B and rowB go.
  const [op, chunk, first, end, m, n, k, a, rowA, colA, b, rowB, colB, c, ldc, accumulate, scratch, scratchStride, byColumns] = args
  const f64 = op === 1 || op === 5
  const gemm = f64 ? exports.gemm_f64 : exports.gemm_f32
  const gemmPacked = f64 ? exports.gemmPacked_f64 : exports.gemmPacked_f32
  const bytes = f64 ? 8 : 4
  const ownScratch = scratch + thread * scratchStride
  for (;;) {
    const ticket = Atomics.load(control, slots.next)
    if (((ticket - end) | 0) >= 0) return
    if (Atomics.compareExchange(control, slots.next, ticket, (ticket + 1) | 0) !== ticket) continue
    const start = ((ticket - first) | 0) * chunk
    try {
      if (op === 3) {
        rows(args.subarray(4), exports, copy, thread, start, chunk)
      } else if (op === 6) {
        lstm(args.subarray(4), exports, copy, thread, start, chunk)
      } else if (op === 7) {
        gru(args.subarray(4), exports, copy, thread, start, chunk)
      } else if (op >= 4 && byColumns === 0) {
        gemmPacked(Math.min(chunk, m - start), n, k, a + start * rowA * bytes, rowA, colA, b, rowB, 0, c + start * ldc * bytes, ldc, accumulate, ownScratch)
      } else if (op >= 4) {
        gemmPacked(m, Math.min(chunk, n - start), k, a, rowA, colA, b, rowB, start, c + start * bytes, ldc, accumulate, ownScratch)
      } else if (byColumns === 0) {
        gemm(Math.min(chunk, m - start), n, k, a + start * rowA * bytes, rowA, colA, b, rowB, colB, c + start * ldc * bytes, ldc, accumulate, ownScratch)
      } else {
        gemm(m, Math.min(chunk, n - start), k, a, rowA, colA, b + start * colB * bytes, rowB, colB, c + start * bytes, ldc, accumulate, ownScratch)
      }
    } catch {
      Atomics.store(control, slots.failed, 1)
    }
    if (thread > 0) Atomics.add(control, slots.workerChunks, 1)
    Atomics.add(control, slots.done, 1)
    Atomics.notify(control, slots.done)
  }
}

/**
 * The workers' program, as source text for `WorkerFactory`: instantiate the module over the shared
 * memory, report ready, then serve jobs until told to stop. After a job a worker polls the job
 * number for `spin` ms before sleeping in Atomics.wait, so back-to-back products (a recurrence's
 * time steps) do not pay a wake-up (≈ 50 µs) each. The job's arguments are read under the job
 * number (a seqlock): read it, copy the arguments, read it again; a change means the caller was
 * writing.
 */
const WORKER_ENTRY = `(message) => {
  const { module, memory, control: buffer, thread, spin } = message
  const control = new Int32Array(buffer)
  const SEQ = ${SEQ}, READY = ${READY}, SLEEPING = ${SLEEPING}, FAILED = ${FAILED}, ARGS = ${ARGS}, ARG_COUNT = ${ARG_COUNT}, STOP = ${STOP}
  const slots = { next: ${NEXT}, done: ${DONE}, failed: ${FAILED}, workerChunks: ${WORKER_CHUNKS} }
  let exports
  try {
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports
  } catch {
    Atomics.store(control, FAILED, 1)
    Atomics.add(control, READY, 1)
    return
  }
  const copy = (${copyBytesIn.toString()})(memory)
  const recurrenceRows = ${recurrenceRows.toString()}
  const lstmRows = ${lstmRows.toString()}
  const gruRows = ${gruRows.toString()}
  const runChunks = ${runChunks.toString()}
  const args = new Int32Array(ARG_COUNT)
  let seen = Atomics.load(control, SEQ) & ~1
  Atomics.add(control, READY, 1)
  for (;;) {
    let seq = Atomics.load(control, SEQ)
    if (seq === seen && spin > 0) {
      const until = performance.now() + spin
      while (seq === seen && performance.now() < until) {
        for (let i = 0; i < 16 && seq === seen; i++) seq = Atomics.load(control, SEQ)
      }
    }
    if (seq === seen) {
      Atomics.add(control, SLEEPING, 1)
      Atomics.wait(control, SEQ, seen)
      Atomics.sub(control, SLEEPING, 1)
      continue
    }
    if (seq & 1) continue
    for (let i = 0; i < ARG_COUNT; i++) args[i] = control[ARGS + i]
    if (Atomics.load(control, SEQ) !== seq) continue
    seen = seq
    if (args[0] === STOP) return
    runChunks(control, args, exports, copy, thread, slots, recurrenceRows, lstmRows, gruRows)
  }
}`

// ---- the pool ----

/** The caller's side of the control block. */
interface Pool {
  readonly threads: number
  /**
   * Runs `chunks` chunks of `chunk` rows or columns of a job (operation `op`, arguments `body`) on
   * every thread; returns when all are done.
   */
  run(op: number, chunk: number, chunks: number, body: readonly number[]): void
  /**
   * Wakes sleeping workers without a job, so that they poll for the next one (for the spin time)
   * instead of sleeping: their wake-up then overlaps the caller's work before that job.
   */
  wake(): void
  /** Stops and terminates the workers; later jobs must not be run. */
  close(): void
  readonly closed: boolean
}

/** Whether this thread may block in Atomics.wait (not on a browser's main thread). */
const canWait = (control: Int32Array): boolean => {
  try {
    Atomics.wait(control, CONTROL_SLOTS - 1, 1, 0) // the slot holds 0: returns "not-equal" at once
    return true
  } catch {
    return false
  }
}

const createPool = (control: Int32Array, workers: readonly ThreadWorker[], exports: KernelExports): Pool => {
  const threads = workers.length + 1
  const args = new Int32Array(ARG_COUNT)
  const copy = copyBytesIn(exports.memory)
  const blocking = canWait(control)
  let closed = false
  const publish = (fill: (slots: Int32Array) => void): void => {
    const seq = Atomics.load(control, SEQ)
    Atomics.store(control, SEQ, (seq + 1) | 0) // odd: a worker reading now retries
    args.fill(0)
    fill(args)
    for (let i = 0; i < ARG_COUNT; i++) control[ARGS + i] = args[i]
    Atomics.store(control, SEQ, (seq + 2) | 0)
    if (Atomics.load(control, SLEEPING) > 0) Atomics.notify(control, SEQ)
  }
  return {
    threads,
    get closed() { return closed },
    wake() {
      if (!closed && Atomics.load(control, SLEEPING) > 0) Atomics.notify(control, SEQ)
    },
    run(op, chunk, chunks, body) {
      const first = Atomics.load(control, NEXT)
      const end = (first + chunks) | 0
      publish((s) => s.set([op, chunk, first, end, ...body]))
      runChunks(control, args, exports, copy, 0, COUNTERS, recurrenceRows, lstmRows, gruRows)
      for (;;) {
        const done = Atomics.load(control, DONE)
        if (((done - end) | 0) >= 0) break
        if (blocking) Atomics.wait(control, DONE, done, 1000)
      }
      if (Atomics.exchange(control, FAILED, 0) !== 0) {
        throw new Error('loadThreadedWasmKernels: a chunk failed in WebAssembly (out of bounds?). Check the pointers and the scratch size (matmulScratchBytes(…, threads)).')
      }
    },
    close() {
      if (closed) return
      closed = true
      publish((s) => { s[0] = STOP })
      Atomics.notify(control, SEQ)
      for (const worker of workers) worker.terminate()
    },
  }
}

/** Granule of chunk boundaries, in rows or columns: a multiple of every register tile's sides. */
const GRANULE = 16
/**
 * Smallest chunk. Each chunk packs the whole other operand again, ≈ 0.23 ns per element against
 * ≈ 0.05 ns per multiply-add at 42 GFLOP/s, so a chunk of r rows costs ≈ 5/r extra (measured on
 * C1's dW product, 128 × 1792 · 1792 × 128 on one thread: 1.39 ms in one chunk, 1.44 in two of
 * 64 rows, 1.55 in four of 32, 1.77 in eight of 16).
 */
const MIN_CHUNK = 64

/**
 * The pool's pointer matmul: products of at least `minParallel` multiply-adds are cut into about
 * `chunksPerThread` chunks per thread, along the rows of C when n ≤ m (each chunk then packs all of
 * B again, the smaller operand) and along its columns otherwise; smaller ones run on the caller.
 */
const threadedProduct = (
  exports: KernelExports, pool: Pool, minParallel: number, chunksPerThread: number,
): PointerMatmul => {
  const single = createPointerMatmul(exports)
  /** The chunking of a product, or null when it runs on the caller alone. */
  const split = (m: number, k: number, n: number) => {
    const byColumns = n > m
    const extent = byColumns ? n : m
    const chunk = Math.max(MIN_CHUNK, Math.ceil(extent / (pool.threads * chunksPerThread) / GRANULE) * GRANULE)
    const chunks = Math.ceil(extent / chunk)
    if (pool.closed || pool.threads === 1 || k === 0 || m * k * n < minParallel || chunks < 2) return null
    return { byColumns, chunk, chunks }
  }
  const product = (
    dtype: DType, aPtr: number, bPtr: number, outPtr: number, m: number, k: number, n: number,
    transposeA: boolean, transposeB: boolean, accumulate: boolean, scratchPtr: number,
  ): void => {
    const chunking = split(m, k, n)
    if (chunking === null) {
      single(dtype, aPtr, bPtr, outPtr, m, k, n, transposeA, transposeB, accumulate, scratchPtr)
      return
    }
    pool.run(dtype === 'float32' ? 0 : 1, chunking.chunk, chunking.chunks, [
      m, n, k, aPtr, transposeA ? 1 : k, transposeA ? m : 1, bPtr, transposeB ? 1 : n, transposeB ? k : 1, outPtr, n,
      accumulate ? 1 : 0, scratchPtr, matmulScratchBytes(dtype, m, k, n), chunking.byColumns ? 1 : 0,
    ])
  }
  const packed: PackedMatmul = (dtype, aPtr, packedPtr, outPtr, m, k, n, transposeA, accumulate, scratchPtr) => {
    const chunking = split(m, k, n)
    if (chunking === null) {
      single.packed(dtype, aPtr, packedPtr, outPtr, m, k, n, transposeA, accumulate, scratchPtr)
      return
    }
    // Column chunks start at multiples of GRANULE, so at a packed panel's first column.
    pool.run(PACKED + (dtype === 'float32' ? 0 : 1), chunking.chunk, chunking.chunks, [
      m, n, k, aPtr, transposeA ? 1 : k, transposeA ? m : 1, packedPtr, packedWidth(exports, dtype, n), 0, outPtr, n,
      accumulate ? 1 : 0, scratchPtr, matmulScratchBytes(dtype, m, k, n), chunking.byColumns ? 1 : 0,
    ])
  }
  const wake = (m: number, k: number, n: number): void => { if (split(m, k, n) !== null) pool.wake() }
  return Object.assign(product, { threads: pool.threads, packed, wake })
}

/** Fewest batch rows in a chunk of a split recurrence: thinner ones pay a step's calls and packing of h for little work. */
const MIN_RECURRENCE_ROWS = 8

/**
 * The pool's Elman / RNN, LSTM and GRU time loops: a sequence of at least `minParallel` multiply-adds
 * in its recurrent products (time·batch·hidden², four or three times that for the LSTM and GRU) is cut into one range
 * of batch rows per thread (a multiple of 4 rows, the register tile's height), each run through
 * every step with no synchronisation (recurrenceRows.ts, lstmRows.ts, gruRows.ts); smaller ones run on the
 * caller. One hand-off per sequence instead of one per step's product.
 */
const threadedRunners = (exports: KernelExports, pool: Pool, minParallel: number): RowRunners => {
  const onCaller = runRowsOnCaller(exports)
  /**
   * The row chunk of a sequence with `gates` recurrent products per step (1 Elman / RNN, 4 LSTM,
   * 3 GRU), or null when it runs on the caller alone.
   */
  const chunking = ({ time, batch, hidden }: Pick<RowJob, 'time' | 'batch' | 'hidden'>, gates: number) => {
    const chunk = Math.max(MIN_RECURRENCE_ROWS, Math.ceil(batch / pool.threads / 4) * 4)
    const chunks = Math.ceil(batch / chunk)
    return pool.closed || chunks < 2 || gates * time * batch * hidden ** 2 < minParallel ? null : { chunk, chunks }
  }
  return {
    wake: (extent, gates) => { if (chunking(extent, gates) !== null) pool.wake() },
    recurrence: (job) => {
      const split = chunking(job, 1)
      if (split === null) onCaller.recurrence(job)
      else pool.run(RECURRENCE, split.chunk, split.chunks, encodeRecurrence(job))
    },
    lstm: (job) => {
      const split = chunking(job, 4)
      if (split === null) onCaller.lstm(job)
      else pool.run(LSTM, split.chunk, split.chunks, encodeLstm(job))
    },
    gru: (job) => {
      const split = chunking(job, 3)
      if (split === null) onCaller.gru(job)
      else pool.run(GRU, split.chunk, split.chunks, encodeGru(job))
    },
  }
}

// ---- the loader ----

/** Options of `loadThreadedWasmKernels`. @category kernels */
export interface ThreadedWasmKernelOptions extends WasmKernelOptions {
  /** Starts the workers: `nodeWorkers` from `scangrad/node`, or a Web Worker factory. */
  readonly createWorker: WorkerFactory
  /** Threads per product, the caller included. Default 2. */
  readonly threads?: number
  /**
   * Smallest product (m·k·n multiply-adds) that is split, and smallest sequence (multiply-adds of
   * its recurrent products: time·batch·hidden², times 4 for the LSTM and 3 for the GRU) whose batch
   * rows are; smaller ones run on the calling thread alone.
   * Default measured on Node 20, Zen 4 (see DEFAULT_MIN_PARALLEL).
   */
  readonly minParallelSize?: number
  /** Chunks per thread, for balance when a core is busy (each chunk repacks one operand). Default 2. */
  readonly chunksPerThread?: number
  /**
   * How long an idle worker keeps polling for the next product before it sleeps, in µs: a sleeping
   * worker takes ≈ 50 µs to wake, as long as a whole 64 × 128 · 128 × 128 product. Default 200.
   */
  readonly spinMicroseconds?: number
  /** How long to wait for the workers to start, in ms. Default 10 000. */
  readonly startTimeout?: number
}

/** The threaded backend: the kernels, the thread count, and `close` to stop the workers. @category kernels */
export interface ThreadedKernels extends Kernels {
  /** Threads per large product, the caller included. */
  readonly threads: number
  /**
   * Stops and terminates the workers. The kernels stay usable, single-threaded. Workers never keep
   * Node alive (the factory unrefs them), so forgetting `close` only wastes their memory until exit.
   */
  close(): void
  /** Diagnostics: product chunks the workers have computed so far (the others ran on the caller). */
  chunksOnWorkers(): number
}

/**
 * Measured (Node 20, Zen 4, 2 cores, back-to-back products, `.scratch/crossover.ts`): split, a
 * 64 × 64 · 64 × 64 product (2¹⁸ multiply-adds) takes 1.0–1.4× as long as on one thread, a 96³ one
 * (0.84 · 2²⁰) 0.8–0.9×, 64 × 128 · 128 × 128 (2²⁰) 0.75–0.9×, 256³ 0.6–0.65×.
 */
const DEFAULT_MIN_PARALLEL = 2 ** 19

type MemoryApi = WebAssemblyApi & {
  readonly Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The WebAssembly kernels with matrix products split over `threads` threads sharing one
 * WebAssembly memory (the rest of the kernels run on the calling thread as in `loadWasmKernels`).
 * Results equal the single-threaded backend's bit for bit. Needs SharedArrayBuffer (in browsers, a
 * cross-origin-isolated page) and a thread that may block in Atomics.wait (Node's main thread, or a
 * browser worker; on a browser's main thread the caller spins instead).
 *
 * @param options the worker factory, the thread count, split thresholds, and `loadWasmKernels`' options
 * @returns the backend, named like `loadWasmKernels`' with `-threads` and the count appended; `close()` it when done
 * @throws Error when the host lacks WebAssembly SIMD, SharedArrayBuffer or shared WebAssembly memory,
 *   or the workers do not start in time
 * @example
 * ```ts
 * // nodeWorkers comes from scangrad/node; in a browser, pass a WorkerFactory over Web Workers
 * const kernels = await loadThreadedWasmKernels({ createWorker: nodeWorkers, threads: 2 })
 * const x = normal(randomKey(0), [256, 256])
 * const previous = useKernels(kernels)
 * try {
 *   kernels.name // e.g. 'wasm-threads2'
 *   matmul(x, x).shape // [256, 256]: split over the calling thread and one worker
 * } finally {
 *   useKernels(previous)
 *   kernels.close()
 * }
 * ```
 * @category kernels
 */
export const loadThreadedWasmKernels = async (options: ThreadedWasmKernelOptions): Promise<ThreadedKernels> => {
  const who = 'loadThreadedWasmKernels'
  const threads = options.threads ?? 2
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`${who}: threads must be a positive integer, got ${threads}. Use 2 to add one worker to the calling thread.`)
  }
  if (typeof SharedArrayBuffer !== 'function') {
    throw new Error(`${who}: this host has no SharedArrayBuffer (browsers need a cross-origin-isolated page). Use loadWasmKernels for one thread.`)
  }
  const { variant, module } = await compileSharedBuild(who, options.relaxedSimd ?? true)
  const api = (globalThis as unknown as { readonly WebAssembly: MemoryApi }).WebAssembly
  const memory = new api.Memory({ initial: 1, maximum: 32768, shared: true })
  const instance: WasmInstance = await api.instantiate(module as WasmModule, { env: { memory } })
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4))
  const spin = (options.spinMicroseconds ?? 200) / 1000
  const workers: ThreadWorker[] = []
  try {
    for (let thread = 1; thread < threads; thread++) {
      const worker = options.createWorker(WORKER_ENTRY)
      workers.push(worker)
      worker.postMessage({ module, memory, control: control.buffer, thread, spin })
    }
    const deadline = Date.now() + (options.startTimeout ?? 10_000)
    while (Atomics.load(control, READY) < threads - 1) {
      if (Date.now() > deadline) throw new Error(`${who}: ${threads - 1 - Atomics.load(control, READY)} of ${threads - 1} workers did not start within ${options.startTimeout ?? 10_000} ms. Check the worker factory.`)
      await sleep(1)
    }
    if (Atomics.load(control, FAILED) !== 0) throw new Error(`${who}: a worker could not instantiate the shared-memory module.`)
  } catch (error) {
    for (const worker of workers) worker.terminate()
    throw error
  }
  const exports = instance.exports as KernelExports
  const pool = createPool(control, workers, exports)
  const minParallel = options.minParallelSize ?? DEFAULT_MIN_PARALLEL
  const kernels = kernelsFromInstance(
    instance, variant, options,
    (x) => threadedProduct(x, pool, minParallel, options.chunksPerThread ?? 2),
    (x) => threadedRunners(x, pool, minParallel),
  )
  return {
    ...kernels, name: `${kernels.name}-threads${threads}`, threads,
    close: () => pool.close(),
    chunksOnWorkers: () => Atomics.load(control, WORKER_CHUNKS),
  }
}
