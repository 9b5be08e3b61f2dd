import * as E from 'fp-ts/lib/Either.js'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runInNewContext } from 'node:vm'
import { afterAll, describe, expect, it } from 'vitest'
import { tensor } from '../../src/index.js'
import { loadSafetensors, readFileEither, saveSafetensors, writeFileAtomic } from '../../src/io/index.js'
import { expectSameBits } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'scangrad-files-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('io.writeFileAtomic', () => {
  it('writes strings and bytes, replaces the previous contents, and leaves no temporary file', async () => {
    const path = join(dir, 'metrics.json')
    await writeFileAtomic(path, '{"loss": 1}')
    expect(readFileSync(path, 'utf8')).toBe('{"loss": 1}')
    await writeFileAtomic(path, new Uint8Array([104, 105]))
    expect(readFileSync(path, 'utf8')).toBe('hi')
    expect(readdirSync(dir).filter((n) => n.includes('metrics'))).toEqual(['metrics.json'])
  })

  it('rejects when the directory does not exist, leaving nothing behind', async () => {
    await expect(writeFileAtomic(join(dir, 'missing', 'x.json'), 'x')).rejects.toThrow(/ENOENT/)
  })

  it('rejects when the target is a directory, and removes its temporary file', async () => {
    mkdirSync(join(dir, 'adir'))
    const before = readdirSync(dir).sort()
    await expect(writeFileAtomic(join(dir, 'adir'), 'x')).rejects.toThrow()
    expect(readdirSync(dir).sort()).toEqual(before)
  })
})

describe('io.saveSafetensors / io.loadSafetensors', () => {
  it('round-trips through a file', async () => {
    const path = join(dir, 'w.safetensors')
    const w = tensor([[1, -0], [Infinity, 1e-300]])
    await saveSafetensors(path, { w }, { note: 'hello' })
    const loaded = await loadSafetensors(path)
    if (E.isLeft(loaded)) throw new Error(loaded.left.message)
    expectSameBits(loaded.right.tensors.w, w)
    expect(loaded.right.metadata).toEqual({ note: 'hello' })
  })

  it('names the file in every error: missing, a directory, corrupted', async () => {
    const missing = join(dir, 'nope.safetensors')
    expect(await loadSafetensors(missing)).toEqual(E.left(expect.objectContaining({ kind: 'notFound', source: missing })))
    expect(await readFileEither(dir)).toEqual(E.left(expect.objectContaining({ kind: 'unreadable', message: `${dir}: cannot read the file: is a directory, not a file.` })))
    const broken = join(dir, 'broken.safetensors')
    writeFileSync(broken, new Uint8Array([1, 2, 3]))
    const result = await loadSafetensors(broken)
    expect(E.isLeft(result) && result.left.message).toBe(
      `${broken}: the file is 3 bytes long, shorter than the 8-byte header length: it is truncated or not a safetensors file.`,
    )
  })
})

describe('io is browser-safe', () => {
  it('no io module imports Node APIs statically; files.ts loads them lazily', () => {
    const ioDir = fileURLToPath(new URL('../../src/io/', import.meta.url))
    for (const name of readdirSync(ioDir)) {
      const source = readFileSync(join(ioDir, name), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '') // code only
      expect(source, name).not.toMatch(/from ['"](node:)?(fs|path|os|crypto|child_process)(\/promises)?['"]/)
      expect(source, name).not.toMatch(/\brequire\(|\bBuffer\b|\bprocess\./)
    }
  })

  it('bundled for the browser and run without Node globals, the pure functions work and file functions reject', async () => {
    // esbuild comes with tsx and vite; it bundles the io namespace as a browser would get it.
    const { build } = await import('esbuild')
    const entry = "export * as io from './src/io/index.js'; export { tensor } from './src/tensor/creation.js'"
    const root = fileURLToPath(new URL('../..', import.meta.url))
    const bundle = await build({
      stdin: { contents: entry, resolveDir: root, loader: 'ts' }, bundle: true, platform: 'browser', format: 'iife', globalName: 'scangrad', write: false, logLevel: 'silent',
    })
    const sandbox: Record<string, unknown> = { TextEncoder, TextDecoder } // a browser's globals, no process/require/Buffer
    runInNewContext(
      `${bundle.outputFiles[0].text}
      const { io, tensor } = scangrad
      globalThis.decoded = io.decodeSafetensors(io.encodeSafetensors({ w: tensor([1, 2]) }))
      globalThis.loading = io.loadSafetensors('w.safetensors')`,
      sandbox,
    )
    expect(sandbox.decoded).toMatchObject({ _tag: 'Right', right: { metadata: {} } })
    await expect(sandbox.loading as Promise<unknown>).rejects.toThrow()
  })
})
