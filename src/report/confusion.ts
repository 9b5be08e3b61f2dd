/**
 * @file The `confusion` figure: a heatmap of `counts[true][predicted]` with each count written in
 * its cell. Imports the report plumbing and errors only.
 */
import type { TopLevelSpec } from 'vega-lite'
import { ValueError } from '../errors.js'
import type { Figure } from './types.js'
import { renderVegaLite } from './vega.js'

type ConfusionFigure = Extract<Figure, { kind: 'confusion' }>

/** Side of one cell in pixels: room for a four-digit count. */
const CELL = 34

const check = (figure: ConfusionFigure): void => {
  const who = `report.confusion ("${figure.title}")`
  const n = figure.labels.length
  if (new Set(figure.labels).size !== n) {
    throw new ValueError(`${who}: labels must be distinct, got [${figure.labels.join(', ')}].`)
  }
  if (figure.counts.length !== n) {
    throw new ValueError(`${who}: counts must have one row per label (${n}), got ${figure.counts.length} rows; counts[true][predicted].`)
  }
  figure.counts.forEach((row, t) => {
    if (row.length !== n) throw new ValueError(`${who}: counts row ${t} has ${row.length} entries, expected ${n} (one per label).`)
  })
}

/**
 * The vega-lite spec of a confusion matrix: rows are true labels, columns predicted labels (both in
 * the order of `labels`, predicted on top like a table), colour ∝ count on a sequential blue scale,
 * and the count printed in every cell, white on the darker half so it stays legible.
 *
 * @throws ValueError when labels repeat or `counts` is not `labels.length × labels.length`
 * @example
 * ```ts
 * const predicted = [0, 1, 1, 2, 2, 2]
 * const truth = [0, 1, 2, 2, 2, 1]
 * const counts = [0, 1, 2].map((t) => [0, 1, 2].map((p) => truth.filter((y, i) => y === t && predicted[i] === p).length))
 * const spec = report.confusionSpec({ kind: 'confusion', title: 'test set', labels: ['0', '1', '2'], counts })
 * console.log(counts, (spec.data as { values: unknown[] }).values.length) // [[1, 0, 0], [0, 1, 1], [0, 1, 2]] 9, one cell per pair
 * ```
 * @category report
 */
export const confusionSpec = (figure: ConfusionFigure): TopLevelSpec => {
  check(figure)
  const { labels, counts } = figure
  const cells = labels.flatMap((truth, t) => labels.map((predicted, p) => ({ truth, predicted, count: counts[t][p] })))
  const largest = Math.max(0, ...cells.map((c) => c.count))
  const side = Math.max(1, labels.length) * CELL
  return {
    title: figure.title,
    width: side,
    height: side,
    data: { values: cells },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: [...labels], title: 'predicted', axis: { orient: 'top', labelAngle: 0, domain: false, ticks: false } },
      y: { field: 'truth', type: 'ordinal', sort: [...labels], title: 'true', axis: { domain: false, ticks: false } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: { field: 'count', type: 'quantitative', title: 'count', // From near-white, so empty cells read as empty (vega's 'blues' scheme starts at a mid blue).
          scale: { domain: [0, Math.max(1, largest)], range: ['#f4f8fc', '#08519c'], interpolate: 'hcl' } },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative', format: cells.every((c) => Number.isInteger(c.count)) ? 'd' : '.2f' },
          color: { condition: { test: `datum.count > ${largest / 2}`, value: 'white' }, value: '#222' },
        },
      },
    ],
  }
}

/**
 * Renders a `confusion` figure to SVG (see {@link confusionSpec}).
 *
 * @category report
 */
export const renderConfusion = (figure: ConfusionFigure): Promise<string> => renderVegaLite(confusionSpec(figure))
