/**
 * @file The `heatmap` figure: a grid of values over two whole-number axes (gradient flow: time step
 * × epoch), coloured on a linear or log scale. Large grids are pooled into at most
 * `MAX_HEATMAP_CELLS` per axis, so a long run still gives a small page. Imports the report plumbing
 * and errors only.
 */
import type { TopLevelSpec } from 'vega-lite'
import { ValueError } from '../errors.js'
import type { Figure } from './types.js'
import { renderVegaLite } from './vega.js'

type HeatmapFigure = Extract<Figure, { kind: 'heatmap' }>

/** Cells kept along each axis; longer axes are pooled (`poolGroups`). */
export const MAX_HEATMAP_CELLS = 120

/**
 * Cuts `n` consecutive indices into at most `max` groups of (nearly) equal size, in order.
 */
export const poolGroups = (n: number, max: number): number[][] => {
  const groups = Math.min(n, Math.max(1, max))
  return Array.from({ length: groups }, (_, g) => {
    const [start, end] = [Math.floor((g * n) / groups), Math.floor(((g + 1) * n) / groups)]
    return Array.from({ length: end - start }, (_, i) => start + i)
  })
}

const check = (figure: HeatmapFigure): void => {
  const who = `report.heatmap ("${figure.title}")`
  if (figure.values.length !== figure.y.length) {
    throw new ValueError(`${who}: values must have one row per y (${figure.y.length}), got ${figure.values.length} rows; values[y][x].`)
  }
  figure.values.forEach((row, r) => {
    if (row.length !== figure.x.length) throw new ValueError(`${who}: values row ${r} has ${row.length} entries, expected ${figure.x.length} (one per x).`)
  })
}

/**
 * The vega-lite spec of a heat map: one rectangle per (x, y), y increasing downwards like a table
 * (epoch 1 on top), coloured on a sequential scale (log when `logScale`). Values a log scale cannot
 * show (≤ 0) and non-finite ones are left blank rather than failing the report. An axis with more
 * than 120 entries is pooled: each cell then shows the mean of its group (the
 * geometric mean on a log scale), labelled with the group's first x or y.
 *
 * @example
 * ```ts
 * const figure: report.Figure = {
 *   kind: 'heatmap', title: 'Gradient flow', xLabel: 'step', yLabel: 'epoch', valueLabel: '‖∂L/∂c_t‖',
 *   x: [1, 2, 3], y: [1, 2], values: [[1e-3, 1e-2, 1], [2e-3, 3e-2, 2]], logScale: true,
 * }
 * report.heatmapSpec(figure) // a vega-lite spec: one rect per value, colour on a log scale
 * const svg = await report.renderFigure(figure)
 * svg.startsWith('<svg') // true
 * ```
 * @throws ValueError when `values` is not `y.length × x.length`
 * @category report
 */
export const heatmapSpec = (figure: HeatmapFigure): TopLevelSpec => {
  check(figure)
  const log = figure.logScale === true
  const shown = (v: number): boolean => Number.isFinite(v) && (!log || v > 0)
  const [columns, rows] = [poolGroups(figure.x.length, MAX_HEATMAP_CELLS), poolGroups(figure.y.length, MAX_HEATMAP_CELLS)]
  const cells = rows.flatMap((rowGroup) => columns.flatMap((columnGroup) => {
    const values = rowGroup.flatMap((r) => columnGroup.map((c) => figure.values[r][c])).filter(shown)
    if (values.length === 0) return []
    const value = log ? Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length) : values.reduce((s, v) => s + v, 0) / values.length
    return [{ x: figure.x[columnGroup[0]], y: figure.y[rowGroup[0]], value }]
  }))
  const xs = columns.map((g) => figure.x[g[0]])
  const ys = rows.map((g) => figure.y[g[0]])
  // About ten labels per axis, whatever the number of cells.
  const every = (labels: readonly number[]) => labels.filter((_, i) => i % Math.max(1, Math.ceil(labels.length / 10)) === 0)
  return {
    title: figure.title,
    width: 560,
    height: Math.min(360, Math.max(60, 14 * ys.length)),
    data: { values: cells },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'x', type: 'ordinal', title: figure.xLabel, sort: xs, scale: { domain: xs }, axis: { values: every(xs), labelAngle: 0 } },
      y: { field: 'y', type: 'ordinal', title: figure.yLabel, sort: ys, scale: { domain: ys }, axis: { values: every(ys) } },
      color: {
        field: 'value', type: 'quantitative', title: figure.valueLabel,
        scale: { type: log ? 'log' : 'linear', scheme: 'viridis' },
      },
    },
  }
}

/**
 * Renders a `heatmap` figure to SVG (see {@link heatmapSpec}).
 *
 * @category report
 */
export const renderHeatmap = (figure: HeatmapFigure): Promise<string> => renderVegaLite(heatmapSpec(figure))
