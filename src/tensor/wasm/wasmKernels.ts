/**
 * @file The WebAssembly SIMD kernel backend: loads the embedded module and assembles a `Kernels`
 * whose matmul, same-shape binary operations, neg / abs / square / sqrt / relu, exp / tanh / sigmoid,
 * the tanh and sigmoid VJPs, full and column sums, strided gathers (transposes, slices) and fused
 * elementwise programs run in WebAssembly above measured size thresholds. The other kernels stay the JavaScript ones: gathers
 * and scatters through index maps and broadcasts other than rows are bound by their index arrays
 * (copying an index map in costs as much as the loop), and log / softplus / pow would need new
 * accurate polynomials. It is the default backend (src/tensor/backend.ts); `useKernels(loadWasmKernels(options))`
 * selects an instance with other options. Works in Node and browsers: the module is embedded as
 * base64, so nothing is fetched or read from disk.
 */
import { jsKernels } from '../jsKernels.js'
import type { Kernels } from '../kernels.js'
import { composedRecurrence } from '../recurrence.js'
import { createAdam } from './adam.js'
import { createArena } from './arena.js'
import { decodeBase64 } from './base64.js'
import { createFused } from './fused.js'
import { type Thresholds, createBackward, createBinary, createConcatRows, createGatherStrided, createScatterRows, createSumInto, createSumRows, createUnary } from './elementwise.js'
import { FUNCTION_EXPORTS, type KernelExports } from './exports.js'
import { createLinearRecurrence, createLinearRecurrenceBackward } from './linearRecurrence.js'
import {
  kernelsRelaxedWasmBase64, kernelsSharedRelaxedWasmBase64, kernelsSharedWasmBase64, kernelsWasmBase64,
} from './kernelsBinary.generated.js'
import { type PointerMatmul, createAffine, createMatmul, createPointerMatmul } from './matmul.js'
import { composedAffine } from '../affine.js'
import { type RowRunners, createRecurrenceKernels, runRowsOnCaller } from './recurrence.js'
import { type WasmInstance, type WasmModule, type WebAssemblyApi, webAssemblyApi } from './webAssembly.js'

/** Options of `loadWasmKernels`. @category kernels */
export interface WasmKernelOptions {
  /**
   * Smallest sizes handed to WebAssembly; smaller calls run the JavaScript kernels, for which the
   * copy into WebAssembly memory would cost more than it saves. `matmul` counts batch·m·k·n
   * multiply-adds, the others elements. `{ binary: 0, math: 0, sum: 0, gather: 0, matmul: 0 }` sends every
   * supported call to WebAssembly (the tests do, to cover every path).
   */
  readonly minSize?: Partial<Thresholds & { readonly matmul: number }>
  /**
   * Use the module whose matmul multiply-adds are relaxed-simd `relaxed_madd` (fused on CPUs with
   * FMA: ≈ 1.3× faster matmuls) when the host supports relaxed SIMD: Node ≥ 22, Chrome ≥ 114, or
   * Node 20 run with --experimental-wasm-relaxed-simd. Default true. Fused and unfused hosts round
   * matmuls differently (both within float tolerance); set false for the same bits on every host.
   */
  readonly relaxedSimd?: boolean
}

/**
 * Crossovers measured on Node 20 (x64) with `npm run bench:matmul -- --elementwise` and with
 * products of growing size (an 8 × 8 × 8 product is about even); binary operations, the activation
 * VJPs, column sums and strided gathers re-measured in process CPU time (JavaScript and WebAssembly
 * even at about 256 elements for binary operations, 512 for gathers).
 */
const DEFAULT_MIN_SIZE: Thresholds & { readonly matmul: number } = { binary: 512, math: 128, sum: 64, gather: 1024, matmul: 512 }

const requireApi = (who: string): WebAssemblyApi => {
  const api = webAssemblyApi()
  if (api === undefined) {
    throw new Error(`${who}: this JavaScript host has no WebAssembly. Use the JavaScript kernels (jsKernels), the default on such hosts.`)
  }
  return api
}

/** The two builds of the module: plain 128-bit SIMD, and with relaxed-simd multiply-adds in matmul. */
type Variant = 'simd' | 'relaxedSimd' | 'simdShared' | 'relaxedSimdShared'

const BASE64: Record<Variant, string> = {
  simd: kernelsWasmBase64, relaxedSimd: kernelsRelaxedWasmBase64,
  // Over an imported shared memory, for the threaded backend (threads.ts).
  simdShared: kernelsSharedWasmBase64, relaxedSimdShared: kernelsSharedRelaxedWasmBase64,
}

/**
 * Per variant: its bytes once validated on this host. Only successes are kept: a host can gain
 * relaxed SIMD at run time (`enableRelaxedSimd` from scangrad/node on Node 20).
 */
const validated: Partial<Record<Variant, Uint8Array>> = {}
/** Compiled once per variant and shared by every instance, so V8's optimised code is shared too. */
const compiled: Partial<Record<Variant, WasmModule>> = {}

const NO_SIMD = 'this host cannot compile WebAssembly SIMD (128-bit; Node ≥ 16.4, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4). Use the JavaScript kernels (jsKernels), the default on such hosts.'

const bytesOn = (api: WebAssemblyApi, variant: Variant): Uint8Array | false => {
  if (validated[variant] === undefined) {
    const bytes = decodeBase64(BASE64[variant])
    if (!api.validate(bytes)) return false
    validated[variant] = bytes
  }
  return validated[variant]
}

/** Relaxed SIMD when allowed and the host has it, else plain SIMD; throws when neither compiles. */
const chooseVariant = (who: string, api: WebAssemblyApi, relaxedSimd: boolean, shared = false): { variant: Variant; bytes: Uint8Array } => {
  const candidates = relaxedSimd ? (['relaxedSimd', 'simd'] as const) : (['simd'] as const)
  for (const variant of candidates.map((v): Variant => (shared ? `${v}Shared` : v))) {
    const bytes = bytesOn(api, variant)
    if (bytes !== false) return { variant, bytes }
  }
  throw new Error(`${who}: ${NO_SIMD}`)
}

/**
 * Whether the host can run the WebAssembly kernels: WebAssembly with 128-bit SIMD (relaxed SIMD is
 * optional).
 * @returns true in Node ≥ 16.4 and current browsers
 * @example
 * ```ts
 * wasmKernelsSupported() // true in Node ≥ 16.4 and current browsers
 * const kernels = wasmKernelsSupported() ? loadWasmKernels() : jsKernels
 * ```
 * @category kernels
 */
export const wasmKernelsSupported = (): boolean => {
  const api = webAssemblyApi()
  return api !== undefined && bytesOn(api, 'simd') !== false
}

/**
 * Whether the host compiles WebAssembly relaxed SIMD, so that `loadWasmKernels` takes the build
 * whose matmul uses fused multiply-adds (Node ≥ 22, Chrome ≥ 114; Node 20 behind a flag, see
 * `enableRelaxedSimd` in scangrad/node).
 * @example relaxedSimdSupported() // true on Node 22
 * @category kernels
 */
export const relaxedSimdSupported = (): boolean => {
  const api = webAssemblyApi()
  return api !== undefined && bytesOn(api, 'relaxedSimd') !== false
}

/**
 * The backend over an instance; `makeProduct` and `makeRunners` replace the single-threaded pointer
 * matmul and row-range time loops (the threaded backend passes its split ones). Exported for
 * threads.ts only.
 */
export const kernelsFromInstance = (
  instance: WasmInstance, variant: Variant, options: WasmKernelOptions,
  makeProduct: (exports: KernelExports) => PointerMatmul = createPointerMatmul,
  makeRunners: (exports: KernelExports) => RowRunners = runRowsOnCaller,
): Kernels => {
  const exports = instance.exports as KernelExports
  const missing = FUNCTION_EXPORTS.filter((name) => typeof (exports as Record<string, unknown>)[name] !== 'function')
  if (missing.length > 0) {
    throw new Error(`loadWasmKernels: the module lacks the exports ${missing.join(', ')}. Rebuild it with \`npm run build:wasm\`.`)
  }
  const minSize = { ...DEFAULT_MIN_SIZE, ...options.minSize }
  const arena = createArena(exports.memory)
  const product = makeProduct(exports)
  const matmul = createMatmul(exports, arena, jsKernels.matmul, product)
  const affine = createAffine(exports, arena, (x, w, bias, m, k, n) => composedAffine(kernels, x, w, bias, m, k, n), product)
  const unary = (op: 'neg' | 'abs' | 'square' | 'sqrt' | 'relu', threshold: number) => createUnary(exports, arena, op, jsKernels[op], threshold)
  const math = (op: 'exp' | 'tanh' | 'sigmoid') => createUnary(exports, arena, op, jsKernels[op], minSize.math)
  const kernels: Kernels = {
    ...jsKernels,
    name: variant === 'simd' || variant === 'simdShared' ? 'wasm' : 'wasm-relaxed-simd',
    matmul: (a, aOffsets, b, bOffsets, m, k, n, transposeA, transposeB) =>
      (aOffsets.length * m * k * n < minSize.matmul ? jsKernels.matmul : matmul)(a, aOffsets, b, bOffsets, m, k, n, transposeA, transposeB),
    affine: (x, w, bias, m, k, n) => (m * k * n < minSize.matmul ? composedAffine(kernels, x, w, bias, m, k, n) : affine(x, w, bias, m, k, n)),
    binary: createBinary(exports, arena, jsKernels.binary, minSize.binary),
    neg: unary('neg', minSize.binary),
    abs: unary('abs', minSize.binary),
    square: unary('square', minSize.binary),
    sqrt: unary('sqrt', minSize.binary),
    relu: unary('relu', minSize.binary),
    exp: math('exp'),
    tanh: math('tanh'),
    sigmoid: math('sigmoid'),
    sumInto: createSumInto(exports, arena, jsKernels.sumInto, minSize.sum),
    sumRows: createSumRows(exports, arena, jsKernels.sumRows!, minSize.binary),
    scatterRows: createScatterRows(exports, arena, jsKernels.scatterRows!, minSize.binary),
    tanhBackward: createBackward(exports, arena, 'tanhBackward', jsKernels.tanhBackward!, minSize.binary),
    sigmoidBackward: createBackward(exports, arena, 'sigmoidBackward', jsKernels.sigmoidBackward!, minSize.binary),
    gatherStrided: createGatherStrided(exports, arena, jsKernels.gatherStrided!, minSize.gather),
    concatRows: createConcatRows(exports, arena, jsKernels.concatRows!, minSize.gather),
    adam: createAdam(exports, arena, jsKernels.adam!, minSize.binary),
    linearRecurrence: createLinearRecurrence(exports, arena, jsKernels.linearRecurrence!, minSize.binary),
    linearRecurrenceBackward: createLinearRecurrenceBackward(exports, arena, jsKernels.linearRecurrenceBackward!, minSize.binary),
    fused: createFused(exports, arena, jsKernels.fused!, minSize.math),
  }
  return { ...kernels, ...createRecurrenceKernels(exports, arena, product, composedRecurrence(kernels), makeRunners(exports)) }
}

/**
 * The WebAssembly SIMD kernels as a kernel backend, compiled synchronously. Each call returns an
 * independent instance with its own memory (grown on demand, never shrunk). Synchronous compilation
 * is fine in Node and in workers; browsers' main threads refuse to compile large modules
 * synchronously, so use `loadWasmKernelsAsync` there.
 *
 * @param options size thresholds below which the JavaScript kernels run; whether to use relaxed SIMD
 * @returns kernels whose matmul and `affine` (matmul plus bias), same-shape binary operations, neg,
 *   abs, square, sqrt, relu, exp, tanh, sigmoid, the tanh and sigmoid VJPs, full and column sums and strided gathers run in
 *   WebAssembly (float32 and float64); the rest are `jsKernels`.
 *   Named 'wasm', or 'wasm-relaxed-simd' when the fused multiply-add module was loaded.
 * @throws Error when the host has no WebAssembly or no 128-bit SIMD
 * @example
 * ```ts
 * // the build without fused multiply-adds, which rounds alike on every host
 * const kernels = loadWasmKernels({ relaxedSimd: false })
 * kernels.name // 'wasm'
 * const previous = useKernels(kernels)
 * try {
 *   sum(matmul(ones([64, 64]), ones([64, 64]))).item() // 262144
 * } finally {
 *   useKernels(previous)
 * }
 * ```
 * @category kernels
 */
export const loadWasmKernels = (options: WasmKernelOptions = {}): Kernels => {
  const api = requireApi('loadWasmKernels')
  const { variant, bytes } = chooseVariant('loadWasmKernels', api, options.relaxedSimd ?? true)
  const module = (compiled[variant] ??= new api.Module(bytes))
  return kernelsFromInstance(new api.Instance(module, {}), variant, options)
}

/**
 * `loadWasmKernels` with asynchronous compilation and instantiation, for browsers' main threads.
 * @param options size thresholds below which the JavaScript kernels run; whether to use relaxed SIMD
 * @returns a promise of the same backend
 * @example
 * ```ts
 * // on a browser's main thread, which refuses to compile a module this large synchronously
 * const kernels = await loadWasmKernelsAsync()
 * kernels.name // e.g. 'wasm'
 * ```
 * @category kernels
 */
export const loadWasmKernelsAsync = async (options: WasmKernelOptions = {}): Promise<Kernels> => {
  const api = requireApi('loadWasmKernelsAsync')
  const { variant, bytes } = chooseVariant('loadWasmKernelsAsync', api, options.relaxedSimd ?? true)
  const module = (compiled[variant] ??= await api.compile(bytes))
  return kernelsFromInstance(await api.instantiate(module, {}), variant, options)
}

/**
 * Compiles (once per process) the build over an imported shared memory, for the threaded backend:
 * relaxed SIMD when allowed and available. Exported for threads.ts only.
 * @throws Error when the host has no WebAssembly or no 128-bit SIMD, or cannot share memory
 */
export const compileSharedBuild = async (who: string, relaxedSimd: boolean): Promise<{ variant: Variant; module: WasmModule }> => {
  const api = requireApi(who)
  const { variant, bytes } = chooseVariant(who, api, relaxedSimd, true)
  return { variant, module: (compiled[variant] ??= await api.compile(bytes)) }
}
