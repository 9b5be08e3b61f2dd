/**
 * Smoke test of examples/mnistRows.ts, apart from the other examples because it alone takes about
 * ten seconds (mostly the forward pass over the 2,000 test digits): one epoch on 64 digits, then a
 * report with the confusion matrix.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runExample, tempDir } from './helpers.js'

const dir = tempDir()

describe('examples', () => {
  it('mnistRows.ts', async () => {
    const out = join(dir, 'mnist')
    expect(await runExample('mnistRows', [out, '1', '64'])).toMatch(/test accuracy \d+\.\d% on 2000 digits/)
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Confusion matrix')
  })
})
