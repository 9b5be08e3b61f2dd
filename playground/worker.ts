/**
 * @file The playground's Web Worker: picks the kernels (threaded WebAssembly when the page is
 * cross-origin isolated, else the library's default), then trains a session in slices of a few
 * tens of milliseconds, posting every step's loss and, now and then, the held-out loss, sampled
 * names and the gradient norm through time. Training here keeps the page responsive; between
 * slices the worker returns to its event loop, so a pause or new settings take effect at once.
 */
import names from 'playground:names'
import { NonFiniteLossError, type ThreadedKernels, type WorkerFactory, loadThreadedWasmKernels, ready, useKernels } from '../src/index.js'
import type { BackendInfo, FromWorker, Report, ToWorker } from './protocol.js'
import { type Session, createSession } from './session.js'

/** The worker's global scope, as far as it is used (the DOM library types the page's `self`). */
const scope = self as unknown as {
  postMessage(message: FromWorker): void
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null
  readonly crossOriginIsolated: boolean
}

/** The number of the model being trained (ToWorker's `start`). */
let model = 0

const post = (report: Report): void => scope.postMessage({ ...report, model })

/** How long one slice of steps runs before the worker looks at its messages. */
const SLICE_MILLISECONDS = 50
/** Updates between samples, and between gradient-norm probes. */
const SAMPLE_EVERY = 25
/** Updates between held-out losses. */
const VALIDATE_EVERY = 50
const SAMPLES = 8
const MAX_THREADS = 4

/** The threaded kernels' helpers: classic workers from the entry's source text (threads.ts). */
const webWorkers: WorkerFactory = (entry) =>
  new Worker(URL.createObjectURL(new Blob([`onmessage = (e) => (${entry})(e.data)`], { type: 'text/javascript' })))

/**
 * The kernels to train on. SharedArrayBuffer, which the threaded kernels need, exists only in a
 * cross-origin-isolated page; elsewhere the library's default (the WebAssembly kernels, compiled
 * when scangrad loads in a worker) is the best there is.
 */
const selectKernels = async (): Promise<{ info: BackendInfo; threaded?: ThreadedKernels }> => {
  const threads = Math.min(MAX_THREADS, navigator.hardwareConcurrency || 1)
  let fallback: string | undefined
  if (scope.crossOriginIsolated && threads > 1) {
    try {
      const threaded = await loadThreadedWasmKernels({ createWorker: webWorkers, threads })
      useKernels(threaded)
      return { info: { name: threaded.name, threads }, threaded }
    } catch (error) {
      fallback = error instanceof Error ? error.message : String(error)
    }
  }
  const kernels = await ready()
  return { info: { name: kernels.name, threads: 1, ...(fallback === undefined ? {} : { fallback }) } }
}

const kernels = selectKernels().then((selected) => {
  post({ type: 'backend', backend: selected.info })
  return selected
})

let session: Session | undefined
let running = false
let looping = false
/** Reports that failed for the current session: each is reported once as an error, then skipped. */
let failed = new Set<string>()

const fail = (error: unknown): void => {
  post({ type: 'error', message: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) })
}

/** Runs one of the reports; a failing one is logged once and skipped from then on, and training goes on. */
const attempt = (what: string, work: () => Report): void => {
  if (failed.has(what)) return
  try {
    post(work())
  } catch (error) {
    failed.add(what)
    fail(error)
  }
}

/** What is reported after update `step` (0: the untrained model). */
const report = (current: Session, step: number): void => {
  if (step % VALIDATE_EVERY === 0) attempt('validation', () => ({ type: 'validation', step, loss: current.validationLoss() }))
  if (step % SAMPLE_EVERY === 0) {
    attempt('samples', () => ({ type: 'samples', step, names: current.sample(SAMPLES) }))
    attempt('gradientFlow', () => ({ type: 'gradientFlow', step, norms: current.gradientNorms() }))
  }
}

const yieldToMessages = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

const train = async (): Promise<void> => {
  if (looping) return
  looping = true
  const { threaded } = await kernels
  try {
    while (running && session !== undefined) {
      const current = session
      const until = performance.now() + SLICE_MILLISECONDS
      do {
        const start = performance.now()
        const loss = current.step()
        post({ type: 'step', step: current.steps, loss, milliseconds: performance.now() - start, chunksOnWorkers: threaded?.chunksOnWorkers() ?? 0 })
        report(current, current.steps)
      } while (running && performance.now() < until)
      await yieldToMessages()
    }
  } catch (error) {
    running = false
    // Divergence is what too high a learning rate does, not a bug: the page says so and stops.
    if (error instanceof NonFiniteLossError) post({ type: 'diverged', step: session?.steps ?? 0, message: error.message.split('\n')[0] })
    else fail(error)
  } finally {
    looping = false
  }
}

scope.onmessage = async ({ data: message }) => {
  await kernels
  if (message.type === 'pause') {
    running = false
    return
  }
  if (message.type === 'start') {
    try {
      session = createSession(names, message.settings)
    } catch (error) {
      fail(error)
      return
    }
    failed = new Set()
    model = message.model
    post({ type: 'started', settings: message.settings, trainNames: session.trainNames, heldOutNames: session.heldOutNames, vocabulary: session.vocabulary.tokens.length })
    report(session, 0)
  }
  running = true
  void train()
}
