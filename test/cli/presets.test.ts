/**
 * `--preset`: named sets of a task's defaults. The mnist default is the LSTM preset, the seed's
 * Elman network and the plain PyTorch recipe are one flag away, flags and config files override a
 * preset's values, and an unknown preset or a task without presets is a one-line usage error.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { decodeConfigFile, decodeStoredConfig, effectiveDefaults, resolveConfig } from '../../src/cli/config.js'
import { taskOf } from '../../src/cli/tasks/index.js'
import { cli } from './helpers.js'

const mnist = taskOf('mnist')
const resolved = (flags: Record<string, unknown>, file?: Record<string, unknown>) => {
  const config = resolveConfig(mnist, { flags, ...(file === undefined ? {} : { file }) })
  if (E.isLeft(config)) throw config.left
  return config.right
}

describe('--preset', () => {
  it('mnist: the default is the LSTM preset; seed and plain are one flag away', () => {
    expect(resolved({})).toMatchObject({ preset: 'lstm', cell: 'lstm', hidden: 128, loss: 'ce', pixels: 'standard', schedule: 'cosine', clip: 1, learningRate: 3e-3 })
    expect(resolved({ preset: 'seed' })).toMatchObject({ cell: 'elman', hidden: 300, loss: 'bce', pixels: 'unit', batchSize: 32, lambda: 1e-3, trainSize: 7500, validationSize: 500 })
    expect(resolved({ preset: 'plain' })).toMatchObject({ cell: 'lstm', hidden: 128, loss: 'ce', pixels: 'unit', learningRate: 1e-3, clip: 0, schedule: 'constant', trainSize: 0, validationSize: 0 })
    expect(effectiveDefaults(mnist)).toMatchObject({ cell: 'lstm', epochs: 5 })
  })

  it('flags override the preset, and the preset may come from a config file', () => {
    expect(resolved({ preset: 'seed', hidden: 64 })).toMatchObject({ cell: 'elman', hidden: 64 })
    const file = decodeConfigFile(mnist, JSON.stringify({ preset: 'seed', epochs: 2 }), 'run.json')
    if (E.isLeft(file)) throw file.left
    expect(resolved({ cell: 'gru' }, file.right)).toMatchObject({ preset: 'seed', cell: 'gru', hidden: 300, epochs: 2 })
  })

  it('weather: seed by default, years over all rows with three inputs', () => {
    const weather = taskOf('weather')
    const years = resolveConfig(weather, { flags: { preset: 'years', file: 'w.csv' } })
    if (E.isLeft(years)) throw years.left
    expect(years.right).toMatchObject({ input: 'tmax,tmin,rain', readout: 'lastStep', trainWindow: null, validationWindow: null, cell: 'gru' })
    expect(effectiveDefaults(weather)).toMatchObject({ input: 'tmax', trainWindow: [0, 100], validationWindow: [1000, 1070], cell: 'elman', hidden: 1 })
  })

  it('an unknown preset, or one for a task without presets, is a usage error in one line', async () => {
    const unknown = await cli(['train', '--preset', 'fast'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe('scangrad train: --preset: expected one of "lstm", "plain", "seed" for --task mnist, got "fast"\n')
    const foreign = await cli(['train', '--task', 'oscillator', '--preset', 'seed'])
    expect(foreign.stderr).toMatch(/--preset does not apply to --task oscillator \(it is for mnist, weather\)/)
  })

  it('a run folder from before the presets (no preset, pixels, schedule, clip) loads as the run it was', () => {
    const current = resolved({ preset: 'seed', trainSize: 64, validationSize: 16 })
    const older = Object.fromEntries(Object.entries(current).filter(([k]) => !['preset', 'pixels', 'schedule', 'clip'].includes(k)))
    const stored = decodeStoredConfig(taskOf, older, 'config.json')
    if (E.isLeft(stored)) throw stored.left
    expect(stored.right).toEqual(older)
    const [then, now] = [stored.right, current].map((c) => {
      const experiment = mnist.prepare(c)
      if (E.isLeft(experiment)) throw experiment.left
      return experiment.right
    })
    expect(then.data).toEqual(now.data)
    expect(then.model).toEqual(now.model)
    // A field that is not newer than the run folders stays required.
    const { hidden: _, ...noHidden } = older
    const missing = decodeStoredConfig(taskOf, noHidden, 'config.json')
    expect(E.isLeft(missing) && missing.left.message).toMatch(/config\.json: \/hidden: is missing/)
  })
})
