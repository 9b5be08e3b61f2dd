/**
 * @file Docs that run (issue 21 §5): every value the public API exports has an `@example` in its doc
 * comment, and every example type-checks and runs, with the public names in scope as the reference
 * says.
 */
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { writeExampleModules, typeErrors } from '../../scripts/docs/exampleModules.js'
import { publicExports, repositoryRoot } from '../../scripts/docs/publicApi.js'

const exports = publicExports()
const values = exports.filter((e) => e.kind === 'value')
const modules = writeExampleModules(exports, join(repositoryRoot, '.scratch', 'examples'), (e) => e.kind === 'value')
const errors = typeErrors(modules)

describe('docs: every public value has an example that runs', () => {
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
      try {
        const module = (await import(file)) as { default: () => Promise<void> }
        await module.default()
      } finally {
        log.mockRestore()
      }
    })
  }

})
