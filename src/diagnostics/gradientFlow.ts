/**
 * @file Gradient flow through time: how strongly a loss depends on the carry each step of each of
 * its scans returns, `‖∂L/∂c_t‖`. A first run of the loss under a carry probe finds its scans and
 * their carries; a second one, differentiated, adds a zero perturbation to every step's new carry,
 * and the loss's gradient with respect to those perturbations is `∂L/∂c_t`. Imports the probe,
 * `vjp` and pytrees.
 */
import { ShapeError, ValueError, showShape } from '../errors.js'
import { Tensor, isTensor } from '../tensor/Tensor.js'
import { full, zeros } from '../tensor/creation.js'
import { shapesEqual } from '../tensor/shape.js'
import { treeLeaves } from '../tree/tree.js'
import { type ProbedScan, probingCarries } from '../transforms/carryProbe.js'
import { vjp } from '../transforms/grad.js'

const WHO = 'diagnostics.gradientFlow'

const expectLoss = (value: unknown): Tensor => {
  if (!isTensor(value) || value.rank !== 0) {
    const seen = isTensor(value) ? `shape ${showShape(value.shape)}` : Array.isArray(value) ? 'an array' : typeof value
    throw new ShapeError(`${WHO}: the loss must return a scalar tensor (shape []), got ${seen}. Reduce it first, or drop auxiliary outputs.`)
  }
  return value
}

/** A scan's carry leaves, as the perturbations of its steps: `[length, ...leaf]` zeros each. */
const perturbationsOf = (call: ProbedScan): Tensor[] =>
  treeLeaves(call.init, 'scan: init').map((c) => zeros([call.length, ...c.shape], { dtype: c.dtype }))

/** `‖g[t]‖` over every leaf for each time index t of `[length, …]` gradients, in time order. */
const normsPerStep = (gradients: readonly Tensor[], length: number): number[] =>
  Array.from({ length }, (_, t) => Math.sqrt(gradients.reduce((total, g) => {
    const size = g.size / length
    let s = 0
    for (let i = t * size; i < (t + 1) * size; i++) s += g.data[i] * g.data[i]
    return total + s
  }, 0)))

/**
 * For each scan the loss runs, in the order of the scans' calls, the norm of the loss's gradient
 * with respect to the carry each step returns: `‖∂L/∂c_t‖` for the scan's steps t = 1 … T, the
 * picture of vanishing (falling towards t = 1) or exploding gradients. It is measured as if a
 * perturbation were added to the new carry inside step t: a cell that returns `[h, h]` counts both
 * uses of h, and the norm of a pytree carry is over all its leaves (for an LSTM, h and c). The
 * leaves of the returned carry count as independent variables: an LSTM's c_t reaches the loss
 * through the later steps only, since this step's h_t was computed from it before it was returned.
 *
 * - Order: entry t − 1 belongs to the t-th step the scan runs. For `reverse: true` that is the
 *   scan's own order, from the last time index to the first (entry 0 is the step at xs[T − 1]).
 *   With `timeAxis: 1` nothing changes: steps are steps.
 * - Masks: a padded step keeps the old carry and discards the cell's new one, so its rows
 *   contribute nothing; the norm is over the rows (sequences) for which the step is real.
 * - Layers: `nn.stacked` and `nn.bidirectional` run one scan per layer and direction, in the order
 *   they run them (layer 0 forwards, layer 0 backwards, layer 1 …); the built-in layers, which
 *   normally run fused kernels, run step by step while this measures them (same values).
 * - The loss is called twice (to find the scans, then differentiated), so it must run the same
 *   scans each time: pure, with fixed keys.
 * @param loss returns a scalar tensor
 * @param args the loss's arguments
 * @returns one array per scan, each of its T norms
 * @example
 * ```ts
 * // c_t = c_{t−1}·A + x_t over 4 steps and L = sum(c_4): ‖∂L/∂c_t‖ = ‖(1, 1)·(Aᵀ)^(4−t)‖
 * const a = tensor([[0.5, 0], [0, 0.25]])
 * const loss = (xs: Tensor) => sum(scan((c: Tensor, x: Tensor) => [add(matmul(c, a), x), null] as const, zeros([1, 2]), xs)[0])
 * diagnostics.gradientFlow(loss, ones([4, 1, 2])) // [[0.126, 0.258, 0.559, 1.414]]: fading towards t = 1
 * // a built-in layer: one scan, one norm per step
 * const lstm = nn.lstm({ inputSize: 2, hiddenSize: 3 })
 * const [flow] = diagnostics.gradientFlow((p: nn.Params) => mean(lstm.apply(p, ones([1, 5, 2])).outputs), lstm.init(randomKey(0)))
 * flow.length // 5
 * ```
 * @category diagnostics
 */
export const gradientFlow = <A extends readonly unknown[]>(loss: (...args: A) => Tensor, ...args: A): number[][] => {
  const scans: ProbedScan[] = []
  expectLoss(probingCarries((call) => {
    scans.push(call)
    return null
  }, () => loss(...args)))
  const perturbations = scans.map(perturbationsOf)
  const [value, pullback] = vjp((deltas: readonly Tensor[][]) => {
    let index = 0
    return expectLoss(probingCarries((call) => {
      const k = index++
      const expected = perturbations[k]
      const seen = perturbationsOf(call)
      if (expected === undefined || seen.length !== expected.length || seen.some((d, i) => !shapesEqual(d.shape, expected[i].shape))) {
        const shapes = (ds: readonly Tensor[] | undefined) => (ds === undefined ? 'no scan' : ds.map((d) => showShape(d.shape)).join(', '))
        throw new ValueError(
          `${WHO}: the loss ran other scans when called again (scan ${k}: steps × carry ${shapes(expected)} the first time, ${shapes(seen)} the second). ` +
            'It must run the same scans for the same arguments: make it pure (fixed keys, no state between calls).',
        )
      }
      return call.length === 0 ? null : deltas[k]
    }, () => loss(...args)))
  }, perturbations)
  const [gradients] = pullback(full([], 1, { dtype: value.dtype }))
  return gradients.map((g, k) => {
    const norms = normsPerStep(g, scans[k].length)
    return scans[k].reverse ? norms.reverse() : norms
  })
}
