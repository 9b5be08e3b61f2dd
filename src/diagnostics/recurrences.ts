/**
 * @file The recurrences a function runs, one per scan, as `stepJacobians` and `lyapunovExponents`
 * take them: the scan's step for the first sequence of its batch, with the carry's leaves packed
 * into one row `[1, n]`. This is how the dynamics of a built-in layer (whose cell hides behind
 * `apply`) or of any scan-based model are reached. Imports the probe, ops and pytrees.
 */
import { ShapeError, showShape } from '../errors.js'
import { concat, reshape, slice, take, transpose } from '../autodiff/ops/structural.js'
import type { Tensor } from '../tensor/Tensor.js'
import { treeFlatten, treeMap, treeUnflatten } from '../tree/tree.js'
import { type ProbedScan, probingCarries } from '../transforms/carryProbe.js'
import type { ScanStep } from '../transforms/scan.js'

/** One scan's recurrence for one sequence. */
export interface Recurrence {
  /** `(carry [1, n], x_t) → [carry [1, n], y_t]`: the scan's step, its carry's leaves packed in one row (in `treeFlatten` order). */
  readonly step: ScanStep<Tensor, any, unknown>
  /** `[1, n]`: the scan's initial carry for the sequence. */
  readonly carry0: Tensor
  /**
   * The steps' inputs, time-major `[length, 1, …]`, in the order the scan ran them (last time
   * index first for a reversed scan); with a mask, only the sequence's real steps.
   */
  readonly xs: unknown
  readonly length: number
}

/** Row 0 of a `[batch, …]` tensor, as `[1, …]`. */
const firstRow = (x: Tensor): Tensor => slice(x, [[0, 1]])

const recurrenceOf = (call: ProbedScan, index: number): Recurrence => {
  const { leaves, def } = treeFlatten(call.init, 'scan: init')
  const rows = leaves.map((leaf) => {
    if (leaf.rank === 0) throw new ShapeError(`diagnostics.recurrences: scan ${index} has a carry leaf of shape []; every carry leaf must be [batch, …].`)
    return firstRow(leaf)
  })
  const sizes = rows.map((r) => r.size)
  const pack = (carry: unknown): Tensor => concat(treeFlatten(carry, 'scan: the carry returned by the step function').leaves.map((c) => reshape(c, [1, -1])), 1)
  const unpack = (c: Tensor): unknown => {
    let offset = 0
    return treeUnflatten(def, rows.map((r, i) => {
      const part = reshape(slice(c, [[0, 1], [offset, offset + sizes[i]]]), r.shape)
      offset += sizes[i]
      return part
    }))
  }
  // The steps the first sequence goes through, in the scan's order.
  const order = Array.from({ length: call.length }, (_, i) => (call.reverse ? call.length - 1 - i : i))
  const { mask } = call
  // Where the first sequence's flag of step t sits: [time, batch, 1] or [batch, time, 1].
  const stride = mask === null ? 0 : call.timeAxis === 0 ? mask.size / call.length : mask.size / (mask.shape[0] * call.length)
  const real = mask === null ? order : order.filter((t) => mask.data[t * stride] !== 0)
  const xs = treeMap((x: Tensor) => {
    if (call.timeAxis === 1) return take(transpose(firstRow(x), [1, 0, ...x.shape.slice(2).map((_, i) => i + 2)]), real, 0)
    if (x.rank < 2) throw new ShapeError(`diagnostics.recurrences: scan ${index} has an input leaf of shape ${showShape(x.shape)}; every leaf of xs must be [time, batch, …].`)
    return take(slice(x, [[0, x.shape[0]], [0, 1]]), real, 0)
  }, call.xs)
  return {
    step: (c, x) => {
      const [next, y] = call.step(unpack(c), x)
      return [pack(next), y]
    },
    carry0: pack(rows),
    xs,
    length: real.length,
  }
}

/**
 * The recurrence of every scan `f(...args)` runs, in the order of the scans' calls, for the first
 * sequence of each scan's batch (slice the inputs first for another one): its step with a packed
 * carry `[1, n]`, its initial carry and its inputs, ready for `stepJacobians` and
 * `lyapunovExponents`. For a model of stacked layers each layer's recurrence is driven by the
 * outputs of the layer below, as recorded.
 * @param f any function that runs scans (a loss, a model's `apply`)
 * @returns one recurrence per scan
 * @example
 * ```ts
 * const gru = nn.gru({ inputSize: 1, hiddenSize: 2 })
 * const params = gru.init(randomKey(0))
 * const [r] = diagnostics.recurrences((xs: Tensor) => gru.apply(params, xs).outputs, ones([3, 4, 1])) // 3 sequences of 4 steps
 * r.carry0.shape // [1, 2]
 * r.length       // 4
 * diagnostics.lyapunovExponents(r.step, r.carry0, r.xs) // [−0.962, −1.116]: the GRU forgets its state
 * ```
 * @category diagnostics
 */
export const recurrences = <A extends readonly unknown[]>(f: (...args: A) => unknown, ...args: A): Recurrence[] => {
  const calls: ProbedScan[] = []
  probingCarries((call) => {
    calls.push(call)
    return null
  }, () => f(...args))
  return calls.map(recurrenceOf)
}
