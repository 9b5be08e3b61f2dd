/**
 * Smoke test of the examples: each runs end to end with a tiny setting (one or two epochs, a few
 * names) and writes a report with inline SVG plots. mnistRows.ts has its own file (examplesMnist).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { weather } from '../helpers/sharedData.js'
import { runExample, tempDir } from './helpers.js'

const dir = tempDir()

describe('examples', () => {
  it('oscillator.ts', async () => {
    const out = join(dir, 'oscillator')
    expect(await runExample('oscillator', [out, '2'])).toMatch(/oscillator: MSE \d/)
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg')
  })

  it.skipIf(weather.skip)('weather.ts', async () => {
    const out = join(dir, 'weather')
    expect(await runExample('weather', [weather.require(), out, '2'])).toMatch(/50-day extrapolation MAE/)
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<animate')
  })

  it('names.ts', async () => {
    const out = join(dir, 'names')
    expect(await runExample('names', [out, '1', '256'])).toMatch(/validation loss \d\.\d+ nats per character; sampled: /)
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg')
  })
})
