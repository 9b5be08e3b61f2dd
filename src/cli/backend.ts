/**
 * @file Chooses the kernel backend for a run: the WebAssembly SIMD kernels (several times faster
 * for the recurrent layers' matrix products; with one thread, the library's default backend) where
 * the host supports them, else the JavaScript ones. A run's config names its backend, so a resumed
 * run uses the same kernels and stays bit-identical. The thread count is not part of the config:
 * the threaded kernels give the same bits for any count, so a run may be resumed with more or fewer
 * threads.
 */
import { nodeWorkers } from '../nodeThreads.js'
import { ready, useKernels } from '../tensor/backend.js'
import { jsKernels } from '../tensor/jsKernels.js'
import type { Kernels } from '../tensor/kernels.js'
import { loadThreadedWasmKernels } from '../tensor/wasm/threads.js'
import { wasmKernelsSupported } from '../tensor/wasm/wasmKernels.js'
import type { Backend } from './config.js'

/** The WebAssembly kernels loaded so far, by thread count (workers start once per count). */
const loaded = new Map<number, Promise<Kernels>>()

const wasmKernels = (threads: number): Promise<Kernels> => {
  let kernels = loaded.get(threads)
  if (kernels === undefined) {
    // One thread is the default backend, loaded with the library (in Node, before any run selects another).
    kernels = threads === 1 ? ready() : loadThreadedWasmKernels({ createWorker: nodeWorkers, threads })
    loaded.set(threads, kernels)
  }
  return kernels
}

/**
 * Selects the kernels for `backend`, with `threads` threads for the WebAssembly ones (large
 * products and recurrent batches split over worker threads); returns the backend actually used
 * ('js' when WebAssembly SIMD is missing) so the caller can say so.
 */
export const selectBackend = async (backend: Backend, threads = 1): Promise<Backend> => {
  if (backend === 'wasm' && wasmKernelsSupported()) {
    useKernels(await wasmKernels(threads))
    return 'wasm'
  }
  useKernels(jsKernels)
  return 'js'
}
