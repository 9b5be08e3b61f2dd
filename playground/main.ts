/**
 * @file The playground page: reads the visitor's settings, starts the training worker, and draws
 * what it reports (the loss curve, sampled names, the gradient norm through time). Nothing here
 * trains: the page only draws, once per animation frame, so it stays responsive whatever the
 * worker does. What it has received is also on `window.playground`, for the console and the
 * browser test.
 */
import { type Series, drawChart } from './chart.js'
import type { FromWorker, PageState, ToWorker } from './protocol.js'
import type { CellName, Settings } from './session.js'

const state: PageState = { steps: [], validation: [], samples: [], gradientFlow: [], chunksOnWorkers: 0, errors: [] }
;(window as unknown as { playground: PageState }).playground = state

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`playground: the page has no element #${id}`)
  return found as T
}

const cell = element<HTMLSelectElement>('cell')
const hidden = element<HTMLSelectElement>('hidden')
const learningRate = element<HTMLInputElement>('learning-rate')
const trainButton = element<HTMLButtonElement>('train')
const newModelButton = element<HTMLButtonElement>('new-model')

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
const send = (message: ToWorker): void => worker.postMessage(message)

/** A bug in the page or the worker: shown on the page and logged as a console error. */
const reportError = (message: string): void => {
  state.errors.push(message)
  console.error(message)
  invalidate()
}
worker.onerror = (event) => reportError(`playground worker: ${event.message || 'failed to load'}`)

// ---- settings ----

let seed = 0
/** The number of the model the page shows; reports about earlier ones are dropped. */
let model = 0
let phase: 'idle' | 'training' | 'paused' = 'idle'
/** The settings changed since the current model started: Train starts a new one. */
let stale = true

const readSettings = (): Settings | undefined => {
  const rate = Number(learningRate.value)
  const valid = Number.isFinite(rate) && rate > 0
  learningRate.setCustomValidity(valid ? '' : 'a positive number, e.g. 0.01')
  learningRate.reportValidity()
  return valid ? { cell: cell.value as CellName, hidden: Number(hidden.value), learningRate: rate, seed } : undefined
}

const startModel = (): void => {
  const settings = readSettings()
  if (settings === undefined) return
  Object.assign(state, { settings, steps: [], validation: [], samples: [], gradientFlow: [], diverged: undefined })
  stale = false
  phase = 'training'
  send({ type: 'start', model: ++model, settings })
  invalidate()
}

trainButton.addEventListener('click', () => {
  if (phase === 'training') {
    phase = 'paused'
    send({ type: 'pause' })
  } else if (stale || state.diverged !== undefined) {
    startModel()
  } else {
    phase = 'training'
    send({ type: 'resume' })
  }
  invalidate()
})

newModelButton.addEventListener('click', () => {
  seed++
  startModel()
})

for (const control of [cell, hidden, learningRate]) {
  control.addEventListener('change', () => {
    stale = true
    // While training, a new setting takes effect at once; otherwise at the next Train.
    if (phase === 'training') startModel()
    else invalidate()
  })
}

// ---- messages ----

worker.onmessage = ({ data: message }: MessageEvent<FromWorker>) => {
  if (message.model !== model && message.type !== 'backend' && message.type !== 'error') return
  switch (message.type) {
    case 'backend': state.backend = message.backend; break
    case 'started':
      element('data').textContent = `${message.trainNames.toLocaleString('en')} training names, ${message.heldOutNames.toLocaleString('en')} held out. ` +
        `A uniform guess among the ${message.vocabulary} tokens (the characters, start and end) costs ln ${message.vocabulary} ≈ ${Math.log(message.vocabulary).toFixed(2)} nats.`
      break
    case 'step':
      state.steps.push({ step: message.step, loss: message.loss, milliseconds: message.milliseconds })
      state.chunksOnWorkers = message.chunksOnWorkers
      break
    case 'validation': state.validation.push({ step: message.step, loss: message.loss }); break
    case 'samples': state.samples.push({ step: message.step, names: message.names }); break
    case 'gradientFlow': state.gradientFlow.push({ step: message.step, norms: message.norms }); break
    case 'diverged':
      state.diverged = `Diverged after ${message.step} updates: ${message.message} Lower the learning rate and press Train.`
      phase = 'idle'
      break
    case 'error': reportError(`playground worker: ${message.message}`); break
  }
  invalidate()
}

// ---- drawing ----

let pending = false
function invalidate(): void {
  if (pending) return
  pending = true
  requestAnimationFrame(() => {
    pending = false
    render()
  })
}

/**
 * A centred moving average (the window shrinks at the ends), to see the trend through the
 * minibatch noise without the lag of a trailing average while the loss falls fast.
 */
const smooth = (points: readonly (readonly [number, number])[]): [number, number][] => {
  const half = Math.min(50, Math.max(2, Math.round(points.length / 40)))
  const sums = [0]
  for (const [, y] of points) sums.push(sums[sums.length - 1] + y)
  return points.map(([x], i) => {
    const [from, to] = [Math.max(0, i - half), Math.min(points.length, i + half + 1)]
    return [x, (sums[to] - sums[from]) / (to - from)]
  })
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]
}

const isolationNote = (): string => {
  if (!crossOriginIsolated) {
    return 'This page is not cross-origin isolated, so the browser gives it no SharedArrayBuffer: training runs on one thread. ' +
      'Served with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, it trains on several.'
  }
  const backend = state.backend
  if (backend === undefined) return 'Cross-origin isolated: starting worker threads…'
  if (backend.fallback !== undefined) return `Cross-origin isolated, but the threaded kernels did not load (${backend.fallback}); training runs on one thread.`
  return backend.threads > 1
    ? `Cross-origin isolated: training runs on ${backend.threads} threads.`
    : 'Cross-origin isolated, but the browser reports one core: training runs on one thread.'
}

const renderSamples = (): void => {
  const list = element<HTMLOListElement>('samples')
  const latest = state.samples.at(-1)
  element('samples-step').textContent = latest === undefined ? '' : latest.step === 0 ? '(untrained)' : `after ${latest.step} updates`
  list.replaceChildren(...(latest?.names ?? []).map(({ name, known }) => {
    const item = document.createElement('li')
    item.textContent = name === '' ? '(empty)' : name
    if (!known) item.className = 'new'
    item.title = known ? 'one of the training names' : 'not among the training names'
    return item
  }))
}

const render = (): void => {
  element('isolation').textContent = isolationNote()
  const backend = state.backend
  element('backend').textContent = backend === undefined
    ? 'loading the kernels…'
    : `kernels: ${backend.name}${backend.threads > 1 ? ` (${state.chunksOnWorkers} chunks computed on worker threads)` : ''}`
  trainButton.textContent = phase === 'training' ? 'Pause' : stale || state.diverged !== undefined ? 'Train' : 'Resume'

  const last = state.steps.at(-1)
  const held = state.validation.at(-1)
  element('status').textContent = state.diverged ?? (last === undefined
    ? 'Press Train to start.'
    : `update ${last.step} · loss ${last.loss.toFixed(3)} nats per character` +
      (held === undefined ? '' : ` · held-out ${held.loss.toFixed(3)} (at update ${held.step})`) +
      ` · ${median(state.steps.slice(-50).map((s) => s.milliseconds)).toFixed(1)} ms per update`)
  element('errors').textContent = state.errors.join('\n\n')

  const losses: [number, number][] = state.steps.map((s) => [s.step, s.loss])
  drawChart(element('loss-chart'), [
    { points: losses, color: '#c6d4ea', width: 1 },
    { points: smooth(losses), color: '#1f5fbf', width: 2 },
    { points: state.validation.map((v) => [v.step, v.loss]), color: '#d9480f', dots: true },
  ], { xLabel: 'update', yLabel: 'nats per character', empty: 'the loss appears here as the model trains' })

  // The latest probe in full colour, up to four earlier ones fading out.
  const recent = state.gradientFlow.slice(-5)
  drawChart(element('gradient-chart'), recent.map((g, i): Series => ({
    points: g.norms.map((n, t) => [t + 1, n]),
    color: `rgba(47, 133, 90, ${(i + 1) / recent.length})`,
    width: i === recent.length - 1 ? 2.5 : 1,
  })), { xLabel: 'time step t (character position)', yLabel: '‖∂L/∂h_t‖', logY: true, empty: 'the gradient norms appear here as the model trains' })
  element('gradient-step').textContent = recent.length === 0 ? '' : `latest: after ${recent[recent.length - 1].step} updates`

  renderSamples()
}

addEventListener('resize', invalidate)
invalidate()
