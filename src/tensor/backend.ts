/**
 * @file The active kernel backend. Primitives call kernels through `K`, an ES live binding, so
 * switching backends takes effect everywhere at once. `K` is always complete (complete.ts): every
 * optional kernel a backend lacks is filled when it is installed, so call sites never branch.
 *
 * The default is the WebAssembly SIMD backend, installed when this module loads, where the host can
 * compile it synchronously (Node, workers); a browser's main thread refuses to compile a large
 * module synchronously, so there the JavaScript kernels run until an asynchronous load finishes
 * (`ready`). A host without WebAssembly SIMD keeps the JavaScript kernels.
 */
import { checkKernels } from './checkKernels.js'
import { type CompleteKernels, completeKernels } from './complete.js'
import { jsKernels } from './jsKernels.js'
import type { Kernels } from './kernels.js'
import { loadWasmKernels, loadWasmKernelsAsync, wasmKernelsSupported } from './wasm/wasmKernels.js'

export let K: CompleteKernels = completeKernels(jsKernels)

/**
 * How many backends have been installed. A default that finishes loading asynchronously is
 * installed only if nothing was installed since its load began: the user's choice wins.
 */
let installs = 0

const install = (who: string, kernels: Kernels): Kernels => {
  const complete = completeKernels(checkKernels(who, kernels))
  const previous = K
  K = complete
  installs++
  return previous
}

/**
 * Selects the kernel backend used by every primitive from now on. The backend is checked (every
 * required kernel a function) and completed (each optional kernel it lacks composed from its
 * others) once, here.
 * @param kernels a backend: `jsKernels` (the reference), `loadWasmKernels()`, a threaded backend,
 *   or your own (`{ ...jsKernels, name: 'mine', matmul }`)
 * @returns the backend that was active, completed
 * @throws TypeError naming each missing kernel or member of the wrong type
 * @example
 * ```ts
 * const x = normal(randomKey(0), [64, 64])
 * const fast = matmul(x, x) // on the default backend
 * const previous = useKernels(jsKernels) // the reference kernels, to compare against
 * try {
 *   max(abs(sub(matmul(x, x), fast))).item() < 1e-10 // true
 * } finally {
 *   useKernels(previous) // the backend is global: put the previous one back
 * }
 * previous.name // e.g. 'wasm'
 * ```
 * @category kernels
 */
export const useKernels = (kernels: Kernels): Kernels => install('useKernels', kernels)

/** A default backend: available now, after a promise, or not at all (undefined). */
export type DefaultLoad = () => Kernels | Promise<Kernels> | undefined

/** The WebAssembly kernels where the host has SIMD: synchronously where allowed, else asynchronously. */
const wasmDefault: DefaultLoad = () => {
  if (!wasmKernelsSupported()) return undefined
  try {
    return loadWasmKernels()
  } catch {
    // A browser's main thread: synchronous compilation of a module this large is refused.
    return loadWasmKernelsAsync()
  }
}

/**
 * Installs the default backend `load` gives: at once when it is available now, when its promise
 * resolves otherwise, unless a backend was installed meanwhile. Internal: exported for the tests,
 * which pass loaders of their own.
 * @returns a promise of the backend active once the load has settled; it rejects, leaving the
 *   active backend alone, when an asynchronous load fails
 */
export const installDefault = (load: DefaultLoad): Promise<Kernels> => {
  const seen = installs
  const settle = (kernels: Kernels | undefined): Kernels => {
    if (kernels !== undefined && installs === seen) install('scangrad (default backend)', kernels)
    return K
  }
  const loaded = load()
  return loaded instanceof Promise ? loaded.then(settle) : Promise.resolve(settle(loaded))
}

const settled = installDefault(wasmDefault)
// Nobody need await the default: a failed load leaves the JavaScript kernels, not an unhandled rejection.
settled.catch(() => undefined)

/**
 * Waits for the default backend. In Node and workers it is installed when scangrad loads, and this
 * resolves at once; on a browser's main thread the WebAssembly kernels compile asynchronously, and
 * until then the JavaScript ones run. A backend chosen with `useKernels` before then stays.
 * @returns a promise of the active backend once the default has loaded: the WebAssembly one, or
 *   the one you chose meanwhile, or `jsKernels` (completed) on a host without WebAssembly SIMD
 * @example
 * await ready()      // before timing anything in a browser
 * @category kernels
 */
export const ready = (): Promise<Kernels> => settled

