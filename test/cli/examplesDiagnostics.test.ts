/**
 * examples/vanishingGradients.ts at a small size (30 steps, 8 units): the Elman network's gradient
 * at step 1 is a vanishing share of the one at the last step, the chrono-initialised LSTM's is not,
 * and the report plots the three curves.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { runExample, tempDir } from './helpers.js'

const dir = tempDir()

it('vanishingGradients.ts: a tanh Elman network loses its gradient over 30 steps, an LSTM with open forget gates keeps it', async () => {
  const out = join(dir, 'vanishing')
  const printed = await runExample('vanishingGradients', [out, '30', '8'])
  const ratio = (name: string): number => {
    const match = new RegExp(`${name}\\s+‖∂L/∂c_1‖ / ‖∂L/∂c_30‖ = (\\S+)`).exec(printed)
    expect(match, printed).not.toBeNull()
    return Number(match![1])
  }
  expect(ratio('Elman \\(tanh\\)')).toBeLessThan(1e-4)
  expect(ratio('LSTM \\(chrono init\\)')).toBeGreaterThan(1e-2)
  expect(ratio('LSTM \\(chrono init\\)')).toBeGreaterThan(1e3 * ratio('Elman \\(tanh\\)'))
  expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Gradient flow ‖∂L/∂c_t‖')
})
