/// <reference types="node" />
/**
 * @file `scangrad train --diagnostics`: after every epoch, the gradient flow `‖∂L/∂c_t‖` of the
 * task's loss on one fixed batch (the first few training samples), kept in the run folder's
 * diagnostics.json (so a resumed run continues the picture); at the end, a heat map per scan
 * (step × epoch, log scale) and the Lyapunov exponents of the trained model's first recurrence,
 * driven by the batch's first sequence, for report.html.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { gradientFlow, lyapunovExponents, recurrences } from '../diagnostics/index.js'
import { decodeWith } from '../io/config.js'
import type { Figure } from '../report/types.js'
import type { Tensor } from '../tensor/Tensor.js'
import { datasetSize, takeBatch } from '../train/batches.js'
import { writeJson } from './runDir.js'
import { fmt, range } from './tasks/common.js'
import type { Experiment, Params } from './tasks/types.js'

export const DIAGNOSTICS_FILE = 'diagnostics.json'

const FORMAT = 'scangrad.diagnostics'

/** Samples in the fixed batch: enough to average over a few sequences, cheap at every epoch. */
const BATCH = 4

/** Lyapunov exponents reported (the largest ones). */
const EXPONENTS = 8

/** Scans drawn as heat maps (a deep stack's first ones). */
const HEATMAPS = 4

// JSON has no NaN or ±∞: writeJson stores them as strings (a diverging run's gradients overflow).
const Norm = t.union([t.number, t.keyof({ NaN: null, Infinity: null, '-Infinity': null })])

const DiagnosticsCodec = t.type({
  format: t.literal(FORMAT),
  epochs: t.array(t.type({ epoch: t.number, gradientFlow: t.array(t.array(Norm)) })),
})

interface EpochFlow {
  /** 0-based. */
  readonly epoch: number
  /** Per scan, `‖∂L/∂c_t‖` for its steps. */
  readonly gradientFlow: readonly (readonly number[])[]
}

/** What the runner calls: a measurement after each epoch, and the report's figures and summary at the end. */
export interface RunDiagnostics {
  readonly afterEpoch: (params: Params, epoch: number) => Promise<void>
  readonly figures: () => Figure[]
  readonly final: (params: Params) => { readonly figures: Figure[]; readonly summary: Record<string, string> }
}

/** The measurements of earlier sessions of a resumed run, before epoch `before`; none when the file is missing or unreadable. */
const earlier = (dir: string, before: number): EpochFlow[] => {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(join(dir, DIAGNOSTICS_FILE), 'utf8'))
  } catch {
    return []
  }
  const decoded = decodeWith(DiagnosticsCodec, json, DIAGNOSTICS_FILE)
  if (E.isLeft(decoded)) return []
  return decoded.right.epochs
    .filter((e) => e.epoch < before)
    .map((e) => ({ epoch: e.epoch, gradientFlow: e.gradientFlow.map((flow) => flow.map(Number)) }))
}

/**
 * The diagnostics of a run in `dir`. `resumedAt` is the epoch a resumed run continues from (its
 * earlier measurements are read back), or null for a run starting afresh.
 */
export const runDiagnostics = (experiment: Experiment, dir: string, resumedAt: number | null): RunDiagnostics => {
  const samples = Math.min(BATCH, datasetSize(experiment.train, 'diagnostics'))
  const batch = takeBatch(experiment.train, range(samples))
  const loss = (params: Params): Tensor => {
    const value = experiment.loss(params, batch, {})
    return Array.isArray(value) ? value[0] : (value as Tensor)
  }
  const epochs: EpochFlow[] = resumedAt === null ? [] : earlier(dir, resumedAt)
  const heatmaps = (): Figure[] => {
    const scans = Math.min(HEATMAPS, epochs[epochs.length - 1]?.gradientFlow.length ?? 0)
    return range(scans).map((k) => {
      const rows = epochs.filter((e) => e.gradientFlow[k] !== undefined)
      const steps = Math.max(0, ...rows.map((e) => e.gradientFlow[k].length))
      return {
        kind: 'heatmap',
        title: `Gradient flow ‖∂L/∂c_t‖ on ${samples === 1 ? 'the first training sample' : `the first ${samples} training samples`}${scans > 1 ? ` (scan ${k + 1} of ${epochs[epochs.length - 1].gradientFlow.length})` : ''}`,
        xLabel: 'step t (in the order the scan runs)',
        yLabel: 'epoch',
        valueLabel: '‖∂L/∂c_t‖',
        x: range(steps, 1),
        y: rows.map((e) => e.epoch + 1),
        values: rows.map((e) => range(steps).map((s) => e.gradientFlow[k][s] ?? Number.NaN)),
        logScale: true,
      }
    })
  }
  return {
    afterEpoch: async (params, epoch) => {
      epochs.push({ epoch, gradientFlow: gradientFlow(loss, params) })
      await writeJson(join(dir, DIAGNOSTICS_FILE), { format: FORMAT, epochs })
    },
    figures: heatmaps,
    final: (params): { figures: Figure[]; summary: Record<string, string> } => {
      const [first] = recurrences(loss, params)
      if (first === undefined || first.length === 0) return { figures: heatmaps(), summary: {} }
      const n = first.carry0.shape[1]
      const exponents = lyapunovExponents(first.step, first.carry0, first.xs, { count: Math.min(n, EXPONENTS), length: first.length })
      const text: Figure = {
        kind: 'text',
        title: `Lyapunov exponents of the trained recurrence (nats per step; the first scan, driven by the first training sequence, ${first.length} steps)`,
        lines: [
          ...exponents.map((l, i) => `λ${i + 1} = ${fmt(l)}`),
          ...(exponents.length < n ? [`(the ${exponents.length} largest of ${n})`] : []),
          exponents[0] > 0 ? 'λ1 > 0: nearby states separate (chaotic).' : 'λ1 ≤ 0: nearby states converge (the network forgets its initial state).',
        ],
      }
      return { figures: [...heatmaps(), text], summary: { 'largest Lyapunov exponent': fmt(exponents[0]) } }
    },
  }
}
