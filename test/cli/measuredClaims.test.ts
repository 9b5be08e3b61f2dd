/**
 * The numbers README.md and the help texts quote about the default runs are the measured ones
 * (src/cli/tasks/measured.ts, written by `npm run measure-defaults`), the same everywhere, with the
 * machine they were measured on; and the measured runs are the defaults.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { effectiveDefaults } from '../../src/cli/config.js'
import { type Measured, machineNote, mnistClaim, readmeSection, weatherClaim, withClaims } from '../../src/cli/tasks/claims.js'
import { pct } from '../../src/cli/tasks/common.js'
import { taskOf } from '../../src/cli/tasks/index.js'
import { MEASURED } from '../../src/cli/tasks/measured.js'
import { cli } from './helpers.js'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

describe('measured defaults', () => {
  it('README.md says what measured.ts holds (run npm run measure-defaults to refresh both)', () => {
    expect(readme).toBe(withClaims(readme, MEASURED))
    expect(readme).toContain(mnistClaim())
    expect(readme).toContain(machineNote())
  })

  it('train --help and evaluate --help quote the same numbers and the machine', async () => {
    const train = await cli(['train', '--help'])
    expect(train.stdout).toContain(mnistClaim())
    expect(train.stdout).toContain(machineNote())
    const weather = weatherClaim()
    if (weather !== null) expect(train.stdout).toContain(weather)
    const evaluate = await cli(['evaluate', '--help'])
    expect(evaluate.stdout).toContain(MEASURED.mnist.headline)
  })

  it('the measured run is the default run, and its headline says the measured accuracy', () => {
    const defaults = effectiveDefaults(taskOf('mnist'))
    expect(MEASURED.mnist.command).toBe('scangrad train')
    expect(MEASURED.mnist.epochs).toBe(defaults.epochs)
    expect(MEASURED.mnist.epochSeconds).toHaveLength(MEASURED.mnist.epochs)
    expect(MEASURED.mnist.headline).toBe(
      `mnist (${defaults.cell}, ${defaults.hidden} units): test accuracy ${pct(MEASURED.mnist.testAccuracy)} on 2000 digits, test loss ${Number(MEASURED.mnist.testLoss.toPrecision(4))}`)
    expect(MEASURED.machine.cores).toBeGreaterThan(0)
  })

  it('withClaims rewrites stale numbers in place and refuses a README without its markers', () => {
    const other: Measured = {
      ...MEASURED,
      mnist: { ...MEASURED.mnist, testAccuracy: 0.5, headline: 'mnist (lstm, 128 units): test accuracy 50.0% on 2000 digits, test loss 1' },
    }
    const rewritten = withClaims(readme, other)
    expect(rewritten).toContain('50.0% test accuracy after')
    expect(rewritten).toContain(readmeSection(other))
    expect(withClaims(rewritten, MEASURED)).toBe(readme)
    expect(() => withClaims('# no markers\n', MEASURED)).toThrow(/must hold a line starting "npm ci && npm start"/)
  })
})
