/**
 * `scangrad train --diagnostics`: the gradient flow of every epoch lands in diagnostics.json and,
 * with the Lyapunov exponents of the trained recurrence, in report.html; a resumed run that
 * measured keeps measuring and draws every epoch; without the flag nothing is measured.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, tempDir } from './helpers.js'

const dir = tempDir()

interface Diagnostics { format: string; epochs: { epoch: number; gradientFlow: number[][] }[] }
const read = (run: string): Diagnostics => JSON.parse(readFileSync(join(run, 'diagnostics.json'), 'utf8')) as Diagnostics

describe('scangrad train --diagnostics', () => {
  it('oscillator: a heat map of every epoch and the exponents in report.html, continued by --resume', async () => {
    const run = join(dir, 'osc')
    const first = await cli(['train', '--task', 'oscillator', '--epochs', '2', '--quiet', '--diagnostics', '--out', run])
    expect(first.code, first.stderr).toBe(0)
    const measured = read(run)
    expect(measured.format).toBe('scangrad.diagnostics')
    expect(measured.epochs.map((e) => e.epoch)).toEqual([0, 1])
    // One scan (the Elman layer) over the 299 steps of the trajectory, each norm finite and positive.
    for (const { gradientFlow } of measured.epochs) {
      expect(gradientFlow.length).toBe(1)
      expect(gradientFlow[0].length).toBe(299)
      expect(gradientFlow[0].every((v) => Number.isFinite(v) && v > 0)).toBe(true)
    }
    const html = readFileSync(join(run, 'report.html'), 'utf8')
    expect(html).toContain('Gradient flow ‖∂L/∂c_t‖ on the first training sample')
    // 2 epochs × the 299 steps pooled into 120 columns.
    const rects = (text: string) => text.match(/aria-roledescription="rect mark"/g)?.length
    expect(rects(html)).toBe(2 * 120)
    expect(html).toMatch(/Lyapunov exponents of the trained recurrence \(nats per step; the first scan, driven by the first training sequence, 299 steps\)/)
    // The seed network's three hidden units: three exponents, and the largest in the summary.
    expect(html.match(/λ[123] = -?\d/g)?.length).toBe(3)
    expect(html).toContain('largest Lyapunov exponent')

    const resumed = await cli(['train', '--resume', run, '--epochs', '3', '--quiet'])
    expect(resumed.code, resumed.stderr).toBe(0)
    const continued = read(run)
    expect(continued.epochs.map((e) => e.epoch)).toEqual([0, 1, 2])
    expect(continued.epochs.slice(0, 2)).toEqual(measured.epochs)
    expect(rects(readFileSync(join(run, 'report.html'), 'utf8'))).toBe(3 * 120)
  })

  it('measures nothing without the flag', async () => {
    const run = join(dir, 'plain')
    const plain = await cli(['train', '--task', 'oscillator', '--epochs', '1', '--quiet', '--out', run])
    expect(plain.code, plain.stderr).toBe(0)
    expect(existsSync(join(run, 'diagnostics.json'))).toBe(false)
    expect(readFileSync(join(run, 'report.html'), 'utf8')).not.toContain('Gradient flow')
  })
})
