/**
 * @file The build of the WebAssembly kernels: the generated module (not committed; written by
 * `npm run build:wasm`) matches what scripts/wasm/ assembles today, its base64 decodes as Node's
 * Buffer does, and the loaders work (sync and async) or explain why they cannot.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsKernels } from '../../src/index.js'
import { decodeBase64 } from '../../src/tensor/wasm/base64.js'
import { loadWasmKernels, loadWasmKernelsAsync, wasmKernelsSupported } from '../../src/tensor/wasm/wasmKernels.js'
import { currentGeneratedModule } from '../../scripts/wasm/assemble.js'

describe('wasm build', () => {
  it('the generated module is up to date with scripts/wasm (run `npm run build:wasm` if not)', async () => {
    const generated = readFileSync(new URL('../../src/tensor/wasm/kernelsBinary.generated.ts', import.meta.url), 'utf8')
    expect(generated === await currentGeneratedModule(), 'kernelsBinary.generated.ts is stale').toBe(true)
  })

  it('decodeBase64 reads the WebAssembly magic number and agrees with Buffer', () => {
    expect(Array.from(decodeBase64('AGFzbQ=='))).toEqual([0, 97, 115, 109])
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(Array.from(decodeBase64(Buffer.from(bytes).toString('base64')))).toEqual(Array.from(bytes))
      }),
      { numRuns: 100, seed: 3 },
    )
    expect(() => decodeBase64('AG*z')).toThrow('decodeBase64: character "*" at 2 is not base64.')
  })
})

describe('wasm loaders', () => {
  it('report SIMD support and load synchronously and asynchronously', async () => {
    expect(wasmKernelsSupported()).toBe(true)
    const a = Float64Array.from([1, 2, 3, 4])
    const one = new Int32Array(1)
    const expected = jsKernels.matmul(a, one, a, one, 2, 2, 2, false, false)
    for (const kernels of [loadWasmKernels({ minSize: { matmul: 0 } }), await loadWasmKernelsAsync({ minSize: { matmul: 0 } })]) {
      expect(kernels.name).toMatch(/^wasm/) // 'wasm-relaxed-simd' on hosts with relaxed SIMD (Node ≥ 22)
      expect(Array.from(kernels.matmul(a, one, a, one, 2, 2, 2, false, false))).toEqual(Array.from(expected))
    }
  })

  it('explains a host without WebAssembly', async () => {
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly')!
    Object.defineProperty(globalThis, 'WebAssembly', { value: undefined, configurable: true, writable: true })
    try {
      expect(wasmKernelsSupported()).toBe(false)
      expect(() => loadWasmKernels()).toThrow('loadWasmKernels: this JavaScript host has no WebAssembly')
      await expect(loadWasmKernelsAsync()).rejects.toThrow('loadWasmKernelsAsync: this JavaScript host has no WebAssembly')
    } finally {
      Object.defineProperty(globalThis, 'WebAssembly', saved)
    }
  })
})
