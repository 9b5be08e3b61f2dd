/**
 * @file Traces, nodes and traced tensors: how values remember where they came from.
 * Imports only the tensor layer. See README.md in this folder for the design.
 */
import { Tensor } from '../tensor/Tensor.js'

let nextTraceLevel = 0
let nextNodeId = 0

/**
 * One differentiation in progress. Every `vjp` call opens a trace whose level is higher than any
 * open before it, so a nested differentiation always sits above the one that contains it.
 */
export class Trace {
  readonly level = ++nextTraceLevel
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
    readonly inputs: readonly (Traced | null)[],
    readonly pullback: Pullback | null,
    readonly outputCount: number,
    readonly name: string,
  ) {}
}

/**
 * A tensor under differentiation: the same values as `primal` (which may itself be traced by an
 * outer trace) plus the node and output slot that produced it in `trace`.
 */
export class Traced extends Tensor {
  constructor(
    readonly primal: Tensor,
    readonly trace: Trace,
    readonly node: Node,
    readonly slot: number,
  ) {
    super(primal.data, primal.shape)
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

/** Strips every level: a plain tensor with the same values. */
export const concrete = (x: Tensor): Tensor => {
  let t = x
  while (t instanceof Traced) t = t.primal
  return t
}

/** Starts a differentiation with respect to `x`: a leaf node of `trace`. */
export const leaf = (x: Tensor, trace: Trace): Traced => new Traced(x, trace, new Node(trace, [], null, 1, 'input'), 0)

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
): Traced[] => {
  const traced = new Array<Traced | null>(inputs.length)
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]
    traced[i] = x instanceof Traced && x.trace === trace ? x : null
  }
  const node = new Node(trace, traced, pullback, outputs.length, name)
  const result = new Array<Traced>(outputs.length)
  for (let slot = 0; slot < outputs.length; slot++) result[slot] = new Traced(outputs[slot], trace, node, slot)
  return result
}
