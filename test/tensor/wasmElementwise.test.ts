/**
 * @file The WebAssembly elementwise kernels added for speed, against the JavaScript reference
 * kernels in float32 and float64: float32 exp / tanh / sigmoid computed in f32x4 lanes (within 1 ulp
 * of the correctly rounded value; tanh odd and saturating to ±1 exactly), the tanh and sigmoid VJPs
 * (bit for bit), column sums (bit for bit: same summation order per column), strided gathers (bit
 * for bit), repeated-row broadcasts met twice (the remembered index map); and, on the raw exports,
 * that every map kernel writes exactly its n elements, so pointer callers may run it in place or on
 * part of a buffer.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DType, type Data, jsKernels } from '../../src/index.js'
import { decodeBase64 } from '../../src/tensor/wasm/base64.js'
import type { KernelExports } from '../../src/tensor/wasm/exports.js'
import { kernelsWasmBase64 } from '../../src/tensor/wasm/kernelsBinary.generated.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'
import { webAssemblyApi } from '../../src/tensor/wasm/webAssembly.js'
import { naiveIndex, viewArb } from './stridedViews.js'
import { DTYPES, expectSame, expectWithin, filled } from './wasmMatmulCases.js'

/** Every WebAssembly path taken, whatever the size. */
const wasm = loadWasmKernels({ minSize: { binary: 0, math: 0, sum: 0, gather: 0, matmul: 0 } })

const toData = (dtype: DType, values: readonly number[]): Data => (dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values))

// ---- float32 exp, tanh, sigmoid ----

/** The float32 ulp in the binade of v (2⁻¹⁴⁹ among subnormals). */
const ulp32 = (v: number): number => {
  const a = Math.abs(v)
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23)
}

/**
 * Within 1 ulp of the correctly rounded float32 (the JavaScript kernels' Math.* in float64, rounded
 * once). A full sweep of every float32 (bench/ulpSweep.ts) measures at most 1.00 for all three.
 */
const expectWithinUlp = (actual: Data, expected: Data, what: string): void =>
  expectWithin(actual, expected, (i) => ulp32(expected[i]), what)

const SPECIAL = [
  0, -0, 1e-45, -1e-45, 1e-38, -1e-38, 1e-8, -1e-8, 0.9, -0.9, 0.8999999, 9, 9.02, -9.02, 20, 88.7, 88.72, 88.73, 89, -87.3,
  -103, -103.9, -104, -110, 1e10, -1e10, Infinity, -Infinity, NaN,
]

describe('float32 exp / tanh / sigmoid in f32x4 lanes', () => {
  const MATH = ['exp', 'tanh', 'sigmoid'] as const

  it.each(MATH)('%s is within 1 ulp of the correctly rounded value on random inputs', (op) => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -30, max: 30, noNaN: true }),
        fc.double({ min: -120, max: 120, noNaN: true })), { minLength: 1, maxLength: 70 }),
      (values) => {
        const x = toData('float32', values)
        expectWithinUlp(wasm[op](x), jsKernels[op](x), `${op}(${values})`)
      },
    ), { numRuns: 100, seed: 31 })
  })

  it.each(MATH)('%s is within 1 ulp on a dense sweep of [−110, 110] and on special values', (op) => {
    const x = toData('float32', [...Array.from({ length: 88001 }, (_, i) => -110 + i * 0.0025), ...SPECIAL])
    const actual = wasm[op](x)
    const expected = jsKernels[op](x)
    expectWithinUlp(actual, expected, op)
    actual.forEach((v, i) => {
      if (Number.isNaN(expected[i])) expect(v, `${op}(${x[i]})`).toBeNaN()
      if (v === 0) expect(Object.is(v, -0), `${op}(${x[i]}) keeps the sign of zero`).toBe(Object.is(expected[i], -0))
    })
  })

  it('tanh is odd and saturates to ±1 exactly', () => {
    const a = Float32Array.from({ length: 4000 }, (_, i) => i * 0.004)
    const positive = wasm.tanh(a)
    const negative = wasm.tanh(a.map((v) => -v))
    positive.forEach((v, i) => expect(Object.is(negative[i], -v), `tanh(−${a[i]})`).toBe(true))
    const large = Float32Array.from({ length: 1000 }, (_, i) => 9.02 + i * 7.3)
    expect(Array.from(wasm.tanh(large)).every((v) => v === 1)).toBe(true)
    expect(Array.from(wasm.tanh(large.map((v) => -v))).every((v) => v === -1)).toBe(true)
  })
})

// ---- activation VJPs ----

describe.each(DTYPES)('wasm tanhBackward / sigmoidBackward, %s', (dtype) => {
  const valueArb = fc.oneof(fc.constantFrom(0, -0, 1, -1, 0.5, Infinity, NaN), fc.double({ min: -3, max: 3, noNaN: true }))

  it.each(['tanhBackward', 'sigmoidBackward'] as const)('%s equals jsKernels bit for bit', (op) => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 70 }).chain((n) => fc.tuple(fc.array(valueArb, { minLength: n, maxLength: n }), fc.array(valueArb, { minLength: n, maxLength: n }))),
      ([g, y]) => {
        const gd = toData(dtype, g)
        const yd = toData(dtype, y)
        expectSame(wasm[op]!(gd, yd), jsKernels[op]!(gd, yd), `${op}(${g}; ${y})`)
      },
    ), { numRuns: 100, seed: 37 })
  })
})

// ---- column sums ----

describe.each(DTYPES)('wasm sumRows, %s', (dtype) => {
  it('equals jsKernels.sumRows bit for bit (16-, 2- and 1-column blocks, bands of 64 rows)', () => {
    fc.assert(fc.property(
      fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 60, max: 200 })), fc.integer({ min: 1, max: 40 }), fc.nat(1000),
      (rows, cols, seed) => {
        // Values spread over 7 decades, so the summation order shows in the last bits.
        const x = filled(dtype, rows * cols, seed).map((v, i) => v * 10 ** ((i % 7) - 3)) as Data
        expectSame(wasm.sumRows!(x, rows, cols), jsKernels.sumRows!(x, rows, cols), `[${rows}, ${cols}]`)
      },
    ), { numRuns: 80, seed: 41 })
  })
})

// ---- strided gathers ----

describe.each(DTYPES)('wasm gatherStrided, %s', (dtype) => {
  it('equals gather through the naive index map, bit for bit (transposes, slices, broadcasts, ranks 0 to 5)', () => {
    fc.assert(fc.property(viewArb(5), fc.nat(1000), ({ shape, strides, offset, length }, seed) => {
      const x = filled(dtype, length, seed)
      const expected = jsKernels.gather(x, Int32Array.from(naiveIndex(shape, strides, offset)))
      expectSame(wasm.gatherStrided!(x, shape, strides, offset), expected, `[${shape}] strides [${strides}] offset ${offset}`)
    }), { numRuns: 200, seed: 43 })
  })

  it('moves NaN payloads and signed zeros unchanged', () => {
    const x = dtype === 'float32'
      ? new Float32Array(new Uint32Array([0x7fc00001, 0x80000000, 0xffa00000, 1, 0x7f800000, 0, 7, 9]).buffer)
      : new Float64Array(new BigUint64Array([0x7ff8000000000001n, 0x8000000000000000n, 1n, 2n, 3n, 4n, 5n, 6n]).buffer)
    // Compared as bytes: reading a signalling NaN into a JavaScript number may quiet it, so the
    // JavaScript kernels are no oracle here; the expected bytes are x's own, moved by the index map.
    const bytesOf = (d: Data) => Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))
    const size = x.BYTES_PER_ELEMENT
    const expected = naiveIndex([4, 2], [1, 4], 0).flatMap((i) => bytesOf(x).slice(i * size, (i + 1) * size))
    expect(bytesOf(wasm.gatherStrided!(x, [4, 2], [1, 4], 0))).toEqual(expected)
  })

  it('the batch-major ↔ time-major transposes of the benchmarks', () => {
    for (const [shape, strides] of [[[28, 64, 128], [128, 3584, 1]], [[28, 64, 28], [28, 784, 1]], [[64, 10], [1, 0]]] as const) {
      const x = filled(dtype, 28 * 64 * 128, 3)
      const expected = jsKernels.gather(x, Int32Array.from(naiveIndex(shape, strides, 0)))
      expectSame(wasm.gatherStrided!(x, shape, strides, 0), expected, `[${shape}]`)
    }
  })
})

describe.each(DTYPES)('wasm concatRows, %s', (dtype) => {
  it('equals the JavaScript kernel bit for bit: any number of parts, widths from 0 (and past the long-row cut-off)', () => {
    const widthArb = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(255, 256, 300))
    fc.assert(fc.property(fc.array(widthArb, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 9 }), fc.nat(1000), (widths, rows, seed) => {
      const parts = widths.map((w, j) => filled(dtype, rows * w, seed + j))
      const copies = parts.map((x) => x.slice())
      expectSame(wasm.concatRows!(parts, widths, rows), jsKernels.concatRows!(parts, widths, rows), `widths [${widths}], ${rows} rows`)
      parts.forEach((x, j) => expect(x, 'parts untouched').toEqual(copies[j]))
    }), { numRuns: 150, seed: 47 })
  })

  it('places each part in its columns: [x, c, 1] rows of an Elman projection', () => {
    const rows = 3
    const x = filled(dtype, rows * 5, 1)
    const c = dtype === 'float32' ? Float32Array.of(7, 8, 9) : Float64Array.of(7, 8, 9)
    const out = wasm.concatRows!([x, c, c.map(() => 1)], [5, 1, 1], rows)
    expect(Array.from(out)).toEqual([0, 1, 2].flatMap((r) => [...Array.from(x.subarray(r * 5, r * 5 + 5)), c[r], 1]))
  })
})

// ---- binary operations: remembered broadcasts ----

describe.each(DTYPES)('wasm binary with a repeated-row index map met twice, %s', (dtype) => {
  it('gives the same values the second time, and for another operand under the same map', () => {
    const rows = 6
    const cols = 5
    const index = Int32Array.from({ length: rows * cols }, (_, i) => i % cols)
    const a = filled(dtype, rows * cols, 1)
    const bias = filled(dtype, cols, 2)
    for (let round = 0; round < 2; round++) {
      expectSame(wasm.binary('add', a, null, bias, index, rows * cols), jsKernels.binary('add', a, null, bias, index, rows * cols), `round ${round}`)
    }
    // The same map read as [30] → [30] by an operand of 30 elements is not a row broadcast.
    const other = filled(dtype, rows * cols, 3)
    expectSame(wasm.binary('mul', a, null, other, index, rows * cols), jsKernels.binary('mul', a, null, other, index, rows * cols), 'other length')
  })
})

// ---- large operands: chunked passes ----

// ---- float64 tanh ----

/** The float64 ulp in the binade of v (2⁻¹⁰⁷⁴ among subnormals). */
const ulp64 = (v: number): number => 2 ** Math.max(Math.floor(Math.log2(Math.abs(v))) - 52, -1074)

describe('float64 tanh from one e^{2|x|} − 1 (f64x2 lanes)', () => {
  // Within 4 ulp of Math.tanh (itself within about 1 ulp of the exact value): the sweep and the
  // magnitudes from 2⁻¹⁰⁷⁴ to 2⁸ measure at most 4.0, as did the sinh / cosh series it replaced.
  it('is within 4 ulp of Math.tanh on a dense sweep of [−20, 20], across magnitudes and on special values', () => {
    const magnitudes = Array.from({ length: 1084 }, (_, i) => 2 ** (i - 1075) * (1 + (i % 7) / 7))
    const x = Float64Array.from([...Array.from({ length: 400001 }, (_, i) => -20 + i * 1e-4), ...magnitudes, ...magnitudes.map((v) => -v),
      5e-324, -5e-324, 19.06, 25, 1e300, -1e300, Infinity, -Infinity])
    const expected = jsKernels.tanh(x)
    expectWithin(wasm.tanh(x), expected, (i) => 4 * ulp64(expected[i]), 'tanh')
    expect(Number.isNaN(wasm.tanh(Float64Array.of(NaN))[0])).toBe(true)
    expect(Object.is(wasm.tanh(Float64Array.of(-0))[0], -0)).toBe(true)
  })

  it('is odd and reaches ±1 exactly', () => {
    const a = Float64Array.from({ length: 4000 }, (_, i) => i * 0.0049)
    const negative = wasm.tanh(a.map((v) => -v))
    wasm.tanh(a).forEach((v, i) => expect(Object.is(negative[i], -v), `tanh(−${a[i]})`).toBe(true))
    const large = Float64Array.from({ length: 1000 }, (_, i) => 19.1 + i * 7.3)
    expect(Array.from(wasm.tanh(large)).every((v) => v === 1)).toBe(true)
  })
})

describe.each(DTYPES)('wasm streaming kernels on operands larger than one chunk (256 KiB), %s', (dtype) => {
  // Sizes not multiples of the chunk, and a row period that does not divide it.
  const rows = 211
  const cols = 997
  const size = rows * cols
  const a = filled(dtype, size, 5)
  const b = filled(dtype, size, 6)
  const row = filled(dtype, cols, 7)
  const rowIndex = Int32Array.from({ length: size }, (_, i) => i % cols)

  it('binary operations with same-shape, repeated-row and scalar operands equal jsKernels bit for bit', () => {
    expectSame(wasm.binary('add', a, null, b, null, size), jsKernels.binary('add', a, null, b, null, size), 'a + b')
    expectSame(wasm.binary('mul', row, rowIndex, a, null, size), jsKernels.binary('mul', row, rowIndex, a, null, size), 'row · a')
    const two = toData(dtype, [2])
    expectSame(wasm.binary('sub', a, null, two, new Int32Array(size), size), jsKernels.binary('sub', a, null, two, new Int32Array(size), size), 'a − 2')
  })

  it('unary maps, the activation VJPs and column sums equal jsKernels (bit for bit where exact)', () => {
    expectSame(wasm.square(a), jsKernels.square(a), 'square')
    expectSame(wasm.tanhBackward!(a, b), jsKernels.tanhBackward!(a, b), 'tanhBackward')
    const expected = jsKernels.tanh(a)
    expectWithin(wasm.tanh(a), expected, (i) => (dtype === 'float32' ? ulp32(expected[i]) : 1e-14 * Math.abs(expected[i])), 'tanh')
    expectSame(wasm.sumRows!(a, rows, cols), jsKernels.sumRows!(a, rows, cols), 'sumRows')
    expectSame(wasm.sumRows!(a, size / 1, 1), jsKernels.sumRows!(a, size, 1), 'sumRows of one column')
  })
})

// ---- the raw exports: exactly n elements written ----

describe('the map kernels and the gather write exactly their output', () => {
  const api = webAssemblyApi()!
  const exports = new api.Instance(new api.Module(decodeBase64(kernelsWasmBase64)), {}).exports as KernelExports
  const MAPS = ['neg', 'abs', 'square', 'sqrt', 'relu', 'exp', 'tanh', 'sigmoid'] as const
  const PAIRS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'greater', 'greaterEqual', 'equal', 'tanhBackward', 'sigmoidBackward'] as const
  const SENTINEL = 12345

  it.each(DTYPES)('for every n from 0 to 40, at any element offset, and in place (%s)', (dtype) => {
    const suffix = dtype === 'float32' ? 'f32' : 'f64'
    const bytes = dtype === 'float32' ? 4 : 8
    const memory = () => (dtype === 'float32' ? new Float32Array(exports.memory.buffer, 0, 1024) : new Float64Array(exports.memory.buffer, 0, 1024))
    const x = 128
    const y = 256
    const out = 512
    // Plain loops collect the failures; one expect per case keeps the test fast.
    const failures: string[] = []
    for (let n = 0; n <= 40; n++) {
      for (const shift of [0, 1, 3]) {
        const m = memory()
        for (let i = 0; i < 100; i++) { m[x + i] = Math.sin(i) * 2; m[y + i] = Math.cos(i) }
        for (const op of [...MAPS, ...PAIRS]) {
          m.fill(SENTINEL, out - 8, out + 100)
          const at = (out + shift) * bytes
          if ((MAPS as readonly string[]).includes(op)) (exports[`${op as (typeof MAPS)[number]}_${suffix}`])(x * bytes, at, n)
          else (exports[`${op as (typeof PAIRS)[number]}_${suffix}`])(x * bytes, y * bytes, at, n)
          for (let i = out - 8; i < out + 100; i++) {
            const inside = i >= out + shift && i < out + shift + n
            if (inside === (m[i] === SENTINEL)) failures.push(`${op} n=${n} shift=${shift}: element ${i - out - shift} ${inside ? 'not written' : 'overwritten'}`)
          }
        }
        // In place on a slice: the rest of the buffer is untouched, the slice becomes tanh of itself.
        const before = Array.from(m.subarray(x, x + 100))
        exports[`tanh_${suffix}`]((x + shift) * bytes, (x + shift) * bytes, n)
        const expected = jsKernels.tanh(toData(dtype, before.slice(shift, shift + n)))
        for (let i = 0; i < 100; i++) {
          const inside = i >= shift && i < shift + n
          const ok = inside ? Math.abs(m[x + i] - expected[i - shift]) <= 1e-6 * Math.abs(expected[i - shift]) : m[x + i] === before[i]
          if (!ok) failures.push(`in-place tanh n=${n} shift=${shift}: element ${i}`)
        }
      }
    }
    expect(failures.slice(0, 10)).toEqual([])
  })

  it.each(DTYPES)('so does the strided gather: rows of every length from 1 to 20, contiguous and strided, back to back or spread (%s)', (dtype) => {
    const suffix = dtype === 'float32' ? 'f32' : 'f64'
    const bytes = dtype === 'float32' ? 4 : 8
    const m = dtype === 'float32' ? new Float32Array(exports.memory.buffer, 0, 2048) : new Float64Array(exports.memory.buffer, 0, 2048)
    const x = 64
    const out = 1024
    for (let i = 0; i < 900; i++) m[x + i] = i + 0.5
    const failures: string[] = []
    for (let n = 1; n <= 20; n++) {
      for (const [step, rows, shift, gap] of [[1, 1, 0, 0], [1, 3, 1, 0], [1, 5, 3, 0], [2, 3, 0, 0], [1, 4, 1, 3], [2, 3, 2, 1]]) {
        m.fill(SENTINEL, out - 8, out + 300)
        // Rows n·step + 7 apart in x (misaligned with the vectors), written from out + shift with
        // `gap` untouched elements between output rows (0: one after another).
        const outStride = gap === 0 ? 0 : n + gap
        exports[`gatherStrided_${suffix}`](x * bytes, (out + shift) * bytes, n, step, 1, 0, 1, 0, rows, n * step + 7, outStride)
        for (let i = out - 8; i < out + 300; i++) {
          const k = i - out - shift
          const [row, col] = [Math.floor(k / (n + gap)), k % (n + gap)]
          const inside = k >= 0 && row < rows && col < n
          const expected = inside ? row * (n * step + 7) + col * step + 0.5 : SENTINEL
          if (m[i] !== expected) failures.push(`n=${n} step=${step} rows=${rows} gap=${gap}: element ${k} is ${m[i]}, expected ${expected}`)
        }
      }
    }
    expect(failures.slice(0, 10)).toEqual([])
  })
})

// ---- Adam ----

describe.each(DTYPES)('adam, %s', (dtype) => {
  it('equals the JavaScript kernel bit for bit: any length (chunk edges included), any step', () => {
    const lengths = fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(65535, 65536, 65537, 131072 + 3))
    fc.assert(fc.property(lengths, fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 1000 }), (n, t, seed) => {
      const g = filled(dtype, n, seed)
      const m = filled(dtype, n, seed + 1)
      const v = filled(dtype, n, seed + 2).map(Math.abs)
      const [b1, b2] = [0.9, 0.999]
      const constants = { b1, b2, eps: 1e-8, correct1: 1 / (1 - b1 ** t), correct2: 1 / (1 - b2 ** t) }
      const actual = wasm.adam!(g, m, v, constants)
      const expected = jsKernels.adam!(g, m, v, constants)
      for (const key of ['update', 'm', 'v'] as const) {
        expect(actual[key].constructor, key).toBe(expected[key].constructor)
        expectSame(actual[key], expected[key], `${key}, n = ${n}, t = ${t}`)
      }
    }), { numRuns: 25, seed: 17 })
  })

  it('leaves its operands as they were', () => {
    const [g, m, v] = [1, 2, 3].map((seed) => filled(dtype, 1000, seed).map(Math.abs))
    const copies = [g, m, v].map((x) => x.slice())
    wasm.adam!(g, m, v, { b1: 0.9, b2: 0.999, eps: 1e-8, correct1: 10, correct2: 1000 })
    expect([g, m, v].map((x) => Array.from(x))).toEqual(copies.map((x) => Array.from(x)))
  })
})

// ---- scatterRows ----

describe.each(DTYPES)('scatterRows, %s', (dtype) => {
  it('equals the JavaScript kernel bit for bit: rows in order, bands of rows, odd widths', () => {
    const shapes = fc.record({
      rows: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(300, 2049)),
      outRows: fc.integer({ min: 1, max: 9 }),
      cols: fc.oneof(fc.integer({ min: 1, max: 37 }), fc.constantFrom(256, 1024)),
      seed: fc.integer({ min: 0, max: 1000 }),
    })
    fc.assert(fc.property(shapes, ({ rows, outRows, cols, seed }) => {
      const x = filled(dtype, rows * cols, seed)
      const to = Int32Array.from({ length: rows }, (_, p) => (p * 7 + seed) % outRows)
      const actual = wasm.scatterRows!(x, to, outRows, cols)
      const expected = jsKernels.scatterRows!(x, to, outRows, cols)
      expect(actual.constructor).toBe(expected.constructor)
      expectSame(actual, expected, `${rows} rows into ${outRows} × ${cols}`)
    }), { numRuns: 30, seed: 23 })
  })

  it('adds each row into its target row, zeros elsewhere', () => {
    const x = toData(dtype, [1, 2, 3, 4, 5, 6, 7, 8])
    expect(Array.from(wasm.scatterRows!(x, Int32Array.from([2, 0, 2, 2]), 4, 2))).toEqual([3, 4, 0, 0, 13, 16, 0, 0])
  })
})
