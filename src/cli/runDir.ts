/// <reference types="node" />
/**
 * @file A run folder on disk: `config.json` (the resolved config), `checkpoint.safetensors`
 * (parameters, optimiser state, epoch, step, RNG key, model and data descriptions, and in `extra`
 * the config, the position inside the epoch and the history so far), `metrics.json` and
 * `report.html`. Every file is written atomically. Reading validates everything with io-ts and
 * returns one-line `CliError`s. Node only.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { type Checkpoint, type Json, CHECKPOINT_FILE, decodeCheckpoint, saveCheckpoint } from '../io/checkpoint.js'
import { FiniteNumber, NonNegativeInt, decodeWith, showValue, struct } from '../io/config.js'
import { readFileEither, writeFileAtomic } from '../io/files.js'
import type { EpochLog } from '../train/fit.js'
import { treeFlatten, treePaths } from '../tree/tree.js'
import type { EpochTotals, TrainState } from '../train/types.js'
import { type CommonConfig, type TaskName, decodeStoredConfig } from './config.js'
import { CliError, oneLine } from './errors.js'
import { taskOf } from './tasks/index.js'
import type { Experiment, Params } from './tasks/types.js'

export const CONFIG_FILE = 'config.json'
export const METRICS_FILE = 'metrics.json'
export const REPORT_FILE = 'report.html'

export type RunConfig = CommonConfig & Record<string, unknown>

/** Where a run stands: the training state plus the record of the epochs run so far. */
export interface RunProgress {
  readonly state: TrainState<Params, unknown>
  readonly history: readonly EpochLog[]
  readonly outputs: readonly (readonly number[])[]
  /** Training seconds spent in earlier sessions. */
  readonly seconds: number
}

// ---- writing ----

/**
 * Written first into every run's metrics.json: how a folder made by scangrad is told from one that
 * merely holds files of the same names (a user's own config.json or report.html).
 */
export const RUN_FOLDER_FORMAT = 'scangrad.run'

/** What a run folder's metrics.json says about itself, or null when the folder is not a scangrad run folder. */
export const readRunMarker = (dir: string): { readonly completed: number } | null => {
  try {
    const json = JSON.parse(readFileSync(join(dir, METRICS_FILE), 'utf8')) as { format?: unknown; epochs?: { completed?: unknown } } | null
    if (json?.format !== RUN_FOLDER_FORMAT) return null
    const completed = json.epochs?.completed
    return { completed: typeof completed === 'number' ? completed : 0 }
  } catch {
    return null
  }
}

const errorCode = (e: unknown): string | undefined => (e as { code?: unknown } | null)?.code as string | undefined

/** File-system refusals a user can fix; anything else (a bug) keeps its stack. */
const WRITE_FAILURES: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'the folder no longer exists',
  ENOTDIR: 'a part of the path is a file, not a folder',
}

/** A write refused by the file system as a one-line CliError; other errors as they are. */
export const writeFailure = (path: string, e: unknown): unknown => {
  const code = errorCode(e)
  if (code === undefined || !(code in WRITE_FAILURES)) return e
  return new CliError(`cannot write ${path}: ${WRITE_FAILURES[code]} (${code}); make the run folder writable, or train into another --out (copy the folder first to --resume it).`)
}

const guardWrite = async (path: string, write: () => Promise<void>): Promise<void> => {
  try {
    await write()
  } catch (e) {
    throw writeFailure(path, e)
  }
}

/**
 * Creates the run folder. Refuses a folder that already holds a run (a checkpoint), and one where
 * a config.json, metrics.json or report.html would overwrite a file scangrad did not write (no
 * scangrad metrics.json beside it), so nothing is overwritten by mistake. A scangrad run folder
 * without a checkpoint (a run stopped during its first epoch) holds nothing a new run would lose.
 */
export const createRunDir = (dir: string): E.Either<CliError, string> => {
  if (existsSync(join(dir, CHECKPOINT_FILE))) {
    return E.left(new CliError(`${dir} already holds a run (${CHECKPOINT_FILE}); continue it with --resume ${dir}, or choose another --out.`, 2))
  }
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) return E.left(new CliError(`--out ${dir}: is a file, not a folder; choose another --out.`, 2))
    const ours = [CONFIG_FILE, METRICS_FILE, REPORT_FILE].filter((f) => existsSync(join(dir, f)))
    if (ours.length > 0 && readRunMarker(dir) === null) {
      return E.left(new CliError(
        `--out ${dir}: ${join(dir, ours[0])} was not written by scangrad (the folder has no scangrad ${METRICS_FILE}) and a run would overwrite it; ` +
          `choose another --out, or move ${ours.join(', ')} out of the folder.`,
        2,
      ))
    }
  }
  try {
    mkdirSync(dir, { recursive: true })
  } catch (e) {
    const code = errorCode(e)
    const reason = code !== undefined && code in WRITE_FAILURES ? `${WRITE_FAILURES[code]} (${code})` : (e as Error).message
    return E.left(new CliError(`cannot create the run folder ${dir}: ${reason}; choose another --out.`))
  }
  return E.right(dir)
}

/**
 * JSON has no NaN or ±∞ (JSON.stringify would silently write null): they are written as the
 * strings "NaN", "Infinity" and "-Infinity", so a diverged epoch reads as what it was.
 */
const nonFiniteAsText = (_key: string, value: unknown): unknown =>
  typeof value === 'number' && !Number.isFinite(value) ? String(value) : value

/** Writes a JSON file atomically, pretty-printed; a refused write is a one-line CliError. */
export const writeJson = (path: string, value: unknown): Promise<void> =>
  guardWrite(path, () => writeFileAtomic(path, `${JSON.stringify(value, nonFiniteAsText, 2)}\n`))

/** Writes a text file (the report) atomically; a refused write is a one-line CliError. */
export const writeText = (path: string, text: string): Promise<void> => guardWrite(path, () => writeFileAtomic(path, text))

/** Saves the run's checkpoint atomically: the state, the descriptions, and what a resume needs in `extra`. */
export const saveRunCheckpoint = (dir: string, config: RunConfig, experiment: Experiment, progress: RunProgress): Promise<void> => {
  const { state } = progress
  const path = join(dir, CHECKPOINT_FILE)
  return guardWrite(path, () => saveCheckpoint(path, {
    params: state.params,
    optState: state.optState,
    epoch: state.epoch,
    step: state.step,
    key: state.key,
    model: experiment.model,
    data: experiment.data,
    extra: {
      config,
      batch: state.batch ?? 0,
      epochTotals: state.epochTotals ?? null,
      history: progress.history,
      outputs: progress.outputs,
      seconds: progress.seconds,
    } as unknown as Json,
  }))
}

// ---- reading ----

const readJsonFile = (path: string, what: string): E.Either<CliError, unknown> => {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as { code?: string }).code
    return E.left(new CliError(code === 'ENOENT' ? `${path}: no such file; is this a scangrad run folder (made by scangrad train)?` : `${path}: cannot read ${what}: ${(e as Error).message}`))
  }
  try {
    return E.right(JSON.parse(text))
  } catch (e) {
    return E.left(new CliError(`${path}: ${what} is not valid JSON (${(e as Error).message}).`))
  }
}

/** The run folder's config.json, validated as its task's full config (every problem on one line). */
export const readRunConfig = (dir: string): E.Either<CliError, RunConfig> => {
  if (!existsSync(dir)) return E.left(new CliError(`${dir}: no such run folder.`))
  const path = join(dir, CONFIG_FILE)
  const json = readJsonFile(path, 'the run config')
  return E.isLeft(json) ? json : decodeStoredConfig(taskOf, json.right, path)
}

const Metrics = t.record(t.string, FiniteNumber)
const EpochLogCodec = struct(
  { epoch: NonNegativeInt, train: Metrics, step: NonNegativeInt, seconds: FiniteNumber },
  { validation: Metrics },
  'an epoch record',
)
/** What `saveRunCheckpoint` keeps in `extra`. */
const ExtraCodec = struct({
  config: t.UnknownRecord,
  batch: NonNegativeInt,
  epochTotals: t.union([t.null, struct({ samples: NonNegativeInt, loss: FiniteNumber, metrics: Metrics })]),
  history: t.array(EpochLogCodec),
  outputs: t.array(t.array(FiniteNumber)),
  seconds: FiniteNumber,
}, {}, 'the run record')

/** Why a run folder has no checkpoint, and what to do, as far as its metrics.json tells. */
const missingCheckpointHint = (dir: string): string => {
  const marker = readRunMarker(dir)
  if (marker === null) return ' The run has no checkpoint yet: it stopped before its first epoch ended, or the folder is not a run folder.'
  if (marker.completed === 0) return ` The run has no checkpoint yet: it stopped during its first epoch; scangrad train --resume ${dir} starts it again from the beginning.`
  return ` ${join(dir, METRICS_FILE)} records ${marker.completed} completed epoch${marker.completed === 1 ? '' : 's'} but their checkpoint is gone; restore it, or start a new run.`
}

/** Paths (as in the checkpoint, `params.…`) of the parameter tensors holding NaN or ±∞. */
const nonFiniteLeaves = (params: Params): string[] => {
  const { leaves, def } = treeFlatten(params, 'checkpoint params')
  const paths = treePaths(def, 'params')
  return leaves.flatMap((leaf, i) => (leaf.data.every(Number.isFinite) ? [] : [paths[i]]))
}

/** Fields of two configs that differ, ignoring `epochs` (a resume may extend a run). */
const configDifferences = (a: Record<string, unknown>, b: Record<string, unknown>): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => k !== 'epochs' && JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${showValue(b[k])} in the checkpoint, ${showValue(a[k])} in config.json`)

/**
 * Loads and checks a run's checkpoint against the experiment rebuilt from its config: tensor
 * names, shapes and dtypes (against freshly initialised parameters and optimiser state), the
 * stored config and the data split. Any problem is a one-line CliError.
 */
export const loadRunCheckpoint = async (dir: string, config: RunConfig, experiment: Experiment, initial: Params): Promise<E.Either<CliError, RunProgress & { checkpoint: Checkpoint<Params, unknown> }>> => {
  const path = join(dir, CHECKPOINT_FILE)
  const bytes = await readFileEither(path)
  if (E.isLeft(bytes)) {
    return E.left(new CliError(`${oneLine(bytes.left)}${bytes.left.kind === 'notFound' ? missingCheckpointHint(dir) : ''}`))
  }
  // First the file on its own, so that a changed config is reported as such rather than as shapes.
  const loaded = decodeCheckpoint<Params, unknown>(bytes.right, path)
  if (E.isLeft(loaded)) return E.left(new CliError(oneLine(loaded.left, 1)))
  const checkpoint = loaded.right
  const extra = decodeWith(ExtraCodec, checkpoint.extra, path, { kind: 'corrupt', within: '__metadata__/extra' })
  if (E.isLeft(extra)) return E.left(new CliError(oneLine(extra.left, 1)))
  const differences = configDifferences(config, extra.right.config)
  if (differences.length > 0) {
    return E.left(new CliError(`${path}: the checkpoint was saved with another config than ${join(dir, CONFIG_FILE)} (${differences.join('; ')}); restore config.json or start a new run.`))
  }
  if (JSON.stringify(checkpoint.data) !== JSON.stringify(experiment.data)) {
    return E.left(new CliError(`${path}: the data split stored in the checkpoint differs from the one rebuilt from the config (the dataset or its file changed since the run was saved); start a new run.`))
  }
  // Then every tensor against the model the config builds: names, shapes, dtypes.
  const fits = decodeCheckpoint<Params, unknown>(bytes.right, path, { params: initial, optState: experiment.optimizer.init(initial) })
  if (E.isLeft(fits)) return E.left(new CliError(oneLine(fits.left, 1)))
  const broken = nonFiniteLeaves(checkpoint.params)
  if (broken.length > 0) {
    const shown = broken.slice(0, 3).join(', ') + (broken.length > 3 ? ` (and ${broken.length - 3} more)` : '')
    return E.left(new CliError(`${path}: the parameters hold NaN or ±∞ (${shown}): the run diverged before this checkpoint was saved; start a new run with a smaller --learning-rate.`))
  }
  const { batch, epochTotals, history, outputs, seconds } = extra.right
  const state: TrainState<Params, unknown> = {
    params: checkpoint.params,
    optState: checkpoint.optState,
    key: checkpoint.key,
    epoch: checkpoint.epoch,
    batch,
    step: checkpoint.step,
    ...(epochTotals === null ? {} : { epochTotals: epochTotals as EpochTotals }),
  }
  return E.right({ checkpoint, state, history: history as EpochLog[], outputs, seconds })
}

/** The task of a stored config. */
export const taskName = (config: RunConfig): TaskName => config.task
