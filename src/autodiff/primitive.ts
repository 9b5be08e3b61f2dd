/**
 * @file definePrimitive: the only way onto the tape. A primitive is a forward computation on plain
 * tensors plus a vector-Jacobian product and (optionally) a tangent rule, both written with other
 * primitives. What applying one to traced inputs means is the innermost trace's kind (trace.ts).
 */
import { Tensor, allFinite } from '../tensor/Tensor.js'
import { type BatchRule, type Evaluated, type PrimitiveRules, type TangentContext, Traced, topTrace } from './trace.js'

/** What a primitive's VJP is given besides the output's cotangent. @category transforms */
export interface VjpContext<P> {
  /** The inputs as seen one level down (possibly traced by outer differentiations). */
  readonly inputs: readonly Tensor[]
  /** The output one level down. */
  readonly out: Tensor
  readonly params: P
  /**
   * Whether input i is traced by the trace being swept, i.e. whether its cotangent is used at
   * all. A VJP may return `null` for the others instead of computing a cotangent nobody reads.
   */
  readonly needed?: readonly boolean[]
}

/** What a tangent rule sees besides the tangents. @category transforms */
export interface JvpContext<P> {
  /** The inputs as seen one level down (possibly traced by outer transformations). */
  readonly inputs: readonly Tensor[]
  /** The output one level down. */
  readonly out: Tensor
  readonly params: P
}

/** What `definePrimitive` needs: a name, the forward computation, its VJP and optionally its tangent rule. @category transforms */
export interface PrimitiveSpec<P> {
  readonly name: string
  /** Computes on plain (untraced) tensors; reads `.data`, calls kernels, allocates its result. */
  readonly forward: (inputs: readonly Tensor[], params: P) => Tensor
  /**
   * Cotangent of the output → one cotangent per input (`null` for inputs with no gradient, such as
   * indices). Each cotangent may be in the output's shape: the backward pass sums broadcast axes
   * away, so no VJP reduces by hand.
   */
  readonly vjp: (g: Tensor, context: VjpContext<P>) => readonly (Tensor | null)[]
  /**
   * Tangents of the inputs (`null`: zero, or an input `jvp` does not differentiate) → the output's
   * tangent J·t (`null`: zero), written with primitives. It may be in any shape that broadcasts to
   * the output's: forward mode broadcasts and casts it, as the backward pass reduces cotangents.
   * Optional: without it the tangent is derived by transposing `vjp`, which is linear in g
   * (J·t = ∂/∂g ⟨vjp(g), t⟩), at about twice the VJP's cost.
   */
  readonly jvp?: (tangents: readonly (Tensor | null)[], context: JvpContext<P>) => Tensor | null
  /**
   * The batching rule, for `vmap`: the inputs one level down (possibly traced by outer
   * transformations), each batched along `axes[i]` (null: shared by every example) → the output
   * and its batch axis, written with primitives (usually this one, with the axis moved into its
   * parameters). Optional: without it `vmap` applies the primitive to one example at a time.
   */
  readonly batch?: (inputs: readonly Tensor[], axes: readonly (number | null)[], params: P) => { readonly out: Tensor; readonly axis: number | null }
}

/** The first primitive whose forward output held a non-finite value, as found by `findNonFinite`. @category debugging */
export interface NonFiniteCulprit {
  readonly primitive: string
  readonly inputShapes: readonly (readonly number[])[]
  readonly outputShape: readonly number[]
}

let watch: { culprit: NonFiniteCulprit | null } | null = null

const inspect = (name: string, inputs: readonly Tensor[], outs: readonly Tensor[]): void => {
  if (watch === null || watch.culprit !== null) return
  for (const out of outs) {
    if (!allFinite(out.data)) {
      watch.culprit = { primitive: name, inputShapes: inputs.map((x) => x.shape), outputShape: out.shape }
      return
    }
  }
}

/**
 * Runs `f` while watching every primitive's forward output, and returns the first primitive that
 * produced NaN or ±∞ (null if none did). Used to explain a non-finite loss; it slows `f` down, so
 * run it only after something went wrong. Only the call itself is watched.
 * @example
 * ```ts
 * const x = tensor([1, 0, 2])
 * findNonFinite(() => sum(log(x))) // { primitive: 'log', inputShapes: [[3]], outputShape: [3] }: log(0) = −∞
 * findNonFinite(() => sum(log(add(x, 1)))) // null
 * ```
 * @category debugging
 */
export const findNonFinite = (f: () => unknown): NonFiniteCulprit | null => {
  const previous = watch
  watch = { culprit: null }
  try {
    f()
    return watch.culprit
  } finally {
    watch = previous
  }
}

/**
 * Step-invariant work inside a loop (`scan`'s steps): while a hoisting scope is open, a primitive
 * applied to tensors that none of the loop's steps made — a cell's weights, say — is computed once
 * and its result reused by every later step with the same inputs and parameters. Primitives are
 * pure functions of immutable tensors, so reusing the result of identical inputs is always exact;
 * under differentiation the reused value is one node whose cotangents the steps sum, as if the
 * cell had done the work before the loop. Only what is made from the steps' own values (`varying`)
 * is excluded, which keeps the table to the few step-invariant operations.
 */
interface Hoisting {
  readonly varying: WeakSet<Tensor>
  readonly results: Map<string, Tensor[]>
}

let hoisting: Hoisting | null = null
/** Depth of primitive calls under way: only the outermost one (the caller's) is looked up. */
let depth = 0
const tensorIds = new WeakMap<Tensor, number>()
let nextTensorId = 0
const idOf = (x: Tensor): number => {
  let id = tensorIds.get(x)
  if (id === undefined) tensorIds.set(x, (id = ++nextTensorId))
  return id
}

/** A primitive's parameters as a key, or null when they are not small plain data (then nothing is reused). */
const paramsKey = (params: unknown): string | null => {
  let size = 0
  const plain = (v: unknown): boolean => {
    if (++size > 64) return false
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return true
    if (Array.isArray(v)) return v.every(plain)
    return typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every(plain)
  }
  return plain(params) ? JSON.stringify(params ?? null) : null
}

/**
 * Runs `loop` with step-invariant primitive results reused (see `Hoisting`); `varying` are the
 * tensors that differ between steps (what is made from them is marked as it is made).
 */
export const hoistingInvariants = <T>(varying: readonly Tensor[], loop: () => T): T => {
  const previous = hoisting
  hoisting = { varying: new WeakSet(varying), results: new Map() }
  try {
    return loop()
  } finally {
    hoisting = previous
  }
}

/**
 * One primitive application as it can run again on plain tensors: the same primitive and
 * parameters on new inputs, giving its outputs and a pullback (the concrete VJP with what the
 * forward pass left). What `recordingApplications` collects.
 */
export interface Application {
  readonly name: string
  readonly inputs: readonly Tensor[]
  readonly outs: readonly Tensor[]
  /** The primitive's parameters, as its spec's functions receive them (a slice's ranges, say). */
  readonly params: unknown
  /** The same primitive and parameters on plain inputs, with its pullback. */
  readonly run: (inputs: readonly Tensor[]) => PlainRun
  /** The same primitive and parameters applied as usual (inputs may be traced). */
  readonly call: (inputs: readonly Tensor[]) => Tensor[]
}

/** A primitive run on plain tensors: its outputs, and its VJP (cotangents of the outputs → of the inputs, null where not needed). */
export interface PlainRun {
  readonly outs: readonly Tensor[]
  readonly pullback: (cotangents: readonly (Tensor | null)[], needed: readonly boolean[]) => readonly (Tensor | null)[]
}

let recording: Application[] | null = null

/**
 * Runs `f` and returns, besides its result, every primitive application it made directly (not
 * those inside other primitives' computations), in order: a trace of `f` that can be run again
 * on other values (see transforms/derivedKernel.ts).
 */
export const recordingApplications = <T>(f: () => T): [T, Application[]] => {
  const previous = recording
  const applications: Application[] = []
  recording = applications
  try {
    return [f(), applications]
  } finally {
    recording = previous
  }
}

/**
 * The caller's application of a primitive (not one of its own recursive levels): where
 * step-invariant results are reused and applications are recorded. `levels` computes through
 * every trace level; `plain` runs it on plain tensors with its pullback.
 */
const applyOutermost = <P>(
  name: string, inputs: readonly Tensor[], params: P, levels: (inputs: readonly Tensor[], params: P) => Tensor[],
  plain: (inputs: readonly Tensor[], params: P) => PlainRun, apply: (inputs: readonly Tensor[], params: P) => Tensor[],
): Tensor[] => {
  const computed = (): Tensor[] => {
    depth++
    try {
      return levels(inputs, params)
    } finally {
      depth--
    }
  }
  const scope = hoisting
  let outs: Tensor[]
  if (scope === null) {
    outs = computed()
  } else if (inputs.some((x) => scope.varying.has(x))) {
    outs = computed()
    for (const out of outs) scope.varying.add(out)
  } else {
    const paramsPart = paramsKey(params)
    const key = paramsPart === null ? null : `${name} ${paramsPart} ${inputs.map(idOf).join(',')}`
    const known = key === null ? undefined : scope.results.get(key)
    outs = known ?? computed()
    if (key !== null && known === undefined) scope.results.set(key, outs)
  }
  recording?.push({ name, inputs, outs, params, run: (xs) => plain(xs, params), call: (xs) => apply(xs, params) })
  return outs
}

/** A primitive bound to its spec; call it with tensors and its parameters. @category transforms */
export type Primitive<P> = ((inputs: readonly Tensor[], params: P) => Tensor) & { readonly primitiveName: string }

/**
 * Makes a primitive from its spec. Applying it peels one trace level at a time: the innermost
 * trace among the inputs computes the value one level down (recursively, so outer levels do their
 * own work) and does its kind's part: a reverse trace records a node, a forward trace computes the
 * tangent. Recursion depth is the nesting depth of the transformations, never the length of a
 * computation.
 * @example
 * ```ts
 * // x³ with its VJP written with primitives, so that grad(grad(cube)) works too
 * const cube = definePrimitive({
 *   name: 'cube',
 *   forward: ([x]) => new Tensor(Float64Array.from(x.data, (v) => v ** 3), x.shape),
 *   vjp: (g, { inputs: [x] }) => [mul(g, mul(square(x), 3))],
 * })
 * const f = (x: Tensor) => sum(cube([x], undefined))
 * f(tensor([2])).item()                  // 8
 * grad(f)(tensor([2])).toArray()         // [12]
 * grad((x: Tensor) => sum(grad(f)(x)))(tensor([2])).toArray() // [12]: 6x
 * ```
 * @category transforms
 */
export const definePrimitive = <P = undefined>(spec: PrimitiveSpec<P>): Primitive<P> => {
  const { jvp, batch } = spec
  const rules: PrimitiveRules<P> = {
    name: spec.name,
    evaluate: (lowered, params) => {
      const out = apply(lowered, params)
      return {
        outs: [out],
        pullback: ([g], _sums, needed) => (g === null || g === undefined ? [] : spec.vjp(g, { inputs: lowered, out, params, needed })),
      }
    },
    ...(jvp === undefined ? {} : { jvp: (tangents, { inputs, outs: [out], params }) => [jvp(tangents, { inputs, out, params })] }),
    ...(batch === undefined ? {} : {
      batch: (inputs, axes, params) => {
        const { out, axis } = batch(inputs, axes, params)
        return { outs: [out], axes: [axis] }
      },
    } satisfies Partial<PrimitiveRules<P>>),
  }
  const single = (inputs: readonly Tensor[], params: P): Tensor => {
    const trace = topTrace(inputs)
    if (trace === null) {
      const out = spec.forward(inputs, params)
      if (watch !== null) inspect(spec.name, inputs, [out])
      return out
    }
    return trace.kind.process(trace, inputs, params, rules)[0]
  }
  const levels = (inputs: readonly Tensor[], params: P): Tensor[] => [single(inputs, params)]
  const plain = (inputs: readonly Tensor[], params: P): PlainRun => {
    const out = spec.forward(inputs, params)
    return { outs: [out], pullback: ([g], needed) => (g === null ? inputs.map(() => null) : spec.vjp(g, { inputs, out, params, needed })) }
  }
  const applyAll = (inputs: readonly Tensor[], params: P): Tensor[] => [apply(inputs, params)]
  // The usual case first: no loop reusing results and no recording, so no bookkeeping.
  const apply = (inputs: readonly Tensor[], params: P): Tensor =>
    depth > 0 || (hoisting === null && recording === null) ? single(inputs, params) : applyOutermost(spec.name, inputs, params, levels, plain, applyAll)[0]
  return Object.assign(apply, { primitiveName: spec.name })
}

/** Tangents of the inputs (null: zero) → one tangent per output (null: zero), as in `PrimitiveSpec.jvp`. @category transforms */
export type MultiJvp<P> = (tangents: readonly (Tensor | null)[], context: TangentContext<P>) => readonly (Tensor | null)[]

/** What `defineMultiPrimitive` needs: `PrimitiveSpec` with several outputs. @category transforms */
export interface MultiPrimitiveSpec<P> {
  readonly name: string
  readonly forward: (inputs: readonly Tensor[], params: P) => Tensor[]
  /** Cotangents of the outputs (`null` where none arrived) → one cotangent per input. */
  readonly vjp: (
    cotangents: readonly (Tensor | null)[],
    /** As in `VjpContext`, with every output; `needed[i]`: whether input i's cotangent is read. */
    context: { inputs: readonly Tensor[]; outs: readonly Tensor[]; params: P; needed?: readonly boolean[] },
  ) => readonly (Tensor | null)[]
  /** The tangent rule, as in `PrimitiveSpec.jvp`; derived from `vjp` when absent. */
  readonly jvp?: MultiJvp<P>
  /** The batching rule, as in `PrimitiveSpec.batch`, for every output. */
  readonly batch?: BatchRule<P>
}

/** The primitive's outputs at the innermost trace among the inputs, or its forward pass when none is traced. */
const atInnermost = <P>(inputs: readonly Tensor[], params: P, rules: PrimitiveRules<P>, forward: (inputs: readonly Tensor[], params: P) => Tensor[]): Tensor[] => {
  const trace = topTrace(inputs)
  if (trace === null) {
    const outs = forward(inputs, params)
    if (watch !== null) inspect(rules.name, inputs, outs)
    return outs
  }
  return trace.kind.process(trace, inputs, params, rules)
}

/**
 * Like definePrimitive, for operations with several outputs recorded as one node (unstack, fused cells).
 * @example
 * ```ts
 * // sin and cos in one pass; a cotangent is null for an output that the loss does not use
 * const sinCos = defineMultiPrimitive({
 *   name: 'sinCos',
 *   forward: ([x]) => [new Tensor(Float64Array.from(x.data, Math.sin), x.shape), new Tensor(Float64Array.from(x.data, Math.cos), x.shape)],
 *   vjp: ([gs, gc], { outs: [s, c] }) => [sub(gs === null ? 0 : mul(gs, c), gc === null ? 0 : mul(gc, s))],
 * })
 * const [s, c] = sinCos([tensor([0])], undefined)
 * c.item() // 1
 * grad((x: Tensor) => sum(sinCos([x], undefined)[0]))(tensor([0])).toArray() // [1]: cos 0
 * ```
 * @category transforms
 */
export const defineMultiPrimitive = <P = undefined>(spec: MultiPrimitiveSpec<P>) => {
  const rules: PrimitiveRules<P> = {
    name: spec.name,
    evaluate: (lowered, params) => {
      const outs = apply(lowered, params)
      return { outs, pullback: (cts, _sums, needed) => spec.vjp(cts, { inputs: lowered, outs, params, needed }) }
    },
    ...(spec.jvp === undefined ? {} : { jvp: spec.jvp }),
    ...(spec.batch === undefined ? {} : { batch: spec.batch }),
  }
  const levels = (inputs: readonly Tensor[], params: P): Tensor[] => atInnermost(inputs, params, rules, spec.forward)
  const plain = (inputs: readonly Tensor[], params: P): PlainRun => {
    const outs = spec.forward(inputs, params)
    return { outs, pullback: (cts, needed) => spec.vjp(cts, { inputs, outs, params, needed }) }
  }
  const apply = (inputs: readonly Tensor[], params: P): Tensor[] =>
    depth > 0 || (hoisting === null && recording === null) ? levels(inputs, params) : applyOutermost(spec.name, inputs, params, levels, plain, apply)
  return Object.assign(apply, { primitiveName: spec.name })
}

/** What a kernel primitive's forward pass returns: its outputs, and what its concrete VJP reads. @category transforms */
export interface KernelForward<R> {
  readonly outs: Tensor[]
  /** Owned by the node: no other code holds them, and the concrete VJP only reads them. */
  readonly residuals: R
}

/** What a kernel primitive's VJPs are given besides the cotangents of its outputs. @category transforms */
export interface KernelVjpContext<P> {
  /** The inputs one level down: plain tensors for the concrete VJP, possibly traced for the differentiable one. */
  readonly inputs: readonly Tensor[]
  readonly outs: readonly Tensor[]
  readonly params: P
  /** Whether input i's cotangent is read; a VJP may return null for the others. */
  readonly needed: readonly boolean[]
}

/**
 * A primitive whose forward pass and VJP are kernels over whole arrays (a recurrence over every
 * time step, say). Its VJP has two forms:
 * - `vjp`, concrete: plain cotangents and inputs in, plain cotangents out, through kernels that
 *   read the residuals the forward pass left. It is what a first-order gradient runs.
 * - `differentiableVjp`, written with primitives (typically the VJP of the composition the kernel
 *   fuses). It runs whenever anything is traced by an outer differentiation, so `grad(grad(f))`,
 *   `hvp` and order-2 `checkGrads` see a VJP they can differentiate.
 * The node's pullback is a pure function: residuals belong to the node, and the concrete VJP must
 * give the same result however often, in whatever order, and with whatever other work in between
 * it is called (state that a backend keeps outside the residuals is a cache it checks first).
 * @category transforms
 */
export interface KernelPrimitiveSpec<P, R> {
  readonly name: string
  readonly forward: (inputs: readonly Tensor[], params: P) => KernelForward<R>
  readonly vjp: (cotangents: readonly (Tensor | null)[], context: KernelVjpContext<P> & { readonly residuals: R }) => readonly (Tensor | null)[]
  readonly differentiableVjp: (cotangents: readonly (Tensor | null)[], context: KernelVjpContext<P>) => readonly (Tensor | null)[]
  /**
   * The tangent rule, as in `PrimitiveSpec.jvp`: typically the tangent of the composition the
   * kernel fuses (or the kernel itself, when the tangents obey the same recurrence). Derived from
   * `differentiableVjp` when absent.
   */
  readonly jvp?: MultiJvp<P>
  /**
   * The batching rule, as in `PrimitiveSpec.batch`: typically the same kernel with the examples
   * folded into the batch axis of its own layout, where it has one.
   */
  readonly batch?: BatchRule<P>
}

const anyTraced = (xs: readonly (Tensor | null)[]): boolean => {
  for (const x of xs) if (x instanceof Traced) return true
  return false
}

/**
 * Makes a primitive from a `KernelPrimitiveSpec`; it returns every output, like `defineMultiPrimitive`.
 * @example
 * ```ts
 * // A running sum as one loop forwards and one backwards (a running sum from the end); for higher
 * // orders the same map as a product with the triangular matrix U[i][j] = [i ≤ j], built from primitives
 * const runningSum = (data: Float64Array | Float32Array, fromEnd: boolean): Float64Array => {
 *   const out = new Float64Array(data.length)
 *   let s = 0
 *   for (let k = 0; k < data.length; k++) {
 *     const i = fromEnd ? data.length - 1 - k : k
 *     out[i] = s += data[i]
 *   }
 *   return out
 * }
 * const cumsum = defineKernelPrimitive<undefined, null>({
 *   name: 'cumsum',
 *   forward: ([x]) => ({ outs: [new Tensor(runningSum(x.data, false), x.shape)], residuals: null }),
 *   vjp: ([g]) => [g === null ? null : new Tensor(runningSum(g.data, true), g.shape)],
 *   differentiableVjp: ([g], { inputs: [x] }) => {
 *     const i = arange(x.shape[0])
 *     return [g === null ? null : matmul(lessEqual(expandDims(i, 1), expandDims(i, 0)), g)]
 *   },
 * })
 * const [y] = cumsum([tensor([1, 2, 3])], undefined)
 * y.toArray() // [1, 3, 6]
 * grad((x: Tensor) => sum(cumsum([x], undefined)[0]))(tensor([1, 2, 3])).toArray() // [3, 2, 1]
 * ```
 * @category transforms
 */
export const defineKernelPrimitive = <P, R>(spec: KernelPrimitiveSpec<P, R>) => {
  const plain = (inputs: readonly Tensor[], params: P): PlainRun => {
    const { outs, residuals } = spec.forward(inputs, params)
    return { outs, pullback: (cts, needed) => spec.vjp(cts, { inputs, outs, params, needed, residuals }) }
  }
  const apply = (inputs: readonly Tensor[], params: P): Tensor[] =>
    depth > 0 || (hoisting === null && recording === null) ? levels(inputs, params) : applyOutermost(spec.name, inputs, params, levels, plain, apply)
  const evaluate = (lowered: readonly Tensor[], params: P): Evaluated => {
    // Residuals only serve the concrete VJP, which needs plain inputs: with an outer trace still
    // on them, the lower levels do their own work and this one differentiates the composition.
    const forward = anyTraced(lowered) ? null : spec.forward(lowered, params)
    const outs = forward !== null ? forward.outs : apply(lowered, params)
    if (forward !== null && watch !== null) inspect(spec.name, lowered, outs)
    return {
      outs,
      pullback: (cts, _sums, needed) => {
        const context = { inputs: lowered, outs, params, needed }
        return forward !== null && !anyTraced(cts)
          ? spec.vjp(cts, { ...context, residuals: forward.residuals })
          : spec.differentiableVjp(cts, context)
      },
    }
  }
  const rules: PrimitiveRules<P> = {
    name: spec.name, evaluate, ...(spec.jvp === undefined ? {} : { jvp: spec.jvp }), ...(spec.batch === undefined ? {} : { batch: spec.batch }),
  }
  const levels = (inputs: readonly Tensor[], params: P): Tensor[] => atInnermost(inputs, params, rules, (xs, p) => spec.forward(xs, p).outs)
  return Object.assign(apply, { primitiveName: spec.name })
}
