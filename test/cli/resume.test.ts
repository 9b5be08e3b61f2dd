/**
 * Interrupting and resuming a run ends with parameters and optimiser state BIT-IDENTICAL to an
 * uninterrupted run with the same seed: stopped at an epoch boundary, stopped mid-epoch, extended
 * with --epochs, and a child process killed with SIGKILL after its first checkpoint.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
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

/** Starts `scangrad train` (oscillator) in a child process and sends `signal` once its first checkpoint exists. */
const startAndSignal = async (out: string, epochs: string, signal: NodeJS.Signals) => {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', '--task', 'oscillator', '--epochs', epochs, '--quiet', '--out', out], {
    cwd: process.cwd(),
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d) => { stderr += String(d) })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, s) => resolve({ code, signal: s })))
  await new Promise<void>((resolve, reject) => {
    const started = Date.now()
    const poll = setInterval(() => {
      if (existsSync(join(out, 'checkpoint.safetensors'))) {
        clearInterval(poll)
        child.kill(signal)
        resolve()
      } else if (Date.now() - started > 60_000) {
        clearInterval(poll)
        child.kill('SIGKILL')
        reject(new Error(`no checkpoint after 60 s: ${stderr}`))
      }
    }, 5)
  })
  const exit = await exited
  return { ...exit, stderr }
}

const savedEpoch = async (out: string): Promise<number> => {
  const saved = await loadCheckpoint(join(out, 'checkpoint.safetensors'))
  if (E.isLeft(saved)) throw new Error(saved.left.message)
  return saved.right.epoch
}

describe('a run in a child process, stopped after its first checkpoint', () => {
  const epochs = '30'

  it('killed with SIGKILL, resumes from its last checkpoint to the same parameters as an uninterrupted run', async () => {
    const killed = join(dir, 'killed')
    const exit = await startAndSignal(killed, epochs, 'SIGKILL')
    expect(exit.signal).toBe('SIGKILL')
    // Killed early: metrics.json may not even exist yet; the checkpoint is all a resume needs.
    const epoch = await savedEpoch(killed)
    expect(epoch).toBeGreaterThanOrEqual(1)
    expect(epoch).toBeLessThan(Number(epochs))

    const resumed = await cli(['train', '--resume', killed, '--quiet'])
    expect(resumed.code, resumed.stderr).toBe(0)
    const whole = await cli(['train', '--task', 'oscillator', '--epochs', epochs, '--quiet', '--out', join(dir, 'unkilled')])
    expect(whole.code).toBe(0)
    expect(await checkpointBytes(killed)).toEqual(await checkpointBytes(join(dir, 'unkilled')))
    expect(lines(resumed.stdout)[0]).toBe(lines(whole.stdout)[0]) // the same final MSE line
  })

  it('stopped with SIGINT (Ctrl-C): saves, says how to resume, exits 130, and resumes exactly', async () => {
    const stopped = join(dir, 'sigint')
    const exit = await startAndSignal(stopped, epochs, 'SIGINT')
    expect(exit.code).toBe(130)
    expect(exit.stderr).toContain(`Resume with: scangrad train --resume ${stopped}`)
    expect(JSON.parse(readFileSync(join(stopped, 'metrics.json'), 'utf8')).status).toBe('interrupted')
    expect(readFileSync(join(stopped, 'report.html'), 'utf8')).toContain('<svg')
    const resumed = await cli(['train', '--resume', stopped, '--quiet'])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(await checkpointBytes(stopped)).toEqual(await checkpointBytes(join(dir, 'unkilled')))
  })
})
