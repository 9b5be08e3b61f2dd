/**
 * @file The CLI as a library (Node only): `runCli(argv, io)` runs a `scangrad` command line
 * in-process; the runner functions train, resume and load run folders directly.
 */
export { runCli, processIo } from './program.js'
export type { CliIo } from './program.js'
export { startRun, resumeRun, loadRun } from './runner.js'
export type { RunEnv, RunResult, LoadedRun } from './runner.js'
export { CliError } from './errors.js'
export { TASKS, taskOf } from './tasks/index.js'
export { resolveConfig } from './config.js'
