/**
 * The weather task beside its baselines (issue 21 §1): on a synthetic clean_weather.csv, the years
 * preset splits chronologically without letting a value of the test years into training, the
 * terminal line, metrics.json and report.html carry the model's, persistence's and the linear
 * model's errors, and persistence is scored on the same rows as the model (checked by hand here).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../src/cli/config.js'
import { fmt } from '../../src/cli/tasks/common.js'
import { weather } from '../../src/cli/tasks/weather.js'
import type { Tensor } from '../../src/tensor/Tensor.js'
import { cli, tempDir } from './helpers.js'

const dir = tempDir()
const ROWS = 1200

/** A deterministic weather series from 2000-01-01: a seasonal tmax with wiggles, tmin below it, rain once a week. */
const weatherCsv = (name: string, testValue?: number): string => {
  const day = (i: number) => new Date(Date.UTC(2000, 0, 1 + i)).toISOString().slice(0, 10)
  const tmax = Array.from({ length: ROWS + 1 }, (_, i) => Math.round(60 + 20 * Math.sin((2 * Math.PI * i) / 365.25) + 6 * Math.sin(1.7 * i)))
  // testValue marks every value of the last fifth of the rows (the test years).
  const start = Math.floor(0.8 * ROWS)
  const value = (i: number, v: number) => (testValue !== undefined && i >= start ? testValue : v)
  const rows = Array.from({ length: ROWS }, (_, i) =>
    `${day(i)},${value(i, tmax[i])},${value(i, tmax[i] - 15)},${i % 7 === 0 ? '0.3' : i % 50 === 3 ? '' : '0'},${value(i + 1, tmax[i + 1])}`)
  const path = join(dir, name)
  writeFileSync(path, ['date,tmax,tmin,rain,tmax_tomorrow', ...rows].join('\n'))
  return path
}

const years = ['--preset', 'years', '--epochs', '2', '--hidden', '4', '--sequence-length', '8', '--batch-size', '128', '--quiet']

describe('weather --preset years: a chronological split', () => {
  it('trains on rows that end before the test years, scaled by training rows only', () => {
    const file = weatherCsv('marked.csv', 1e6)
    const config = resolveConfig(weather, { flags: { preset: 'years', file, sequenceLength: 8 } })
    if (E.isLeft(config)) throw config.left
    const experiment = weather.prepare(config.right)
    if (E.isLeft(experiment)) throw experiment.left
    const data = experiment.right.data as { train: [number, number]; validation: [number, number] }
    expect(data.validation).toEqual([960, 1200])
    // The last training row's target (tomorrow's) is row data.train[1]'s value: still before the test rows.
    expect(data.train[1]).toBeLessThan(data.validation[0])
    const train = experiment.right.train as { inputs: Tensor; targets: Tensor }
    const validation = experiment.right.validation as { inputs: Tensor; targets: Tensor }
    // 1e6 in the test years scales to about 1e4: had any reached the training data or the scalers, this would show.
    expect(Math.max(...train.inputs.data, ...train.targets.data)).toBeLessThan(1.5)
    expect(Math.max(...validation.targets.data)).toBeGreaterThan(1000)
  })
})

describe('weather: the model beside persistence and the linear baseline', () => {
  it('years: the summary line, metrics.json and report.html hold all three errors', async () => {
    const file = weatherCsv('weather.csv')
    const out = join(dir, 'years')
    const run = await cli(['train', '--task', 'weather', '--file', file, ...years, '--out', out])
    expect(run.code, run.stderr).toBe(0)
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { final: Record<string, number> }
    const { validationMae, persistenceMae, linearMae } = metrics.final
    expect(run.stdout).toContain(`validation mean absolute error ${fmt(validationMae)} tmax_tomorrow (persistence ${fmt(persistenceMae)}, linear ${fmt(linearMae)})`)

    // Persistence by hand on the validation rows 960–1199: |tmax − tmax_tomorrow|.
    const table = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
    const errors = table.slice(960).map((r) => Math.abs(Number(r[1]) - Number(r[4])))
    expect(persistenceMae).toBeCloseTo(errors.reduce((s, e) => s + e, 0) / errors.length, 12)

    const html = readFileSync(join(out, 'report.html'), 'utf8')
    for (const line of [`model        ${fmt(validationMae)}`, `persistence  ${fmt(persistenceMae)}`, `linear       ${fmt(linearMae)}`]) expect(html).toContain(line)
    expect(html).toContain('The three forecasts on the first 60 validation rows')

    const evaluated = await cli(['evaluate', '--from', out, '--json'])
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ validationMae, persistenceMae, linearMae })
    const predicted = await cli(['predict', '--from', out, '--count', '3'])
    expect(predicted.stdout).toMatch(/row {5}model {7}persistence linear {6}real\n960 /)
  })

  it("the seed's preset shows the baselines too, on its own validation rows", async () => {
    const out = join(dir, 'seed')
    const run = await cli(['train', '--task', 'weather', '--file', weatherCsv('seed.csv'), '--epochs', '2', '--quiet', '--out', out])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/validation mean absolute error [\d.]+ tmax_tomorrow \(persistence [\d.]+, linear [\d.]+\); 50-step extrapolation/)
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Mean absolute error on the 70 validation rows (1000–1069)')
  })

  it('refuses settings that cannot go together, in one line', async () => {
    const file = weatherCsv('usage.csv')
    const many = await cli(['train', '--task', 'weather', '--file', file, '--input', 'tmax,tmin', '--out', join(dir, 'u1')])
    expect(many.stderr).toMatch(/--readout perStep reads one --input column \(got 2\); pass --readout lastStep for several/)
    const extrapolating = await cli(['train', '--task', 'weather', '--file', file, '--preset', 'years', '--extrapolate', '5', '--out', join(dir, 'u2')])
    expect(extrapolating.stderr).toMatch(/--extrapolate feeds each output back as the next input, which --readout lastStep does not do/)
    expect([many.code, extrapolating.code]).toEqual([2, 2])
  })
})
