/**
 * Every task end to end for one tiny epoch through the command line: the four files of the run
 * folder (report.html with inline SVG plots), `--json` lines, then `evaluate`, `predict` and
 * `generate` on the run; and bad CSV data reported with its lines and columns.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { weather } from '../helpers/sharedData.js'
import { cli, lines, tempDir } from './helpers.js'

const dir = tempDir()
const FILES = ['report.html', 'metrics.json', 'checkpoint.safetensors', 'config.json']

const expectRunFolder = (out: string, task: string): void => {
  for (const file of FILES) expect(existsSync(join(out, file)), `${out}/${file}`).toBe(true)
  const html = readFileSync(join(out, 'report.html'), 'utf8')
  expect(html).toContain('<svg')
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))
  expect(metrics).toMatchObject({ task, status: 'completed' })
  expect(metrics.history.length).toBeGreaterThan(0)
  expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).task).toBe(task)
}

describe('scangrad train, one tiny epoch per task', () => {
  it('mnist (and evaluate, predict on the run)', async () => {
    const out = join(dir, 'mnist')
    const run = await cli(['train', '--preset', 'seed', '--train-size', '48', '--validation-size', '16', '--batch-size', '16', '--hidden', '8', '--epochs', '1', '--quiet', '--out', out])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/mnist \(elman, 8 units\): test accuracy \d+\.\d% on 2000 digits/)
    expectRunFolder(out, 'mnist')
    const html = readFileSync(join(out, 'report.html'), 'utf8')
    expect(html).toContain('Confusion matrix')
    const evaluation = await cli(['evaluate', '--from', out, '--json'])
    expect(evaluation.code).toBe(0)
    expect(JSON.parse(evaluation.stdout)).toMatchObject({ testDigits: 2000 })
    const prediction = await cli(['predict', '--from', out, '--count', '3'])
    expect(prediction.code).toBe(0)
    expect(lines(prediction.stdout)).toHaveLength(4)
  })

  it('oscillator with --json: one parseable object per epoch, then a summary', async () => {
    const out = join(dir, 'oscillator')
    const run = await cli(['train', '--task', 'oscillator', '--epochs', '2', '--json', '--out', out])
    expect(run.code, run.stderr).toBe(0)
    const objects = lines(run.stdout).map((l) => JSON.parse(l))
    expect(objects.map((o) => o.type)).toEqual(['epoch', 'epoch', 'summary'])
    expect(objects[1]).toMatchObject({ epoch: 2, epochs: 2, step: 2 })
    expect(objects[1].train.loss).toBeGreaterThan(0)
    expect(objects[2]).toMatchObject({ status: 'completed', dir: out })
    expectRunFolder(out, 'oscillator')
    const prediction = await cli(['predict', '--from', out, '--json', '--count', '5'])
    expect(JSON.parse(prediction.stdout)).toHaveLength(5)
  })

  it.skipIf(weather.skip)('weather on clean_weather.csv (only the rows used must be clean)', async () => {
    const WEATHER_CSV = weather.require()
    const out = join(dir, 'weather')
    const run = await cli(['train', '--task', 'weather', '--file', WEATHER_CSV, '--epochs', '2', '--quiet', '--out', out])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/50-step extrapolation mean absolute error/)
    expectRunFolder(out, 'weather')
    const html = readFileSync(join(out, 'report.html'), 'utf8')
    expect(html).toContain('Extrapolation')
    expect(html).toContain('<animate') // the fit, epoch by epoch
    const prediction = await cli(['predict', '--from', out, '--count', '50', '--json'])
    expect(JSON.parse(prediction.stdout)).toHaveLength(50)
  })

  it.skipIf(weather.skip)('weather on a window with empty cells lists their lines and columns', async () => {
    const WEATHER_CSV = weather.require()
    const run = await cli(['train', '--task', 'weather', '--file', WEATHER_CSV, '--train-window', '6900:7000', '--out', join(dir, 'gaps')])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('line 6930, column "tmax_tomorrow": empty')
    expect(run.stderr).toContain('line 6931, column "tmax": empty')
    expect(existsSync(join(dir, 'gaps'))).toBe(false)
  })

  it('csv on a generated file, and a malformed CSV listing rows and columns', async () => {
    const file = join(dir, 'wave.csv')
    const rows = Array.from({ length: 240 }, (_, i) => `${i},${Math.sin(i / 6).toFixed(4)},${Math.sin((i + 1) / 6).toFixed(4)}`)
    writeFileSync(file, ['day,x,next', ...rows].join('\n'))
    const out = join(dir, 'csv')
    const run = await cli(['train', '--task', 'csv', '--file', file, '--input', 'x', '--target', 'next', '--epochs', '1', '--extrapolate', '10', '--quiet', '--out', out])
    expect(run.code, run.stderr).toBe(0)
    expectRunFolder(out, 'csv')

    const broken = join(dir, 'broken.csv')
    writeFileSync(broken, ['day,x,next', '0,1,2', '1,,3', '2,abc,4', '3,5,'].join('\n'))
    const bad = await cli(['train', '--task', 'csv', '--file', broken, '--input', 'x', '--target', 'next', '--out', join(dir, 'broken')])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('line 3, column "x": empty')
    expect(bad.stderr).toContain('line 4, column "x": "abc" is not a number')
    expect(bad.stderr).toContain('line 5, column "next": empty')
    const missingColumn = await cli(['train', '--task', 'csv', '--file', broken, '--input', 'tmax', '--target', 'next', '--out', join(dir, 'broken2')])
    expect(missingColumn.code).toBe(1)
    expect(missingColumn.stderr).toMatch(/tmax/)
  })

  it('names, then generate: the same seed gives the same names', async () => {
    const out = join(dir, 'names')
    const run = await cli(['train', '--task', 'names', '--train-size', '128', '--hidden', '8', '--epochs', '1', '--samples', '3', '--quiet', '--out', out])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/validation loss \d.* nats per character/)
    expectRunFolder(out, 'names')
    const sample = (seed: string) => cli(['generate', '--from', out, '--seed', seed, '--count', '6', '--temperature', '1', '--json'])
    const [a, b, c] = await Promise.all([sample('1'), sample('1'), sample('2')])
    expect(a.code).toBe(0)
    expect(JSON.parse(a.stdout)).toHaveLength(6)
    expect(a.stdout).toBe(b.stdout)
    expect(c.stdout).not.toBe(a.stdout)
    const wrongTask = await cli(['generate', '--from', join(dir, 'oscillator')])
    expect(wrongTask.code).toBe(2)
    expect(wrongTask.stderr).toContain('holds a run of --task oscillator; generate samples text from a run of --task names')
  })
})
