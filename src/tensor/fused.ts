/**
 * @file Fused elementwise programs: a short list of elementwise instructions run over a
 * `[rows, cols]` domain in one kernel call, so that a chain of elementwise operations (a recurrent
 * cell's gates) reads its operands once, keeps its intermediates in a small scratch, and writes
 * only what is asked for. This module holds the program format, its check, and the reference
 * interpreter (`jsKernels.fused`); the WebAssembly backend runs the same programs in the same
 * order (src/tensor/wasm/fused.ts). Imports tensor/ only.
 */
import { ValueError } from '../errors.js'
import { type Data, allocate, dtypeOf } from './Tensor.js'

/** Instructions with two arguments: the binary operations, then the activation VJPs `(g, y)`. */
export const FUSED_BINARY_OPS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'greater', 'greaterEqual', 'tanhBackward', 'sigmoidBackward'] as const

/** Instructions with one argument. */
export const FUSED_UNARY_OPS = ['neg', 'abs', 'square', 'sqrt', 'relu', 'exp', 'tanh', 'sigmoid'] as const

/**
 * An instruction's operation: each is the kernel of the same name (`binary(op, …)`, the unary
 * kernels, `tanhBackward`, `sigmoidBackward`), with the same values: comparisons give 1 or 0, and
 * the activation VJPs round after every operation as their compositions do.
 */
export type FusedOp = (typeof FUSED_BINARY_OPS)[number] | (typeof FUSED_UNARY_OPS)[number]

/** Every operation; an operation's opcode in the WebAssembly encoding is its index here. */
export const FUSED_OPS: readonly FusedOp[] = [...FUSED_BINARY_OPS, ...FUSED_UNARY_OPS]
const BINARY: ReadonlySet<FusedOp> = new Set(FUSED_BINARY_OPS)
/** The number of arguments of an operation. */
export const arityOf = (op: FusedOp): 1 | 2 => (BINARY.has(op) ? 2 : 1)

/**
 * Where an instruction reads or writes: element `(r, j)` of the domain is
 * - `input` / `output`: element `offset + r·rowStride + j` of that array. A column window of a
 *   wider array (an LSTM gate `z[:, k·H:(k+1)·H]`) is an offset with the wide row stride; rowStride
 *   0 repeats one row over the domain (a bias), and an output written with rowStride 0 by
 *   `out = out + x` sums x over the rows (the bias's cotangent);
 * - `constant`: `value` everywhere;
 * - `temporary`: scratch that holds one row's columns: each row must write it before reading it.
 */
export type FusedSlot =
  | { readonly kind: 'input' | 'output'; readonly index: number; readonly offset: number; readonly rowStride: number }
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'temporary' }

/** `slots[out] = op(slots[args[0]], slots[args[1]]?)`, column by column. */
export interface FusedInstruction {
  readonly op: FusedOp
  readonly out: number
  readonly args: readonly number[]
}

/**
 * A fused elementwise program over `rows × cols` elements. Outputs are arrays of the given lengths
 * in the inputs' dtype, zero before the program runs. For each row in order, the instructions run
 * in order over the row's columns in chunks of `FUSED_CHUNK` (every backend walks the same chunks,
 * so sums into overlapping output windows add in the same order). An instruction reads column j of
 * its arguments and writes column j of its result, so one may read and write the same slot.
 */
export interface FusedProgram {
  readonly rows: number
  readonly cols: number
  readonly outputs: readonly number[]
  readonly slots: readonly FusedSlot[]
  readonly instructions: readonly FusedInstruction[]
}

/** Columns per chunk: a row's temporaries (a few dozen of them) stay in the first-level cache. */
export const FUSED_CHUNK = 256

/** The input lengths each program was last found well formed for (programs are read-only, like tensors). */
const checked = new WeakMap<FusedProgram, string>()

/**
 * Throws unless `program` is well formed for inputs of `inputLengths` elements: every view inside
 * its array, every slot and operation known, every instruction writing a temporary or an output
 * with its arity of arguments. Kernels check before they run, since a WebAssembly kernel would
 * otherwise write outside its regions.
 * @param who the public name speaking in the message, e.g. 'fused'
 * @category kernels
 */
export const checkFusedProgram = (who: string, program: FusedProgram, inputLengths: readonly number[]): void => {
  // A program runs again and again on inputs of the same lengths (a step of a sequence): checked once for them.
  const lengths = inputLengths.join(',')
  if (checked.get(program) === lengths) return
  const { rows, cols, slots, instructions, outputs } = program
  const problems: string[] = []
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) problems.push(`rows and cols must be counts, got [${rows}, ${cols}]`)
  slots.forEach((s, i) => {
    if (s.kind !== 'input' && s.kind !== 'output') return
    const lengths = s.kind === 'input' ? inputLengths : outputs
    const length = lengths[s.index]
    const last = s.offset + (rows - 1) * s.rowStride + cols
    if (length === undefined) problems.push(`slot ${i} reads ${s.kind} ${s.index} of ${lengths.length}`)
    else if (rows > 0 && cols > 0 && (s.offset < 0 || s.rowStride < 0 || last > length)) {
      problems.push(`slot ${i} (offset ${s.offset}, row stride ${s.rowStride}) reaches element ${last} of ${s.kind} ${s.index}, which has ${length}`)
    }
  })
  instructions.forEach(({ op, out, args }, i) => {
    if (!FUSED_OPS.includes(op)) problems.push(`instruction ${i} has the unknown operation ${String(op)}`)
    else if (args.length !== arityOf(op)) problems.push(`instruction ${i} (${op}) has ${args.length} arguments, expected ${arityOf(op)}`)
    const kind = slots[out]?.kind
    if (kind !== 'temporary' && kind !== 'output') problems.push(`instruction ${i} writes slot ${out} (${kind ?? 'missing'}), but results go to temporaries or outputs`)
    for (const a of args) if (slots[a] === undefined) problems.push(`instruction ${i} reads slot ${a} of ${slots.length}`)
  })
  if (problems.length > 0) throw new ValueError(`${who}: the program is malformed:\n${problems.map((p) => `  * ${p};`).join('\n')}`)
  checked.set(program, lengths)
}


/** Evaluated through exp(−|x|), as `jsKernels.sigmoid`, so neither branch overflows. */
const sigmoidOf = (v: number): number => {
  const e = Math.exp(-Math.abs(v))
  return v >= 0 ? 1 / (1 + e) : e / (1 + e)
}

/**
 * Runs `op` over `n` columns: `o[oo + j] = op(a[ao + j], b[bo + j])`. `round` rounds the inner
 * steps of the activation VJPs to the dtype (the store rounds the last one), as their kernels do.
 */
const runOp = (
  op: FusedOp, n: number, round: (v: number) => number, o: Data, oo: number, a: Data, ao: number, b: Data, bo: number,
): void => {
  switch (op) {
    case 'add': for (let j = 0; j < n; j++) o[oo + j] = a[ao + j] + b[bo + j]; return
    case 'sub': for (let j = 0; j < n; j++) o[oo + j] = a[ao + j] - b[bo + j]; return
    case 'mul': for (let j = 0; j < n; j++) o[oo + j] = a[ao + j] * b[bo + j]; return
    case 'div': for (let j = 0; j < n; j++) o[oo + j] = a[ao + j] / b[bo + j]; return
    case 'maximum': for (let j = 0; j < n; j++) { const p = a[ao + j], q = b[bo + j]; o[oo + j] = p >= q ? p : q } return
    case 'minimum': for (let j = 0; j < n; j++) { const p = a[ao + j], q = b[bo + j]; o[oo + j] = p <= q ? p : q } return
    case 'greater': for (let j = 0; j < n; j++) o[oo + j] = a[ao + j] > b[bo + j] ? 1 : 0; return
    case 'greaterEqual': for (let j = 0; j < n; j++) o[oo + j] = a[ao + j] >= b[bo + j] ? 1 : 0; return
    case 'tanhBackward': for (let j = 0; j < n; j++) { const t = b[bo + j]; o[oo + j] = a[ao + j] * round(1 - round(t * t)) } return
    case 'sigmoidBackward': for (let j = 0; j < n; j++) { const s = b[bo + j]; o[oo + j] = a[ao + j] * round(s * round(1 - s)) } return
    case 'neg': for (let j = 0; j < n; j++) o[oo + j] = -a[ao + j]; return
    case 'abs': for (let j = 0; j < n; j++) o[oo + j] = Math.abs(a[ao + j]); return
    case 'square': for (let j = 0; j < n; j++) { const x = a[ao + j]; o[oo + j] = x * x } return
    case 'sqrt': for (let j = 0; j < n; j++) o[oo + j] = Math.sqrt(a[ao + j]); return
    case 'relu': for (let j = 0; j < n; j++) { const x = a[ao + j]; o[oo + j] = x > 0 ? x : 0 } return
    case 'exp': for (let j = 0; j < n; j++) o[oo + j] = Math.exp(a[ao + j]); return
    case 'tanh': for (let j = 0; j < n; j++) o[oo + j] = Math.tanh(a[ao + j]); return
    case 'sigmoid': for (let j = 0; j < n; j++) o[oo + j] = sigmoidOf(a[ao + j]); return
  }
}

/**
 * The reference interpreter (`jsKernels.fused`): runs `program` on `inputs` (one dtype) and returns
 * its outputs. Every value is stored in the dtype after each operation, as the unfused kernels do.
 * @param program the instructions and their slots; checked first
 * @param inputs the arrays the program's input slots view
 * @returns the outputs, of the lengths `program.outputs` gives
 * @throws ValueError when the program is malformed for these inputs, or the inputs' dtypes differ
 * @example runFused({ rows: 1, cols: 2, outputs: [2], slots: [in0, out0], instructions: [{ op: 'exp', out: 1, args: [0] }] }, [x])
 * @category kernels
 */
export const runFused = (program: FusedProgram, inputs: readonly Data[]): Data[] => {
  checkFusedProgram('fused', program, inputs.map((x) => x.length))
  const dtype = inputs.length === 0 ? 'float64' : dtypeOf(inputs[0])
  if (inputs.some((x) => dtypeOf(x) !== dtype)) throw new ValueError(`fused: every input must have one dtype, got ${inputs.map(dtypeOf).join(', ')}.`)
  const { rows, cols, slots, instructions } = program
  const outputs = program.outputs.map((n) => allocate(dtype, n))
  const chunk = Math.min(cols, FUSED_CHUNK)
  // Per slot: its array, where the domain's (0, 0) is, and how far a row and a chunk move it.
  const arrays = slots.map((s): Data => {
    switch (s.kind) {
      case 'input': return inputs[s.index]
      case 'output': return outputs[s.index]
      case 'constant': return allocate(dtype, chunk).fill(s.value)
      case 'temporary': return allocate(dtype, chunk)
    }
  })
  const view = (s: FusedSlot): [number, number, number] => (s.kind === 'input' || s.kind === 'output' ? [s.offset, s.rowStride, 1] : [0, 0, 0])
  const [bases, rowStrides, chunkSteps] = [0, 1, 2].map((k) => slots.map((s) => view(s)[k]))
  const round = dtype === 'float32' ? Math.fround : (v: number) => v
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 < cols; c0 += chunk) {
      const n = Math.min(chunk, cols - c0)
      const at = (s: number): number => bases[s] + r * rowStrides[s] + c0 * chunkSteps[s]
      for (const { op, out, args } of instructions) {
        const [a, b = a] = args
        runOp(op, n, round, arrays[out], at(out), arrays[a], at(a), arrays[b], at(b))
      }
    }
  }
  return outputs
}

// ---- building programs ----

/** Where a value of a program under construction lives: a slot, or a temporary named by a number (written by one step). */
export type FusedPlace = Exclude<FusedSlot, { readonly kind: 'temporary' }> | { readonly kind: 'temporary'; readonly id: number }

/** An instruction of a program under construction. */
export interface FusedStep {
  readonly op: FusedOp
  readonly out: FusedPlace
  readonly args: readonly FusedPlace[]
}

const placeKey = (p: FusedPlace): string =>
  p.kind === 'temporary' ? `t${p.id}` : p.kind === 'constant' ? `c${p.value}` : `${p.kind} ${p.index} ${p.offset} ${p.rowStride}`

/**
 * The program of `steps`: one slot per distinct view and constant, and the temporaries (each
 * written by one step before any step reads it) packed into as few scratch slots as their
 * lifetimes allow, so that a row's scratch stays in the first-level cache. A step may take the
 * scratch slot of an argument it reads for the last time.
 * @param rows the domain's rows
 * @param cols the domain's columns
 * @param outputs the lengths of the outputs
 * @param steps the instructions in order, over places
 * @returns the program
 * @category kernels
 */
export const assembleFused = (rows: number, cols: number, outputs: readonly number[], steps: readonly FusedStep[]): FusedProgram => {
  const lastRead = new Map<number, number>()
  steps.forEach(({ args }, i) => { for (const a of args) if (a.kind === 'temporary') lastRead.set(a.id, i) })
  const slots: FusedSlot[] = []
  const known = new Map<string, number>()
  const scratch = new Map<number, number>()
  const free: number[] = []
  const slotOf = (p: FusedPlace): number => {
    if (p.kind === 'temporary') {
      const s = scratch.get(p.id)
      if (s === undefined) throw new Error(`assembleFused: temporary ${p.id} is read before it is written.`)
      return s
    }
    const key = placeKey(p)
    let s = known.get(key)
    if (s === undefined) known.set(key, (s = slots.push(p) - 1))
    return s
  }
  const instructions = steps.map(({ op, out, args }, i): FusedInstruction => {
    const argSlots = args.map(slotOf)
    for (const id of new Set(args.flatMap((a) => (a.kind === 'temporary' && lastRead.get(a.id) === i ? [a.id] : [])))) free.push(scratch.get(id)!)
    if (out.kind !== 'temporary') return { op, out: slotOf(out), args: argSlots }
    const s = free.pop() ?? slots.push({ kind: 'temporary' }) - 1
    scratch.set(out.id, s)
    // A result nobody reads frees its slot at once.
    if (!lastRead.has(out.id)) free.push(s)
    return { op, out: s, args: argSlots }
  })
  return { rows, cols, outputs, slots, instructions }
}
