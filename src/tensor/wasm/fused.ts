/**
 * @file `Kernels.fused` on the WebAssembly module: a fused elementwise program (src/tensor/fused.ts)
 * runs in one call. Its inputs are copied in once, its outputs zeroed there and copied out once;
 * intermediates live in chunk-sized temporaries in module memory. The layout, the instruction words
 * and the slot table are worked out once per program and input lengths (a derived sequence kernel
 * runs one program at every step).
 */
import { type Data, type DType, dtypeOf } from '../Tensor.js'
import { FUSED_CHUNK, FUSED_OPS, type FusedProgram, checkFusedProgram } from '../fused.js'
import type { Kernels } from '../kernels.js'
import { type Arena, alignRegion, layout } from './arena.js'
import type { FusedKernel, KernelExports } from './exports.js'

/** Where one run of a program puts everything, for one element size and input lengths. */
interface Plan {
  readonly lengths: string
  readonly bytes: number
  readonly inputs: readonly number[]
  readonly outputs: readonly number[]
  /** The outputs that must start as zeros: those some instruction reads, or that its writes do not cover. */
  readonly zeroed: readonly number[]
  /** Byte address and value of each constant's chunk. */
  readonly constants: readonly (readonly [number, number])[]
  /** The instruction words, then the slot table, as the module reads them from `code`. */
  readonly words: Int32Array
  readonly code: number
  readonly slots: number
  readonly end: number
}

const planOf = (program: FusedProgram, bytes: number, lengths: readonly number[]): Plan => {
  const chunk = Math.min(program.cols, FUSED_CHUNK)
  const inputs = layout(bytes, lengths)
  const outputs = layout(bytes, program.outputs, inputs.end)
  const scratch = program.slots.filter((s) => s.kind === 'constant' || s.kind === 'temporary')
  const chunks = layout(bytes, scratch.map(() => chunk), outputs.end)
  const code = chunks.end
  const slots = code + alignRegion(16 * program.instructions.length)
  const words = new Int32Array((slots - code + 16 * program.slots.length) / 4)
  program.instructions.forEach(({ op, out, args }, i) => words.set([FUSED_OPS.indexOf(op), out, args[0], args[1] ?? args[0]], 4 * i))
  const constants: [number, number][] = []
  let next = 0
  program.slots.forEach((s, i) => {
    const at = (slots - code) / 4 + 4 * i
    if (s.kind === 'input' || s.kind === 'output') {
      const base = (s.kind === 'input' ? inputs : outputs).ptrs[s.index]
      words.set([base + s.offset * bytes, s.rowStride * bytes, bytes], at)
    } else {
      const base = chunks.ptrs[next++]
      if (s.kind === 'constant') constants.push([base, s.value])
      words.set([base, 0, 0], at)
    }
  })
  const zeroed = program.outputs.flatMap((_, i) => (coveredWithoutReading(program, i) ? [] : [i]))
  return { lengths: lengths.join(','), bytes, inputs: inputs.ptrs, outputs: outputs.ptrs, zeroed, constants, words, code, slots, end: slots + 16 * program.slots.length }
}

/** Whether the program writes every element of output `index` and never reads it: then its zeros are never seen. */
const coveredWithoutReading = (program: FusedProgram, index: number): boolean => {
  const views = new Set(program.slots.flatMap((s, i) => (s.kind === 'output' && s.index === index ? [i] : [])))
  if (program.instructions.some(({ args }) => args.some((a) => views.has(a)))) return false
  const writes: { offset: number; rowStride: number }[] = []
  for (const { out } of program.instructions) {
    const s = program.slots[out]
    if (views.has(out) && s.kind === 'output') writes.push(s)
  }
  return covers(writes, program.rows, program.cols, program.outputs[index])
}

/**
 * Whether windows of `cols` columns at `offset` + r·`rowStride` (r < rows) cover [0, length). The
 * usual case, every window with one row stride R and rows·R = length, is decided per row (the
 * windows' column ranges must cover [0, R)), without an array as long as the output.
 */
const covers = (writes: readonly { offset: number; rowStride: number }[], rows: number, cols: number, length: number): boolean => {
  const stride = writes[0]?.rowStride
  if (stride !== undefined && stride > 0 && rows * stride === length && writes.every((w) => w.rowStride === stride && w.offset + cols <= stride)) {
    const starts = writes.map((w) => w.offset).sort((a, b) => a - b)
    let reached = 0
    for (const start of starts) {
      if (start > reached) return false
      reached = Math.max(reached, start + cols)
    }
    return reached >= stride
  }
  const written = new Uint8Array(length)
  for (const w of writes) for (let r = 0; r < rows; r++) written.fill(1, w.offset + r * w.rowStride, w.offset + r * w.rowStride + cols)
  return written.every((x) => x === 1)
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
  const plans = new WeakMap<FusedProgram, Plan>()
  return (program, inputs) => {
    const lengths = inputs.map((x) => x.length)
    checkFusedProgram('fused', program, lengths)
    const dtype = inputs.length === 0 ? 'float64' : dtypeOf(inputs[0])
    if (program.rows * program.cols < minSize || inputs.some((x) => dtypeOf(x) !== dtype)) return fallback(program, inputs)
    const bytes = dtype === 'float32' ? 4 : 8
    let plan = plans.get(program)
    if (plan === undefined || plan.bytes !== bytes || plan.lengths !== lengths.join(',')) plans.set(program, (plan = planOf(program, bytes, lengths)))
    if (!arena.reserve(plan.end)) return fallback(program, inputs)
    const m: Data = dtype === 'float32' ? new Float32Array(exports.memory.buffer) : new Float64Array(exports.memory.buffer)
    inputs.forEach((x, i) => m.set(x, plan.inputs[i] / bytes))
    for (const i of plan.zeroed) m.fill(0, plan.outputs[i] / bytes, plan.outputs[i] / bytes + program.outputs[i])
    const chunk = Math.min(program.cols, FUSED_CHUNK)
    for (const [at, value] of plan.constants) m.fill(value, at / bytes, at / bytes + chunk)
    new Int32Array(exports.memory.buffer).set(plan.words, plan.code / 4)
    run[dtype](plan.code, program.instructions.length, plan.slots, program.slots.length, program.rows, program.cols, chunk)
    return program.outputs.map((n, i) => m.slice(plan.outputs[i] / bytes, plan.outputs[i] / bytes + n))
  }
}
