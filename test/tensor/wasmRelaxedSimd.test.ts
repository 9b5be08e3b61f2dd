/**
 * @file The relaxed-SIMD build of the WebAssembly kernels (matmul with `relaxed_madd`), which Node 20
 * compiles only with --experimental-wasm-relaxed-simd: this file turns it on for its own test process
 * (vitest runs each file in a fresh fork) with scangrad/node's `enableRelaxedSimd`, after loading the
 * kernels once without it, checks that the loader then picks that build and that `relaxedSimd:
 * false` still picks the plain one, then runs the matmul suite and an RNN gradient on it.
 */
import { describe, expect, it } from 'vitest'
import {
  type Tensor, add, jsKernels, matmul, mul, normal, randomKey, scan, splitKey, sum, tanh, useKernels, valueAndGrad,
} from '../../src/index.js'
import { enableRelaxedSimd } from '../../src/node.js'
import { loadWasmKernels, relaxedSimdSupported } from '../../src/tensor/wasm/wasmKernels.js'
import { expectWithin, matmulSuite } from './wasmMatmulCases.js'

// Whether the host had relaxed SIMD before the switch (Node 20: no; Node 22: yes), and the build a
// load took then: the loader must not remember a failed validation.
const hadIt = relaxedSimdSupported()
const before = loadWasmKernels().name
const enabled = enableRelaxedSimd()

const relaxed = loadWasmKernels({ minSize: { binary: 0, math: 0, sum: 0, matmul: 0 } })

describe('wasm kernels with relaxed SIMD', () => {
  it('enableRelaxedSimd makes relaxed SIMD available, also after a load without it', () => {
    expect(enabled).toBe(true)
    expect(relaxedSimdSupported()).toBe(true)
    expect(before).toBe(hadIt ? 'wasm-relaxed-simd' : 'wasm')
  })

  it('loads the fused multiply-add build when the host has relaxed SIMD, unless told not to', () => {
    expect(relaxed.name).toBe('wasm-relaxed-simd')
    expect(loadWasmKernels({ relaxedSimd: false }).name).toBe('wasm')
  })

  it('gives the same RNN gradients as the JavaScript kernels (float32, rtol 2e-5)', () => {
    const [k1, k2, k3, k4] = splitKey(randomKey(7), 4)
    const p = { wIn: mul(normal(k1, [24, 40], { dtype: 'float32' }), 0.5), wRec: mul(normal(k2, [40, 40], { dtype: 'float32' }), 0.3) }
    const h0 = normal(k3, [16, 40], { dtype: 'float32' })
    const xs = normal(k4, [6, 16, 24], { dtype: 'float32' })
    const loss = (q: typeof p) => {
      const [h] = scan((c: Tensor, x: Tensor) => {
        const next = tanh(add(matmul(x, q.wIn), matmul(c, q.wRec)))
        return [next, next] as const
      }, h0, xs)
      return sum(mul(h, h))
    }
    const [valueJs, gradsJs] = valueAndGrad(loss)(p)
    const previous = useKernels(relaxed)
    let result
    try {
      result = valueAndGrad(loss)(p)
    } finally {
      useKernels(previous)
    }
    const [value, grads] = result
    for (const [actual, expected] of [[value, valueJs], [grads.wIn, gradsJs.wIn], [grads.wRec, gradsJs.wRec]] as const) {
      const scale = Math.max(...Array.from(expected.data, Math.abs))
      expectWithin(actual.data, expected.data, () => 2e-5 * scale, 'relaxed-SIMD RNN')
    }
    expect(jsKernels.name).toBe('js')
  })
})

matmulSuite(relaxed, 100)
