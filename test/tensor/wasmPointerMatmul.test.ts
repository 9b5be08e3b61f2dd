/**
 * @file The pointer matmul (operands already in WebAssembly memory): against the copying
 * `Kernels.matmul` of the same module bit for bit, accumulation into C, misaligned operands, k = 0,
 * and that it writes nothing outside C and its `matmulScratchBytes` scratch; the same product with B
 * packed beforehand (`packWeight`), whole and by column ranges, against it bit for bit.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { DType, Data } from '../../src/index.js'
import { alignRegion } from '../../src/tensor/wasm/arena.js'
import { decodeBase64 } from '../../src/tensor/wasm/base64.js'
import type { KernelExports } from '../../src/tensor/wasm/exports.js'
import { kernelsWasmBase64 } from '../../src/tensor/wasm/kernelsBinary.generated.js'
import { createPointerMatmul, matmulScratchBytes, packWeight, packedWeightBytes, packedWidth } from '../../src/tensor/wasm/matmul.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'
import { webAssemblyApi } from '../../src/tensor/wasm/webAssembly.js'
import { DTYPES, type MatmulCase, expectSame, expectWithin, filled, sizeArb } from './wasmMatmulCases.js'

const api = webAssemblyApi()!
const exports = new api.Instance(new api.Module(decodeBase64(kernelsWasmBase64)), {}).exports as KernelExports
const product = createPointerMatmul(exports)
const wasm = loadWasmKernels({ minSize: { matmul: 0 }, relaxedSimd: false })

const view = (dtype: DType, ptr: number, length: number): Data =>
  dtype === 'float32' ? new Float32Array(exports.memory.buffer, ptr, length) : new Float64Array(exports.memory.buffer, ptr, length)

const SENTINEL = 0xa5

/** A matmul case without batches, plus what only the pointer entry point has. */
interface PointerCase extends Omit<MatmulCase, 'batching' | 'batches'> {
  readonly accumulate: boolean
  /** Element offsets of A, B and C from 64-byte boundaries (misaligned vectors). */
  readonly skew: number
}

/**
 * Lays out [scratch | guard | A | guard | B | guard | C | guard | packed B | guard] in the module's
 * memory, runs the pointer matmul (on B packed beforehand when `packed`), and returns C with the
 * initial C; checks that only C changed outside the scratch.
 */
const run = (c: PointerCase, packed = false) => {
  const bytes = c.dtype === 'float32' ? 4 : 8
  const guard = 64
  const scratch = matmulScratchBytes(c.dtype, c.m, c.k, c.n)
  const place = (at: number) => alignRegion(at) + guard + c.skew * bytes
  const aPtr = place(scratch)
  const bPtr = place(aPtr + c.m * c.k * bytes)
  const cPtr = place(bPtr + c.k * c.n * bytes)
  const packedPtr = alignRegion(cPtr + c.m * c.n * bytes) + guard
  const end = packedPtr + packedWeightBytes(exports, c.dtype, c.k, c.n) + guard
  const pages = Math.ceil(end / 65536) - exports.memory.buffer.byteLength / 65536
  if (pages > 0) exports.memory.grow(pages)
  new Uint8Array(exports.memory.buffer, 0, end).fill(SENTINEL)
  const a = filled(c.dtype, c.m * c.k, c.seed)
  const b = filled(c.dtype, c.k * c.n, c.seed + 1)
  const c0 = filled(c.dtype, c.m * c.n, c.seed + 2)
  view(c.dtype, aPtr, a.length).set(a)
  view(c.dtype, bPtr, b.length).set(b)
  view(c.dtype, cPtr, c0.length).set(c0)
  if (packed) packWeight(exports, c.dtype, bPtr, c.k, c.n, c.transposeB, packedPtr)
  const before = new Uint8Array(exports.memory.buffer, 0, end).slice()
  if (packed) product.packed(c.dtype, aPtr, packedPtr, cPtr, c.m, c.k, c.n, c.transposeA, c.accumulate, 0)
  else product(c.dtype, aPtr, bPtr, cPtr, c.m, c.k, c.n, c.transposeA, c.transposeB, c.accumulate, 0)
  const after = new Uint8Array(exports.memory.buffer, 0, end)
  for (let i = scratch; i < end; i++) {
    if ((i < cPtr || i >= cPtr + c.m * c.n * bytes) && after[i] !== before[i]) expect.fail(`byte ${i} outside C and the scratch changed (C at ${cPtr})`)
  }
  const one = new Int32Array(1)
  const expected = wasm.matmul(a, one, b, one, c.m, c.k, c.n, c.transposeA, c.transposeB)
  return { actual: view(c.dtype, cPtr, c.m * c.n).slice(), expected, c0 }
}

const caseArb = (dtype: DType) => fc.record({
  dtype: fc.constant(dtype),
  m: sizeArb, k: fc.oneof(sizeArb, fc.constantFrom(0, 255, 256, 257, 600)), n: sizeArb,
  transposeA: fc.boolean(), transposeB: fc.boolean(), accumulate: fc.boolean(),
  skew: fc.integer({ min: 0, max: 3 }), seed: fc.integer({ min: 0, max: 1_000_000 }),
})

describe.each(DTYPES)('createPointerMatmul, %s', (dtype) => {
  it('equals the copying matmul bit for bit, or C plus it when accumulating, touching only C and the scratch', () => {
    fc.assert(fc.property(caseArb(dtype), (c) => {
      const { actual, expected, c0 } = run(c)
      if (!c.accumulate) return expectSame(actual, expected, `C = A·B ${JSON.stringify(c)}`)
      const sum = dtype === 'float32' ? Float32Array.from(c0, (x, i) => x + expected[i]) : Float64Array.from(c0, (x, i) => x + expected[i])
      // Within one depth block C is added once to the block's sum; across blocks the additions interleave.
      if (c.k <= 256) return expectSame(actual, sum, `C += A·B ${JSON.stringify(c)}`)
      const u = dtype === 'float32' ? 2 ** -24 : 2 ** -53
      expectWithin(actual, sum, (i) => 4 * u * (Math.abs(c0[i]) + c.k), `C += A·B ${JSON.stringify(c)}`)
    }), { numRuns: 60, seed: 17 })
  })

  it('with k = 0 writes zeros, or leaves C alone when accumulating', () => {
    for (const accumulate of [false, true]) {
      for (const packed of [false, true]) {
        const { actual, c0 } = run({ dtype, m: 3, k: 0, n: 5, transposeA: false, transposeB: true, accumulate, skew: 1, seed: 4 }, packed)
        expectSame(actual, accumulate ? c0 : new (dtype === 'float32' ? Float32Array : Float64Array)(15), `k = 0, accumulate ${accumulate}, packed ${packed}`)
      }
    }
  })

  it('with B packed beforehand equals the unpacked product bit for bit, touching only C and the scratch', () => {
    fc.assert(fc.property(caseArb(dtype), (c) => {
      expectSame(run(c, true).actual, run(c, false).actual, `packed ${JSON.stringify(c)}`)
    }), { numRuns: 40, seed: 23 })
  })

  it('computes a column range of a packed product from its own panels', () => {
    const columns = exports[`tileColumns_${dtype === 'float32' ? 'f32' : 'f64'}`].value
    const rangeArb = fc.record({ m: sizeArb, k: fc.oneof(sizeArb, fc.constantFrom(256, 300)), n: sizeArb, seed: fc.nat(1000) })
      .chain((c) => fc.record({ panel: fc.nat(Math.floor((c.n - 1) / columns)) }).chain(({ panel }) => fc.record({
        width: fc.integer({ min: 1, max: c.n - panel * columns }),
      }).map(({ width }) => ({ ...c, column: panel * columns, width }))))
    fc.assert(fc.property(rangeArb, ({ m, k, n, seed, column, width }) => {
      const case_ = { dtype, m, k, n, transposeA: false, transposeB: false, accumulate: false, skew: 0, seed }
      const whole = run(case_).actual
      const bytes = dtype === 'float32' ? 4 : 8
      // run left A at the first 64-byte boundary past the scratch and its guard, B and C likewise after it.
      const aPtr = alignRegion(matmulScratchBytes(dtype, m, k, n)) + 64
      const bPtr = alignRegion(aPtr + m * k * bytes) + 64
      const cPtr = alignRegion(bPtr + k * n * bytes) + 64
      const packedPtr = alignRegion(cPtr + m * n * bytes) + 64
      packWeight(exports, dtype, bPtr, k, n, false, packedPtr)
      view(dtype, cPtr, m * n).fill(0)
      exports[`gemmPacked_${dtype === 'float32' ? 'f32' : 'f64'}`](
        m, width, k, aPtr, k, 1, packedPtr, packedWidth(exports, dtype, n), column, cPtr + column * bytes, n, 0, 0,
      )
      const range = view(dtype, cPtr, m * n)
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          const expected = j >= column && j < column + width ? whole[i * n + j] : 0
          if (!Object.is(range[i * n + j], expected)) expect.fail(`C[${i}, ${j}] = ${range[i * n + j]}, expected ${expected} (columns ${column}…${column + width - 1} of ${n})`)
        }
      }
    }), { numRuns: 40, seed: 29 })
  })

  it('needs bounded scratch, monotone in the sizes', () => {
    expect(matmulScratchBytes(dtype, 100_000, 100_000, 100_000)).toBeLessThan(2 ** 24)
    expect(matmulScratchBytes(dtype, 64, 128, 128)).toBeLessThanOrEqual(matmulScratchBytes(dtype, 65, 129, 129))
    expect(matmulScratchBytes(dtype, 64, 128, 128, 2)).toBe(2 * matmulScratchBytes(dtype, 64, 128, 128))
    expect(matmulScratchBytes(dtype, 64, 128, 128) % 64).toBe(0)
  })
})
