/// <reference types="node" />
/**
 * @file Training a task into a run folder, the same way for every task: `fit` driven one batch
 * at a time (so Ctrl-C, progress and timers get the event loop between batches), a checkpoint and
 * metrics.json after every epoch, and at the end — completed or interrupted — the checkpoint,
 * metrics.json and report.html. Resuming reloads the checkpoint and continues exactly: the
 * parameters at the end are bit-identical to an uninterrupted run's, because `fit` derives every
 * shuffle and key from (run key, epoch) and restarts mid-epoch from the saved batch position.
 * Node only.
 */
import { existsSync } from 'node:fs'
import { totalmem } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { ShapeError, ValueError } from '../errors.js'
import { renderReport } from '../report/index.js'
import type { Figure } from '../report/types.js'
import { CHECKPOINT_FILE } from '../io/checkpoint.js'
import { datasetSize, splitBatches } from '../train/batches.js'
import { NonFiniteLossError } from '../train/errors.js'
import { type EpochLog, type FitResult, fit } from '../train/fit.js'
import type { TrainState } from '../train/types.js'
import { selectBackend } from './backend.js'
import { DIAGNOSTICS_FILE, runDiagnostics } from './diagnostics.js'
import type { Backend } from './config.js'
import { CliError } from './errors.js'
import type { Progress } from './progress.js'
import {
  CONFIG_FILE, METRICS_FILE, REPORT_FILE, RUN_FOLDER_FORMAT, type RunConfig, type RunProgress, createRunDir, loadRunCheckpoint, readRunConfig,
  readRunMarker, saveRunCheckpoint, writeJson, writeText,
} from './runDir.js'
import { fmt, metricCurve, pct, range, runKeys } from './tasks/common.js'
import { taskOf } from './tasks/index.js'
import type { Experiment, Outcome, Params } from './tasks/types.js'

/** What the caller supplies: where progress goes, the stop flag, and an optional per-batch hook. */
export interface RunEnv {
  readonly progress: Progress
  /** Set `aborted` (e.g. on SIGINT) to stop cleanly after the current batch. */
  readonly signal: { aborted: boolean }
  /** Called after every batch (tests use it to interrupt a run at a chosen point). */
  readonly onBatch?: (position: { readonly epoch: number; readonly batch: number; readonly batches: number }) => void
  /** Threads for the WebAssembly kernels (default 1); the results do not depend on it. */
  readonly threads?: number
  /** Measure gradient flow after every epoch and the Lyapunov exponents at the end (`--diagnostics`); a resumed run that measured keeps measuring. */
  readonly diagnostics?: boolean
}

/** How a run ended. */
export interface RunResult {
  readonly status: 'completed' | 'interrupted'
  readonly dir: string
  readonly config: RunConfig
  readonly state: TrainState<Params, unknown>
  /** Every epoch of the run, earlier sessions included. */
  readonly history: readonly EpochLog[]
  readonly outcome: Outcome
  /** Training seconds over all sessions. */
  readonly seconds: number
  /** The kernels used. */
  readonly kernels: RunKernels
}

/** Weight matrices of hidden × hidden per recurrent layer. */
const GATES: Readonly<Record<string, number>> = { elman: 1, gru: 3, lstm: 4 }

/** `3.2 GB`. */
const showBytes = (bytes: number): string => {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB']
  const power = Math.min(units.length - 1, Math.max(0, Math.floor(Math.log10(bytes) / 3)))
  return `${Number((bytes / 1000 ** power).toPrecision(3))} ${units[power]}`
}

/**
 * Refuses, before allocating anything, a model whose recurrent weights alone (hidden² per gate,
 * times four: the weights, their gradient and Adam's two moments) exceed the machine's memory: the
 * allocation would otherwise take minutes of swapping before failing, or the kernel would kill the
 * process. A lower bound, so no model that fits is refused.
 */
const checkModelSize = (config: RunConfig): E.Either<CliError, RunConfig> => {
  if (typeof config.hidden !== 'number') return E.right(config)
  const cell = typeof config.cell === 'string' ? config.cell : 'elman'
  const bytes = (GATES[cell] ?? 1) * config.hidden ** 2 * (config.dtype === 'float32' ? 4 : 8) * 4
  const memory = totalmem()
  if (bytes <= memory) return E.right(config)
  return E.left(new CliError(
    `model too large: ${config.task} (--hidden ${config.hidden}, ${cell}) needs at least ${showBytes(bytes)} for its recurrent weights, their gradients and Adam's moments, ` +
      `more than this machine's ${showBytes(memory)}; choose a smaller --hidden.`,
    2,
  ))
}

/** Task set-up errors that come from the user's settings (a window past the data…) are CliErrors, not crashes. */
export const prepareExperiment = (config: RunConfig): E.Either<CliError, Experiment> => {
  const size = checkModelSize(config)
  if (E.isLeft(size)) return size
  try {
    return taskOf(config.task).prepare(config)
  } catch (e) {
    if (e instanceof ValueError || e instanceof ShapeError) return E.left(new CliError(`${config.task}: ${e.message.split('\n')[0]}`))
    throw tooLarge(config, e)
  }
}

/** The kernels a run trains with: the backend actually used, and its threads. */
export interface RunKernels {
  readonly backend: Backend
  readonly threads: number
}

const chooseKernels = async (config: RunConfig, env: RunEnv): Promise<RunKernels> => {
  const threads = env.threads ?? 1
  const backend = await selectBackend(config.backend, threads)
  return { backend, threads: backend === 'wasm' ? threads : 1 }
}

/** `wasm kernels`, `wasm kernels, 2 threads`. */
export const describeKernels = ({ backend, threads }: RunKernels): string => `${backend} kernels${threads > 1 ? `, ${threads} threads` : ''}`

/** `testAccuracy` → `test accuracy`, for the report's summary table. */
const words = (name: string): string => name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** metrics.json: the status, the history (epochs counted from 1) and the final numbers. */
const metricsJson = (config: RunConfig, status: string, progress: RunProgress, final: Readonly<Record<string, number>> | null, kernels: RunKernels) => ({
  format: RUN_FOLDER_FORMAT,
  task: config.task,
  status,
  epochs: { completed: progress.state.epoch, planned: config.epochs },
  ...(progress.state.batch ? { batchesIntoNextEpoch: progress.state.batch } : {}),
  step: progress.state.step,
  seconds: Number(progress.seconds.toFixed(3)),
  backend: kernels.backend,
  threads: kernels.threads,
  final,
  history: progress.history.map((h) => ({ ...h, epoch: h.epoch + 1 })),
})

/** An allocation the JavaScript engine refused (typed arrays, WebAssembly memory) as a CliError; anything else as it is. */
const tooLarge = (config: RunConfig, e: unknown): unknown => {
  if (!(e instanceof RangeError) || !/array length|allocat|memory/i.test(e.message)) return e
  const size = typeof config.hidden === 'number' ? ` (--hidden ${config.hidden})` : ''
  return new CliError(`model too large: ${config.task}${size} needs more memory than this process can allocate (${e.message.split('\n')[0]}); choose a smaller --hidden or --batch-size.`, 2)
}

/** Runs `f`, turning a refused allocation into a one-line "model too large" CliError. */
const allocating = <A>(config: RunConfig, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    throw tooLarge(config, e)
  }
}

/** Every number of an epoch's record and recorded outputs is finite (a NaN validation loss is divergence too). */
const finiteEpoch = (log: EpochLog, outputs: readonly (readonly number[])[]): boolean =>
  [...Object.values(log.train), ...Object.values(log.validation ?? {})].every(Number.isFinite) && outputs.every((o) => o.every(Number.isFinite))

/** `train loss 0.12, validation loss Infinity`. */
const describeMetrics = (log: EpochLog): string =>
  [...Object.entries(log.train).map(([k, v]) => `train ${k} ${fmt(v)}`), ...Object.entries(log.validation ?? {}).map(([k, v]) => `validation ${k} ${fmt(v)}`)].join(', ')

/** The report written after each epoch while a run trains (and when it diverges): the loss curves so far. */
const progressReport = (config: RunConfig, status: string, progress: RunProgress, kernels: RunKernels, extra: readonly Figure[] = []): Promise<string> => {
  const { state, history } = progress
  const last = history[history.length - 1]
  return renderReport({
    title: taskOf(config.task).title,
    subtitle: `scangrad train --task ${config.task}: ${status}, ${history.length} epoch${history.length === 1 ? '' : 's'} of ${config.epochs} in ${progress.seconds.toFixed(1)} s (${describeKernels(kernels)})`,
    summary: {
      status,
      epochs: `${state.epoch} of ${config.epochs}`,
      'optimiser steps': state.step,
      ...(last === undefined ? {} : Object.fromEntries(Object.entries({ ...prefixed('train', last.train), ...prefixed('validation', last.validation ?? {}) }).map(([k, v]) => [k, fmt(v)]))),
    },
    figures: history.length === 0 ? [] : [metricCurve(history, 'loss', { title: 'Loss per epoch', yLabel: 'loss' }), ...extra],
    config,
  })
}

const prefixed = (split: string, metrics: Readonly<Record<string, number>>): Record<string, number> =>
  Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`${split} ${words(k)}`, v]))

/** Where a diverged run leaves its folder, and what to do next. */
const divergedAdvice = (dir: string, config: RunConfig, saved: RunProgress | null): string =>
  `${saved === null ? `${dir} has no checkpoint (the first epoch diverged)` : `${join(dir, CHECKPOINT_FILE)} keeps epoch ${saved.state.epoch}, the last with finite numbers`}; ` +
  `start a new run with a smaller --learning-rate (this one used ${config.learningRate}).`

/** Trains from `start` to `config.epochs` (or until stopped) and writes the run folder. */
const train = async (dir: string, config: RunConfig, experiment: Experiment, start: RunProgress, kernels: RunKernels, env: RunEnv, resumed: boolean): Promise<RunResult> => {
  const n = datasetSize(experiment.train, config.task)
  const batchesPerEpoch = splitBatches(range(n), experiment.batch as { batchSize: number }).length
  const fitOptions = {
    loss: experiment.loss,
    optimizer: experiment.optimizer,
    data: experiment.train,
    epochs: config.epochs,
    ...experiment.batch,
    ...(experiment.validation === undefined ? {} : { validation: experiment.validation, validationBatchSize: experiment.validationBatchSize }),
    ...(experiment.recordOutputs === undefined ? {} : { recordOutputs: experiment.recordOutputs }),
  }
  let state = start.state
  const history = [...start.history]
  const outputs = [...start.outputs]
  const began = Date.now()
  let epochStarted = began
  const progressNow = (): RunProgress => ({ state, history, outputs, seconds: start.seconds + (Date.now() - began) / 1000 })
  // The last progress on disk as a checkpoint: what a diverged run falls back to.
  let saved: RunProgress | null = resumed ? start : null
  // The per-epoch report is skipped while its rendering would take more than a tenth of the training
  // time since the last one: runs of long epochs get one every epoch, runs of tiny epochs are not slowed.
  let reportCost = 0
  let reportedAt = 0
  const diagnostics = env.diagnostics === true || (resumed && existsSync(join(dir, DIAGNOSTICS_FILE)))
    ? runDiagnostics(experiment, dir, resumed ? start.state.epoch : null)
    : null
  const diverge = async (message: string, diverged: Record<string, unknown>): Promise<never> => {
    const fallback = saved ?? { ...start, state: { ...start.state, epoch: 0, batch: 0, step: 0 } }
    await writeJson(join(dir, METRICS_FILE), { ...metricsJson(config, 'diverged', fallback, null, kernels), diverged })
    await writeText(join(dir, REPORT_FILE), await progressReport(config, 'diverged', fallback, kernels))
    throw new CliError(`${config.task}: training diverged: ${message} ${divergedAdvice(dir, config, saved)}`)
  }
  env.progress.start({
    task: config.task, epochs: config.epochs, startEpoch: state.epoch, startBatch: state.batch ?? 0, batchesPerEpoch, samplesPerEpoch: n, sampleName: experiment.sampleName,
  })
  try {
    while (state.epoch < config.epochs && !env.signal.aborted) {
      let result: FitResult<Params, unknown, number[]>
      try {
        // One batch per call: fit resumes exactly mid-epoch, and the event loop runs in between.
        result = fit<Params, unknown, unknown, unknown, number[]>({
          ...fitOptions,
          resume: state,
          onBatch: (b) => {
            env.progress.batch({ epoch: b.epoch, batch: b.batch, batches: b.batches, size: b.size, loss: b.loss })
            env.onBatch?.({ epoch: b.epoch, batch: b.batch, batches: b.batches })
            return 'stop'
          },
        })
      } catch (e) {
        if (e instanceof NonFiniteLossError) {
          return await diverge(e.summary(), { epoch: (e.epoch ?? state.epoch) + 1, batch: (e.batch ?? 0) + 1, phase: e.phase, loss: e.loss })
        }
        throw tooLarge(config, e)
      }
      const finished = result.history[0]
      if (finished !== undefined && !finiteEpoch(finished, result.outputs)) {
        return await diverge(
          `epoch ${finished.epoch + 1} ended with ${describeMetrics(finished)}${result.outputs.every((o) => o.every(Number.isFinite)) ? '' : ' and non-finite recorded outputs'}.`,
          { epoch: finished.epoch + 1, train: finished.train, ...(finished.validation === undefined ? {} : { validation: finished.validation }) },
        )
      }
      state = result.state
      for (const fitted of result.history) {
        // fit timed only its own call (one batch); the epoch took every call since it began.
        const log = { ...fitted, seconds: (Date.now() - epochStarted) / 1000 }
        epochStarted = Date.now()
        history.push(log)
        env.progress.epoch(log, config.epochs)
      }
      outputs.push(...result.outputs)
      if (result.history.length > 0) {
        await diagnostics?.afterEpoch(state.params, state.epoch - 1)
        saved = progressNow()
        await saveRunCheckpoint(dir, config, experiment, saved)
        await writeJson(join(dir, METRICS_FILE), metricsJson(config, 'running', saved, null, kernels))
        if (reportCost * 10 <= Date.now() - reportedAt && state.epoch < config.epochs) {
          const rendering = Date.now()
          await writeText(join(dir, REPORT_FILE), await progressReport(config, 'running', saved, kernels, diagnostics?.figures()))
          reportedAt = Date.now()
          reportCost = reportedAt - rendering
        }
      }
      await nextTick()
    }
  } finally {
    env.progress.stop()
  }
  const status = state.epoch >= config.epochs ? 'completed' : 'interrupted'
  const done = progressNow()
  await saveRunCheckpoint(dir, config, experiment, done)
  const outcome = experiment.finish(state.params, { history, outputs })
  const dynamics = diagnostics?.final(state.params)
  await writeJson(join(dir, METRICS_FILE), metricsJson(config, status, done, outcome.final, kernels))
  const task = taskOf(config.task)
  const html = await renderReport({
    title: task.title,
    subtitle: `scangrad train --task ${config.task}: ${status === 'completed' ? 'completed' : `interrupted at epoch ${state.epoch + 1}, batch ${state.batch ?? 0}`}, ` +
      `${history.length} epoch${history.length === 1 ? '' : 's'} in ${done.seconds.toFixed(1)} s (${describeKernels(kernels)})`,
    summary: {
      status,
      epochs: `${state.epoch} of ${config.epochs}`,
      'optimiser steps': state.step,
      'training seconds': Number(done.seconds.toFixed(1)),
      ...Object.fromEntries(Object.entries(outcome.final).map(([k, v]) => [words(k), /accuracy/i.test(k) ? pct(v) : Number.isInteger(v) ? v : fmt(v)])),
      ...outcome.summary,
      ...dynamics?.summary,
    },
    figures: [...outcome.figures, ...(dynamics?.figures ?? [])],
    config,
  })
  await writeJson(join(dir, CONFIG_FILE), config)
  await writeText(join(dir, REPORT_FILE), html)
  return { status, dir, config, state, history, outcome, seconds: done.seconds, kernels }
}

/** The state a run starts from: fresh parameters and optimiser state, epoch 0. */
const freshProgress = (config: RunConfig, experiment: Experiment): RunProgress => {
  const keys = runKeys(config.seed)
  const params = allocating(config, () => experiment.init(keys.init))
  const state: TrainState<Params, unknown> = { params, optState: allocating(config, () => experiment.optimizer.init(params)), key: keys.fit, epoch: 0, batch: 0, step: 0 }
  return { state, history: [], outputs: [], seconds: 0 }
}

/**
 * Starts a run of `config` in the folder `dir` (created; it must not hold a run already, nor files
 * of the run's names that scangrad did not write).
 * @returns how the run ended, or a CliError for bad data or an occupied folder.
 */
export const startRun = async (config: RunConfig, dir: string, env: RunEnv): Promise<E.Either<CliError, RunResult>> => {
  const kernels = await chooseKernels(config, env)
  if (kernels.backend !== config.backend) env.progress.note(`note: this JavaScript host has no WebAssembly SIMD; using the JavaScript kernels.`)
  const experiment = prepareExperiment(config)
  if (E.isLeft(experiment)) return experiment
  // Before the folder exists: a model too large to allocate leaves nothing behind.
  const start = freshProgress(config, experiment.right)
  const made = createRunDir(dir)
  if (E.isLeft(made)) return made
  await writeJson(join(dir, CONFIG_FILE), config)
  // metrics.json from the start marks the folder as a run (RUN_FOLDER_FORMAT) even if it stops in its first epoch.
  await writeJson(join(dir, METRICS_FILE), metricsJson(config, 'running', start, null, kernels))
  return E.right(await train(dir, config, experiment.right, start, kernels, env, false))
}

/**
 * Continues the run in `dir` from its checkpoint, with its stored config (`epochs` may be raised
 * to train further). A run stopped during its first epoch (a scangrad run folder with no
 * checkpoint and no completed epoch) starts again from the beginning: the same run, bit for bit.
 */
export const resumeRun = async (dir: string, env: RunEnv, overrides: { readonly epochs?: number } = {}): Promise<E.Either<CliError, RunResult>> => {
  const stored = readRunConfig(dir)
  if (E.isLeft(stored)) return stored
  const config: RunConfig = { ...stored.right, ...(overrides.epochs === undefined ? {} : { epochs: overrides.epochs }) }
  const kernels = await chooseKernels(config, env)
  const experiment = prepareExperiment(config)
  if (E.isLeft(experiment)) return experiment
  if (!existsSync(join(dir, CHECKPOINT_FILE)) && readRunMarker(dir)?.completed === 0) {
    env.progress.note(`note: ${dir} has no checkpoint (the run stopped during its first epoch); starting it again from the beginning.`)
    const start = freshProgress(config, experiment.right)
    await writeJson(join(dir, CONFIG_FILE), config)
    return E.right(await train(dir, config, experiment.right, start, kernels, env, false))
  }
  const initial = allocating(config, () => experiment.right.init(runKeys(config.seed).init))
  const loaded = await loadRunCheckpoint(dir, stored.right, experiment.right, initial)
  if (E.isLeft(loaded)) return loaded
  const { state } = loaded.right
  if (state.epoch >= config.epochs) {
    return E.left(new CliError(`${dir}: the run has completed its ${state.epoch} epochs; pass --epochs with a larger total (e.g. --epochs ${state.epoch + 5}) to train further.`, 2))
  }
  await writeJson(join(dir, CONFIG_FILE), config)
  return E.right(await train(dir, config, experiment.right, loaded.right, kernels, env, true))
}

/** A trained run, loaded for evaluate / predict / generate: its config, experiment and parameters. */
export interface LoadedRun {
  readonly config: RunConfig
  readonly experiment: Experiment
  readonly params: Params
  readonly epoch: number
}

/** Loads a run folder's config and checkpoint, checked against each other (one-line CliErrors). */
export const loadRun = async (dir: string): Promise<E.Either<CliError, LoadedRun>> => {
  const stored = readRunConfig(dir)
  if (E.isLeft(stored)) return stored
  const config = stored.right
  await selectBackend(config.backend)
  const experiment = prepareExperiment(config)
  if (E.isLeft(experiment)) return experiment
  const loaded = await loadRunCheckpoint(dir, config, experiment.right, allocating(config, () => experiment.right.init(runKeys(config.seed).init)))
  if (E.isLeft(loaded)) return loaded
  return E.right({ config, experiment: experiment.right, params: loaded.right.state.params, epoch: loaded.right.state.epoch })
}
