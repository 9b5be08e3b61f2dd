/**
 * @file `Kernels.fused`: a fused elementwise program equals its instructions run one by one through
 * the same backend's separate kernels (`binary`, the unary kernels, `tanhBackward`,
 * `sigmoidBackward`), bit for bit, for the JavaScript interpreter and the WebAssembly module
 * (random programs over column windows, repeated rows, constants, temporaries, sums over rows and
 * more than one chunk of columns, float32 and float64); the WebAssembly module agrees with the
 * interpreter within its elementwise kernels' accuracy; malformed programs are refused by name.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DType, type Data, jsKernels } from '../../src/index.js'
import { FUSED_BINARY_OPS, FUSED_UNARY_OPS, type FusedInstruction, type FusedProgram, type FusedSlot, FUSED_CHUNK, runFused } from '../../src/tensor/fused.js'
import type { Kernels } from '../../src/tensor/kernels.js'
import { loadWasmKernels } from '../../src/tensor/wasm/wasmKernels.js'
import { DTYPES, expectSame, expectWithin, filled } from './wasmMatmulCases.js'

/** Every WebAssembly path taken, whatever the size. */
const wasm = loadWasmKernels({ minSize: { binary: 0, math: 0, sum: 0, gather: 0, matmul: 0 } })

/**
 * The program run instruction by instruction through `k`'s separate kernels, row by row and chunk
 * by chunk: each argument's columns copied out, the kernel called, its result copied into place.
 */
const oneByOne = (k: Kernels, program: FusedProgram, inputs: readonly Data[]): Data[] => {
  const dtype: DType = inputs[0] instanceof Float32Array ? 'float32' : 'float64'
  const make = (n: number): Data => (dtype === 'float32' ? new Float32Array(n) : new Float64Array(n))
  const outputs = program.outputs.map(make)
  const chunk = Math.min(program.cols, FUSED_CHUNK)
  const temporaries = program.slots.map(() => make(chunk))
  for (let r = 0; r < program.rows; r++) {
    for (let c0 = 0; c0 < program.cols; c0 += chunk) {
      const n = Math.min(chunk, program.cols - c0)
      const where = (s: number): [Data, number] => {
        const slot = program.slots[s]
        if (slot.kind === 'input') return [inputs[slot.index], slot.offset + r * slot.rowStride + c0]
        if (slot.kind === 'output') return [outputs[slot.index], slot.offset + r * slot.rowStride + c0]
        if (slot.kind === 'constant') return [make(n).fill(slot.value), 0]
        return [temporaries[s], 0]
      }
      const read = (s: number): Data => { const [x, at] = where(s); return x.slice(at, at + n) }
      for (const { op, out, args } of program.instructions) {
        const [a, b] = args.map(read)
        const result = op === 'tanhBackward' || op === 'sigmoidBackward' ? k[op]!(a, b)
          : (FUSED_BINARY_OPS as readonly string[]).includes(op) ? k.binary(op as 'add', a, null, b, null, n)
            : k[op as (typeof FUSED_UNARY_OPS)[number]](a)
        const [o, at] = where(out)
        o.set(result, at)
      }
    }
  }
  return outputs
}

/** A random program: its slots and instructions, with the inputs it reads. */
interface Case {
  readonly program: FusedProgram
  readonly inputs: readonly Data[]
}

const caseArb = (dtype: DType): fc.Arbitrary<Case> => fc.record({
  rows: fc.integer({ min: 1, max: 4 }),
  cols: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(FUSED_CHUNK, FUSED_CHUNK + 3, 2 * FUSED_CHUNK + 17)),
  // Per input: extra columns of the wide array, and whether it is one repeated row.
  inputs: fc.array(fc.record({ extra: fc.nat(9), repeated: fc.boolean(), seed: fc.nat() }), { minLength: 1, maxLength: 3 }),
  constants: fc.array(fc.constantFrom(0, 1, -2, 0.5), { maxLength: 2 }),
  steps: fc.array(fc.record({ op: fc.constantFrom(...FUSED_BINARY_OPS, ...FUSED_UNARY_OPS), a: fc.nat(), b: fc.nat(), pad: fc.nat(2), keep: fc.boolean() }), { minLength: 1, maxLength: 12 }),
  accumulate: fc.boolean(),
}).map(({ rows, cols, inputs, constants, steps, accumulate }) => {
  const slots: FusedSlot[] = []
  const readable: number[] = []
  const arrays = inputs.map(({ extra, repeated, seed }) => {
    const width = cols + extra
    return { width, repeated, data: filled(dtype, repeated ? width : rows * width, seed) }
  })
  // Two windows of each input: at the left edge, and shifted by up to `extra` columns.
  arrays.forEach(({ width, repeated }, index) => {
    for (const offset of [0, width - cols]) readable.push(slots.push({ kind: 'input', index, offset, rowStride: repeated ? 0 : width }) - 1)
  })
  constants.forEach((value) => readable.push(slots.push({ kind: 'constant', value }) - 1))
  const outputs: number[] = []
  const instructions: FusedInstruction[] = []
  for (const { op, a, b, pad, keep } of steps) {
    const binary = (FUSED_BINARY_OPS as readonly string[]).includes(op)
    const args = binary ? [readable[a % readable.length], readable[b % readable.length]] : [readable[a % readable.length]]
    // Kept results are outputs, each its own array, perhaps wider than the domain (the columns the
    // program does not write stay zero); the others are temporaries.
    const out = keep
      ? slots.push({ kind: 'output', index: outputs.push(rows * (cols + pad)) - 1, offset: pad > 1 ? 1 : 0, rowStride: cols + pad }) - 1
      : slots.push({ kind: 'temporary' }) - 1
    instructions.push({ op, out, args })
    readable.push(out)
  }
  if (accumulate) {
    // The last result summed over the rows into a repeated-row output, as a bias's cotangent is.
    const sum = slots.push({ kind: 'output', index: outputs.push(cols) - 1, offset: 0, rowStride: 0 }) - 1
    instructions.push({ op: 'add', out: sum, args: [sum, readable[readable.length - 1]] })
  }
  return { program: { rows, cols, outputs, slots, instructions }, inputs: arrays.map((x) => x.data) }
})

describe('Kernels.fused', () => {
  it.each(DTYPES)('the JavaScript interpreter equals its instructions run one by one (%s)', (dtype) => {
    fc.assert(fc.property(caseArb(dtype), ({ program, inputs }) => {
      const fused = runFused(program, inputs)
      oneByOne(jsKernels, program, inputs).forEach((expected, i) => expectSame(fused[i], expected, `output ${i}`))
    }), { numRuns: 60, seed: 20261208 })
  })

  it.each(DTYPES)('the WebAssembly module equals its own kernels run one by one (%s)', (dtype) => {
    fc.assert(fc.property(caseArb(dtype), ({ program, inputs }) => {
      const fused = wasm.fused!(program, inputs)
      oneByOne(wasm, program, inputs).forEach((expected, i) => expectSame(fused[i], expected, `output ${i}`))
    }), { numRuns: 60, seed: 20261209 })
  })

  it.each(DTYPES)('the WebAssembly module agrees with the interpreter (%s)', (dtype) => {
    // Only exp, tanh and sigmoid round differently (float32 within an ulp); chains may grow that.
    const tolerance = dtype === 'float32' ? 1e-5 : 1e-13
    fc.assert(fc.property(caseArb(dtype), ({ program, inputs }) => {
      const fused = wasm.fused!(program, inputs)
      runFused(program, inputs).forEach((expected, i) => {
        const finite = Array.from(expected).every(Number.isFinite)
        if (finite) expectWithin(fused[i], expected, (j) => tolerance * (1 + Math.abs(expected[j])), `output ${i}`)
      })
    }), { numRuns: 40, seed: 20261210 })
  })

  it('computes an LSTM cell from one gate product, the gates read as column windows (golden)', () => {
    // z = [i | f | g | o] for one row of two units; c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c').
    const z = Float64Array.from([0.5, -1, 2, 0.25, -0.5, 1, 1.5, -2])
    const c = Float64Array.from([0.3, -0.7])
    const window = (k: number): FusedSlot => ({ kind: 'input', index: 0, offset: 2 * k, rowStride: 8 })
    const slots: FusedSlot[] = [
      window(0), window(1), window(2), window(3), { kind: 'input', index: 1, offset: 0, rowStride: 2 },
      { kind: 'output', index: 0, offset: 0, rowStride: 2 }, { kind: 'output', index: 1, offset: 0, rowStride: 2 },
      { kind: 'temporary' }, { kind: 'temporary' }, { kind: 'temporary' },
    ]
    const program: FusedProgram = {
      rows: 1, cols: 2, outputs: [2, 2], slots,
      instructions: [
        { op: 'sigmoid', out: 7, args: [1] }, { op: 'mul', out: 7, args: [7, 4] },
        { op: 'sigmoid', out: 8, args: [0] }, { op: 'tanh', out: 9, args: [2] }, { op: 'mul', out: 8, args: [8, 9] },
        { op: 'add', out: 6, args: [7, 8] },
        { op: 'tanh', out: 9, args: [6] }, { op: 'sigmoid', out: 8, args: [3] }, { op: 'mul', out: 5, args: [8, 9] },
      ],
    }
    const sigma = (v: number) => 1 / (1 + Math.exp(-v))
    const cNext = [0, 1].map((j) => sigma(z[2 + j]) * c[j] + sigma(z[j]) * Math.tanh(z[4 + j]))
    const hNext = [0, 1].map((j) => sigma(z[6 + j]) * Math.tanh(cNext[j]))
    for (const k of [jsKernels, wasm]) {
      const [h, cOut] = k.fused!(program, [z, c])
      expectWithin(cOut, Float64Array.from(cNext), () => 1e-15, `${k.name}: c'`)
      expectWithin(h, Float64Array.from(hNext), () => 1e-15, `${k.name}: h'`)
    }
  })

  it('refuses a malformed program, naming each problem', () => {
    const program: FusedProgram = {
      rows: 2, cols: 3, outputs: [6],
      slots: [{ kind: 'input', index: 0, offset: 1, rowStride: 3 }, { kind: 'output', index: 0, offset: 0, rowStride: 3 }, { kind: 'constant', value: 1 }],
      instructions: [{ op: 'add', out: 2, args: [0] }, { op: 'exp', out: 1, args: [5] }],
    }
    for (const k of [jsKernels, wasm]) {
      const run = () => k.fused!(program, [new Float64Array(6)])
      expect(run).toThrow(/fused: the program is malformed/)
      expect(run).toThrow(/slot 0 \(offset 1, row stride 3\) reaches element 7 of input 0, which has 6/)
      expect(run).toThrow(/instruction 0 \(add\) has 1 arguments, expected 2/)
      expect(run).toThrow(/instruction 0 writes slot 2 \(constant\), but results go to temporaries or outputs/)
      expect(run).toThrow(/instruction 1 reads slot 5 of 3/)
    }
  })
})
