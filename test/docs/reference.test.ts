/**
 * @file `npm run docs` builds the API reference (issue 21 §5): TypeDoc over both entry points, with
 * warnings as errors, so a broken `{@link}` or an unknown tag fails here rather than on the site.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { repositoryRoot } from '../../scripts/docs/publicApi.js'

describe('docs: the API reference', () => {
  it('builds without warnings and documents the namespaces', () => {
    const out = join(repositoryRoot, '.scratch', 'docs')
    const run = spawnSync(process.execPath, [join(repositoryRoot, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out], {
      cwd: repositoryRoot, encoding: 'utf8',
    })
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0)
    const index = readFileSync(join(out, 'index.html'), 'utf8')
    expect(index).toContain('scangrad')
    for (const page of ['modules/index.nn.html', 'functions/index.grad.html', 'functions/index.scan.html']) {
      expect(existsSync(join(out, page)), page).toBe(true)
    }
  }, 180_000)
})
