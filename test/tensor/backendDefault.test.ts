/**
 * @file The default backend and how backends are installed (src/tensor/backend.ts, complete.ts,
 * checkKernels.ts): with no set-up call scangrad runs on the WebAssembly kernels, also where they
 * must load asynchronously (a browser's main thread, simulated by refusing synchronous
 * compilation); `ready` resolves with the active backend; a backend chosen before an asynchronous
 * default arrives stays; `useKernels` rejects what is not a backend and completes a partial one,
 * whose completed kernels give the bits of the compositions the call sites used to fall back to.
 *
 * Runs in the `js` project only (vitest.config.ts): the default is observed in fresh processes,
 * and the in-process tests restore the JavaScript kernels the project's setup file selected.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Data, type Kernels, type Tensor, completeKernels, concat, jsKernels, max, mul, normal, randomKey, ready, sigmoid, slice,
  splitKey, square, sub, sum, tanh, useKernels, vjp,
} from '../../src/index.js'
import { composedAffine } from '../../src/tensor/affine.js'
import { K, installDefault } from '../../src/tensor/backend.js'
import { OPTIONAL_KERNELS } from '../../src/tensor/complete.js'
import { composedRecurrence } from '../../src/tensor/recurrence.js'

afterEach(() => { useKernels(jsKernels) })

const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url))
const BACKEND = fileURLToPath(new URL('../../src/tensor/backend.ts', import.meta.url))

/**
 * Runs `body` in a fresh Node process after `prelude` (which may break the host's WebAssembly
 * first), with `scangrad` (src/index.ts) and `backend` (its K) in scope; returns what it printed.
 */
const fresh = async (prelude: string, body: string): Promise<string> => {
  const script = `${prelude}
    Promise.all([import(${JSON.stringify(INDEX)}), import(${JSON.stringify(BACKEND)})]).then(async ([scangrad, backend]) => {
      ${body}
    }).catch((error) => { console.error(error); process.exit(1) })`
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], { timeout: 30_000 })
  return stdout.trim()
}

/** A browser's main thread: synchronous compilation and instantiation of large modules refused. */
const MAIN_THREAD = `
  WebAssembly.Module = function () { throw new RangeError('WebAssembly.Module(): refused on the main thread') }
  WebAssembly.Instance = function () { throw new RangeError('WebAssembly.Instance(): refused on the main thread') }`

describe('the default backend, in a fresh process', () => {
  it('is the WebAssembly one with no set-up call, and ready() resolves with it at once', async () => {
    const out = await fresh('', `
      const before = backend.K
      const active = await scangrad.ready()
      console.log(JSON.stringify({ name: before.name, ready: active.name, same: active === before && backend.K === before }))`)
    const { name, ready: readyName, same } = JSON.parse(out) as { name: string; ready: string; same: boolean }
    expect(name).toMatch(/^wasm(-relaxed-simd)?$/)
    expect(readyName).toBe(name)
    expect(same).toBe(true)
  })

  it('is the JavaScript one until an asynchronous load finishes where synchronous compilation is refused', async () => {
    // Compilation waits until the body has looked, so the order does not depend on how long importing takes.
    const gated = `${MAIN_THREAD}
      const compile = WebAssembly.compile
      let open
      const gate = new Promise((resolve) => { open = resolve })
      globalThis.openCompilation = open
      WebAssembly.compile = (bytes) => gate.then(() => compile(bytes))`
    const out = await fresh(gated, `
      const before = backend.K.name
      globalThis.openCompilation()
      const active = await scangrad.ready()
      console.log(before, active.name, backend.K.name)`)
    expect(out).toMatch(/^js (wasm(-relaxed-simd)?) \1$/)
  })

  it('leaves a backend chosen before the asynchronous load finishes', async () => {
    // Compilation slowed down, so that the choice surely comes first (importing takes a while).
    const slow = `${MAIN_THREAD}
      const compile = WebAssembly.compile
      WebAssembly.compile = (bytes) => new Promise((resolve) => setTimeout(resolve, 1000)).then(() => compile(bytes))`
    const out = await fresh(slow, `
      scangrad.useKernels({ ...scangrad.jsKernels, name: 'mine' })
      const active = await scangrad.ready()
      await new Promise((resolve) => setTimeout(resolve, 50))
      console.log(active.name, backend.K.name)`)
    expect(out).toBe('mine mine')
  })

  it('stays the JavaScript one on a host without WebAssembly SIMD', async () => {
    const out = await fresh('WebAssembly.validate = () => false', `
      console.log(backend.K.name, (await scangrad.ready()).name)`)
    expect(out).toBe('js js')
  })
})

describe('installDefault', () => {
  /** A loader whose backend arrives when the test says so. */
  const later = () => {
    let arrive!: (kernels: Kernels) => void
    const load = () => new Promise<Kernels>((resolve) => { arrive = resolve })
    return { load, arrive: (kernels: Kernels) => arrive(kernels) }
  }

  it('installs a backend that arrives later when nothing was chosen meanwhile', async () => {
    const { load, arrive } = later()
    const pending = installDefault(load)
    expect(K.name).toBe('js')
    arrive({ ...jsKernels, name: 'late default' })
    expect((await pending).name).toBe('late default')
    expect(K.name).toBe('late default')
  })

  it('does not replace a backend chosen with useKernels before the load finished', async () => {
    const { load, arrive } = later()
    const pending = installDefault(load)
    useKernels({ ...jsKernels, name: 'mine' })
    arrive({ ...jsKernels, name: 'late default' })
    expect((await pending).name).toBe('mine')
    expect(K.name).toBe('mine')
  })

  it('installs a backend available now at once, and keeps the active one when there is none', async () => {
    const now = installDefault(() => ({ ...jsKernels, name: 'now' }))
    expect(K.name).toBe('now')
    expect((await now).name).toBe('now')
    expect((await installDefault(() => undefined)).name).toBe('now')
  })

  it('rejects when the asynchronous load fails, leaving the active backend', async () => {
    await expect(installDefault(() => Promise.reject(new Error('no module')))).rejects.toThrow('no module')
    expect(K.name).toBe('js')
  })

  it('ready() resolves with a backend in this process too', async () => {
    expect(typeof (await ready()).matmul).toBe('function')
  })
})

describe('useKernels checks what it is given', () => {
  it('names every missing required kernel of an empty object', () => {
    expect(() => useKernels({} as Kernels)).toThrow(
      /useKernels: the backend\n {2}\* lacks the required kernels neg, exp, log, sqrt, abs, sign, square, tanh, sigmoid, softplus, relu, leakyRelu, pow, cast, binary, where, sumInto, maxInto, argmax, gather, scatterAdd, matmul;\n {2}\* has no string `name` \(got undefined\);\n\(got an object with keys: none\)/,
    )
    expect(K.name, 'a rejected backend is not installed').toBe('js')
  })

  it('names a missing kernel and a member of the wrong type, with the keys it got', () => {
    const { matmul: _, ...noMatmul } = jsKernels
    expect(() => useKernels(noMatmul as Kernels)).toThrow(/^useKernels: the backend lacks the required kernels matmul \(got an object with keys: name, neg, .*\)\. To replace/)
    expect(() => useKernels({ ...jsKernels, exp: 3 } as unknown as Kernels)).toThrow('useKernels: the backend has kernels that are not functions: exp (a number)')
    expect(() => useKernels({ ...jsKernels, affine: 'fast' } as unknown as Kernels)).toThrow('has kernels that are not functions: affine (a string)')
    expect(() => useKernels({ ...jsKernels, name: 7 } as unknown as Kernels)).toThrow('useKernels: the backend has no string `name` (got a number)')
    expect(() => useKernels(null as unknown as Kernels)).toThrow('useKernels: expected a kernel backend (an object of kernels such as jsKernels), got null.')
  })
})

describe('useKernels completes a partial backend', () => {
  /** jsKernels with only the required kernels: every optional one is left to the completion. */
  const bare: Kernels = (() => {
    const copy: Record<string, unknown> = { ...jsKernels, name: 'bare' }
    for (const name of OPTIONAL_KERNELS) delete copy[name]
    return copy as unknown as Kernels
  })()

  /** The bytes of a typed array, so that equality is bit for bit (−0, NaN payloads included). */
  const bits = (x: Data): Uint8Array => new Uint8Array(x.buffer, x.byteOffset, x.byteLength)
  const expectBits = (actual: Data, expected: Data, what: string) => {
    expect(actual.constructor, what).toBe(expected.constructor)
    expect(bits(actual), what).toEqual(bits(expected))
  }

  it('installs a backend that has every kernel, and keeps the given ones', () => {
    expect(OPTIONAL_KERNELS.every((name) => bare[name] === undefined)).toBe(true)
    useKernels(bare)
    expect(K.name).toBe('bare')
    for (const name of OPTIONAL_KERNELS) expect(typeof K[name], name).toBe('function')
    expect(K.matmul).toBe(jsKernels.matmul)
    expect(K.tanhBackward).not.toBe(jsKernels.tanhBackward)
    // A complete backend is installed as it is.
    const complete = completeKernels(bare)
    expect(completeKernels(complete)).toBe(complete)
  })

  it.each(['float32', 'float64'] as const)('gives the bits of the call sites\' former compositions and of jsKernels (%s)', (dtype) => {
    const complete = completeKernels(bare)
    const [kg, kt, km, kv] = splitKey(randomKey(7), 4)
    const g = normal(kg, [6, 20], { dtype })
    const t = tanh(normal(kt, [6, 20], { dtype }))
    const s = sigmoid(normal(kt, [6, 20], { dtype }))
    // The activation VJPs: as the ops composed them before, and as jsKernels fuses them.
    expectBits(complete.tanhBackward(g.data, t.data), mul(g, sub(1, square(t))).data, 'tanhBackward vs ops')
    expectBits(complete.tanhBackward(g.data, t.data), jsKernels.tanhBackward!(g.data, t.data), 'tanhBackward vs jsKernels')
    expectBits(complete.sigmoidBackward(g.data, s.data), mul(g, mul(s, sub(1, s))).data, 'sigmoidBackward vs ops')
    expectBits(complete.sigmoidBackward(g.data, s.data), jsKernels.sigmoidBackward!(g.data, s.data), 'sigmoidBackward vs jsKernels')
    // Adam: jsKernels' one pass rounds as the composition does.
    const m = normal(km, [120], { dtype }).data
    const v = square(normal(kv, [120], { dtype })).data
    const constants = { b1: 0.9, b2: 0.999, eps: 1e-8, correct1: 1 / (1 - 0.9 ** 3), correct2: 1 / (1 - 0.999 ** 3) }
    const [fused, composed] = [jsKernels.adam!(g.data, m, v, constants), complete.adam(g.data, m, v, constants)]
    for (const part of ['update', 'm', 'v'] as const) expectBits(composed[part], fused[part], `adam ${part}`)
    // Reductions and moves.
    expectBits(complete.sumRows(g.data, 6, 20), jsKernels.sumRows!(g.data, 6, 20), 'sumRows')
    expectBits(complete.sumColumns(g.data, 6, 20), jsKernels.sumColumns!(g.data, 6, 20), 'sumColumns')
    expectBits(complete.maxColumns(g.data, 6, 20), jsKernels.maxColumns!(g.data, 6, 20), 'maxColumns')
    expectBits(complete.gatherStrided(g.data, [20, 6], [1, 20], 0), jsKernels.gatherStrided!(g.data, [20, 6], [1, 20], 0), 'gatherStrided')
    expectBits(complete.scatterStrided(g.data, [6, 20], [25, 1], 3, 160), jsKernels.scatterStrided!(g.data, [6, 20], [25, 1], 3, 160), 'scatterStrided')
    // The product with its bias, and a whole LSTM sequence.
    const w = normal(kv, [20, 8], { dtype }).data
    const bias = normal(km, [8], { dtype }).data
    expectBits(complete.affine(g.data, w, bias, 6, 20, 8), composedAffine(jsKernels, g.data, w, bias, 6, 20, 8), 'affine')
    const extent = { time: 3, batch: 2, hidden: 5, reverse: false, transposed: false }
    const p = normal(kg, [3, 2, 20], { dtype }).data
    const h0 = normal(kt, [2, 5], { dtype }).data
    const c0 = normal(km, [2, 5], { dtype }).data
    const wRec = mul(normal(kv, [5, 20], { dtype }), 0.3).data
    const [ours, reference] = [complete.lstmForward(p, h0, c0, wRec, extent), composedRecurrence(jsKernels).lstmForward(p, h0, c0, wRec, extent)]
    for (const part of ['hs', 'cs', 'saved'] as const) expectBits(ours[part], reference[part], `lstmForward ${part}`)
  })

  it('runs the ops and their gradients to the same bits as jsKernels', () => {
    const [kx, ky, kc] = splitKey(randomKey(3), 3)
    const x = normal(kx, [4, 6, 5], { dtype: 'float32' })
    const y = normal(ky, [4, 3, 5], { dtype: 'float32' })
    // Slices and concatenations (strided moves), tanh's and sigmoid's VJPs, sums over leading and
    // trailing axes, and row maxima: each goes through a kernel the bare backend lacks.
    const f = (a: Tensor, b: Tensor): Tensor[] => {
      const joined = concat([slice(a, [[0, 4], [1, 4]]), b], 1)
      return [sum(mul(tanh(joined), sigmoid(joined)), 0), max(joined, 2), sum(square(joined), [1, 2])]
    }
    const run = (): Tensor[] => {
      const [outs, pullback] = vjp(f, x, y)
      const cotangents = outs.map((out, i) => normal(splitKey(kc, 3)[i], out.shape, { dtype: 'float32' }))
      return [...outs, ...pullback(cotangents)]
    }
    const expected = run()
    useKernels(bare)
    const actual = run()
    expect(actual).toHaveLength(5)
    actual.forEach((a, i) => expectBits(a.data, expected[i].data, `result ${i}`))
  })
})
