/// <reference types="node" />
/**
 * @file How a training run shows its progress: a cli-progress bar on a terminal (epoch, batch,
 * loss, throughput, ETA) with one line per finished epoch above it; plain epoch lines when stderr
 * is not a terminal; one JSON object per epoch on stdout with `--json`; nothing with `--quiet`.
 */
import cliProgress from 'cli-progress'
import type { EpochLog } from '../train/fit.js'
import { fmt } from './tasks/common.js'

/** What a run is about to do. */
export interface ProgressPlan {
  readonly task: string
  readonly epochs: number
  /** Epoch and batch the run starts from (non-zero when resuming). */
  readonly startEpoch: number
  readonly startBatch: number
  readonly batchesPerEpoch: number
  readonly samplesPerEpoch: number
  /** 'digits', 'names', 'sequences'. */
  readonly sampleName: string
}

/** After each optimiser step. */
export interface ProgressBatch {
  readonly epoch: number
  readonly batch: number
  readonly batches: number
  readonly size: number
  readonly loss: number
}

export interface Progress {
  start(plan: ProgressPlan): void
  batch(info: ProgressBatch): void
  epoch(log: EpochLog, epochs: number): void
  /** A message for people (stderr); shown above the bar when there is one. */
  note(text: string): void
  stop(): void
}

/** Writes text somewhere (stdout, stderr, a test's buffer). */
export type Write = (text: string) => void

/** `train loss 0.31, accuracy 0.9 | validation loss 0.35, accuracy 0.88`. */
export const describeEpoch = (log: EpochLog): string => {
  const part = (name: string, m: Readonly<Record<string, number>>) =>
    `${name} ${Object.entries(m).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`
  return [part('train', log.train), ...(log.validation === undefined ? [] : [part('validation', log.validation)])].join(' | ')
}

const epochLine = (log: EpochLog, epochs: number): string =>
  `epoch ${log.epoch + 1}/${epochs}: ${describeEpoch(log)} (${log.seconds.toFixed(1)} s)`

const planLine = (p: ProgressPlan): string =>
  `${p.task}: ${p.epochs} epoch${p.epochs === 1 ? '' : 's'} of ${p.batchesPerEpoch} batch${p.batchesPerEpoch === 1 ? '' : 'es'} (${p.samplesPerEpoch} ${p.sampleName})` +
  (p.startEpoch > 0 || p.startBatch > 0 ? `, resuming at epoch ${p.startEpoch + 1}, batch ${p.startBatch + 1}` : '')

/** Samples per second since the session started. */
const throughput = () => {
  let started = 0
  let samples = 0
  return {
    reset: () => { started = Date.now(); samples = 0 },
    add: (n: number): number => {
      samples += n
      const seconds = (Date.now() - started) / 1000
      return seconds > 0 ? samples / seconds : 0
    },
  }
}

/** The progress bar, on a terminal stream (stderr). */
export const barProgress = (stream: NodeJS.WritableStream & { isTTY?: boolean }): Progress => {
  const bars = new cliProgress.MultiBar({
    stream,
    format: 'epoch {epochShown}/{epochs} {bar} batch {batchShown}/{batches} | loss {loss} | {speed} {unit}/s | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    etaBuffer: 30,
    fps: 5,
    barsize: 24,
  }, cliProgress.Presets.shades_classic)
  let bar: cliProgress.SingleBar | null = null
  const speed = throughput()
  return {
    start: (p) => {
      speed.reset()
      bars.log(`${planLine(p)}\n`)
      const total = Math.max(1, (p.epochs - p.startEpoch) * p.batchesPerEpoch - p.startBatch)
      bar = bars.create(total, 0, { epochShown: p.startEpoch + 1, epochs: p.epochs, batchShown: p.startBatch, batches: p.batchesPerEpoch, loss: '…', speed: '…', unit: p.sampleName })
    },
    batch: (b) => {
      bar?.increment(1, { epochShown: b.epoch + 1, batchShown: b.batch + 1, batches: b.batches, loss: fmt(b.loss), speed: speed.add(b.size).toFixed(1) })
    },
    epoch: (log, epochs) => bars.log(`${epochLine(log, epochs)}\n`),
    note: (text) => bars.log(`${text}\n`),
    stop: () => bars.stop(),
  }
}

/** One line per epoch (and the plan) on a stream that is not a terminal. */
export const plainProgress = (write: Write): Progress => ({
  start: (p) => write(`${planLine(p)}\n`),
  batch: () => undefined,
  epoch: (log, epochs) => write(`${epochLine(log, epochs)}\n`),
  note: (text) => write(`${text}\n`),
  stop: () => undefined,
})

/**
 * `--json`: one JSON object per finished epoch on stdout,
 * `{"type":"epoch","epoch":1,"epochs":4,"train":{…},"validation":{…},"step":94,"seconds":41.2}`
 * (`epoch` counts from 1); notes go to stderr.
 */
export const jsonProgress = (writeOut: Write, writeErr: Write): Progress => ({
  start: () => undefined,
  batch: () => undefined,
  epoch: (log, epochs) => writeOut(`${JSON.stringify({ type: 'epoch', epoch: log.epoch + 1, epochs, train: log.train, ...(log.validation === undefined ? {} : { validation: log.validation }), step: log.step, seconds: log.seconds })}\n`),
  note: (text) => writeErr(`${text}\n`),
  stop: () => undefined,
})

/** `--quiet`: only notes that matter (interruptions) reach stderr. */
export const quietProgress = (writeErr: Write): Progress => ({
  start: () => undefined,
  batch: () => undefined,
  epoch: () => undefined,
  note: (text) => writeErr(`${text}\n`),
  stop: () => undefined,
})
