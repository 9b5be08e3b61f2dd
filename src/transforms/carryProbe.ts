/**
 * @file A probe on the carries of scans, the hook behind `diagnostics.gradientFlow` and
 * `diagnostics.recurrences`. While a probe is active (`probingCarries`), every `scan` reports
 * itself to it in call order, and the probe may hand it perturbations to add to the carry each step
 * returns: the scan then runs its step-by-step composition (a fused kernel has no per-step carry
 * to perturb). With no probe active nothing changes. Imports ops and pytrees.
 */
import { ShapeError, showShape } from '../errors.js'
import { add } from '../autodiff/ops/elementwise.js'
import type { Tensor } from '../tensor/Tensor.js'
import { treeFlatten, treeMap, treeUnflatten } from '../tree/tree.js'
import type { ScanStep } from './sequenceKernel.js'

/** One scan call as a probe sees it: its step, operands and options. */
export interface ProbedScan {
  readonly step: ScanStep<any, any, any>
  readonly init: unknown
  readonly xs: unknown
  readonly length: number
  readonly reverse: boolean
  readonly timeAxis: 0 | 1
  /** `[time, batch, 1]` in xs' layout, or null. */
  readonly mask: Tensor | null
}

/**
 * What `scan` asks an active probe, once per call: the perturbations to add to that scan's carries,
 * one per carry leaf (in `treeFlatten` order), each time-major `[length, ...leaf.shape]`, or null
 * to run the scan unchanged.
 */
export type CarryProbe = (call: ProbedScan) => readonly Tensor[] | null

let active: CarryProbe | null = null

/** Runs `f` with `probe` consulted by every scan it runs (probes nest: the innermost one is asked). */
export const probingCarries = <R>(probe: CarryProbe, f: () => R): R => {
  const outer = active
  active = probe
  try {
    return f()
  } finally {
    active = outer
  }
}

/**
 * Whether a probe is active: a layer that runs its recurrence without `scan` (minGRU's parallel
 * mode) takes its scan path then, so that the probe sees its steps.
 */
export const carryProbeActive = (): boolean => active !== null

/** The x of a probed scan's step: its own x, and the perturbations of its new carry at this step. */
export interface Perturbed<X> {
  readonly x: X
  readonly delta: readonly Tensor[]
}

/**
 * scan's hook: reports the call to the active probe and, when the probe hands perturbations back,
 * the step to run instead, whose x is `{ x, delta }` (the scan lays `delta` out as its xs). The
 * perturbation enters inside the step, before a mask selects between new and old carry: so a y
 * that is one of the carry's tensors (a cell returning `[h, h]`) sees it too, and at a padded step,
 * whose new carry is discarded, it has no effect.
 */
export const probeScan = <C, X, Y>(step: ScanStep<C, X, Y>, init: C, xs: X, call: Omit<ProbedScan, 'step' | 'init' | 'xs'>):
  { readonly step: ScanStep<C, Perturbed<X>, Y>; readonly delta: readonly Tensor[] } | null => {
  if (active === null) return null
  const delta = active({ step, init, xs, ...call })
  if (delta === null) return null
  const bad = delta.find((d) => call.timeAxis === 1 && d.rank < 2)
  if (bad !== undefined) {
    throw new ShapeError(`scan: a probed scan with timeAxis 1 needs carry leaves [batch, ...]; got a leaf of shape ${showShape(bad.shape.slice(1))}.`)
  }
  const perturbed: ScanStep<C, Perturbed<X>, Y> = (carry, { x, delta: d }) => {
    const result = step(carry, x)
    // A malformed result is left for scan's own check, which explains it.
    if (!Array.isArray(result) || result.length !== 2) return result
    const { leaves, def } = treeFlatten(result[0], 'scan: the carry returned by the step function')
    if (leaves.length !== d.length) return result
    const moved = leaves.map((c, i) => add(c, d[i]))
    const y = result[1] === null ? result[1] : (treeMap((v: Tensor) => moved[leaves.indexOf(v)] ?? v, result[1]) as Y)
    return [treeUnflatten<C>(def, moved), y]
  }
  return { step: perturbed, delta }
}
