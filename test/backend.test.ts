/**
 * @file Which kernel backend this test project runs on. vitest.config.ts runs the core suites once
 * per backend and `provide`s the expected backend's name; if a project's setup file were not
 * applied, its run would silently be on the default (WebAssembly) backend, so the `js` run would
 * no longer be the reference and the `wasm` run would use the default size thresholds, under which
 * the tests' small tensors mostly take the JavaScript kernels; this test fails instead.
 */
import { describe, expect, inject, it } from 'vitest'
import { jsKernels } from '../src/tensor/jsKernels.js'
import { K } from '../src/tensor/backend.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Name prefix of the backend the project selects: 'js', or 'wasm' (also 'wasm-relaxed-simd'). */
    readonly kernelBackend: string
  }
}

describe('kernel backend of this test project', () => {
  it('is the one the project configuration promises', () => {
    const expected = inject('kernelBackend')
    expect(expected, 'vitest.config.ts: the project must provide kernelBackend').toBeTypeOf('string')
    expect(K.name.startsWith(expected), `active backend '${K.name}', expected '${expected}…'`).toBe(true)
  })

  it('runs its kernels: the reference ones in js, WebAssembly ones in wasm', () => {
    const ofReference = [K.binary === jsKernels.binary, K.matmul === jsKernels.matmul, K.tanh === jsKernels.tanh]
    expect(ofReference).toEqual(inject('kernelBackend') === 'js' ? [true, true, true] : [false, false, false])
  })
})
