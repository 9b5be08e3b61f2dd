/**
 * @file Which kernel backend this test project runs on. vitest.config.ts runs the core suites once
 * per backend and `provide`s the expected backend's name; if the `wasm` project's setup file were
 * not applied, its run would silently be the JavaScript one again, and this test fails instead.
 */
import { describe, expect, inject, it } from 'vitest'
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
})
