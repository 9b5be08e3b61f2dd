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
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { ShapeError, ValueError } from '../errors.js'
import { renderReport } from '../report/index.js'
import { writeFileAtomic } from '../io/files.js'
import { datasetSize, splitBatches } from '../train/batches.js'
import { NonFiniteLossError } from '../train/errors.js'
import { type EpochLog, type FitResult, fit } from '../train/fit.js'
import type { TrainState } from '../train/types.js'
import { selectBackend } from './backend.js'
import type { Backend } from './config.js'
import { CliError } from './errors.js'
import type { Progress } from './progress.js'
import {
  CONFIG_FILE, METRICS_FILE, REPORT_FILE, type RunConfig, type RunProgress, createRunDir, loadRunCheckpoint, readRunConfig,
  saveRunCheckpoint, writeJson,
} from './runDir.js'
import { fmt, pct, range, runKeys } from './tasks/common.js'
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

/** Task set-up errors that come from the user's settings (a window past the data…) are CliErrors, not crashes. */
export const prepareExperiment = (config: RunConfig): E.Either<CliError, Experiment> => {
  try {
    return taskOf(config.task).prepare(config)
  } catch (e) {
    if (e instanceof ValueError || e instanceof ShapeError) return E.left(new CliError(`${config.task}: ${e.message.split('\n')[0]}`))
    throw e
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

/** Trains from `start` to `config.epochs` (or until stopped) and writes the run folder. */
const train = async (dir: string, config: RunConfig, experiment: Experiment, start: RunProgress, kernels: RunKernels, env: RunEnv): Promise<RunResult> => {
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
        if (e instanceof NonFiniteLossError) throw new CliError(`${config.task}: training diverged: ${e.message.split('\n')[0]} Try a smaller --learning-rate.`)
        throw e
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
        await saveRunCheckpoint(dir, config, experiment, progressNow())
        await writeJson(join(dir, METRICS_FILE), metricsJson(config, 'running', progressNow(), null, kernels))
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
    },
    figures: outcome.figures,
    config,
  })
  await writeJson(join(dir, CONFIG_FILE), config)
  await writeFileAtomic(join(dir, REPORT_FILE), html)
  return { status, dir, config, state, history, outcome, seconds: done.seconds, kernels }
}

/**
 * Starts a run of `config` in the folder `dir` (created; it must not hold a run already).
 * @returns how the run ended, or a CliError for bad data or an occupied folder.
 */
export const startRun = async (config: RunConfig, dir: string, env: RunEnv): Promise<E.Either<CliError, RunResult>> => {
  const kernels = await chooseKernels(config, env)
  if (kernels.backend !== config.backend) env.progress.note(`note: this JavaScript host has no WebAssembly SIMD; using the JavaScript kernels.`)
  const experiment = prepareExperiment(config)
  if (E.isLeft(experiment)) return experiment
  const made = createRunDir(dir)
  if (E.isLeft(made)) return made
  await writeJson(join(dir, CONFIG_FILE), config)
  const keys = runKeys(config.seed)
  const params = experiment.right.init(keys.init)
  const state: TrainState<Params, unknown> = { params, optState: experiment.right.optimizer.init(params), key: keys.fit, epoch: 0, batch: 0, step: 0 }
  return E.right(await train(dir, config, experiment.right, { state, history: [], outputs: [], seconds: 0 }, kernels, env))
}

/**
 * Continues the run in `dir` from its checkpoint, with its stored config (`epochs` may be raised
 * to train further).
 */
export const resumeRun = async (dir: string, env: RunEnv, overrides: { readonly epochs?: number } = {}): Promise<E.Either<CliError, RunResult>> => {
  const stored = readRunConfig(dir)
  if (E.isLeft(stored)) return stored
  const config: RunConfig = { ...stored.right, ...(overrides.epochs === undefined ? {} : { epochs: overrides.epochs }) }
  const kernels = await chooseKernels(config, env)
  const experiment = prepareExperiment(config)
  if (E.isLeft(experiment)) return experiment
  const initial = experiment.right.init(runKeys(config.seed).init)
  const loaded = await loadRunCheckpoint(dir, stored.right, experiment.right, initial)
  if (E.isLeft(loaded)) return loaded
  const { state } = loaded.right
  if (state.epoch >= config.epochs) {
    return E.left(new CliError(`${dir}: the run has completed its ${state.epoch} epochs; pass --epochs with a larger total (e.g. --epochs ${state.epoch + 5}) to train further.`, 2))
  }
  await writeJson(join(dir, CONFIG_FILE), config)
  return E.right(await train(dir, config, experiment.right, loaded.right, kernels, env))
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
  const loaded = await loadRunCheckpoint(dir, config, experiment.right, experiment.right.init(runKeys(config.seed).init))
  if (E.isLeft(loaded)) return loaded
  return E.right({ config, experiment: experiment.right, params: loaded.right.state.params, epoch: loaded.right.state.epoch })
}
