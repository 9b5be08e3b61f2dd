/**
 * @file The backward sweep of one trace: visit its nodes from the newest to the oldest, call each
 * pullback once with the summed cotangents of its outputs, and sum what it returns into the nodes
 * that produced its inputs. Iterative throughout, so a 10,000-step scan cannot overflow the stack.
 */
import { Tensor } from '../tensor/Tensor.js'
import { shapesEqual } from '../tensor/shape.js'
import { add, cast } from './ops/elementwise.js'
import { sum } from './ops/reduce.js'
import { reshape } from './ops/structural.js'
import { type CotangentSums, type Node, Recorded, type Trace } from './trace.js'

/**
 * Sums a cotangent over the axes along which `target` was broadcast, and casts it to its dtype.
 * Every VJP may return cotangents in its output's shape; this is the only place they are reduced.
 */
export const fitCotangent = (g: Tensor, target: Tensor): Tensor => {
  let out = g
  if (!shapesEqual(g.shape, target.shape)) {
    const lead = g.rank - target.rank
    const axes: number[] = []
    for (let i = 0; i < g.rank; i++) {
      if (i < lead || (target.shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i)
    }
    out = reshape(sum(out, axes, { keepDims: true }), target.shape)
  }
  return out.dtype === target.dtype ? out : cast(out, target.dtype)
}

/**
 * The nodes of `trace` that the outputs depend on and that `inside` accepts, newest first; the
 * walk stops at nodes outside (they are where the swept segment begins).
 */
const tapeOf = (outputs: readonly Tensor[], trace: Trace, inside: (node: Node) => boolean): Node[] => {
  const seen = new Set<Node>()
  const stack: Node[] = []
  const visit = (node: Node): void => {
    if (!seen.has(node) && inside(node)) {
      seen.add(node)
      stack.push(node)
    }
  }
  for (const y of outputs) if (y instanceof Recorded && y.trace === trace) visit(y.node)
  while (stack.length > 0) {
    for (const x of stack.pop()!.inputs) if (x !== null) visit(x.node)
  }
  return [...seen].sort((p, q) => q.id - p.id)
}

/**
 * Sweeps the nodes of `trace` accepted by `inside` from `outputs` back, and returns the summed
 * cotangent of each of `targets` (`null` where nothing reached it). Targets are tensors of `trace`
 * made outside the swept segment: the inputs of a differentiation, or what a checkpointed
 * function read from before it was called. Passing an enclosing sweep's `sums` continues that
 * sweep: cotangents of nodes outside the segment are added straight into it.
 */
export const backward = (
  trace: Trace,
  outputs: readonly Tensor[],
  cotangents: readonly Tensor[],
  targets: readonly Recorded[],
  inside: (node: Node) => boolean = (node) => node.pullback !== null,
  sums: CotangentSums = new Map(),
): (Tensor | null)[] => {
  const accumulate = (x: Recorded, g: Tensor): void => {
    let slots = sums.get(x.node)
    if (slots === undefined) {
      slots = new Array<Tensor | null>(x.node.outputCount).fill(null)
      sums.set(x.node, slots)
    }
    const fitted = fitCotangent(g, x)
    const previous = slots[x.slot]
    slots[x.slot] = previous === null ? fitted : add(previous, fitted)
  }
  outputs.forEach((y, i) => {
    if (y instanceof Recorded && y.trace === trace) accumulate(y, cotangents[i])
  })
  for (const node of tapeOf(outputs, trace, inside)) {
    const slots = sums.get(node)
    if (node.pullback === null || slots === undefined) continue
    sums.delete(node) // frees intermediate cotangents as the sweep moves on
    const inputCotangents = node.pullback(slots, sums, node.needed)
    node.inputs.forEach((x, i) => {
      const g = inputCotangents[i]
      if (x !== null && g !== null && g !== undefined) accumulate(x, g)
    })
  }
  return targets.map((x) => sums.get(x.node)?.[x.slot] ?? null)
}

/**
 * The tensors of `trace` made before node id `start` that the outputs reach through nodes made
 * since: the inputs of a segment of the tape, including values a function closed over.
 */
export const segmentInputs = (trace: Trace, outputs: readonly Tensor[], start: number): Recorded[] => {
  const found = new Map<string, Recorded>()
  const note = (x: Recorded): void => {
    if (x.node.id < start) found.set(`${x.node.id}:${x.slot}`, x)
  }
  for (const y of outputs) if (y instanceof Recorded && y.trace === trace) note(y)
  for (const node of tapeOf(outputs, trace, (n) => n.id >= start)) {
    for (const x of node.inputs) if (x !== null) note(x)
  }
  return [...found.values()]
}
