/**
 * Helpers for the CLI tests: run a command line in-process with captured output, temporary run
 * folders, and bitwise comparison of checkpoints.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll } from 'vitest'
import { runCli } from '../../src/cli/index.js'
import type { CliIo } from '../../src/cli/program.js'
import { loadCheckpoint } from '../../src/io/checkpoint.js'
import { treeLeaves } from '../../src/tree/tree.js'
import type { Tensor } from '../../src/tensor/Tensor.js'

export interface Captured {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `scangrad <argv>` in-process; `io` may add a stop flag or a per-batch hook. */
export const cli = async (argv: readonly string[], io: Partial<CliIo> = {}): Promise<Captured> => {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, {
    stdout: (s) => { stdout += s },
    stderr: (s) => { stderr += s },
    signal: { aborted: false },
    ...io,
  })
  return { code, stdout, stderr }
}

/** A fresh temporary folder, removed after the test file. */
export const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'scangrad-cli-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The checkpoint's params and optimiser state as raw bytes, leaf by leaf. */
export const checkpointBytes = async (dir: string): Promise<Uint8Array[]> => {
  const loaded = await loadCheckpoint(join(dir, 'checkpoint.safetensors'))
  if (E.isLeft(loaded)) throw new Error(loaded.left.message)
  return [...treeLeaves(loaded.right.params), ...treeLeaves(loaded.right.optState)].map((t) => {
    const data = (t as Tensor).data
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  })
}

/** The non-empty lines of a text. */
export const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '')

/**
 * Runs `examples/<name>.ts` with tsx, `scangrad` mapped to the sources by
 * test/cli/examples/tsconfig.json (so no build is needed); resolves to its stdout.
 */
export const runExample = async (name: string, args: readonly string[]): Promise<string> => {
  const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx')
  const { stdout } = await promisify(execFile)(tsx, ['--tsconfig', 'test/cli/examples/tsconfig.json', `examples/${name}.ts`, ...args], { cwd: process.cwd(), timeout: 60_000 })
  return stdout
}
