/**
 * @file The messages between the playground's page (main.ts) and its training worker (worker.ts),
 * and what the page keeps of them. Types only.
 */
import type { SampledName, Settings } from './session.js'

/**
 * Page → worker. `start` drops the current model and trains a new one from `settings`; `model`
 * numbers it, and the worker's reports carry the number of the model they are about.
 */
export type ToWorker =
  | { readonly type: 'start'; readonly model: number; readonly settings: Settings }
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

/** What the page keeps of the worker's reports for the current model, on `window.playground` (for the console and the browser test). */
export interface PageState {
  settings?: Settings
  backend?: BackendInfo
  /** The minibatch loss of every update, in nats per character. */
  steps: { step: number; loss: number; milliseconds: number }[]
  validation: { step: number; loss: number }[]
  samples: { step: number; names: readonly SampledName[] }[]
  gradientFlow: { step: number; norms: readonly number[] }[]
  /** Chunks of work the threaded kernels' workers have done (0 on one thread). */
  chunksOnWorkers: number
  diverged?: string
  /** Errors from the page or the worker (each also logged to the console). */
  errors: string[]
}

/** What the worker reports. `step` counts the updates made so far (0: the untrained model). */
export type Report =
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

/**
 * Worker → page: a report and the model it is about (0 before the first). Reports of the previous
 * model may still arrive after the page started a new one: the worker sees `start` only between
 * slices of training.
 */
export type FromWorker = Report & { readonly model: number }
