/**
 * A run folder the file system refuses to write (read-only, no permission, full): a one-line
 * "cannot write …" error with the fix, never an internal error with a stack trace. The refusals
 * are injected (tests often run as root, for whom chmod does not make a folder read-only).
 */
import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { cli, lines, tempDir } from './helpers.js'

/** Writes to `path`s ending in `suffix` fail with `code`, as the file system would. */
const refusal: { suffix: string | null; code: string } = { suffix: null, code: 'EACCES' }

const refuse = (path: string): void => {
  if (refusal.suffix !== null && path.endsWith(refusal.suffix)) {
    throw Object.assign(new Error(`${refusal.code}: refused, open '${path}'`), { code: refusal.code })
  }
}

// Both modules: the test setup may have loaded checkpoint.js (with the real files.js) already.
vi.mock('../../src/io/files.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/io/files.js')>()
  return { ...original, writeFileAtomic: async (path: string, data: Uint8Array | string) => (refuse(path), original.writeFileAtomic(path, data)) }
})
vi.mock('../../src/io/checkpoint.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/io/checkpoint.js')>()
  return { ...original, saveCheckpoint: async (path: string, state: never) => (refuse(path), original.saveCheckpoint(path, state)) }
})

const dir = tempDir()
const osc = ['train', '--task', 'oscillator', '--epochs', '2', '--quiet']

describe('refused writes', () => {
  it('--resume of a read-only run folder (EROFS)', async () => {
    const good = join(dir, 'good')
    expect((await cli([...osc, '--out', good])).code).toBe(0)
    const readOnly = join(dir, 'read-only')
    cpSync(good, readOnly, { recursive: true })
    refusal.suffix = join('read-only', 'config.json')
    refusal.code = 'EROFS'
    try {
      const { code, stdout, stderr } = await cli(['train', '--resume', readOnly, '--epochs', '3', '--quiet'])
      expect(code).toBe(1)
      expect(stdout).toBe('')
      expect(lines(stderr), stderr).toHaveLength(1)
      expect(stderr).toContain(`cannot write ${join(readOnly, 'config.json')}: read-only file system (EROFS); make the run folder writable, or train into another --out`)
      expect(stderr).not.toMatch(/internal error|\n\s+at /)
    } finally {
      refusal.suffix = null
    }
  })

  it('a checkpoint that cannot be written after the first epoch (EACCES)', async () => {
    const out = join(dir, 'no-permission')
    refusal.suffix = join('no-permission', 'checkpoint.safetensors')
    refusal.code = 'EACCES'
    try {
      const { code, stderr } = await cli([...osc, '--out', out])
      expect(code).toBe(1)
      expect(lines(stderr), stderr).toHaveLength(1)
      expect(stderr).toContain(`cannot write ${join(out, 'checkpoint.safetensors')}: permission denied (EACCES)`)
    } finally {
      refusal.suffix = null
    }
  })
})
