/**
 * @file Relaxed SIMD on Node 20 (Node-only: it sets a V8 flag). Node 20 compiles WebAssembly relaxed
 * SIMD only with --experimental-wasm-relaxed-simd, which V8 also accepts at run time before a module
 * needs it; Node 22 has it on by default. With it, `loadWasmKernels` takes the build whose matmul
 * multiply-adds are fused (about 1.3–1.4× the float32 products on this project's benchmark machine).
 */
import { setFlagsFromString } from 'node:v8'
import { relaxedSimdSupported } from './tensor/wasm/wasmKernels.js'

/**
 * Makes WebAssembly relaxed SIMD available in this process if the host has it behind a flag, and
 * reports whether it is available. Call it before loading the kernels; backends loaded earlier keep
 * their build. Fused and unfused hosts round products differently (each fused multiply-add rounds
 * once), so runs compared bit for bit should agree on it.
 * @returns true when `loadWasmKernels` will now pick the relaxed-SIMD build
 * @example
 * ```ts
 * // before loading the kernels (import { enableRelaxedSimd } from 'scangrad/node')
 * const relaxed = enableRelaxedSimd()
 * loadWasmKernels().name === (relaxed ? 'wasm-relaxed-simd' : 'wasm') // true
 * ```
 * @category kernels
 */
export const enableRelaxedSimd = (): boolean => {
  if (relaxedSimdSupported()) return true
  setFlagsFromString('--experimental-wasm-relaxed-simd')
  return relaxedSimdSupported()
}
