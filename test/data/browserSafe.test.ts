import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

// src/data/*.ts is part of the browser-safe core; only src/data/node/ may touch Node.
describe('data (browser-safe part)', () => {
  const root = join(import.meta.dirname, '../../src/data')
  const files = readdirSync(root).filter((f) => f.endsWith('.ts'))

  it.each(files)('%s imports no Node module and nothing from ./node/', (f) => {
    const source = readFileSync(join(root, f), 'utf8')
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1])
    expect(imports.filter((i) => i.startsWith('node:') || ['fs', 'path', 'module', 'os'].includes(i) || i.includes('/node/'))).toEqual([])
    expect(source).not.toMatch(/\b(process|Buffer)\./)
  })
})
