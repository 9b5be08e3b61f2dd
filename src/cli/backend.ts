/**
 * @file Chooses the kernel backend for a run: the WebAssembly SIMD kernels (several times faster
 * for the recurrent layers' matrix products) where the host supports them, else the JavaScript
 * ones. A run's config names its backend, so a resumed run uses the same kernels and stays
 * bit-identical.
 */
import { useKernels } from '../tensor/backend.js'
import { jsKernels } from '../tensor/jsKernels.js'
import type { Kernels } from '../tensor/kernels.js'
import { loadWasmKernels, wasmKernelsSupported } from '../tensor/wasm/wasmKernels.js'
import type { Backend } from './config.js'

let wasm: Kernels | null = null

/**
 * Selects the kernels for `backend`; returns the backend actually used ('js' when WebAssembly
 * SIMD is missing) so the caller can say so.
 */
export const selectBackend = (backend: Backend): Backend => {
  if (backend === 'wasm' && wasmKernelsSupported()) {
    wasm ??= loadWasmKernels()
    useKernels(wasm)
    return 'wasm'
  }
  useKernels(jsKernels)
  return 'js'
}
