/**
 * @file What a CLI task is: its config fields (for the resolver and the help) and how it turns a
 * resolved config into an `Experiment`: data, model, loss, optimiser, and what to report,
 * evaluate, predict or generate from trained parameters. The runner (../runner.ts) does the rest
 * (training, checkpoints, progress, run folder), the same way for every task.
 */
import type * as E from 'fp-ts/lib/Either.js'
import type { Json } from '../../io/checkpoint.js'
import type { Key } from '../../random/random.js'
import type { Figure } from '../../report/types.js'
import type { EpochLog } from '../../train/fit.js'
import type { LossFn, Optimizer } from '../../train/types.js'
import type { CommonConfig, TaskFields } from '../config.js'
import type { CliError } from '../errors.js'

/** Parameters of a task's model: a pytree of tensors. */
export type Params = any // eslint-disable-line @typescript-eslint/no-explicit-any -- each task knows its own tree

/** What has been trained so far: the per-epoch history and outputs of every epoch of the run. */
export interface RunRecord {
  readonly history: readonly EpochLog[]
  /** `recordOutputs(params, epoch)` of each completed epoch (tasks that record outputs only). */
  readonly outputs: readonly (readonly number[])[]
}

/** The final numbers and plots of a run. */
export interface Outcome {
  /** Final numbers for metrics.json (`final`) and the report's summary table. */
  readonly final: Readonly<Record<string, number>>
  /** Extra summary rows for the report (descriptions, sample names…). */
  readonly summary?: Readonly<Record<string, string | number>>
  readonly figures: readonly Figure[]
  /** Lines printed to the terminal at the end of the run (the headline numbers). */
  readonly lines: readonly string[]
}

/** A task's answer to `evaluate` or `predict`: lines for people, JSON for `--json`. */
export interface Answer {
  readonly lines: readonly string[]
  readonly json: Json
}

/** Options of `scangrad predict` that tasks may use. */
export interface PredictOptions {
  readonly count: number
  readonly prefixes: readonly string[]
}

/** Options of `scangrad generate`. */
export interface GenerateOptions {
  readonly count: number
  readonly temperature: number
  readonly key: Key
  readonly maxLength: number
}

/**
 * A ready-to-train experiment: everything `fit` needs plus descriptions for the checkpoint and the
 * task's ways of reporting on trained parameters.
 */
export interface Experiment {
  /** The model, described in JSON (stored in the checkpoint). */
  readonly model: Json
  /** The model object itself (what `init` and `loss` use), for `scangrad export`. */
  readonly network?: unknown
  /** The data split, described in JSON (stored in the checkpoint; a resumed run must see the same). */
  readonly data: Json
  /** Fresh parameters (same key, same parameters). */
  readonly init: (key: Key) => Params
  readonly loss: LossFn<Params, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- the batch type is the task's
  readonly optimizer: Optimizer
  /** The training set: a pytree of tensors sharing the leading sample axis. */
  readonly train: unknown
  readonly validation?: unknown
  readonly batch: { readonly batchSize: number } | { readonly batchCount: number }
  readonly validationBatchSize?: number
  /** What the run's progress counts: 'digits', 'names', 'sequences'. */
  readonly sampleName: string
  /** Per-epoch outputs to keep (JSON numbers), e.g. the fit for the weather animation. */
  readonly recordOutputs?: (params: Params, epoch: number) => number[]
  /** Final numbers, plots and closing lines for trained (or partly trained) parameters. */
  readonly finish: (params: Params, run: RunRecord) => Outcome
  /** `scangrad evaluate`: loss and metrics on the task's held-out data. */
  readonly evaluate: (params: Params) => Answer
  /** `scangrad predict`: the task's natural predictions. */
  readonly predict: (params: Params, options: PredictOptions) => Answer
  /** `scangrad generate` (sequence models of text only). */
  readonly generate?: (params: Params, options: GenerateOptions) => Answer
}

/** A CLI task: its config fields and how to set an experiment up from a resolved config. */
export interface Task extends TaskFields {
  /** One line for `--help`. */
  readonly summary: string
  /** The report's title. */
  readonly title: string
  /** Loads the data and builds the model; data problems (a missing file, bad cells) are a Left. */
  readonly prepare: (config: CommonConfig & Record<string, unknown>) => E.Either<CliError, Experiment>
}
