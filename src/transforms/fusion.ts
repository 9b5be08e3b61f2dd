/**
 * @file Fusing a traced step's elementwise chains (see derivedKernel.ts). The step's elementwise
 * equations over one domain `[rows, cols]` — with the column windows (`slice`s of the last axis)
 * feeding them, and the wider elementwise equations those windows cut (an LSTM's gate sum
 * `z = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh`, computed window by window) — become one equation: its
 * forward pass is one fused program (tensor/fused.ts) that writes only the values read outside the
 * group and those its backward pass needs; its backward pass is one program generated in reverse
 * mode from each operation's VJP (`RULES`, the primitives' own VJPs written over program places:
 * the tests hold the group to the primitives, forwards and backwards). The group keeps the shapes
 * of what it reads and makes, so the rest of the derived kernel is unchanged, and its reference
 * (`call`) applies the grouped primitives themselves. Imports the tape's recording types, kernels
 * and the derived kernel's program types.
 */
import type { Application, PlainRun } from '../autodiff/primitive.js'
import { concrete } from '../autodiff/trace.js'
import { K } from '../tensor/backend.js'
import { type FusedOp, type FusedPlace, type FusedProgram, type FusedStep, assembleFused } from '../tensor/fused.js'
import { type Data, Tensor } from '../tensor/Tensor.js'
import { shapesEqual } from '../tensor/shape.js'
import type { Equation, Program, Ref } from './derivedKernel.js'

// ---- the VJP of each fusable operation, over program places ----

/** Appends one instruction to the backward program and returns where its result lives. */
type Emit = (op: FusedOp, ...args: FusedPlace[]) => FusedPlace

/**
 * One operation's VJP: from the place of the output's cotangent `g`, readers of the inputs' and the
 * output's forward values (reading one makes it a residual of the forward pass) and `emit`, one
 * thunk per input computing its cotangent's place when that cotangent is wanted.
 */
type Rule = (g: FusedPlace, x: readonly (() => FusedPlace)[], out: () => FusedPlace, emit: Emit) => readonly (() => FusedPlace)[]

const constant = (value: number): FusedPlace => ({ kind: 'constant', value })

/** The share of g that goes to `winner` in maximum / minimum: (winner > other) + (winner ≥ other), halved (ties split evenly). */
const winnerShare = (emit: Emit, winner: () => FusedPlace, other: () => FusedPlace): (() => FusedPlace) => {
  let share: FusedPlace | null = null
  return () => (share ??= emit('mul', emit('add', emit('greater', winner(), other()), emit('greaterEqual', winner(), other())), constant(0.5)))
}

/**
 * The VJPs of the primitives a group may contain, each the same operations in the same order as
 * the primitive's own VJP (src/autodiff/ops/elementwise.ts), so a fused backward pass rounds as the
 * unfused one does. Primitives without a rule (log: the module has no vector log; abs; comparisons)
 * are never grouped.
 */
const RULES: { readonly [P in FusedOp]?: Rule } = {
  add: (g) => [() => g, () => g],
  sub: (g, _x, _out, emit) => [() => g, () => emit('neg', g)],
  mul: (g, [a, b], _out, emit) => [() => emit('mul', g, b()), () => emit('mul', g, a())],
  div: (g, [, b], out, emit) => [() => emit('div', g, b()), () => emit('neg', emit('mul', g, emit('div', out(), b())))],
  maximum: (g, [a, b], _out, emit) => {
    const share = winnerShare(emit, a, b)
    return [() => emit('mul', g, share()), () => emit('mul', g, emit('sub', constant(1), share()))]
  },
  minimum: (g, [a, b], _out, emit) => {
    const share = winnerShare(emit, b, a)
    return [() => emit('mul', g, share()), () => emit('mul', g, emit('sub', constant(1), share()))]
  },
  neg: (g, _x, _out, emit) => [() => emit('neg', g)],
  square: (g, [x], _out, emit) => [() => emit('mul', g, emit('mul', x(), constant(2)))],
  sqrt: (g, _x, out, emit) => [() => emit('div', g, emit('mul', out(), constant(2)))],
  relu: (g, [x], _out, emit) => [() => emit('mul', g, emit('greater', x(), constant(0)))],
  exp: (g, _x, out, emit) => [() => emit('mul', g, out())],
  tanh: (g, _x, out, emit) => [() => emit('tanhBackward', g, out())],
  sigmoid: (g, _x, out, emit) => [() => emit('sigmoidBackward', g, out())],
}

const ruleOf = (name: string): Rule | undefined => (RULES as Record<string, Rule | undefined>)[name]

// ---- which equations form the group ----

/** How an operand covers its consumer's `[rows, width]` values: as is, one repeated row, or one baked-in number. */
type Role = 'full' | 'row' | 'scalar'

const roleOf = (input: Tensor, out: Tensor): Role | null => {
  if (input.dtype !== out.dtype) return null
  if (shapesEqual(input.shape, out.shape)) return 'full'
  if (input.size === 1) return 'scalar'
  const width = out.shape[out.rank - 1]
  return out.rank >= 2 && input.size === width && input.shape[input.rank - 1] === width ? 'row' : null
}

/** A scalar the step closed over and never differentiates, as a number (a constant of the program); else null. */
const bakedValue = (r: Ref): number | null =>
  r.kind === 'const' && r.operand === null ? r.tensor.data[0] : r.kind === 'stopped' ? bakedValue(r.of) : null

/** The equation that made a ref's value, if any. */
const producerOf = (r: Ref): number | null => (r.kind === 'value' ? r.at : r.kind === 'stopped' ? producerOf(r.of) : null)

const leadingEqual = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => i === a.length - 1 || d === b[i])

/** The first column of a `slice` that narrows only the last axis (its ranges cover every other axis), or null for any other slice. */
const windowStart = (e: Equation): number | null => {
  const [x] = e.application.inputs
  const ranges = e.application.params as readonly (readonly [number, number])[]
  if (x.rank === 0 || ranges.length !== x.rank) return null
  const full = ranges.every(([start, end], axis) => axis === x.rank - 1 || (start === 0 && end === x.shape[axis]))
  return full ? ranges[x.rank - 1][0] : null
}

/** What a member equation is in the group: an operation over the domain, one over a wider array cut into windows, or a window. */
type Member = { readonly kind: 'map' | 'wide' } | { readonly kind: 'window'; readonly start: number }

const shapeKey = (shape: readonly number[]): string => shape.join(',')

/**
 * The members of the step's group, or null when fewer than two elementwise equations can be fused.
 * The domain is the most common shape among the candidates' results. Wider values and windows are
 * never materialised, so every reader of one must be a member; and no member may read a value made
 * outside the group from a member's value (the group runs as one equation).
 */
const groupOf = (program: Program): Map<number, Member> | null => {
  const { equations } = program
  const counts = new Map<string, number>()
  const windows = new Map<number, number>()
  equations.forEach((e, at) => {
    if (e.invariant || e.application.outs.length !== 1) return
    const start = e.application.name === 'slice' ? windowStart(e) : null
    if (start !== null) windows.set(at, start)
    if (start !== null || ruleOf(e.application.name) !== undefined) {
      const key = shapeKey(e.application.outs[0].shape)
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
  })
  const domain = [...counts].reduce<[string, number] | null>((best, c) => (best === null || c[1] > best[1] ? c : best), null)?.[0]
  if (domain === undefined) return null
  const members = new Map<number, Member>()
  equations.forEach((e, at) => {
    const [out] = e.application.outs
    if (e.invariant || e.application.outs.length !== 1 || out.rank === 0) return
    const start = windows.get(at)
    if (start !== undefined) {
      if (shapeKey(out.shape) === domain) members.set(at, { kind: 'window', start })
      return
    }
    if (ruleOf(e.application.name) === undefined || (out.dtype !== 'float32' && out.dtype !== 'float64')) return
    const operandsFit = e.application.inputs.every((x, i) => {
      const role = roleOf(x, out)
      return role !== null && (role !== 'scalar' || bakedValue(e.inputs[i]) !== null)
    })
    if (!operandsFit) return
    if (shapeKey(out.shape) === domain) members.set(at, { kind: 'map' })
    else if (leadingEqual(out.shape, domain.split(',').map(Number))) members.set(at, { kind: 'wide' })
  })
  const readers = equations.map(() => [] as number[])
  equations.forEach((e, at) => e.inputs.forEach((r) => {
    const p = producerOf(r)
    if (p !== null) readers[p].push(at)
  }))
  const readOutside = new Set([...program.carryOut, program.y].map(producerOf))
  for (let changed = true; changed;) {
    changed = false
    const drop = (at: number): void => { members.delete(at); changed = true }
    // Depends on a member's value (through any path).
    const downstream: boolean[] = []
    equations.forEach((e, at) => {
      const producers = e.inputs.map(producerOf).filter((p): p is number => p !== null)
      if (members.has(at) && producers.some((p) => !members.has(p) && downstream[p])) drop(at)
      else if (members.get(at)?.kind !== 'map' && members.has(at) && (readOutside.has(at) || readers[at].some((c) => !members.has(c)))) drop(at)
      else if (members.get(at)?.kind === 'window' && producers.some((p) => members.get(p)?.kind === 'map')) drop(at)
      // A member's value is one block of the domain: it cannot stand for a repeated row.
      else if (members.has(at) && e.inputs.some((r, i) => roleOf(e.application.inputs[i], e.application.outs[0]) === 'row' && members.has(producerOf(r) ?? -1))) drop(at)
      downstream[at] = members.has(at) || producers.some((p) => members.has(p) || downstream[p])
    })
  }
  const operations = [...members.values()].filter((m) => m.kind !== 'window').length
  return operations >= 2 ? members : null
}

// ---- the group as one equation ----

/** Where the cotangent of an operand goes: another member's instance, or a window of one of the group's inputs. */
type Target =
  | { readonly kind: 'instance'; readonly id: number }
  | { readonly kind: 'input'; readonly index: number; readonly offset: number; readonly rowStride: number }

/** An operand of an instance: where the forward program reads it, and where its cotangent goes (null: nowhere). */
interface Operand {
  readonly place: FusedPlace
  readonly target: Target | null
}

/** One member operation over one window of the domain's width; the forward program's temporary `id` holds its value. */
interface Instance {
  readonly id: number
  readonly op: FusedOp
  readonly operands: readonly Operand[]
}

/** What a backward program reads: a cotangent of the group's outputs, a value the forward program kept, or an input. */
type Source =
  | { readonly kind: 'cotangent'; readonly output: number }
  | { readonly kind: 'kept'; readonly index: number }
  | { readonly kind: 'input'; readonly index: number }

/** A backward program, the arrays it reads, and which of its outputs holds each input's cotangent (undefined: none). */
interface Backward {
  readonly program: FusedProgram | null
  readonly sources: readonly Source[]
  readonly outputOf: readonly (number | undefined)[]
}

/** The group as one equation: its application, the refs it reads, and which output slot stands for each member value read outside. */
interface Group {
  readonly application: Application
  readonly inputs: readonly Ref[]
  readonly slotOf: ReadonlyMap<number, number>
}

const buildGroup = (program: Program, members: ReadonlyMap<number, Member>): Group => {
  const { equations } = program
  const memberAts = [...members.keys()].sort((a, b) => a - b)
  const first = equations[memberAts.find((at) => members.get(at)!.kind === 'map')!].application.outs[0]
  const cols = first.shape[first.rank - 1]
  const rows = first.size / cols

  const tensorIds = new Map<Tensor, number>()
  const keyOf = (r: Ref): string => {
    switch (r.kind) {
      case 'carry': case 'x': return `${r.kind} ${r.index}`
      case 'value': return `value ${r.at} ${r.slot}`
      case 'stopped': return `stopped ${keyOf(r.of)}`
      case 'const': {
        if (!tensorIds.has(r.tensor)) tensorIds.set(r.tensor, tensorIds.size)
        return `const ${tensorIds.get(r.tensor)}`
      }
    }
  }
  const inputs: { readonly ref: Ref; readonly tensor: Tensor }[] = []
  const inputIndex = new Map<string, number>()
  const inputOf = (ref: Ref, tensor: Tensor): number => {
    const key = keyOf(ref)
    let index = inputIndex.get(key)
    if (index === undefined) inputIndex.set(key, (index = inputs.push({ ref, tensor }) - 1))
    return index
  }

  const instances: Instance[] = []
  const made = new Map<string, number>()
  const operand = (r: Ref, tensor: Tensor, role: Role, column: number): Operand => {
    if (role === 'scalar') return { place: constant(bakedValue(r)!), target: null }
    const producer = producerOf(r)
    if (r.kind === 'stopped' && producer !== null && members.has(producer)) return { place: operand(r.of, tensor, role, column).place, target: null }
    if (r.kind === 'value' && members.has(r.at)) {
      const member = members.get(r.at)!
      if (member.kind === 'window') {
        const e = equations[r.at]
        return operand(e.inputs[0], e.application.inputs[0], 'full', column + member.start)
      }
      const id = instance(r.at, column)
      return { place: { kind: 'temporary', id }, target: { kind: 'instance', id } }
    }
    const view = { index: inputOf(r, tensor), offset: column, rowStride: role === 'row' ? 0 : tensor.shape[tensor.rank - 1] }
    return { place: { kind: 'input', ...view }, target: r.kind === 'stopped' ? null : { kind: 'input', ...view } }
  }
  /** The instance of member `at` over the columns from `column` on (a wide member has one per window). */
  const instance = (at: number, column: number): number => {
    const key = `${at} ${column}`
    const known = made.get(key)
    if (known !== undefined) return known
    const { application, inputs: refs } = equations[at]
    const [out] = application.outs
    const operands = refs.map((r, i) => operand(r, application.inputs[i], roleOf(application.inputs[i], out)!, column))
    const id = instances.push({ id: instances.length, op: application.name as FusedOp, operands }) - 1
    made.set(key, id)
    return id
  }
  for (const at of memberAts) if (members.get(at)!.kind === 'map') instance(at, 0)

  // Outputs: the member values read outside the group.
  const readOutside = new Set<number>()
  const noteOutside = (r: Ref): void => {
    const p = producerOf(r)
    if (p !== null && members.has(p)) readOutside.add(p)
  }
  equations.forEach((e, at) => { if (!members.has(at)) e.inputs.forEach(noteOutside) })
  program.carryOut.forEach(noteOutside)
  noteOutside(program.y)
  const outputs = memberAts.filter((at) => readOutside.has(at)).map((at) => ({ at, id: made.get(`${at} 0`)! }))

  // Values the forward program keeps: the outputs, then whatever the backward programs read.
  const kept: number[] = outputs.map((o) => o.id)
  const keptIndex = new Map(kept.map((id, i) => [id, i]))
  const keep = (id: number): number => {
    let index = keptIndex.get(id)
    if (index === undefined) keptIndex.set(id, (index = kept.push(id) - 1))
    return index
  }

  /** The backward program when `present` says which outputs' cotangents arrived and `needed` which inputs' cotangents are read. */
  const backward = (present: readonly boolean[], needed: readonly boolean[]): Backward => {
    const wanted: boolean[] = []
    for (const { id, operands } of instances) {
      wanted[id] = operands.some(({ target: t }) => t !== null && (t.kind === 'input' ? needed[t.index] : wanted[t.id]))
    }
    const sources: Source[] = []
    const sourceIndex = new Map<string, number>()
    const read = (key: string, source: Source): number => {
      let index = sourceIndex.get(key)
      if (index === undefined) sourceIndex.set(key, (index = sources.push(source) - 1))
      return index
    }
    const forwardValue = (p: FusedPlace): FusedPlace => {
      if (p.kind === 'temporary') return { kind: 'input', index: read(`kept ${p.id}`, { kind: 'kept', index: keep(p.id) }), offset: 0, rowStride: cols }
      if (p.kind === 'input') return { ...p, index: read(`input ${p.index}`, { kind: 'input', index: p.index }) }
      return p
    }
    const steps: FusedStep[] = []
    const emit: Emit = (op, ...args) => {
      const out: FusedPlace = { kind: 'temporary', id: steps.length }
      steps.push({ op, out, args })
      return out
    }
    const cotangents = new Map<number, FusedPlace>()
    outputs.forEach(({ id }, k) => {
      if (present[k]) cotangents.set(id, { kind: 'input', index: read(`cotangent ${k}`, { kind: 'cotangent', output: k }), offset: 0, rowStride: cols })
    })
    const contributions = inputs.map(() => [] as { readonly offset: number; readonly rowStride: number; readonly place: FusedPlace }[])
    for (let n = instances.length - 1; n >= 0; n--) {
      const { id, op, operands } = instances[n]
      const g = cotangents.get(id)
      if (g === undefined || !wanted[id]) continue
      const thunks = ruleOf(op)!(g, operands.map((o) => () => forwardValue(o.place)), () => forwardValue({ kind: 'temporary', id }), emit)
      operands.forEach(({ target: t }, i) => {
        if (t === null || (t.kind === 'input' ? !needed[t.index] : !wanted[t.id])) return
        const c = thunks[i]()
        if (t.kind === 'input') contributions[t.index].push({ offset: t.offset, rowStride: t.rowStride, place: c })
        else {
          const before = cotangents.get(t.id)
          cotangents.set(t.id, before === undefined ? c : emit('add', before, c))
        }
      })
    }
    // Each input's cotangent sums its windows' contributions into zeros (row stride 0: over the rows
    // too). Inputs whose sums are the same (both operands of an add) share one output.
    const sizes: number[] = []
    const bySum = new Map<string, number>()
    const outputOf = contributions.map((list, i) => {
      if (list.length === 0) return undefined
      const sum = `${inputs[i].tensor.size} ${JSON.stringify(list)}`
      let index = bySum.get(sum)
      if (index === undefined) {
        bySum.set(sum, (index = sizes.push(inputs[i].tensor.size) - 1))
        for (const { offset, rowStride, place } of list) {
          const into: FusedPlace = { kind: 'output', index, offset, rowStride }
          steps.push({ op: 'add', out: into, args: [into, place] })
        }
      }
      return index
    })
    return { program: sizes.length === 0 ? null : assembleFused(rows, cols, sizes, steps), sources, outputOf }
  }

  // The full backward program fixes what the forward one keeps; the others read a part of it.
  backward(outputs.map(() => true), inputs.map(() => true))
  const toKept = (p: FusedPlace): FusedPlace => {
    const index = p.kind === 'temporary' ? keptIndex.get(p.id) : undefined
    return index === undefined ? p : { kind: 'output', index, offset: 0, rowStride: cols }
  }
  const forward = assembleFused(rows, cols, kept.map(() => rows * cols), instances.map(({ id, op, operands }) => ({
    op, out: toKept({ kind: 'temporary', id }), args: operands.map((o) => toKept(o.place)),
  })))
  const variants = new Map<string, Backward>()
  const pullback = (keptData: readonly Data[], xs: readonly Tensor[]): PlainRun['pullback'] => (cotangents, needed) => {
    const present = outputs.map((_, k) => cotangents[k] !== null && cotangents[k] !== undefined)
    const key = `${present.map(Number).join('')} ${needed.map(Number).join('')}`
    let variant = variants.get(key)
    if (variant === undefined) variants.set(key, (variant = backward(present, needed)))
    const { program: backwardProgram, sources, outputOf } = variant
    if (backwardProgram === null) return xs.map(() => null)
    const results = K.fused(backwardProgram, sources.map((s) =>
      s.kind === 'cotangent' ? cotangents[s.output]!.data : s.kind === 'kept' ? keptData[s.index] : xs[s.index].data))
    // Inputs that share a cotangent get the same tensor, so that what reads both sees one value.
    const made = new Map<string, Tensor>()
    return xs.map((x, i) => {
      const index = outputOf[i]
      if (index === undefined) return null
      const key = `${index} ${x.shape.join(',')}`
      let g = made.get(key)
      if (g === undefined) made.set(key, (g = new Tensor(results[index], x.shape)))
      return g
    })
  }
  const outShapes = outputs.map(({ at }) => equations[at].application.outs[0].shape)

  const application: Application = {
    name: 'fused',
    inputs: inputs.map((i) => i.tensor),
    outs: outputs.map(({ at }) => equations[at].application.outs[0]),
    params: { program: forward },
    run: (xs) => {
      const keptData = K.fused(forward, xs.map((x) => x.data))
      return { outs: outShapes.map((shape, k) => new Tensor(keptData[k], shape)), pullback: pullback(keptData, xs) }
    },
    // The reference: the grouped primitives themselves, applied in order.
    call: (xs) => {
      const values = new Map<number, Tensor>()
      const read = (r: Ref): Tensor => {
        const index = inputIndex.get(keyOf(r))
        if (index !== undefined) return xs[index]
        switch (r.kind) {
          case 'value': return values.get(r.at)!
          case 'stopped': return concrete(read(r.of))
          case 'const': return r.tensor
          default: throw new Error(`fused: the group reads ${keyOf(r)}, which is not among its inputs.`)
        }
      }
      for (const at of memberAts) values.set(at, equations[at].application.call(equations[at].inputs.map(read))[0])
      return outputs.map(({ at }) => values.get(at)!)
    },
  }
  return { application, inputs: inputs.map((i) => i.ref), slotOf: new Map(outputs.map(({ at }, k) => [at, k])) }
}

/**
 * The traced step with its elementwise chains fused into one equation (see the file's header), or
 * the step as it is when nothing can be fused. Equations keep their order where they can; the
 * group runs as soon as what it reads is computed, and what reads it after it.
 * @param program a traced step (derivedKernel.ts)
 * @returns an equivalent program
 */
export const fuseElementwise = (program: Program): Program => {
  const members = groupOf(program)
  if (members === null) return program
  const group = buildGroup(program, members)
  const { equations } = program
  const GROUP = -1
  const nodeOf = (at: number): number => (members.has(at) ? GROUP : at)
  const refsOf = (node: number): readonly Ref[] => (node === GROUP ? group.inputs : equations[node].inputs)
  const needs = (node: number): number[] => refsOf(node).map(producerOf).filter((p): p is number => p !== null).map(nodeOf).filter((n) => n !== node)
  const pending = [...equations.keys()].filter((at) => !members.has(at) || at === Math.min(...members.keys())).map(nodeOf)
  const order: number[] = []
  const placed = new Set<number>()
  while (pending.length > 0) {
    const next = pending.findIndex((node) => needs(node).every((n) => placed.has(n)))
    if (next < 0) return program // unreachable: groupOf keeps the group from reading its own results
    placed.add(pending[next])
    order.push(...pending.splice(next, 1))
  }
  const position = new Map(order.map((node, i) => [node, i]))
  const remap = (r: Ref): Ref => {
    if (r.kind === 'stopped') return { kind: 'stopped', of: remap(r.of) }
    if (r.kind !== 'value') return r
    return members.has(r.at)
      ? { kind: 'value', at: position.get(GROUP)!, slot: group.slotOf.get(r.at)! }
      : { kind: 'value', at: position.get(r.at)!, slot: r.slot }
  }
  return {
    ...program,
    equations: order.map((node): Equation => (node === GROUP
      ? { application: group.application, inputs: group.inputs.map(remap), invariant: false }
      : { ...equations[node], inputs: equations[node].inputs.map(remap) })),
    carryOut: program.carryOut.map(remap),
    y: remap(program.y),
  }
}
