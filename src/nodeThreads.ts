/**
 * @file Node's worker factory for the threaded WebAssembly kernels (Node-only: `worker_threads`).
 * Exported from `scangrad/node`; the core (src/tensor/wasm/threads.ts) only sees the factory type.
 */
import { Worker } from 'node:worker_threads'
import type { ThreadWorker, WorkerFactory } from './tensor/wasm/threads.js'

/**
 * Starts a Node worker thread running `entry` (see `WorkerFactory`) on its first message. The
 * worker is unref'd, so it never keeps the process alive: a script that forgets
 * `kernels.close()` still exits. Its failures reach the caller through the pool's control block, so
 * the 'error' event is only recorded here, never left unhandled.
 *
 * @example
 * ```ts
 * const kernels = await loadThreadedWasmKernels({ createWorker: nodeWorkers, threads: 2 })
 * kernels.name // e.g. 'wasm-threads2'
 * kernels.close() // stops the worker
 * ```
 * @category kernels
 */
export const nodeWorkers: WorkerFactory = (entry: string): ThreadWorker => {
  const worker = new Worker(`require('node:worker_threads').parentPort.once('message', ${entry})`, { eval: true })
  worker.unref()
  worker.on('error', () => undefined)
  return worker
}
