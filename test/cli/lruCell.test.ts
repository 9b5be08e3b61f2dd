/**
 * @file `--cell lru` (issue 20 §4): the mnist and names tasks train with Orvieto et al.'s Linear
 * Recurrent Unit, the names task samples from it one step at a time, and `evaluate` reloads the run.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, tempDir } from './helpers.js'

const dir = tempDir()

describe('--cell lru', () => {
  it('names: trains, samples names and evaluates again', async () => {
    const run = join(dir, 'names-lru')
    const trained = await cli(['train', '--task', 'names', '--cell', 'lru', '--train-size', '64', '--hidden', '8', '--epochs', '1', '--samples', '2', '--out', run])
    expect(trained.code, trained.stderr).toBe(0)
    const generated = await cli(['generate', '--from', run, '--count', '3'])
    expect(generated.code, generated.stderr).toBe(0)
    expect(generated.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(3)
    const evaluated = await cli(['evaluate', '--from', run])
    expect(evaluated.code, evaluated.stderr).toBe(0)
  })

  it('mnist: trains one small epoch', async () => {
    const run = join(dir, 'mnist-lru')
    const trained = await cli(['train', '--task', 'mnist', '--cell', 'lru', '--hidden', '16', '--train-size', '256', '--validation-size', '64', '--epochs', '1', '--quiet', '--out', run])
    expect(trained.code, trained.stderr).toBe(0)
  })
})
