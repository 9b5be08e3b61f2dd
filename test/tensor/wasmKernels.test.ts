/**
 * @file The WebAssembly SIMD kernels against the JavaScript reference kernels, float32 and float64:
 * matmul in all four transpose variants with batch offsets (wasmMatmulCases.ts), same-shape binary
 * operations and neg / abs / square / sqrt / relu (bit for bit), exp / tanh / sigmoid (ulp-level
 * tolerances, special values), full sums; the kernel contract (inputs untouched, fresh outputs);
 * the fallbacks; and a tanh RNN's gradients through scan with the backend selected.
 *
 * Tolerances. Binary operations and the exact unary ones are compared bit for bit: WebAssembly
 * rounds each f32/f64 operation once, and the JavaScript kernels' double-then-float32 evaluation of
 * + − × ÷ √ also rounds correctly (double has more than 2·24 + 2 bits). Matmul: see
 * wasmMatmulCases.ts. Sums accumulate in doubles in both backends and differ by summation order.
 * exp / tanh / sigmoid: float32 results are computed in f32x4 lanes within 1 float32 ulp of the
 * correctly rounded value (2e-7 relative here; wasmElementwise.test.ts checks ulps); float64 ones in
 * f64x2 lanes to a few ulp (1e-14 relative).
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type BinaryOp, type DType, type Data, type Kernels, type Tensor, add, checkGrads, jsKernels, matmul, mean, mul, normal,
  randomKey, reshape, scan, splitKey, sum, tanh, useKernels, valueAndGrad, arange,
} from '../../src/index.js'
import { createArena } from '../../src/tensor/wasm/arena.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'
import { DTYPES, expectSame, expectWithin, filled, matmulSuite, sizeArb } from './wasmMatmulCases.js'

/** Every WebAssembly path taken, whatever the size. */
const wasm = loadWasmKernels({ minSize: { binary: 0, math: 0, sum: 0, gather: 0, matmul: 0 } })
/** The defaults: small or broadcast calls fall back to JavaScript. */
const wasmDefault = loadWasmKernels()

// ---- matmul ----

matmulSuite(wasm, 150)

// ---- binary operations ----

const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'greater', 'greaterEqual', 'equal']

/** Values with ties, signed zeros and wide magnitudes, to exercise comparisons and rounding. */
const valueArb = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 3),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
)

describe.each(DTYPES)('wasm binary, %s', (dtype) => {
  const toData = (values: number[]): Data => (dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values))

  it('equals jsKernels.binary bit for bit on same-shape operands', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...BINARY_OPS), sizeArb.chain((n) => fc.tuple(fc.array(valueArb, { minLength: n, maxLength: n }), fc.array(valueArb, { minLength: n, maxLength: n }))),
        (op, [p, q]) => {
          const a = toData(p)
          const b = toData(q)
          expectSame(wasm.binary(op, a, null, b, null, a.length), jsKernels.binary(op, a, null, b, null, a.length), `${op}(${p}, ${q})`)
        },
      ),
      { numRuns: 200, seed: 11 },
    )
  })

  it('equals jsKernels.binary bit for bit on scalar, repeated-row and other broadcasts', () => {
    type Layout = 'identity' | 'scalar' | 'rows' | 'columns'
    /** An operand laid out over a [rows, cols] output, and its index map. */
    const operand = (layout: Layout, rows: number, cols: number, seed: number): [Data, Int32Array | null] => {
      const size = rows * cols
      switch (layout) {
        case 'identity': return [filled(dtype, size, seed), null]
        case 'scalar': return [filled(dtype, 1, seed), new Int32Array(size)]
        case 'rows': return [filled(dtype, cols, seed), Int32Array.from({ length: size }, (_, i) => i % cols)]
        case 'columns': return [filled(dtype, rows, seed), Int32Array.from({ length: size }, (_, i) => Math.floor(i / cols))]
      }
    }
    const layoutArb = fc.constantFrom<Layout>('identity', 'scalar', 'rows', 'columns')
    fc.assert(
      fc.property(fc.constantFrom(...BINARY_OPS), layoutArb, layoutArb, fc.integer({ min: 1, max: 9 }), sizeArb, fc.nat(1000), (op, la, lb, rows, cols, seed) => {
        const [a, ai] = operand(la, rows, cols, seed)
        const [b, bi] = operand(lb, rows, cols, seed + 1)
        const size = rows * cols
        expectSame(wasm.binary(op, a, ai, b, bi, size), jsKernels.binary(op, a, ai, b, bi, size), `${op} ${la} ${lb} [${rows}, ${cols}]`)
      }),
      { numRuns: 200, seed: 29 },
    )
  })

  it('handles NaN and infinities as the JavaScript kernels do', () => {
    const a = toData([NaN, 1, NaN, Infinity, -Infinity, 0, -0, 2])
    const b = toData([1, NaN, NaN, Infinity, 1, -0, 0, -Infinity])
    for (const op of BINARY_OPS) expectSame(wasm.binary(op, a, null, b, null, a.length), jsKernels.binary(op, a, null, b, null, a.length), op)
  })
})

// ---- exact unary operations ----

const SIMPLE = ['neg', 'abs', 'square', 'sqrt', 'relu'] as const

describe.each(DTYPES)('wasm neg / abs / square / sqrt / relu, %s', (dtype) => {
  const toData = (values: number[]): Data => (dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values))

  it.each(SIMPLE)('%s equals jsKernels bit for bit, special values included', (op) => {
    fc.assert(
      fc.property(sizeArb.chain((n) => fc.array(valueArb, { minLength: n, maxLength: n })), (values) => {
        const x = toData(values)
        expectSame(wasm[op](x), jsKernels[op](x), `${op}(${values})`)
      }),
      { numRuns: 60, seed: 13 },
    )
    const special = toData([NaN, Infinity, -Infinity, 0, -0, -1, 1e-30, -1e-30, 5e-324])
    const actual = wasm[op](special)
    const expected = jsKernels[op](special)
    expectSame(actual, expected, op)
    actual.forEach((v, i) => { if (v === 0) expect(Object.is(v, -0), `${op}(${special[i]}) sign`).toBe(Object.is(expected[i], -0)) })
  })
})

// ---- exp, tanh, sigmoid ----

const MATH = ['exp', 'tanh', 'sigmoid'] as const

/** Relative tolerance per dtype, and an absolute floor of a few subnormal ulps. */
const mathBound = (dtype: DType, expected: Data) => (i: number): number =>
  dtype === 'float32' ? 2e-7 * Math.abs(expected[i]) + 1e-44 : 1e-14 * Math.abs(expected[i]) + 1e-320

const SPECIAL = [
  0, -0, 1e-300, -1e-300, 5e-324, -5e-324, 1e-8, -1e-8, 0.625, -0.625, 0.6249999, 19, -19, 20, 40, 88.7, 89, -103, -104,
  709.7, 709.8, 710, 800, -700, -740, -745, -745.2, -746, -800, 1e10, -1e10, Infinity, -Infinity, NaN,
]

describe.each(DTYPES)('wasm exp / tanh / sigmoid, %s', (dtype) => {
  const toData = (values: number[]): Data => (dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values))

  it.each(MATH)('%s matches Math within ulp-level tolerance on random inputs', (op) => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(1), fc.constant(5), fc.integer({ min: 1, max: 70 })).chain((n) => fc.array(
          fc.oneof(fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -40, max: 40, noNaN: true }), fc.double({ min: -800, max: 800, noNaN: true })),
          { minLength: n, maxLength: n },
        )),
        (values) => {
          const x = toData(values)
          const expected = jsKernels[op](x)
          expectWithin(wasm[op](x), expected, mathBound(dtype, expected), `${op}(${values})`)
        },
      ),
      { numRuns: 100, seed: 17 },
    )
  })

  it.each(MATH)('%s handles special values: ±0, subnormals, overflow, underflow, ±∞, NaN', (op) => {
    const x = toData(SPECIAL)
    const expected = jsKernels[op](x)
    expectWithin(wasm[op](x), expected, mathBound(dtype, expected), op)
    // Signed zeros must survive exactly (tanh(−0) = −0).
    wasm[op](x).forEach((v, i) => { if (v === 0) expect(Object.is(v, -0), `${op}(${x[i]})`).toBe(Object.is(expected[i], -0)) })
  })

  it.each(MATH)('%s on a dense sweep of [−25, 25] stays within tolerance', (op) => {
    const x = toData(Array.from({ length: 20001 }, (_, i) => -25 + i * 0.0025))
    const expected = jsKernels[op](x)
    expectWithin(wasm[op](x), expected, mathBound(dtype, expected), op)
  })
})

// ---- sums ----

describe.each(DTYPES)('wasm sumInto, %s', (dtype) => {
  it('a full sum matches jsKernels up to summation order', () => {
    fc.assert(
      fc.property(fc.oneof(sizeArb, fc.integer({ min: 1, max: 3000 })), fc.integer({ min: 0, max: 1000 }), (n, seed) => {
        const x = filled(dtype, n, seed)
        const expected = jsKernels.sumInto(x, new Int32Array(n), 1)
        const bound = n * 2 ** -52 * Array.from(x, Math.abs).reduce((s, v) => s + v, 0) + (dtype === 'float32' ? 2 ** -23 * Math.abs(expected[0]) : 0)
        expectWithin(wasm.sumInto(x, new Int32Array(n), 1), expected, () => bound, `sum of ${n}`)
      }),
      { numRuns: 60, seed: 23 },
    )
  })

  it('partial sums (outSize > 1) use the JavaScript kernel', () => {
    const x = filled(dtype, 12, 4)
    const index = Int32Array.from({ length: 12 }, (_, i) => i % 3)
    expectSame(wasm.sumInto(x, index, 3), jsKernels.sumInto(x, index, 3), 'partial')
  })
})

// ---- the kernel contract ----

describe('wasm kernels keep the kernel contract', () => {
  it.each(DTYPES)('never write to inputs; results are fresh arrays that later calls do not touch (%s)', (dtype) => {
    const a = filled(dtype, 40 * 40, 1)
    const b = filled(dtype, 40 * 40, 2)
    const aCopy = a.slice()
    const bCopy = b.slice()
    const one = new Int32Array(1)
    const results = [
      wasm.matmul(a, one, b, one, 40, 40, 40, false, true), wasm.binary('mul', a, null, b, null, a.length),
      wasm.tanh(a), wasm.exp(b), wasm.sigmoid(a), wasm.sumInto(a, new Int32Array(a.length), 1), wasm.square(b), wasm.relu(a),
    ]
    const snapshots = results.map((r) => r.slice())
    wasm.matmul(b, one, a, one, 40, 40, 40, true, false)
    wasm.binary('add', b, null, a, null, a.length)
    wasm.tanh(b)
    expectSame(a, aCopy, 'a')
    expectSame(b, bCopy, 'b')
    results.forEach((r, i) => {
      expectSame(r, snapshots[i], `result ${i}`)
      expect(r.byteOffset === 0 && r.buffer.byteLength === r.byteLength, `result ${i} owns its buffer`).toBe(true)
    })
  })

  it('grows its memory for large operands', () => {
    const x = filled('float64', 3_000_000, 9) // 24 MB: more than the initial memory
    expectWithin(wasm.tanh(x), jsKernels.tanh(x), (i) => 1e-14 * Math.abs(x[i]) + 1e-300, 'tanh of 3e6')
  })

  it('reports when its memory cannot grow, so kernels fall back instead of failing', () => {
    let grows = 0
    const arena = createArena({ buffer: new ArrayBuffer(65536), grow: () => { grows++; throw new RangeError('out of memory') } })
    expect(arena.reserve(65536)).toBe(true)
    expect(arena.reserve(65537)).toBe(false)
    expect(arena.reserve(2 ** 31 + 16)).toBe(false) // beyond the module's maximum: not even attempted
    expect(grows).toBe(1)
  })

  it('falls back to jsKernels for broadcast index maps, mixed dtypes and small sizes (defaults)', () => {
    const a = filled('float64', 6, 1)
    const b = filled('float64', 3, 2)
    const bi = Int32Array.from([0, 1, 2, 0, 1, 2])
    expectSame(wasmDefault.binary('add', a, null, b, bi, 6), jsKernels.binary('add', a, null, b, bi, 6), 'broadcast')
    const c = filled('float32', 6, 3)
    expectSame(wasm.binary('mul', a, null, c, null, 6), jsKernels.binary('mul', a, null, c, null, 6), 'mixed dtypes')
    expectSame(wasmDefault.tanh(b), jsKernels.tanh(b), 'small tanh')
    const one = new Int32Array(1)
    expectSame(wasmDefault.matmul(a, one, b, one, 2, 3, 1, false, false), jsKernels.matmul(a, one, b, one, 2, 3, 1, false, false), 'small matmul')
  })
})

// ---- core operations with the backend selected ----

interface Rnn {
  readonly wIn: Tensor
  readonly wRec: Tensor
  readonly b: Tensor
}

/** h_t = tanh(x_t·wIn + h_{t−1}·wRec + b); loss reads the last carry and every output. */
const rnnLoss = (p: Rnn, h0: Tensor, xs: Tensor): Tensor => {
  const [h, hs] = scan((carry: Tensor, x: Tensor) => {
    const next = tanh(add(add(matmul(x, p.wIn), matmul(carry, p.wRec)), p.b))
    return [next, next] as const
  }, h0, xs)
  return add(sum(mul(h, h)), mean(mul(hs, reshape(mul(arange(hs.size), 0.01), hs.shape))))
}

const rnnCase = (dtype: DType, batch: number, inputs: number, hidden: number, steps: number) => {
  const [k1, k2, k3, k4, k5] = splitKey(randomKey(42), 5)
  const p: Rnn = {
    wIn: mul(normal(k1, [inputs, hidden], { dtype }), 0.5),
    wRec: mul(normal(k2, [hidden, hidden], { dtype }), 0.3),
    b: mul(normal(k3, [hidden], { dtype }), 0.1),
  }
  return { p, h0: mul(normal(k4, [batch, hidden], { dtype }), 0.3), xs: normal(k5, [steps, batch, inputs], { dtype }) }
}

describe('core operations on the wasm backend', () => {
  let previous: Kernels
  beforeAll(() => { previous = useKernels(jsKernels) })
  afterAll(() => { useKernels(previous) })

  /** Runs `f` with `kernels` selected and always restores the JavaScript kernels. */
  const using = <T>(kernels: Kernels, f: () => T): T => {
    useKernels(kernels)
    try {
      return f()
    } finally {
      useKernels(jsKernels)
    }
  }

  it.each([
    ['float64', 1e-12, 'every kernel in WebAssembly', wasm],
    ['float32', 2e-5, 'every kernel in WebAssembly', wasm],
    ['float64', 1e-12, 'default thresholds', wasmDefault],
    ['float32', 2e-5, 'default thresholds', wasmDefault],
  ] as const)('the gradient of a tanh RNN through scan matches the JavaScript backend (%s, rtol %s, %s)', (dtype, rtol, _, kernels) => {
    const { p, h0, xs } = rnnCase(dtype, 16, 24, 40, 6)
    const run = () => valueAndGrad(rnnLoss, { argnums: [0, 1] })(p, h0, xs)
    const [valueJs, [gradsJs, h0Js]] = run()
    const [valueWasm, [gradsWasm, h0Wasm]] = using(kernels, run)
    const compare = (actual: Tensor, expected: Tensor, what: string) => {
      const scale = Math.max(...Array.from(expected.data, Math.abs))
      expectWithin(actual.data, expected.data, () => rtol * scale, what)
    }
    compare(valueWasm, valueJs, 'loss')
    compare(gradsWasm.wIn, gradsJs.wIn, 'wIn')
    compare(gradsWasm.wRec, gradsJs.wRec, 'wRec')
    compare(gradsWasm.b, gradsJs.b, 'b')
    compare(h0Wasm, h0Js, 'h0')
  })

  it.each([
    ['every kernel in WebAssembly', wasm],
    ['default thresholds', wasmDefault],
  ] as const)('checkGrads (order 1) passes on the wasm backend, float64 (%s)', (_, kernels) => {
    const { p, h0, xs } = rnnCase('float64', 2, 3, 4, 3)
    const result = using(kernels, () => checkGrads(rnnLoss, [p, h0, xs], { order: 1 }))
    if (E.isLeft(result)) expect.fail(result.left.message)
    expect(result.right.checked).toBeGreaterThan(0)
  })

  it('restores the JavaScript kernels after a failing body', () => {
    expect(() => using(wasm, () => { throw new Error('boom') })).toThrow('boom')
    const before = useKernels(jsKernels)
    expect(before.name).toBe('js')
  })
})
