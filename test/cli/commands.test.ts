/**
 * The smaller promises of the commands (issue 21, section 2): `generate --max-length N` gives at
 * most N characters, `predict --prefix` lower-cases a prefix and is refused by tasks that take
 * none, and `--version` prints package.json's version.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { cli, lines, tempDir } from './helpers.js'

const dir = tempDir()
const names = join(dir, 'names')
const oscillator = join(dir, 'oscillator')

beforeAll(async () => {
  const run = await cli(['train', '--task', 'names', '--train-size', '128', '--hidden', '8', '--epochs', '1', '--samples', '3', '--quiet', '--out', names])
  expect(run.code, run.stderr).toBe(0)
  expect((await cli(['train', '--task', 'oscillator', '--epochs', '1', '--quiet', '--out', oscillator])).code).toBe(0)
})

describe('generate --max-length', () => {
  it.each([1, 3, 5])('gives names of at most %i characters', async (n) => {
    // A barely trained model at a high temperature rarely draws </s>: most rows run to the limit.
    const { code, stdout } = await cli(['generate', '--from', names, '--max-length', String(n), '--count', '40', '--temperature', '3', '--json'])
    expect(code).toBe(0)
    const lengths = (JSON.parse(stdout) as { name: string }[]).map(({ name }) => [...name].length)
    expect(Math.max(...lengths)).toBe(n)
  })
})

describe('predict --prefix', () => {
  it('lower-cases the prefix: "MA" completes as "ma"', async () => {
    const upper = await cli(['predict', '--from', names, '--prefix', 'MA', '--prefix', 'Jo', '--json'])
    const lower = await cli(['predict', '--from', names, '--prefix', 'ma', '--prefix', 'jo', '--json'])
    expect(upper.code, upper.stderr).toBe(0)
    const rows = JSON.parse(upper.stdout) as { prefix: string; completion: string | null }[]
    expect(rows.map((r) => r.completion?.slice(0, 2))).toEqual(['ma', 'jo'])
    expect(upper.stdout).toBe(lower.stdout)
  })

  it('is refused by a task that takes no prefix', async () => {
    const { code, stdout, stderr } = await cli(['predict', '--from', oscillator, '--prefix', 'ma'])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(lines(stderr)).toHaveLength(1)
    expect(stderr).toContain(`--prefix completes names; ${oscillator} holds a run of --task oscillator`)
  })
})

describe('--version', () => {
  it("prints package.json's version", async () => {
    const { code, stdout } = await cli(['--version'])
    expect(code).toBe(0)
    expect(stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version)
  })
})
