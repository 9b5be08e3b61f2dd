/**
 * @file `--cell mingru|minlstm|lru` (issue 20 §4): the mnist and names tasks train with Feng et al.'s
 * minimal cells and Orvieto et al.'s Linear Recurrent Unit, the names task samples from them one step
 * at a time, and `evaluate` reloads the run.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, tempDir } from './helpers.js'

const dir = tempDir()

describe('--cell mingru, minlstm and lru', () => {
  it.each(['mingru', 'minlstm', 'lru'])('names: trains, samples names and evaluates again (%s)', async (cell) => {
    const run = join(dir, `names-${cell}`)
    const trained = await cli(['train', '--task', 'names', '--cell', cell, '--train-size', '64', '--hidden', '8', '--epochs', '1', '--samples', '2', '--out', run])
    expect(trained.code, trained.stderr).toBe(0)
    const generated = await cli(['generate', '--from', run, '--count', '3'])
    expect(generated.code, generated.stderr).toBe(0)
    expect(generated.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(3)
    const evaluated = await cli(['evaluate', '--from', run])
    expect(evaluated.code, evaluated.stderr).toBe(0)
  })

  it.each(['mingru', 'lru'])('mnist: trains one small epoch with %s', async (cell) => {
    const run = join(dir, `mnist-${cell}`)
    const trained = await cli(['train', '--task', 'mnist', '--cell', cell, '--hidden', '16', '--train-size', '256', '--validation-size', '64', '--epochs', '1', '--quiet', '--out', run])
    expect(trained.code, trained.stderr).toBe(0)
  })
})
