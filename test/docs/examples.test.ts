/**
 * @file Docs that run (issue 21 §5): every value the public API exports has an `@example` in its doc
 * comment, and every example type-checks and runs, with the public names in scope as the reference
 * says.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { writeExampleModules, typeErrors } from '../../scripts/docs/exampleModules.js'
import { publicExports, repositoryRoot } from '../../scripts/docs/publicApi.js'

const exports = publicExports()
const values = exports.filter((e) => e.kind === 'value')
const modules = writeExampleModules(exports, join(repositoryRoot, '.scratch', 'examples'), (e) => e.kind === 'value')
const errors = typeErrors(modules)

/**
 * The examples that write files do so under `os.tmpdir()`; while they run it points here (this
 * test file has its own process), and the folder goes when they are done.
 */
const exampleTemp = join(repositoryRoot, '.scratch', 'examples-tmp')

describe('docs: every public value has an example that runs', () => {
  afterAll(() => rmSync(exampleTemp, { recursive: true, force: true }))

  it('finds the public API (both entry points, namespaces followed)', () => {
    const names = new Set(values.map((e) => e.name))
    for (const name of ['grad', 'scan', 'nn.lstm', 'optim.adam', 'io.saveCheckpoint', 'datasets.loadMnist']) expect(names, name).toContain(name)
  })

  it('every value export has an example', () => {
    const missing = values.filter((e) => e.examples.length === 0).map((e) => `${e.name} (${e.where})`)
    expect(missing).toEqual([])
  })

  for (const { label, file } of modules) {
    it(`${label} type-checks and runs`, async () => {
      expect(errors.get(label) ?? [], `type errors in ${label}'s example`).toEqual([])
      const log = vi.spyOn(console, 'log').mockImplementation(() => {})
      const temp = process.env.TMPDIR
      mkdirSync(exampleTemp, { recursive: true })
      process.env.TMPDIR = exampleTemp
      try {
        const module = (await import(file)) as { default: () => Promise<void> }
        await module.default()
      } finally {
        if (temp === undefined) delete process.env.TMPDIR
        else process.env.TMPDIR = temp
        log.mockRestore()
      }
    })
  }

})
