/**
 * @file Traces, nodes and traced tensors: how values remember where they came from.
 * Imports only the tensor layer. See README.md in this folder for the design.
 */
import { Tensor } from '../tensor/Tensor.js'

let nextTraceLevel = 0
let nextNodeId = 0

/**
 * What a primitive gives a trace kind: its name, and how it evaluates one level down. `evaluate`
 * returns the outputs and their pullback (the VJP, written with primitives when the inputs are
 * traced by outer levels); `jvp` maps the inputs' tangents (null: zero) to the outputs' tangents,
 * each in any shape that broadcasts to its output's. A primitive without `jvp` gets one derived
 * from its pullback (see autodiff/forward.ts).
 */
export interface PrimitiveRules<P> {
  readonly name: string
  readonly evaluate: (lowered: readonly Tensor[], params: P) => Evaluated
  readonly jvp?: (tangents: readonly (Tensor | null)[], context: TangentContext<P>) => readonly (Tensor | null)[]
  /**
   * The batching rule (vmap): the inputs one level down, each with the axis its batch runs along
   * (null: the same for every example), → the outputs with theirs. Without it a batching trace
   * applies the primitive to one example at a time (autodiff/batching.ts).
   */
  readonly batch?: BatchRule<P>
  /**
   * The primitive applied as usual to other inputs (one level down, so outer levels record it as
   * this primitive): what a batching trace without a rule applies to each example. Without it,
   * `evaluate`'s outputs, which are the same for a primitive whose `evaluate` applies it.
   */
  readonly apply?: (inputs: readonly Tensor[], params: P) => readonly Tensor[]
}

/** Inputs and the axes of their batch (null: not batched) → outputs and theirs; see `PrimitiveRules.batch`. */
export type BatchRule<P> = (inputs: readonly Tensor[], axes: readonly (number | null)[], params: P) => Batch

/** Tensors one level below a batching trace, each with the axis its examples run along (null: shared by all). */
export interface Batch {
  readonly outs: readonly Tensor[]
  readonly axes: readonly (number | null)[]
}

/** A primitive's outputs one level down, with the pullback a reverse trace records for them. */
export interface Evaluated {
  readonly outs: Tensor[]
  readonly pullback: Pullback
}

/** What a tangent rule sees besides the tangents: the inputs and outputs one level down, and the parameters. */
export interface TangentContext<P> {
  readonly inputs: readonly Tensor[]
  readonly outs: readonly Tensor[]
  readonly params: P
}

/**
 * What applying a primitive means at a trace of this kind, given the inputs (the innermost of
 * which are traced by `trace`): the one place that tells transformations apart. Reverse mode
 * records a node (below); forward mode computes tangents (autodiff/forwardMode.ts); a batching
 * trace applies the primitive's batching rule (autodiff/batching.ts).
 */
export interface TraceKind {
  readonly name: string
  readonly process: <P>(trace: Trace, inputs: readonly Tensor[], params: P, rules: PrimitiveRules<P>) => Tensor[]
}

/**
 * One transformation in progress. Every `vjp` or `jvp` call opens a trace whose level is higher
 * than any open before it, so a nested transformation always sits above the one that contains it.
 * Its kind says what primitives do at its level; a trace is a reverse (tape) trace by default.
 */
export class Trace {
  readonly level = ++nextTraceLevel
  constructor(readonly kind: TraceKind = reverse) {}
}

/**
 * The running cotangent sums of one backward sweep: for each node reached so far, one summed
 * cotangent per output slot (`null` until something arrives).
 */
export type CotangentSums = Map<Node, (Tensor | null)[]>

/**
 * Cotangents of a node's outputs → cotangents of its traced inputs (`null` for "no gradient").
 * Built from differentiable primitives, so the backward pass of one trace is recorded on the
 * traces below it, which is what makes `grad(grad(f))` work. `sums` is the calling sweep's state;
 * only a pullback that continues the sweep itself (checkpoint) uses it.
 */
export type Pullback = (cotangents: readonly (Tensor | null)[], sums: CotangentSums, needed: readonly boolean[]) => readonly (Tensor | null)[]

/** The id the next node will get: nodes with ids from here on are made after this call. */
export const nextNodeIdNow = (): number => nextNodeId + 1

/**
 * One recorded operation. Ids increase, so sorting by id is a topological order of the tape.
 * A leaf (an input of the differentiation) has no inputs and no pullback.
 */
export class Node {
  readonly id = ++nextNodeId
  /** Per input, whether it is traced here (its cotangent is wanted); built on first use. */
  private neededCache: boolean[] | null = null
  get needed(): readonly boolean[] {
    if (this.neededCache === null) this.neededCache = this.inputs.map((x) => x !== null)
    return this.neededCache
  }
  constructor(
    readonly trace: Trace,
    /** The operation's inputs that are traced by the same trace; other inputs are constants here. */
    readonly inputs: readonly (Recorded | null)[],
    readonly pullback: Pullback | null,
    readonly outputCount: number,
    readonly name: string,
  ) {}
}

/**
 * A tensor under a transformation: the same values as `primal` (which may itself be traced by an
 * outer trace), seen at the level of `trace`. Each trace kind adds what it tracks.
 */
export abstract class Traced extends Tensor {
  constructor(
    readonly primal: Tensor,
    readonly trace: Trace,
    /** How the value looks at this level, when not as its primal (a batched value shows one example's shape). */
    view: Tensor = primal,
  ) {
    super(view.data, view.shape)
  }

  /**
   * The value without any derivative: every differentiation level stripped. A level that is part
   * of the value itself (a vmap batch: the examples are values, not derivatives) overrides this to stay.
   */
  withoutDerivatives(): Tensor {
    return concrete(this.primal)
  }
}

/** A tensor on a reverse trace's tape: the node and output slot that produced it. */
export class Recorded extends Traced {
  constructor(
    primal: Tensor,
    trace: Trace,
    readonly node: Node,
    readonly slot: number,
  ) {
    super(primal, trace)
  }
}

/** The innermost (highest-level) trace among some tensors, or null when none is traced. */
export const topTrace = (xs: readonly Tensor[]): Trace | null => {
  let top: Trace | null = null
  for (const x of xs) {
    if (x instanceof Traced && (top === null || x.trace.level > top.level)) top = x.trace
  }
  return top
}

/** Strips one level: the value of `x` as seen from below `trace`. */
export const lower = (x: Tensor, trace: Trace): Tensor => (x instanceof Traced && x.trace === trace ? x.primal : x)

/** The inputs as seen one level below `trace` (a loop: this runs for every traced operation). */
export const lowerAll = (inputs: readonly Tensor[], trace: Trace): Tensor[] => {
  const lowered = new Array<Tensor>(inputs.length)
  for (let i = 0; i < inputs.length; i++) lowered[i] = lower(inputs[i], trace)
  return lowered
}

/**
 * Strips every differentiation level: a plain tensor with the same values, unless it is batched by
 * vmap, whose batch is part of the value (then a batched tensor with no derivative left).
 */
export const concrete = (x: Tensor): Tensor => (x instanceof Traced ? x.withoutDerivatives() : x)

/** Starts a differentiation with respect to `x`: a leaf node of `trace`. */
export const leaf = (x: Tensor, trace: Trace): Recorded => new Recorded(x, trace, new Node(trace, [], null, 1, 'input'), 0)

/**
 * Records one node in `trace`: `outputs` (computed from the lowered inputs) become traced values
 * whose pullback maps their cotangents to those of the traced `inputs`.
 */
export const record = (
  trace: Trace,
  name: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  pullback: Pullback,
): Recorded[] => {
  const traced = new Array<Recorded | null>(inputs.length)
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]
    traced[i] = x instanceof Recorded && x.trace === trace ? x : null
  }
  const node = new Node(trace, traced, pullback, outputs.length, name)
  const result = new Array<Recorded>(outputs.length)
  for (let slot = 0; slot < outputs.length; slot++) result[slot] = new Recorded(outputs[slot], trace, node, slot)
  return result
}

/**
 * Reverse mode: the primitive runs one level down and one node on the tape remembers how to pull
 * cotangents back through it.
 */
const reverse: TraceKind = {
  name: 'reverse',
  process: (trace, inputs, params, rules) => {
    const { outs, pullback } = rules.evaluate(lowerAll(inputs, trace), params)
    return record(trace, rules.name, inputs, outs, pullback)
  },
}

/** Whether a trace records a tape (what `backward` and `checkpoint` work on). */
export const isReverse = (trace: Trace): boolean => trace.kind === reverse
