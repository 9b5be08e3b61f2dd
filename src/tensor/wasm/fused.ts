/**
 * @file `Kernels.fused` on the WebAssembly module: a fused elementwise program (src/tensor/fused.ts)
 * runs in one call. Its inputs are copied in once, its outputs zeroed there and copied out once;
 * intermediates live in chunk-sized temporaries in module memory. The program is encoded for the
 * module once per program object (the derived sequence kernels run one program at every step).
 */
import { type Data, type DType, dtypeOf } from '../Tensor.js'
import { FUSED_CHUNK, FUSED_OPS, type FusedProgram, checkFusedProgram } from '../fused.js'
import type { Kernels } from '../kernels.js'
import { type Arena, alignRegion, layout } from './arena.js'
import type { FusedKernel, KernelExports } from './exports.js'

/** A program as the module reads it: instruction words, and per slot where it lives in the layout. */
interface Encoded {
  readonly code: Int32Array
  /** Per slot: region (an input, output, constant or temporary), element offset, row stride in elements, chunk step (0 or 1). */
  readonly slots: readonly { readonly region: 'input' | 'output' | 'constant' | 'temporary'; readonly index: number; readonly offset: number; readonly rowStride: number; readonly step: number }[]
  readonly constants: readonly number[]
  readonly temporaries: number
}

const encode = (program: FusedProgram): Encoded => {
  const constants: number[] = []
  let temporaries = 0
  const slots = program.slots.map((s) => {
    switch (s.kind) {
      case 'input': case 'output': return { region: s.kind, index: s.index, offset: s.offset, rowStride: s.rowStride, step: 1 }
      case 'constant': return { region: s.kind, index: constants.push(s.value) - 1, offset: 0, rowStride: 0, step: 0 }
      case 'temporary': return { region: s.kind, index: temporaries++, offset: 0, rowStride: 0, step: 0 }
    }
  })
  const code = new Int32Array(4 * program.instructions.length)
  program.instructions.forEach(({ op, out, args }, i) => code.set([FUSED_OPS.indexOf(op), out, args[0], args[1] ?? args[0]], 4 * i))
  return { code, slots, constants, temporaries }
}

/**
 * `Kernels.fused` in the module for programs of at least `minSize` elements (rows·cols); smaller
 * ones, and any the memory cannot hold, go to `fallback`. Same chunks and same operations in the
 * same order as the reference interpreter, so the results differ from it only where the module's
 * elementwise kernels do (exp, tanh, sigmoid, within an ulp).
 */
export const createFused = (
  exports: KernelExports, arena: Arena, fallback: NonNullable<Kernels['fused']>, minSize: number,
): NonNullable<Kernels['fused']> => {
  const run: Record<DType, FusedKernel> = { float32: exports.fused_f32, float64: exports.fused_f64 }
  const encodings = new WeakMap<FusedProgram, Encoded>()
  return (program, inputs) => {
    const { rows, cols } = program
    checkFusedProgram('fused', program, inputs.map((x) => x.length))
    const dtype = inputs.length === 0 ? 'float64' : dtypeOf(inputs[0])
    if (rows * cols < minSize || inputs.some((x) => dtypeOf(x) !== dtype)) return fallback(program, inputs)
    let encoded = encodings.get(program)
    if (encoded === undefined) encodings.set(program, (encoded = encode(program)))
    const bytes = dtype === 'float32' ? 4 : 8
    const chunk = Math.min(cols, FUSED_CHUNK)
    const inputAt = layout(bytes, inputs.map((x) => x.length))
    const outputAt = layout(bytes, program.outputs, inputAt.end)
    const scratchAt = layout(bytes, new Array<number>(encoded.constants.length + encoded.temporaries).fill(chunk), outputAt.end)
    const codeAt = scratchAt.end
    const slotsAt = codeAt + alignRegion(4 * encoded.code.length)
    const end = slotsAt + alignRegion(16 * encoded.slots.length)
    if (!arena.reserve(end)) return fallback(program, inputs)
    const m: Data = dtype === 'float32' ? new Float32Array(exports.memory.buffer) : new Float64Array(exports.memory.buffer)
    const words = new Int32Array(exports.memory.buffer)
    inputs.forEach((x, i) => m.set(x, inputAt.ptrs[i] / bytes))
    program.outputs.forEach((n, i) => m.fill(0, outputAt.ptrs[i] / bytes, outputAt.ptrs[i] / bytes + n))
    encoded.constants.forEach((value, i) => m.fill(value, scratchAt.ptrs[i] / bytes, scratchAt.ptrs[i] / bytes + chunk))
    words.set(encoded.code, codeAt / 4)
    encoded.slots.forEach(({ region, index, offset, rowStride, step }, s) => {
      const base = region === 'input' ? inputAt.ptrs[index] : region === 'output' ? outputAt.ptrs[index]
        : scratchAt.ptrs[region === 'constant' ? index : encoded.constants.length + index]
      words.set([base + offset * bytes, rowStride * bytes, step * bytes, 0], (slotsAt + 16 * s) / 4)
    })
    run[dtype](codeAt, program.instructions.length, slotsAt, encoded.slots.length, rows, cols, chunk)
    return program.outputs.map((n, i) => m.slice(outputAt.ptrs[i] / bytes, outputAt.ptrs[i] / bytes + n))
  }
}
