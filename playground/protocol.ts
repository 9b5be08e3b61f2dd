/**
 * @file The messages between the playground's page (main.ts) and its training worker (worker.ts).
 * Types only.
 */
import type { SampledName, Settings } from './session.js'

/** Page → worker. `start` drops the current model and trains a new one from `settings`. */
export type ToWorker =
  | { readonly type: 'start'; readonly settings: Settings }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }

/** The kernels the worker trains on. */
export interface BackendInfo {
  /** The backend's name, e.g. `wasm-simd` or `wasm-simd-threads2`. */
  readonly name: string
  /** Threads per large product or recurrent batch, the worker itself included. */
  readonly threads: number
  /** Why there is one thread where more were possible (isolated page, but the threaded load failed). */
  readonly fallback?: string
}

/** Worker → page. `step` counts the updates made so far (0: the untrained model). */
export type FromWorker =
  | { readonly type: 'backend'; readonly backend: BackendInfo }
  | { readonly type: 'started'; readonly settings: Settings; readonly trainNames: number; readonly heldOutNames: number; readonly vocabulary: number }
  | { readonly type: 'step'; readonly step: number; readonly loss: number; readonly milliseconds: number; readonly chunksOnWorkers: number }
  | { readonly type: 'validation'; readonly step: number; readonly loss: number }
  | { readonly type: 'samples'; readonly step: number; readonly names: readonly SampledName[] }
  | { readonly type: 'gradientFlow'; readonly step: number; readonly norms: readonly number[] }
  /** The loss or the weights became NaN or infinite: training stopped. A setting, not a bug. */
  | { readonly type: 'diverged'; readonly step: number; readonly message: string }
  /** A bug: the page logs it as a console error. */
  | { readonly type: 'error'; readonly message: string }
