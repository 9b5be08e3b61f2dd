/**
 * Interrupting and resuming a run ends with parameters and optimiser state BIT-IDENTICAL to an
 * uninterrupted run with the same seed: stopped at an epoch boundary, stopped mid-epoch, extended
 * with --epochs, and a child process killed with SIGKILL (after a chosen epoch's checkpoint, or
 * before the first) or stopped with SIGINT at a chosen batch.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadCheckpoint } from '../../src/io/checkpoint.js'
import { checkpointBytes, cli, lines, tempDir } from './helpers.js'

const dir = tempDir()

/** Runs `argv`, raising the stop flag after the batch at (epoch, batch) — as Ctrl-C would. */
const interrupted = async (argv: string[], at: { epoch: number; batch: number }) => {
  const signal = { aborted: false }
  return cli(argv, {
    signal,
    onBatch: ({ epoch, batch }) => {
      if (epoch === at.epoch && batch === at.batch) signal.aborted = true
    },
  })
}

describe('resume is exact', () => {
  it('oscillator: stopped after epoch 2 of 4, resumed, extended from 2 to 4 epochs', async () => {
    const osc = ['train', '--task', 'oscillator', '--epochs', '4', '--quiet']
    const whole = await cli([...osc, '--out', join(dir, 'whole')])
    expect(whole.code).toBe(0)

    const stopped = await interrupted([...osc, '--out', join(dir, 'stopped')], { epoch: 1, batch: 0 })
    expect(stopped.code).toBe(130)
    expect(stopped.stderr).toContain(`Resume with: scangrad train --resume ${join(dir, 'stopped')}`)
    expect(JSON.parse(readFileSync(join(dir, 'stopped', 'metrics.json'), 'utf8'))).toMatchObject({ status: 'interrupted', epochs: { completed: 2, planned: 4 } })
    expect(readFileSync(join(dir, 'stopped', 'report.html'), 'utf8')).toContain('<svg')
    const resumed = await cli(['train', '--resume', join(dir, 'stopped'), '--quiet'])
    expect(resumed.code, resumed.stderr).toBe(0)

    const short = await cli(['train', '--task', 'oscillator', '--epochs', '2', '--quiet', '--out', join(dir, 'short')])
    expect(short.code).toBe(0)
    const again = await cli(['train', '--resume', join(dir, 'short'), '--quiet'])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('has completed its 2 epochs; pass --epochs')
    const extended = await cli(['train', '--resume', join(dir, 'short'), '--epochs', '4', '--quiet'])
    expect(extended.code, extended.stderr).toBe(0)

    const reference = await checkpointBytes(join(dir, 'whole'))
    expect(await checkpointBytes(join(dir, 'stopped'))).toEqual(reference)
    expect(await checkpointBytes(join(dir, 'short'))).toEqual(reference)
    const history = JSON.parse(readFileSync(join(dir, 'stopped', 'metrics.json'), 'utf8')).history
    expect(history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2, 3, 4])
    expect(history).toEqual(JSON.parse(readFileSync(join(dir, 'whole', 'metrics.json'), 'utf8')).history.map((h: object) => ({ ...h, seconds: expect.any(Number) })))
  })

  it('mnist: stopped in the middle of an epoch (batch 2 of 3), resumed', async () => {
    const mnist = ['train', '--train-size', '48', '--validation-size', '16', '--batch-size', '16', '--hidden', '8', '--epochs', '2', '--quiet']
    const whole = await cli([...mnist, '--out', join(dir, 'm-whole')])
    expect(whole.code).toBe(0)
    const stopped = await interrupted([...mnist, '--out', join(dir, 'm-stopped')], { epoch: 0, batch: 1 })
    expect(stopped.code).toBe(130)
    expect(stopped.stderr).toContain('Interrupted during epoch 1 of 2 (after batch 2)')
    const resumed = await cli(['train', '--resume', join(dir, 'm-stopped'), '--quiet'])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(await checkpointBytes(join(dir, 'm-stopped'))).toEqual(await checkpointBytes(join(dir, 'm-whole')))
    // The epoch split across two sessions is averaged over all its batches, as in one session.
    const history = (d: string) => JSON.parse(readFileSync(join(dir, d, 'metrics.json'), 'utf8')).history.map((h: { train: object }) => h.train)
    expect(history('m-stopped')).toEqual(history('m-whole'))
  })
})

describe('--threads', () => {
  // Hidden 64 and batches of 16: each Elman sequence is split into two ranges of 8 batch rows.
  const mnist = ['train', '--train-size', '48', '--validation-size', '16', '--batch-size', '16', '--hidden', '64', '--epochs', '2', '--quiet']

  it('trains the same parameters with two threads as with one, and a run resumes with another count', async () => {
    const one = await cli([...mnist, '--out', join(dir, 't-one')])
    expect(one.code, one.stderr).toBe(0)
    const two = await cli([...mnist, '--threads', '2', '--out', join(dir, 't-two')])
    expect(two.code, two.stderr).toBe(0)
    expect(two.stdout).toContain('(wasm kernels, 2 threads)')
    expect(JSON.parse(readFileSync(join(dir, 't-two', 'metrics.json'), 'utf8'))).toMatchObject({ backend: 'wasm', threads: 2 })
    expect(await checkpointBytes(join(dir, 't-two'))).toEqual(await checkpointBytes(join(dir, 't-one')))

    const stopped = await interrupted([...mnist, '--out', join(dir, 't-stopped')], { epoch: 0, batch: 1 })
    expect(stopped.code).toBe(130)
    const resumed = await cli(['train', '--resume', join(dir, 't-stopped'), '--threads', '2', '--quiet'])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(await checkpointBytes(join(dir, 't-stopped'))).toEqual(await checkpointBytes(join(dir, 't-one')))
  })

  it('rejects a thread count that is not a positive integer', async () => {
    for (const bad of ['0', '1.5', 'two']) {
      const { code, stderr } = await cli([...mnist, '--threads', bad, '--out', join(dir, `t-bad-${bad}`)])
      expect(code).toBe(2)
      expect(stderr).toMatch(/threads/)
    }
  })
})

/**
 * Runs `scangrad train` (oscillator) in a child process that sends itself `signal` right after the
 * batch at (epoch, batch) (test/cli/fixtures/stopAt.ts): the stop point is chosen, not raced.
 */
const runAndSignal = async (out: string, epochs: string, signal: NodeJS.Signals, at: { epoch: number; batch: number }) => {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/cli/fixtures/stopAt.ts', signal, String(at.epoch), String(at.batch), 'train', '--task', 'oscillator', '--epochs', epochs, '--quiet', '--out', out],
    { cwd: process.cwd(), stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d) => { stderr += String(d) })
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, s) => resolve({ code, signal: s })))
  return { ...exit, stderr }
}

const savedEpoch = async (out: string): Promise<number> => {
  const saved = await loadCheckpoint(join(out, 'checkpoint.safetensors'))
  if (E.isLeft(saved)) throw new Error(saved.left.message)
  return saved.right.epoch
}

describe('a run in a child process, stopped at a chosen batch', () => {
  const epochs = '30'
  const unkilled = join(dir, 'unkilled')
  // Each test compares with this uninterrupted run, made here so that no test depends on another.
  let whole: Awaited<ReturnType<typeof cli>>
  beforeAll(async () => {
    whole = await cli(['train', '--task', 'oscillator', '--epochs', epochs, '--quiet', '--out', unkilled])
    expect(whole.code).toBe(0)
  })

  it('killed with SIGKILL after epoch 4 was saved, resumes from it to the same parameters as an uninterrupted run', async () => {
    const killed = join(dir, 'killed')
    // The batch of epoch index 4 ends inside fit, before that epoch's checkpoint: epochs 1-4 are saved.
    const exit = await runAndSignal(killed, epochs, 'SIGKILL', { epoch: 4, batch: 0 })
    expect(exit.signal).toBe('SIGKILL')
    expect(await savedEpoch(killed)).toBe(4)

    const resumed = await cli(['train', '--resume', killed, '--quiet'])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(await checkpointBytes(killed)).toEqual(await checkpointBytes(unkilled))
    expect(lines(resumed.stdout)[0]).toBe(lines(whole.stdout)[0]) // the same final MSE line
  })

  it('killed with SIGKILL during its first epoch (no checkpoint yet): --resume starts it again and ends the same', async () => {
    const killed = join(dir, 'killed-first')
    const exit = await runAndSignal(killed, epochs, 'SIGKILL', { epoch: 0, batch: 0 })
    expect(exit.signal).toBe('SIGKILL')
    expect(existsSync(join(killed, 'checkpoint.safetensors'))).toBe(false)
    const evaluation = await cli(['evaluate', '--from', killed])
    expect(evaluation.code).toBe(1)
    expect(evaluation.stderr).toContain(`it stopped during its first epoch; scangrad train --resume ${killed} starts it again from the beginning.`)

    const resumed = await cli(['train', '--resume', killed, '--quiet'])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stderr).toContain('starting it again from the beginning')
    expect(await checkpointBytes(killed)).toEqual(await checkpointBytes(unkilled))
  })

  it('stopped with SIGINT (Ctrl-C): saves, says how to resume, exits 130, and resumes exactly', async () => {
    const stopped = join(dir, 'sigint')
    const exit = await runAndSignal(stopped, epochs, 'SIGINT', { epoch: 3, batch: 0 })
    expect(exit.code, exit.stderr).toBe(130)
    expect(exit.stderr).toContain(`Resume with: scangrad train --resume ${stopped}`)
    expect(JSON.parse(readFileSync(join(stopped, 'metrics.json'), 'utf8')).status).toBe('interrupted')
    expect(readFileSync(join(stopped, 'report.html'), 'utf8')).toContain('<svg')
    const resumed = await cli(['train', '--resume', stopped, '--quiet'])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(await checkpointBytes(stopped)).toEqual(await checkpointBytes(unkilled))
  })
})
