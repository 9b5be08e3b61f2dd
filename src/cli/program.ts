/// <reference types="node" />
/**
 * @file The `scangrad` command line (commander): `train`, `evaluate`, `predict`, `generate` and `export`.
 * `runCli(argv, io)` runs one command line and resolves to its exit code; it never calls
 * `process.exit`, so tests run it in-process. Usage errors print one line and exit 2; data errors
 * (files, checkpoints) exit 1; an interrupted training run exits 130 after saving everything.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import { NonNegativeInt, NonNegativeNumber, PositiveInt, struct } from '../io/config.js'
import { randomKey } from '../random/random.js'
import {
  COMMON_FIELDS, FIELDS, type FieldName, TASK_NAMES, type TaskName, decodeConfigFile, decodeFlags, decodeOptions, effectiveDefaults, flagName, parseFlag, parseNumber, resolveConfig,
  taskOfConfigText,
} from './config.js'
import { CliError } from './errors.js'
import { type Progress, type Write, barProgress, jsonProgress, plainProgress, quietProgress } from './progress.js'
import { type RunEnv, type RunResult, describeKernels, loadRun, resumeRun, startRun } from './runner.js'
import { CONFIG_FILE, METRICS_FILE, REPORT_FILE } from './runDir.js'
import { CHECKPOINT_FILE } from '../io/checkpoint.js'
import { writeFileAtomic } from '../io/files.js'
import { toOnnx } from '../io/onnx.js'
import { ValueError } from '../errors.js'
import { machineNote, mnistClaim, weatherClaim } from './tasks/claims.js'
import { TASKS, taskOf } from './tasks/index.js'
import { MEASURED } from './tasks/measured.js'
import type { Answer } from './tasks/types.js'

/** Where a command line reads and writes: injectable, so tests can capture everything. */
export interface CliIo {
  readonly stdout: Write
  readonly stderr: Write
  /** The terminal stream for the progress bar, when stderr is a TTY. */
  readonly tty?: NodeJS.WritableStream & { isTTY?: boolean }
  /** A stop flag to use instead of installing a SIGINT handler (tests). */
  readonly signal?: { aborted: boolean }
  /** Per-batch hook passed to the runner (tests). */
  readonly onBatch?: RunEnv['onBatch']
  /** The clock for default run-folder names (tests). */
  readonly now?: () => Date
}

/** The process's own streams. */
export const processIo = (): CliIo => ({
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  ...(process.stderr.isTTY ? { tty: process.stderr } : {}),
})

const EXIT_INTERRUPTED = 130

// ---- help texts ----

/** Words joined into lines of at most `width` characters, each after `indent`. */
const wrap = (words: readonly string[], indent: string, width = 100): string[] => {
  const out: string[] = []
  let line = ''
  for (const word of words) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      out.push(indent + line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') out.push(indent + line)
  return out
}

const fieldsHelp = (): string => {
  const lines = ['', 'Tasks and their defaults (any setting can also be given in a --config JSON file, by field name, e.g. "learningRate"):']
  for (const task of Object.values(TASKS)) {
    const defaults = Object.entries(effectiveDefaults(task))
      .filter(([k]) => k !== 'backend')
      .map(([k, v]) => `${flagName(k)} ${Array.isArray(v) ? v.join(':') : v === null ? 'auto' : String(v)}`)
    const required = Object.keys(task.required ?? {}).map((k) => `${flagName(k)} <required>`)
    const presets = Object.entries(task.presets ?? {}).map(([name, p]) => `      --preset ${name}${name === task.defaults.preset ? ' (default)' : ''}: ${p.description}`)
    lines.push(`  ${task.name}: ${task.summary}`, ...wrap([...required, ...defaults], '      '), ...presets)
  }
  return lines.join('\n')
}

const trainExamples = (): string => `
Examples:
  $ scangrad train                                   # MNIST row by row, LSTM: ${mnistClaim()}
  $ scangrad train --preset seed                     # the seed's network (ReLU Elman 300, BCE) on the same digits
  $ scangrad train --task oscillator --epochs 300 --out runs/osc
  $ scangrad train --task weather --file clean_weather.csv
  $ scangrad train --task weather --preset years --file clean_weather.csv   # later years held out${weatherClaim() === null ? '' : `: ${weatherClaim()}`}
  $ scangrad train --task names --json > epochs.jsonl
  $ scangrad train --resume runs/osc --epochs 400    # continue a run (after Ctrl-C, a crash, or to train longer)
The numbers above were measured on ${machineNote()} (npm run measure-defaults).

Each run writes a folder (--out, default runs/<task>-<date>-<time>) with report.html (plots,
updated after every epoch), metrics.json, checkpoint.safetensors and config.json; --out refuses a
folder whose files of those names scangrad did not write. Ctrl-C stops after the current batch and
saves everything; --resume continues exactly where it stopped (a run stopped during its first
epoch starts again).`

// ---- train ----

interface TrainFlags {
  readonly task?: TaskName
  readonly threads: string
  readonly config?: string
  readonly out?: string
  readonly resume?: string
  readonly quiet?: boolean
  readonly json?: boolean
  readonly diagnostics?: boolean
}

const pad2 = (n: number): string => String(n).padStart(2, '0')
const stamp = (d: Date): string =>
  `${d.getFullYear()}${pad2(d.getMonth() + 1)}${pad2(d.getDate())}-${pad2(d.getHours())}${pad2(d.getMinutes())}${pad2(d.getSeconds())}`

const progressFor = (io: CliIo, flags: TrainFlags): Progress => {
  if (flags.json) return jsonProgress(io.stdout, io.stderr)
  if (flags.quiet) return quietProgress(io.stderr)
  return io.tty !== undefined ? barProgress(io.tty) : plainProgress(io.stderr)
}

/** Runs `body` with a stop flag raised by the first Ctrl-C; a second Ctrl-C quits at once. */
const withInterrupt = async <A>(io: CliIo, progress: () => Progress | null, body: (signal: { aborted: boolean }) => Promise<A>): Promise<A> => {
  if (io.signal !== undefined) return body(io.signal)
  const signal = { aborted: false }
  const onSigint = () => {
    if (signal.aborted) process.exit(EXIT_INTERRUPTED)
    signal.aborted = true
    const message = 'Stopping after the current batch to save a checkpoint (Ctrl-C again to quit without saving)…'
    const p = progress()
    if (p === null) io.stderr(`${message}\n`)
    else p.note(message)
  }
  process.on('SIGINT', onSigint)
  try {
    return await body(signal)
  } finally {
    process.off('SIGINT', onSigint)
  }
}

const reportRun = (io: CliIo, flags: TrainFlags, result: RunResult): number => {
  const files = [REPORT_FILE, METRICS_FILE, CHECKPOINT_FILE, CONFIG_FILE].join(', ')
  if (result.status === 'interrupted') {
    const { epoch, batch = 0 } = result.state
    io.stderr(
      `Interrupted during epoch ${epoch + 1} of ${result.config.epochs} (after batch ${batch}); ${files} saved in ${result.dir}.\n` +
        `Resume with: scangrad train --resume ${result.dir}\n`,
    )
    if (flags.json) io.stdout(`${JSON.stringify({ type: 'summary', status: 'interrupted', dir: result.dir, epoch, batch, resume: `scangrad train --resume ${result.dir}` })}\n`)
    return EXIT_INTERRUPTED
  }
  if (flags.json) {
    io.stdout(`${JSON.stringify({ type: 'summary', status: 'completed', dir: result.dir, epochs: result.state.epoch, seconds: result.seconds, final: result.outcome.final })}\n`)
  } else {
    for (const line of result.outcome.lines) io.stdout(`${line}\n`)
    io.stdout(`${result.history.length} epoch${result.history.length === 1 ? '' : 's'} in ${result.seconds.toFixed(1)} s (${describeKernels(result.kernels)}). Run folder: ${result.dir} (${files}); open ${join(result.dir, REPORT_FILE)} for the plots.\n`)
  }
  return 0
}

/** Flag values the user typed, for the fields of the table. */
const explicitFields = (cmd: Command): Partial<Record<FieldName, unknown>> => {
  const opts = cmd.opts() as Record<string, string>
  const out: Partial<Record<FieldName, unknown>> = {}
  for (const field of Object.keys(FIELDS) as FieldName[]) {
    if (cmd.getOptionValueSource(field) === 'cli') out[field] = parseFlag(field, opts[field])
  }
  return out
}

const readConfigText = (path: string): E.Either<CliError, string> => {
  try {
    return E.right(readFileSync(path, 'utf8'))
  } catch (e) {
    const code = (e as { code?: string }).code
    return E.left(new CliError(`--config ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 2))
  }
}

const trainAction = async (io: CliIo, cmd: Command): Promise<number> => {
  const flags = cmd.opts() as TrainFlags
  const fields = explicitFields(cmd)
  const options = decodeOptions(struct({ threads: PositiveInt }), optionValues(cmd, ['threads'], parseNumber))
  if (E.isLeft(options)) throw options.left
  let current: Progress | null = null
  const env = (signal: { aborted: boolean }): RunEnv => {
    current = progressFor(io, flags)
    return {
      progress: current, signal, threads: options.right.threads, diagnostics: flags.diagnostics === true, ...(io.onBatch === undefined ? {} : { onBatch: io.onBatch }),
    }
  }

  if (flags.resume !== undefined) {
    const others = [
      ...Object.keys(fields).filter((f) => f !== 'epochs').map(flagName),
      ...(['task', 'config', 'out'] as const).filter((f) => cmd.getOptionValueSource(f) === 'cli').map((f) => `--${f}`),
    ]
    if (others.length > 0) {
      throw new CliError(`--resume continues a run with its saved config; ${others.join(', ')} cannot be changed (only --epochs, --threads, --quiet, --json and --diagnostics may be given).`, 2)
    }
    const epochs = decodeOptions(struct({}, { epochs: PositiveInt }), { epochs: fields.epochs })
    if (E.isLeft(epochs)) throw epochs.left
    const result = await withInterrupt(io, () => current, (signal) => resumeRun(flags.resume!, env(signal), { epochs: epochs.right.epochs }))
    if (E.isLeft(result)) throw result.left
    return reportRun(io, flags, result.right)
  }

  const text = flags.config === undefined ? undefined : readConfigText(flags.config)
  if (text !== undefined && E.isLeft(text)) throw text.left
  const fileTask = text === undefined ? undefined : taskOfConfigText(text.right)
  const task = taskOf(flags.task ?? fileTask ?? 'mnist')
  const file = text === undefined ? E.right(undefined) : decodeConfigFile(task, text.right, flags.config!)
  if (E.isLeft(file)) throw file.left
  const decodedFlags = decodeFlags(task, fields)
  if (E.isLeft(decodedFlags)) throw decodedFlags.left
  const config = resolveConfig(task, { file: file.right, flags: decodedFlags.right })
  if (E.isLeft(config)) throw config.left
  const out = flags.out ?? join('runs', `${task.name}-${stamp((io.now ?? (() => new Date()))())}`)
  // The data file is stored absolute: evaluate, predict and --resume may run from another directory.
  const stored = typeof config.right.file === 'string' ? { ...config.right, file: resolve(config.right.file) } : config.right
  const result = await withInterrupt(io, () => current, (signal) => startRun(stored, out, env(signal)))
  if (E.isLeft(result)) throw result.left
  return reportRun(io, flags, result.right)
}

// ---- evaluate, predict, generate ----

const printAnswer = (io: CliIo, json: boolean, answer: Answer): number => {
  if (json) io.stdout(`${JSON.stringify(answer.json)}\n`)
  else for (const line of answer.lines) io.stdout(`${line}\n`)
  return 0
}

const optionValues = (cmd: Command, names: readonly string[], parse: (text: string) => unknown): Record<string, unknown> => {
  const opts = cmd.opts() as Record<string, unknown>
  return Object.fromEntries(names.filter((n) => opts[n] !== undefined).map((n) => [n, typeof opts[n] === 'string' ? parse(opts[n] as string) : opts[n]]))
}

const evaluateAction = async (io: CliIo, cmd: Command): Promise<number> => {
  const { from, json } = cmd.opts() as { from: string; json?: boolean }
  const run = await loadRun(from)
  if (E.isLeft(run)) throw run.left
  return printAnswer(io, json === true, run.right.experiment.evaluate(run.right.params))
}

const predictAction = async (io: CliIo, cmd: Command): Promise<number> => {
  const { from, json, prefix } = cmd.opts() as { from: string; json?: boolean; prefix: string[] }
  const options = decodeOptions(struct({ count: PositiveInt }), optionValues(cmd, ['count'], parseNumber))
  if (E.isLeft(options)) throw options.left
  const run = await loadRun(from)
  if (E.isLeft(run)) throw run.left
  if (prefix.length > 0 && run.right.config.task !== 'names') {
    throw new CliError(`--prefix completes names; ${from} holds a run of --task ${run.right.config.task}, whose predictions take no prefix. Drop --prefix.`, 2)
  }
  return printAnswer(io, json === true, run.right.experiment.predict(run.right.params, { count: options.right.count, prefixes: prefix }))
}

const GenerateOptions = struct({ count: PositiveInt, temperature: NonNegativeNumber, seed: NonNegativeInt }, { maxLength: PositiveInt })

const generateAction = async (io: CliIo, cmd: Command): Promise<number> => {
  const { from, json } = cmd.opts() as { from: string; json?: boolean }
  const options = decodeOptions(GenerateOptions, optionValues(cmd, ['count', 'temperature', 'seed', 'maxLength'], parseNumber))
  if (E.isLeft(options)) throw options.left
  const run = await loadRun(from)
  if (E.isLeft(run)) throw run.left
  const { experiment, config, params } = run.right
  if (experiment.generate === undefined) {
    throw new CliError(`${from} holds a run of --task ${config.task}; generate samples text from a run of --task names.`, 2)
  }
  const { count, temperature, seed, maxLength } = options.right
  return printAnswer(io, json === true, experiment.generate(params, {
    count, temperature, key: randomKey(seed), maxLength: maxLength ?? (config.maxLength as number | undefined) ?? 20,
  }))
}

// ---- export ----

const exportAction = async (io: CliIo, cmd: Command): Promise<number> => {
  const { from, format, out, dtype } = cmd.opts() as { from: string; format: string; out: string; dtype: string }
  if (format !== 'onnx') throw new CliError(`--format must be onnx (the only export format), got ${JSON.stringify(format)}.`, 2)
  if (dtype !== 'float32' && dtype !== 'float64') throw new CliError(`--dtype must be float32 or float64, got ${JSON.stringify(dtype)}.`, 2)
  const run = await loadRun(from)
  if (E.isLeft(run)) throw run.left
  const { experiment, config, params } = run.right
  let bytes: Uint8Array
  try {
    bytes = toOnnx(experiment.network, params, { dtype })
  } catch (e) {
    // The model of this task is not one ONNX export covers: a usage error, said in one line.
    if (e instanceof ValueError) throw new CliError(`${from} holds a run of --task ${config.task} whose model cannot be exported: ${e.message}`, 2)
    throw e
  }
  try {
    await writeFileAtomic(out, bytes)
  } catch (e) {
    throw new CliError(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`, 1)
  }
  io.stdout(`wrote ${out} (${bytes.length} bytes, ONNX opset 14): input x [batch, time, features] and optional initial states; outputs y, then the final states\n`)
  return 0
}

// ---- the program ----

const fieldOption = (field: FieldName): Option => {
  const spec = FIELDS[field]
  const users = Object.values(TASKS).filter((task) => (COMMON_FIELDS as readonly string[]).includes(field) || task.fields.includes(field)).map((task) => task.name)
  const scope = users.length === TASK_NAMES.length ? '' : ` [${users.join(', ')}]`
  return new Option(spec.flag, `${spec.description}${scope}`)
}

/** The version in scangrad's package.json (two folders up from both src/cli and dist/cli). */
const packageVersion = (): string => {
  try {
    return String((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version ?? 'unknown')
  } catch {
    return 'unknown'
  }
}

/** Builds the commander program; the actions store their exit code in `exit`. */
const buildProgram = (io: CliIo, exit: { code: number }): Command => {
  const program = new Command('scangrad')
    .description('Train, evaluate and sample recurrent networks from the command line (the seed experiments and more).')
    .version(packageVersion(), '--version', 'print the version of scangrad')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      // Commander's messages may span lines ("(Did you mean …?)"); keep the reason on one line.
      outputError: (text, write) => write(`scangrad: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`),
    })
  const action = (run: (io: CliIo, cmd: Command) => Promise<number>) => async (...args: unknown[]) => {
    exit.code = await run(io, args[args.length - 1] as Command)
  }

  const train = program.command('train')
    .description('train a task and write its run folder (report.html, metrics.json, checkpoint.safetensors, config.json)')
    .addOption(new Option('--task <name>', 'the experiment (default mnist)').choices([...TASK_NAMES]))
    .option('--config <file>', 'a JSON run config (any fields of the task; flags override it)')
    .option('--out <dir>', 'the run folder (default runs/<task>-<date>-<time>)')
    .option('--resume <dir>', 'continue the run in <dir> from its checkpoint, with its config')
    .option('--threads <n>', 'threads for the wasm kernels: large products and recurrent batches split over worker threads (same results for any count)', '1')
    .option('--quiet', 'no progress output')
    .option('--json', 'print one JSON object per epoch on stdout (and a summary at the end)')
    .option('--diagnostics', 'after every epoch, measure gradient flow ‖∂L/∂c_t‖ on the first 4 training samples; report.html gets its heat map (step × epoch) and the Lyapunov exponents of the trained recurrence (a resumed run that measured keeps measuring)')
  for (const field of Object.keys(FIELDS) as FieldName[]) train.addOption(fieldOption(field))
  train.addHelpText('after', `${fieldsHelp()}\n${trainExamples()}`).action(action(trainAction))

  program.command('evaluate')
    .description("loss and metrics of a trained run on its task's test or validation data")
    .requiredOption('--from <dir>', 'the run folder')
    .option('--json', 'print the numbers as JSON')
    .addHelpText('after', `\nExample (a default run, measured on ${machineNote()}):\n  $ scangrad evaluate --from runs/mnist-20250101-120000\n  ${MEASURED.mnist.headline}`)
    .action(action(evaluateAction))

  program.command('predict')
    .description("a trained run's predictions: labels of test digits (mnist), the extrapolation (weather, csv), next steps (oscillator), completions of prefixes (names)")
    .requiredOption('--from <dir>', 'the run folder')
    .option('--count <n>', 'how many predictions to show', '10')
    .option('--prefix <text>', 'names: a prefix to complete (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--json', 'print the predictions as JSON')
    .addHelpText('after', '\nExamples:\n  $ scangrad predict --from runs/mnist-20250101-120000 --count 5\n  $ scangrad predict --from runs/weather --count 50\n  $ scangrad predict --from runs/names --prefix ma --prefix jo')
    .action(action(predictAction))

  program.command('generate')
    .description('sample new names from a trained names run')
    .requiredOption('--from <dir>', 'the run folder of a names run')
    .option('--temperature <τ>', 'sampling temperature: 0 = most likely, 1 = the model, > 1 = wilder', '0.8')
    .option('--seed <n>', 'the sampling seed (same seed, same names)', '0')
    .option('--count <n>', 'how many names', '10')
    .option('--max-length <n>', 'longest name in characters (default: the run\'s --max-length)')
    .option('--json', 'print the names as JSON')
    .addHelpText('after', '\nExample:\n  $ scangrad generate --from runs/names --temperature 0.8 --seed 1 --count 10')
    .action(action(generateAction))

  program.command('export')
    .description('export a trained run\'s model (nn.lstm, nn.gru, nn.rnn or the seed\'s Elman network with its output layer) to ONNX')
    .requiredOption('--from <dir>', 'the run folder')
    .option('--format <format>', 'the file format (onnx)', 'onnx')
    .requiredOption('--out <file>', 'the file to write (atomically)')
    .option('--dtype <dtype>', 'the graph\'s element type: float32 (what onnxruntime runs RNN nodes in) or float64', 'float32')
    .addHelpText('after', '\nExample:\n  $ scangrad export --from runs/mnist-20250101-120000 --format onnx --out mnist.onnx')
    .action(action(exportAction))

  return program
}

/**
 * Runs one command line (without the `node` and script entries) and resolves to the exit code:
 * 0 success, 1 a data error (files, checkpoints), 2 a usage error (options, configs), 130 a
 * training run interrupted by Ctrl-C (after saving it). Messages go to `io.stderr`, one line for
 * usage errors, with no stack trace.
 * @example await runCli(['train', '--task', 'oscillator', '--epochs', '3', '--out', 'runs/osc'], processIo())
 */
export const runCli = async (argv: readonly string[], io: CliIo = processIo()): Promise<number> => {
  const exit = { code: 0 }
  const program = buildProgram(io, exit)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return exit.code
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2
    if (e instanceof CliError) {
      const command = argv.find((a) => ['train', 'evaluate', 'predict', 'generate', 'export'].includes(a))
      io.stderr(`scangrad${command === undefined ? '' : ` ${command}`}: ${e.message}\n`)
      return e.exitCode
    }
    throw e
  }
}

