/**
 * @file The `lines` figure: several named series on shared axes (loss and accuracy per epoch,
 * prediction against truth). Imports the report plumbing and errors only.
 */
import type { TopLevelSpec } from 'vega-lite'
import { ValueError } from '../errors.js'
import type { Figure, Series } from './types.js'
import { renderVegaLite } from './vega.js'

type LinesFigure = Extract<Figure, { kind: 'lines' }>

/**
 * Points kept per series; longer series are thinned by {@link decimate}.
 * @example
 * ```ts
 * const day = Array.from({ length: 10_000 }, (_, i) => i)
 * const spec = report.linesSpec({ kind: 'lines', title: 'temperature', xLabel: 'day', yLabel: '°F',
 *   series: [{ name: 'tmax', x: day, y: day.map((d) => 60 + 20 * Math.sin(d / 58)) }] })
 * console.log((spec.data as { values: unknown[] }).values.length <= report.MAX_POINTS_PER_SERIES) // true
 * ```
 * @category report
 */
export const MAX_POINTS_PER_SERIES = 2000

/** Series up to this length also get a dot per point (epoch curves read better with them). */
const POINT_MARKERS_UP_TO = 40

/**
 * Keeps at most `max` points of a curve while preserving its envelope: the points are cut into
 * `max / 2` consecutive buckets and each bucket keeps its lowest and highest point, in their
 * original order. Spikes (a diverging loss, a heat wave) survive, unlike in plain subsampling.
 *
 * @param y the curve's values (its x values are not needed: buckets follow point order)
 * @param max at most this many indices come back (≥ 2)
 * @returns indices into the curve, increasing
 * @example
 * ```ts
 * const loss = [5, 4, 3, 90, 2, 1.5, 1.2, 1.1] // a spike at index 3
 * console.log(report.decimate(loss, 4)) // [2, 3, 4, 7]: the spike survives
 * console.log(report.decimate(loss, 100)) // [0, 1, 2, 3, 4, 5, 6, 7]: short curves stay whole
 * ```
 * @category report
 */
export const decimate = (y: readonly number[], max: number): number[] => {
  const n = y.length
  if (n <= max) return Array.from({ length: n }, (_, i) => i)
  const buckets = Math.max(1, Math.floor(max / 2))
  const kept: number[] = []
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets)
    const end = Math.floor(((b + 1) * n) / buckets)
    let lo = start
    let hi = start
    for (let i = start; i < end; i++) {
      if (y[i] < y[lo]) lo = i
      if (y[i] > y[hi]) hi = i
    }
    if (lo === hi) kept.push(lo)
    else kept.push(Math.min(lo, hi), Math.max(lo, hi))
  }
  return kept
}

interface Row { readonly series: string; readonly line: number; readonly order: number; readonly x: number; readonly y: number }

// A point a log axis cannot place (y ≤ 0) or any non-finite value is left out rather than failing
// the whole report: a diverged run is exactly when its report is most needed.
const rowsOf = (series: Series, line: number, logY: boolean): Row[] => {
  const finite = series.x.flatMap((x, i) => {
    const y = series.y[i]
    return Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0) ? [i] : []
  })
  const keep = decimate(finite.map((i) => series.y[i]), MAX_POINTS_PER_SERIES)
  return keep.map((k, order) => {
    const i = finite[k]
    return { series: series.name, line, order, x: series.x[i], y: series.y[i] }
  })
}

/**
 * The vega-lite spec of a `lines` figure: one line per series, coloured by name with a legend in
 * the given order, drawn in the given point order (so a curve that turns back in x stays intact);
 * `logY` puts y on a log scale. Series with the same name share a colour but stay separate lines.
 *
 * @throws ValueError when a series has `x.length ≠ y.length`
 * @example
 * ```ts
 * const spec = report.linesSpec({
 *   kind: 'lines', title: 'loss', xLabel: 'epoch', yLabel: 'loss', logY: true,
 *   series: [{ name: 'train', x: [1, 2, 3], y: [1, 0.5, 0.2] }, { name: 'validation', x: [1, 2, 3], y: [1.1, 0.7, NaN] }],
 * })
 * console.log(spec.title, (spec.data as { values: unknown[] }).values.length) // loss 5: the NaN point is left out
 * ```
 * @category report
 */
export const linesSpec = (figure: LinesFigure): TopLevelSpec => {
  figure.series.forEach((s, i) => {
    if (s.x.length !== s.y.length) {
      throw new ValueError(`report.lines: series ${i} ("${s.name}") of "${figure.title}" has ${s.x.length} x values but ${s.y.length} y values; give both the same length.`)
    }
  })
  const logY = figure.logY === true
  const names = [...new Set(figure.series.map((s) => s.name))]
  const rows = figure.series.flatMap((s, line) => rowsOf(s, line, logY))
  const longest = Math.max(0, ...figure.series.map((s) => s.x.length))
  const wholeX = rows.every((r) => Number.isInteger(r.x))
  return {
    title: figure.title,
    width: 560,
    height: 300,
    data: { values: rows },
    mark: { type: 'line', clip: true, strokeWidth: 2, point: longest <= POINT_MARKERS_UP_TO ? { size: 30 } : false },
    encoding: {
      // Whole-number x (epochs, days) gets whole-number ticks: "3", not "3.0" or "2.5".
      x: { field: 'x', type: 'quantitative', title: figure.xLabel, scale: { zero: false }, axis: wholeX ? { format: 'd', tickMinStep: 1 } : {} },
      y: {
        field: 'y', type: 'quantitative', title: figure.yLabel,
        scale: logY ? { type: 'log' } : { zero: false },
      },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: names }, legend: { orient: 'right', symbolType: 'stroke' } },
      detail: { field: 'line', type: 'nominal' },
      order: { field: 'order', type: 'quantitative' },
    },
  }
}

/**
 * Renders a `lines` figure to SVG (see {@link linesSpec}).
 *
 * @category report
 */
export const renderLines = (figure: LinesFigure): Promise<string> => renderVegaLite(linesSpec(figure))
