/**
 * @file A sequence kernel for any step, derived by tracing it once. `scan` with `traceStep` runs the
 * step on its first inputs while recording its primitive applications, and turns the record into a
 * `SequenceKernel`: one tape node for the whole scan, whose forward pass runs the recorded
 * applications for every step on plain tensors, and whose backward pass runs their pullbacks in
 * reverse. Two things make it faster than the tape, for every cell alike:
 * - work that depends on no step (a transposed weight) runs once, forwards and backwards;
 * - the cotangent of a step-invariant right operand of a matrix product (a weight in `h·w`) is one
 *   product over all steps, `Σ_t h_tᵀ·g_t = Hᵀ·G`, instead of one small product and one sum per step.
 * The kernel's reference is the replay itself through the usual primitives (`step`), so its
 * differentiable VJP is the VJP of the scan of the traced step. Like `jax.lax.scan`, this assumes
 * the step does the same operations at every step: it must not branch on tensor values or keep
 * state between calls. Applications the record cannot replay (a `customVjp`, a `checkpoint`
 * inside the step) leave the scan to its loop. Imports the tape's recording hook and the kernel
 * contract.
 */
import { fitCotangent } from '../autodiff/backward.js'
import { add } from '../autodiff/ops/elementwise.js'
import { matmulTransposed } from '../autodiff/ops/linalg.js'
import { sum } from '../autodiff/ops/reduce.js'
import { concat, stack, unstack } from '../autodiff/ops/structural.js'
import { type Application, type PlainRun, recordingApplications } from '../autodiff/primitive.js'
import { Trace, Traced, concrete, leaf } from '../autodiff/trace.js'
import { Tensor } from '../tensor/Tensor.js'
import { shapesEqual } from '../tensor/shape.js'
import { type TreeDef, treeDefDifference, treeFlatten, treeUnflatten } from '../tree/tree.js'
import { fuseElementwise } from './fusion.js'
import type { ScanStep, SequenceKernel } from './sequenceKernel.js'

/** Elements a stack of step-invariant cotangents may hold before it is summed (see `backward`). */
const STACKED_ELEMENTS = 1 << 18

/** Where an application's input comes from. */
export type Ref =
  | { readonly kind: 'carry'; readonly index: number }
  | { readonly kind: 'x'; readonly index: number }
  /** A tensor the step closed over: `operand` indexes the kernel's operands (traced ones), else it is baked in. */
  | { readonly kind: 'const'; readonly tensor: Tensor; readonly operand: number | null }
  /** Output `slot` of application `at`. */
  | { readonly kind: 'value'; readonly at: number; readonly slot: number }
  /** Another ref's value with its traces stripped (`stopGradient`, a `where` condition): no cotangent goes back through it. */
  | { readonly kind: 'stopped'; readonly of: Ref }

export interface Equation {
  readonly application: Application
  readonly inputs: readonly Ref[]
  /** No input depends on the step's carry or inputs: it runs once per scan. */
  readonly invariant: boolean
}

/** The traced step: its equations in order, where its carry and y come from, and the tensors it closed over that are differentiated. */
export interface Program {
  readonly equations: readonly Equation[]
  readonly carryOut: readonly Ref[]
  readonly y: Ref
  readonly operands: readonly Tensor[]
  readonly carryDef: TreeDef
}

/** Records one step on its first inputs; null when the record cannot stand for the step. */
const trace = (step: ScanStep<any, any, any>, init: unknown, xs: unknown): Program | null => {
  const carryFlat = treeFlatten(init, 'scan: init')
  const xsFlat = treeFlatten(xs, 'scan: xs')
  // A trace of its own marks what the carry and the inputs reach, so anything made from them that
  // did not go through a recorded application (a customVjp node) is noticed.
  const staging = new Trace()
  const carry = carryFlat.leaves.map((c) => leaf(c, staging))
  const x = xsFlat.leaves.map((l) => leaf(unstack(l)[0], staging))
  const [result, applications] = recordingApplications(() => step(treeUnflatten(carryFlat.def, carry), treeUnflatten(xsFlat.def, x)))
  if (!Array.isArray(result) || result.length !== 2) return null
  const made = new Map<Tensor, Ref>()
  /** Notes where a tensor of the step comes from, and its value without traces (what `concrete` gives). */
  const note = (t: Tensor, ref: Ref): void => {
    made.set(t, ref)
    const stripped = concrete(t)
    if (stripped !== t && !made.has(stripped)) made.set(stripped, { kind: 'stopped', of: ref })
  }
  carry.forEach((c, index) => note(c, { kind: 'carry', index }))
  x.forEach((l, index) => note(l, { kind: 'x', index }))
  const operands: Tensor[] = []
  const invariantValues = new Set<number>()
  const refOf = (t: Tensor): Ref | null => {
    const known = made.get(t)
    if (known !== undefined) return known
    if (t instanceof Traced && t.trace === staging) return null
    const operand = t instanceof Traced ? operands.push(t) - 1 : null
    const ref: Ref = { kind: 'const', tensor: t, operand }
    made.set(t, ref)
    return ref
  }
  const equations: Equation[] = []
  for (const [at, application] of applications.entries()) {
    const inputs = application.inputs.map(refOf)
    if (inputs.some((r) => r === null)) return null
    const refs = inputs as Ref[]
    const invariant = refs.every(function fixed(r: Ref): boolean {
      return r.kind === 'const' || (r.kind === 'value' && invariantValues.has(r.at)) || (r.kind === 'stopped' && fixed(r.of))
    })
    if (invariant) invariantValues.add(at)
    application.outs.forEach((out, slot) => note(out, { kind: 'value', at, slot }))
    equations.push({ application, inputs: refs, invariant })
  }
  const carryOut = treeFlatten(result[0], 'scan: the carry returned by the step function')
  const y = treeFlatten(result[1], 'scan: the output y')
  // A carry that changes structure, shape or dtype is an error the loop reports with its paths.
  const sameCarry = treeDefDifference(carryFlat.def, carryOut.def) === null &&
    carryOut.leaves.every((c, i) => shapesEqual(c.shape, carryFlat.leaves[i].shape) && c.dtype === carryFlat.leaves[i].dtype)
  if (y.leaves.length !== 1 || !sameCarry) return null
  const outRefs = [...carryOut.leaves, y.leaves[0]].map(refOf)
  if (outRefs.some((r) => r === null)) return null
  return { equations, carryOut: outRefs.slice(0, -1) as Ref[], y: outRefs[outRefs.length - 1] as Ref, operands, carryDef: carryFlat.def }
}

/** The values of one run of the program: the invariant equations' once, each step's per step. */
interface Environment {
  readonly operands: readonly Tensor[]
  readonly invariant: Map<number, PlainRun>
  /** Input products run once over every step's rows (see `inputProduct`), by equation. */
  readonly wholeSequence: Map<number, PlainRun>
}

const valueOf = (ref: Ref, env: Environment, step: Map<number, PlainRun> | null, carry: readonly Tensor[], x: readonly Tensor[]): Tensor => {
  switch (ref.kind) {
    case 'carry': return carry[ref.index]
    case 'x': return x[ref.index]
    case 'const': return ref.operand === null ? ref.tensor : env.operands[ref.operand]
    case 'value': return (env.invariant.get(ref.at) ?? step!.get(ref.at)!).outs[ref.slot]
    case 'stopped': return valueOf(ref.of, env, step, carry, x)
  }
}

/** What the forward pass keeps for the backward one: every run of every equation, with its inputs. */
interface Residuals {
  readonly env: Environment
  readonly steps: readonly { readonly runs: Map<number, PlainRun>; readonly inputs: Map<number, readonly Tensor[]>; readonly carry: readonly Tensor[]; readonly x: readonly Tensor[] }[]
}

const plus = (a: Tensor | null | undefined, b: Tensor): Tensor => (a === null || a === undefined ? b : add(a, b))

/** Whether equation e is a product `a·w` whose w is step-invariant and a varies: w's cotangent waits for all steps. */
const deferredProduct = (equation: Equation): boolean => {
  const [a, w] = equation.inputs
  const isInvariant = (r: Ref | undefined): boolean => r !== undefined && (r.kind === 'const' || r.kind === 'value')
  return equation.application.name === 'matmul' && equation.inputs.length === 2 && !isInvariant(a) &&
    isInvariant(w) && (w.kind === 'const' || w.kind === 'value') && equation.application.inputs[0].rank === 2 && equation.application.inputs[1].rank === 2
}

/**
 * Whether equation e is an input product `x·w`, x one of the step's inputs and w step-invariant
 * (an input projection): it depends on no carry, so one product over every step's rows,
 * `[time·batch, inputs]·w`, gives all steps' values (each step's rows, in order), and one pullback
 * at the end all their cotangents.
 */
const inputProduct = (e: Equation, invariantOnly: (r: Ref) => boolean): boolean => {
  const [a, w] = e.inputs
  return e.application.name === 'matmul' && !e.invariant && e.inputs.length === 2 && a.kind === 'x' && invariantOnly(w) &&
    e.application.inputs[0].rank === 2 && e.application.inputs[1].rank === 2
}

/**
 * The kernel of a step, or null when the step cannot be traced into one (then `scan` runs its
 * loop). `init` and `xs` are the scan's (time-major); the step runs once on them.
 */
export const deriveSequenceKernel = (step: ScanStep<any, any, any>, init: unknown, xs: unknown): SequenceKernel | null => {
  const traced = trace(step, init, xs)
  if (traced === null) return null
  const program = fuseElementwise(traced)
  const { equations } = program
  const invariantOnly = (r: Ref): boolean => r.kind === 'const' || (r.kind === 'value' && equations[r.at].invariant)
  const inputProducts = new Set([...equations.keys()].filter((at) => inputProduct(equations[at], invariantOnly)))

  /** The step replayed through the usual primitives on given operands: the kernel's reference. */
  const replay = (operands: readonly Tensor[]): ScanStep<any, any, Tensor> => (carryTree, xTree) => {
    const carry = treeFlatten(carryTree).leaves
    const x = treeFlatten(xTree).leaves
    const outs = new Map<number, Tensor[]>()
    const read = (r: Ref): Tensor => {
      switch (r.kind) {
        case 'carry': return carry[r.index]
        case 'x': return x[r.index]
        case 'const': return r.operand === null ? r.tensor : operands[r.operand]
        case 'value': return outs.get(r.at)![r.slot]
        case 'stopped': return concrete(read(r.of))
      }
    }
    equations.forEach((e, at) => outs.set(at, e.application.call(e.inputs.map(read))))
    return [treeUnflatten(program.carryDef, program.carryOut.map(read)), read(program.y)]
  }

  return {
    name: 'derived',
    operands: program.operands,
    step: replay,
    accepts: (run) => run.mask === null && run.timeAxis === 0,
    forward: (run) => {
      const env: Environment = { operands: run.operands, invariant: new Map(), wholeSequence: new Map() }
      equations.forEach((e, at) => {
        if (e.invariant) env.invariant.set(at, e.application.run(e.inputs.map((r) => valueOf(r, env, null, [], []))))
      })
      const time = run.xs[0].shape[0]
      /** Each step's rows of the input products, views of the one product over all steps. */
      const inputRows = new Map<number, Tensor[]>()
      for (const at of inputProducts) {
        const [x, w] = equations[at].inputs
        const leaf = run.xs[(x as { index: number }).index]
        const whole = equations[at].application.run([new Tensor(leaf.data, [leaf.shape[0] * leaf.shape[1], leaf.shape[2]]), valueOf(w, env, null, [], [])])
        env.wholeSequence.set(at, whole)
        const [out] = whole.outs
        const size = out.size / time
        inputRows.set(at, Array.from({ length: time }, (_, t) => new Tensor(out.data.subarray(t * size, (t + 1) * size), [size / out.shape[1], out.shape[1]])))
      }
      const perStep = run.xs.map((l) => unstack(l))
      const steps: Residuals['steps'][number][] = new Array(time)
      const ys: Tensor[] = new Array(time)
      let carry: readonly Tensor[] = run.carry
      for (let s = 0; s < time; s++) {
        const t = run.reverse ? time - 1 - s : s
        const x = perStep.map((l) => l[t])
        const runs = new Map<number, PlainRun>()
        const inputs = new Map<number, readonly Tensor[]>()
        equations.forEach((e, at) => {
          if (e.invariant) return
          const ins = e.inputs.map((r) => valueOf(r, env, runs, carry, x))
          inputs.set(at, ins)
          const rows = inputRows.get(at)
          // An input product's pullback runs once for all steps (see `backward`).
          runs.set(at, rows === undefined ? e.application.run(ins) : { outs: [rows[t]], pullback: () => [null, null] })
        })
        steps[s] = { runs, inputs, carry, x }
        ys[t] = valueOf(program.y, env, runs, carry, x)
        carry = program.carryOut.map((r) => valueOf(r, env, runs, steps[s].carry, x))
      }
      const y = run.outputs === 'last' ? ys[run.reverse ? 0 : time - 1] : stack(ys, 0)
      return { carry: [...carry], y, residuals: { env, steps } satisfies Residuals }
    },
    backward: (cotangents, run, _out, residuals, needed) => {
      const { env, steps } = residuals as Residuals
      const time = steps.length
      // Which inputs' cotangents anything asks for: every carry (earlier steps read them), the xs
      // and operands asked for, and the values made from those.
      const asked = (r: Ref): boolean =>
        r.kind === 'carry' || (r.kind === 'x' ? needed.xs[r.index] : r.kind === 'const' ? r.operand !== null && needed.operands[r.operand] : r.kind === 'value' && differentiable[r.at])
      const differentiable: boolean[] = []
      equations.forEach((e, at) => { differentiable[at] = e.inputs.some(asked) })
      const yCotangents = cotangents.y === null || run.outputs === 'last' ? null : unstack(cotangents.y)
      /**
       * Cotangents of step-invariant values and operands, summed in stacks rather than by an
       * addition per step (a bias's cotangent arrives at every step). A stack is summed once it
       * holds STACKED_ELEMENTS, so that weight-sized parts never pile up over a long sequence.
       */
      const invariantParts = new Map<string, Tensor[]>()
      const keyOf = (r: Ref): string => (r.kind === 'value' ? `v${r.at}:${r.slot}` : `c${(r as { operand: number | null }).operand}`)
      const summed = (parts: readonly Tensor[]): Tensor => (parts.length === 1 ? parts[0] : sum(stack(parts, 0), 0))
      const toInvariant = (r: Ref, g: Tensor): void => {
        if (r.kind === 'const' && r.operand === null) return
        const key = keyOf(r)
        const parts = invariantParts.get(key)
        if (parts === undefined) invariantParts.set(key, [g])
        else if ((parts.length + 1) * g.size <= STACKED_ELEMENTS) parts.push(g)
        else invariantParts.set(key, [summed(parts), g])
      }
      const invariantCotangent = (key: string): Tensor | null => {
        const parts = invariantParts.get(key)
        return parts === undefined ? null : summed(parts)
      }
      /** Per deferred product, its varying operands and output cotangents, by time step. */
      const deferred = new Map<number, { a: Tensor[]; g: Tensor[] }>()
      /** Per input product, the cotangents of its output, by time step. */
      const inputCotangents = new Map<number, (Tensor | null)[]>([...inputProducts].map((at) => [at, new Array<Tensor | null>(time).fill(null)]))
      const dxs: (Tensor | null)[][] = run.xs.map(() => new Array<Tensor | null>(time).fill(null))
      let carryCotangents: (Tensor | null)[] = [...cotangents.carry]
      for (let s = time - 1; s >= 0; s--) {
        const t = run.reverse ? time - 1 - s : s
        const { runs, inputs, carry, x } = steps[s]
        const values = new Map<string, Tensor>()
        const carryIn: (Tensor | null)[] = carry.map(() => null)
        const route = (r: Ref, g: Tensor, target: Tensor): void => {
          if (r.kind === 'stopped') return
          const fitted = fitCotangent(g, target)
          if (r.kind === 'carry') carryIn[r.index] = plus(carryIn[r.index], fitted)
          else if (r.kind === 'x') dxs[r.index][t] = plus(dxs[r.index][t], fitted)
          else if (invariantOnly(r)) toInvariant(r, fitted)
          else values.set(keyOf(r), plus(values.get(keyOf(r)), fitted))
        }
        const yCotangent = run.outputs === 'last' ? (s === time - 1 ? cotangents.y : null) : yCotangents?.[t] ?? null
        if (yCotangent !== null) route(program.y, yCotangent, valueOf(program.y, env, runs, carry, x))
        program.carryOut.forEach((r, i) => {
          const g = carryCotangents[i]
          if (g !== null) route(r, g, valueOf(r, env, runs, carry, x))
        })
        for (let at = equations.length - 1; at >= 0; at--) {
          const e = equations[at]
          if (e.invariant) continue
          const outs = e.application.outs.map((_, slot) => values.get(`v${at}:${slot}`) ?? null)
          if (outs.every((g) => g === null)) continue
          const ins = inputs.get(at)!
          const rows = inputCotangents.get(at)
          if (rows !== undefined) {
            rows[t] = outs[0]
            continue
          }
          const defer = deferredProduct(e)
          const wanted = e.inputs.map((r, i) => asked(r) && !(defer && i === 1))
          const grads = runs.get(at)!.pullback(outs, wanted)
          e.inputs.forEach((r, i) => {
            const g = grads[i]
            if (g !== null && g !== undefined && wanted[i]) route(r, g, ins[i])
          })
          if (defer && outs[0] !== null && asked(e.inputs[1])) {
            const pairs = deferred.get(at) ?? { a: [], g: [] }
            pairs.a[t] = ins[0]
            pairs.g[t] = outs[0]
            deferred.set(at, pairs)
          }
        }
        carryCotangents = carryIn
      }
      // Σ_t a_tᵀ·g_t as one product of the stacked rows. Products that share operands at every step
      // (both terms of x·W_ih + h·W_hh get the same cotangent) share their stacks.
      const stacks: { readonly parts: readonly Tensor[]; readonly stacked: Tensor }[] = []
      const stacked = (parts: readonly Tensor[]): Tensor => {
        const known = stacks.find((s) => s.parts.length === parts.length && s.parts.every((p, i) => p === parts[i]))
        if (known !== undefined) return known.stacked
        return stacks[stacks.push({ parts, stacked: concat([...parts], 0) }) - 1].stacked
      }
      for (const [at, { a, g }] of deferred) {
        const w = equations[at].inputs[1]
        // Steps without a cotangent left holes; the rest pair up in time order.
        toInvariant(w, fitCotangent(matmulTransposed(stacked(a.filter(Boolean)), stacked(g.filter(Boolean)), true, false), equations[at].application.inputs[1]))
      }
      const zerosLike = (like: Tensor): Tensor => new Tensor(like.data instanceof Float32Array ? new Float32Array(like.size) : new Float64Array(like.size), like.shape)
      /** The input products' cotangents of the inputs, each for every step at once. */
      const wholeDxs: (Tensor | null)[] = run.xs.map(() => null)
      for (const [at, rows] of inputCotangents) {
        if (rows.every((g) => g === null)) continue
        const [x, w] = equations[at].inputs as [Ref & { kind: 'x' }, Ref]
        const whole = env.wholeSequence.get(at)!
        const step0 = steps[0].runs.get(at)!.outs[0]
        const g = stacked(rows.map((r) => r ?? zerosLike(step0)))
        const [da, dw] = whole.pullback([g], [needed.xs[x.index], asked(w)])
        if (dw !== null && asked(w)) toInvariant(w, fitCotangent(dw, equations[at].application.inputs[1]))
        if (da !== null && needed.xs[x.index]) wholeDxs[x.index] = plus(wholeDxs[x.index], new Tensor(da.data, run.xs[x.index].shape))
      }
      for (let at = equations.length - 1; at >= 0; at--) {
        const e = equations[at]
        if (!e.invariant) continue
        const outs = e.application.outs.map((_, slot) => invariantCotangent(`v${at}:${slot}`))
        if (outs.every((g) => g === null)) continue
        const ins = e.inputs.map((r) => valueOf(r, env, null, [], []))
        const wanted = e.inputs.map(asked)
        const grads = env.invariant.get(at)!.pullback(outs, wanted)
        e.inputs.forEach((r, i) => {
          const g = grads[i]
          if (g !== null && g !== undefined && wanted[i]) toInvariant(r, fitCotangent(g, ins[i]))
        })
      }
      return {
        carry: carryCotangents.map((g, i) => (needed.carry[i] ? g : null)),
        xs: run.xs.map((l, i) => {
          if (!needed.xs[i] || dxs[i].every((g) => g === null)) return needed.xs[i] ? wholeDxs[i] : null
          const step0 = unstack(l)[0]
          const perStep = stack(dxs[i].map((g) => g ?? zerosLike(step0)), 0)
          return wholeDxs[i] === null ? perStep : add(perStep, wholeDxs[i]!)
        }),
        operands: run.operands.map((_, i) => (needed.operands[i] ? invariantCotangent(`c${i}`) : null)),
      }
    },
  }
}

