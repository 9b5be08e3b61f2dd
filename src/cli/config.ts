/**
 * @file Run configs: every setting a training run can take, its io-ts codec, its command-line flag
 * and its help text, in one table (`FIELDS`); which fields each task uses; and the resolution of a
 * run's config from the task's defaults, an optional JSON config file and the flags, validated so
 * that every invalid field is reported (config files: one line per field, with its JSON path;
 * flags: one line naming the flags). Node-free: callers pass file contents in.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import {
  NonEmptyString, NonNegativeInt, NonNegativeNumber, PositiveInt, PositiveNumber, Probability, decodeWith, describeErrors,
  oneOf, showValue, struct,
} from '../io/config.js'
import { CliError, fromIoError, oneLine } from './errors.js'

// ---- value codecs ----

/** The training tasks of `scangrad train --task`. */
export const TASK_NAMES = ['mnist', 'oscillator', 'weather', 'names', 'csv'] as const
export type TaskName = (typeof TASK_NAMES)[number]

/** A half-open window of row indices `[start, end)`, written `start:end` on the command line. */
export type Window = readonly [start: number, end: number]

const isWindow = (u: unknown): u is Window =>
  Array.isArray(u) && u.length === 2 && u.every((v) => NonNegativeInt.is(v)) && (u[0] as number) < (u[1] as number)

/** io-ts codec of a `Window`: two whole numbers, start < end. */
export const WindowCodec = new t.Type<Window, Window, unknown>(
  'a window [start, end] of row indices with start < end (on the command line: start:end)',
  isWindow,
  (u, c) => (isWindow(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
)

export const ACTIVATIONS = ['identity', 'tanh', 'relu', 'leakyRelu', 'sigmoid'] as const
export type ActivationChoice = (typeof ACTIVATIONS)[number]
export const CELLS = ['elman', 'lstm', 'gru', 'mingru', 'minlstm', 'lru'] as const
export type CellChoice = (typeof CELLS)[number]
export type MissingChoice = 'error' | 'drop' | 'ffill'
export type Backend = 'wasm' | 'js'
export type DTypeChoice = 'float32' | 'float64'

// ---- the field table ----

/** How a flag's text becomes a value before validation (a value that does not parse stays a string, so the message shows it). */
type FlagParse = 'number' | 'string' | 'window'

interface FieldSpec {
  readonly codec: t.Mixed
  readonly parse: FlagParse
  /** The flag with its value placeholder, e.g. `--learning-rate <rate>`. */
  readonly flag: string
  readonly description: string
}

/**
 * Every run setting: codec, flag and help. A config file uses the field names (`learningRate`),
 * the command line the flags (`--learning-rate`).
 */
export const FIELDS = {
  preset: { codec: NonEmptyString, parse: 'string', flag: '--preset <name>', description: "a named set of the task's defaults (listed below); other flags and --config override its values" },
  seed: { codec: NonNegativeInt, parse: 'number', flag: '--seed <n>', description: 'seed of every random choice (data split, initialisation, shuffles)' },
  epochs: { codec: PositiveInt, parse: 'number', flag: '--epochs <n>', description: 'total epochs (with --resume: train on until this many)' },
  learningRate: { codec: PositiveNumber, parse: 'number', flag: '--learning-rate <rate>', description: 'Adam learning rate η' },
  schedule: { codec: oneOf(['constant', 'cosine']), parse: 'string', flag: '--schedule <name>', description: 'learning rate over the run: constant, or cosine (from η down to 0 along a half cosine over --epochs)' },
  clip: { codec: NonNegativeNumber, parse: 'number', flag: '--clip <norm>', description: "rescale each gradient to at most this global norm before Adam (0: off)" },
  lambda: { codec: NonNegativeNumber, parse: 'number', flag: '--lambda <λ>', description: "L2 penalty λ on the weights (the seed's, biases spared)" },
  dtype: { codec: oneOf(['float32', 'float64']), parse: 'string', flag: '--dtype <dtype>', description: 'float32 or float64' },
  backend: { codec: oneOf(['wasm', 'js']), parse: 'string', flag: '--backend <kernels>', description: 'wasm (SIMD kernels, default where supported) or js' },
  batchSize: { codec: PositiveInt, parse: 'number', flag: '--batch-size <n>', description: 'samples per minibatch' },
  cell: { codec: oneOf(CELLS), parse: 'string', flag: '--cell <cell>', description: "recurrent cell: elman (the seed's), lstm, gru, mingru or minlstm (Feng et al. 2024), or lru (Orvieto et al. 2023); the last three train in parallel over time" },
  hidden: { codec: PositiveInt, parse: 'number', flag: '--hidden <n>', description: 'hidden units of the recurrent layer' },
  activation: { codec: oneOf(ACTIVATIONS), parse: 'string', flag: '--activation <name>', description: 'activation of the Elman layer' },
  loss: { codec: oneOf(['bce', 'ce']), parse: 'string', flag: '--loss <name>', description: "bce (the seed's: binary cross-entropy on softmax outputs vs one-hot) or ce (softmax cross-entropy)" },
  pixels: { codec: oneOf(['unit', 'standard']), parse: 'string', flag: '--pixels <scale>', description: "unit: intensities in [0, 1] as stored (the seed's); standard: less the training pixels' mean, over their standard deviation" },
  init: { codec: oneOf(['pytorch', 'seed']), parse: 'string', flag: '--init <scheme>', description: "pytorch: U(±1/√fan); seed: N(0, 1) weights (the seed's; saturates a 300-unit ReLU net)" },
  trainSize: { codec: NonNegativeInt, parse: 'number', flag: '--train-size <n>', description: 'training examples, drawn with the seed (digits of the 8,000 of the training part; names); 0 = all' },
  validationSize: { codec: NonNegativeInt, parse: 'number', flag: '--validation-size <n>', description: 'validation digits, held out from the training part' },
  file: { codec: NonEmptyString, parse: 'string', flag: '--file <path>', description: 'the CSV file' },
  input: { codec: NonEmptyString, parse: 'string', flag: '--input <columns>', description: 'input column(s) of the CSV, comma-separated; the target is scaled like the first' },
  target: { codec: NonEmptyString, parse: 'string', flag: '--target <column>', description: 'target column of the CSV' },
  missing: { codec: oneOf(['error', 'drop', 'ffill']), parse: 'string', flag: '--missing <policy>', description: 'empty or non-numeric cells in a used column: error, drop (the row) or ffill (repeat the value above)' },
  trainWindow: { codec: t.union([WindowCodec, t.null]), parse: 'window', flag: '--train-window <start:end>', description: 'rows to train on (auto: the first 80%)' },
  validationWindow: { codec: t.union([WindowCodec, t.null]), parse: 'window', flag: '--validation-window <start:end>', description: 'rows to validate on (auto: the rows after the training window)' },
  extrapolate: { codec: NonNegativeInt, parse: 'number', flag: '--extrapolate <days>', description: 'steps to continue the series past the training window, fed back from the output' },
  sequenceLength: { codec: NonNegativeInt, parse: 'number', flag: '--sequence-length <n>', description: 'perStep: cut the training window into sequences of n steps, batched (0: the window is one sequence); lastStep: rows of context per forecast' },
  readout: { codec: oneOf(['perStep', 'lastStep']), parse: 'string', flag: '--readout <mode>', description: "perStep (the seed's: an output at every step of the training sequences) or lastStep (each row forecast from the --sequence-length rows ending at it)" },
  validationFraction: { codec: Probability, parse: 'number', flag: '--validation-fraction <p>', description: 'share of the names held out for validation' },
  temperature: { codec: NonNegativeNumber, parse: 'number', flag: '--temperature <τ>', description: 'sampling temperature of the names printed after training (0 = most likely)' },
  samples: { codec: PositiveInt, parse: 'number', flag: '--samples <n>', description: 'names sampled after training' },
  maxLength: { codec: PositiveInt, parse: 'number', flag: '--max-length <n>', description: 'longest sampled name, in characters' },
} as const satisfies Record<string, FieldSpec>

export type FieldName = keyof typeof FIELDS

/** The fields every task has. */
export const COMMON_FIELDS = ['seed', 'epochs', 'learningRate', 'lambda', 'dtype', 'backend'] as const satisfies readonly FieldName[]

/** The resolved config of every task: the task, the common fields and the task's own. */
export interface CommonConfig {
  readonly task: TaskName
  readonly seed: number
  readonly epochs: number
  readonly learningRate: number
  readonly lambda: number
  readonly dtype: DTypeChoice
  readonly backend: Backend
}

/** Field values chosen together under one name (`--preset`), with a line for the help. */
export interface Preset {
  readonly description: string
  readonly values: Readonly<Partial<Record<FieldName, unknown>>>
}

/** What a task tells the resolver: its fields (besides the common ones), defaults, required fields. */
export interface TaskFields {
  readonly name: TaskName
  readonly fields: readonly FieldName[]
  /**
   * A default for every field except those in `required`; with presets, together with the values
   * of the default preset (`defaults.preset`).
   */
  readonly defaults: Readonly<Partial<Record<FieldName, unknown>>>
  /** Named sets of values over the defaults; a task with presets lists `preset` among its fields. */
  readonly presets?: Readonly<Record<string, Preset>>
  /**
   * Fields added after run folders of the task were first written, with the value such a folder
   * ran with: a stored config without them still loads, and `prepare` reads it through {@link withLegacy}.
   */
  readonly legacy?: Readonly<Partial<Record<FieldName, unknown>>>
  /** Fields with no default, each with the hint shown when it is missing. */
  readonly required?: Readonly<Partial<Record<FieldName, string>>>
  /** Rules across fields (e.g. sizes that must fit the data); each problem is one line. */
  readonly check?: (config: Record<string, unknown>) => readonly string[]
}

const fieldsOf = (task: TaskFields): FieldName[] => [...COMMON_FIELDS, ...task.fields]

/** The codec of a task's config with every field optional (config files and flags give any subset). */
export const partialCodec = (task: TaskFields, taskCodec: t.Mixed = t.literal(task.name)) =>
  struct({}, { task: taskCodec, ...Object.fromEntries(fieldsOf(task).map((f) => [f, FIELDS[f].codec])) }, `a ${task.name} run config`)

/** The codec of a task's resolved config: every field present (those of `legacy` may be absent in older run folders). */
export const fullCodec = (task: TaskFields) => {
  const codecs = (fields: readonly FieldName[]) => Object.fromEntries(fields.map((f) => [f, FIELDS[f].codec]))
  const older = (f: FieldName): boolean => task.legacy?.[f] !== undefined
  return struct({ task: t.literal(task.name), ...codecs(fieldsOf(task).filter((f) => !older(f))) }, codecs(fieldsOf(task).filter(older)), `a ${task.name} run config`)
}

/** A stored config with the values an older run folder ran with for the fields it predates. */
export const withLegacy = <C extends Record<string, unknown>>(task: TaskFields, config: C): C => ({ ...task.legacy, ...config })

// ---- flags ----

const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/

/** A number written in decimal, or the text itself (so that a message can quote it). */
export const parseNumber = (text: string): number | string => (DECIMAL.test(text) ? Number(text) : text)

/** A flag's text as the value its field expects, or the text itself when it does not parse. */
export const parseFlag = (field: FieldName, text: string): unknown => {
  switch (FIELDS[field].parse) {
    case 'number': return parseNumber(text)
    case 'window': {
      if (text.trim() === 'auto') return null
      const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(text)
      return m === null ? text : [Number(m[1]), Number(m[2])]
    }
    case 'string': return text
  }
}

/** `learningRate` → `--learning-rate`. */
export const flagName = (field: string): string => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

/**
 * Validates values given as flags (already parsed by `parseFlag`) against the task's fields. Every
 * invalid flag is reported, all on one line:
 * `--epochs: expected a positive integer, got "ten"; --cell: expected one of "elman", "lstm", "gru", "mingru", "minlstm", "lru", got "rnn"`.
 */
export const decodeFlags = (task: TaskFields, values: Record<string, unknown>): E.Either<CliError, Record<string, unknown>> => {
  const known = new Set<string>(fieldsOf(task))
  const foreign = Object.keys(values).filter((k) => !known.has(k))
  if (foreign.length > 0) {
    const users = (f: string) => TASK_FIELDS_INDEX.get(f)?.join(', ') ?? 'no task'
    return E.left(new CliError(foreign.map((f) => `${flagName(f)} does not apply to --task ${task.name} (it is for ${users(f)})`).join('; '), 2))
  }
  return decodeOptions(partialCodec(task), values)
}

/**
 * Validates command-line option values with an io-ts codec; every invalid option is reported on
 * one line, named by its flag.
 */
export const decodeOptions = <A>(codec: t.Type<A, unknown, unknown>, values: Record<string, unknown>): E.Either<CliError, A> => {
  const result = codec.decode(values)
  if (E.isRight(result)) return result
  const problems = describeErrors(result.left).map((i) => `${flagName(i.path.slice(1))}: ${i.problem}`)
  return E.left(new CliError(problems.join('; '), 2))
}

// Which tasks use a field, for the message above; filled by registerTaskFields.
const TASK_FIELDS_INDEX = new Map<string, TaskName[]>()

/** Records which fields a task uses (called once per task by the task registry). */
export const registerTaskFields = (task: TaskFields): void => {
  for (const f of task.fields) TASK_FIELDS_INDEX.set(f, [...(TASK_FIELDS_INDEX.get(f) ?? []), task.name])
}

// ---- config files ----

/**
 * Parses and validates a config file's text for a task. The file may set any subset of the task's
 * fields (and `task`); every invalid or unknown field is listed, one line each with its JSON path:
 * `run.json: /hidden: expected a positive integer, got 0`.
 * @param task the task the run is for (from `--task`, else the file's `task`, else mnist).
 */
export const decodeConfigFile = (task: TaskFields, text: string, source: string): E.Either<CliError, Record<string, unknown>> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left(new CliError(`${source}: not valid JSON (${(e as Error).message}); a run config is a JSON object such as {"task": "mnist", "epochs": 3}.`, 2))
  }
  const decoded = decodeWith(partialCodec(task, oneOf(TASK_NAMES)), json, source)
  if (E.isLeft(decoded)) return E.left(fromIoError(decoded.left, { fold: false, exitCode: 2 }))
  const value = decoded.right as Record<string, unknown>
  if (value.task !== undefined && value.task !== task.name) {
    return E.left(new CliError(`${source}: /task: the file is for task ${JSON.stringify(value.task)} but --task ${task.name} was given; drop one of them.`, 2))
  }
  return E.right(value)
}

/** The `task` field of a config file's JSON, if it names a task. */
export const taskOfConfigText = (text: string): TaskName | undefined => {
  try {
    const task = (JSON.parse(text) as { task?: unknown } | null)?.task
    return TASK_NAMES.find((n) => n === task)
  } catch {
    return undefined
  }
}

// ---- resolution ----

/** The values of the preset the flags, else the config file, else the defaults name (none for a task without presets). */
const choosePreset = (
  task: TaskFields,
  layers: { readonly file?: Record<string, unknown>; readonly flags?: Record<string, unknown> },
): E.Either<CliError, Preset['values']> => {
  const name = layers.flags?.preset ?? layers.file?.preset ?? task.defaults.preset
  if (name === undefined) return E.right({})
  const preset = typeof name === 'string' && Object.hasOwn(task.presets ?? {}, name) ? task.presets![name] : undefined
  if (preset === undefined) {
    const names = Object.keys(task.presets ?? {}).map((n) => JSON.stringify(n))
    return E.left(new CliError(`--preset: expected one of ${names.join(', ')} for --task ${task.name}, got ${showValue(name)}`, 2))
  }
  return E.right(preset.values)
}

/** A task's defaults with its default preset's values: what a run with no flags gets. */
export const effectiveDefaults = (task: TaskFields): Readonly<Partial<Record<FieldName, unknown>>> => {
  const name = task.defaults.preset
  return typeof name === 'string' ? { ...task.defaults, ...task.presets?.[name]?.values } : task.defaults
}

/**
 * The resolved config of a run: the task's defaults, overridden by the config file's fields, then
 * by the flags'. Missing required fields and cross-field rules are reported one line each.
 */
export const resolveConfig = (
  task: TaskFields,
  layers: { readonly file?: Record<string, unknown>; readonly flags?: Record<string, unknown> },
): E.Either<CliError, CommonConfig & Record<string, unknown>> => {
  const preset = choosePreset(task, layers)
  if (E.isLeft(preset)) return preset
  const merged: Record<string, unknown> = { ...task.defaults, ...preset.right, ...layers.file, ...layers.flags, task: task.name }
  const missing = Object.entries(task.required ?? {}).filter(([f]) => merged[f] === undefined)
  if (missing.length > 0) {
    return E.left(new CliError(missing.map(([f, hint]) => `--task ${task.name} needs ${flagName(f)} (${hint})`).join('; '), 2))
  }
  const problems = task.check?.(merged) ?? []
  if (problems.length > 0) return E.left(new CliError(problems.join('; '), 2))
  const decoded = decodeWith(fullCodec(task), merged, `${task.name} config`)
  if (E.isLeft(decoded)) return E.left(fromIoError(decoded.left, { fold: false, exitCode: 2 }))
  // Keep the field order of the table, so config.json reads the same in every run.
  const ordered = Object.fromEntries(['task', ...fieldsOf(task)].map((f) => [f, merged[f]]))
  return E.right(ordered as CommonConfig & Record<string, unknown>)
}

/** A stored config (config.json of a run folder) validated as its task's full config; every invalid field on one line. */
export const decodeStoredConfig = (
  taskOf: (name: TaskName) => TaskFields,
  json: unknown,
  source: string,
): E.Either<CliError, CommonConfig & Record<string, unknown>> => {
  const name = (json as { task?: unknown } | null)?.task
  const task = TASK_NAMES.find((n) => n === name)
  if (task === undefined) {
    return E.left(new CliError(`${source}: /task: expected one of ${TASK_NAMES.map((n) => JSON.stringify(n)).join(', ')}, got ${showValue(name)}`, 1))
  }
  const decoded = decodeWith(fullCodec(taskOf(task)), json, source)
  // One line however many fields are wrong: evaluate and predict report a bad run folder in one line.
  return E.isLeft(decoded) ? E.left(new CliError(oneLine(decoded.left, Infinity))) : E.right(decoded.right as CommonConfig & Record<string, unknown>)
}
