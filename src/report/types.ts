/**
 * @file Report types: the data a run hands to the report renderer. Plain readonly records, no
 * tensors, so the CLI (or a browser page) can build them from JSON. Imports nothing.
 */

/**
 * One named curve of a line plot: points `(x[i], y[i])`, `x.length === y.length`.
 * Non-finite y values (NaN, ±Infinity) are dropped when drawn.
 *
 * @category report
 */
export interface Series {
  readonly name: string
  readonly x: readonly number[]
  readonly y: readonly number[]
}

/**
 * One figure of a report, tagged by `kind`.
 *
 * - `lines`: several series on shared axes with a legend; `logY` draws the y axis on a log scale
 *   (values ≤ 0 are dropped there, as a log axis cannot show them).
 * - `confusion`: a heatmap of `counts[true][predicted]` with the counts written in the cells.
 * - `digits`: a grid of 28×28 greyscale images (row-major values in [0, 1]) with one caption each,
 *   e.g. "pred 7 (true 7)".
 * - `animation`: the truth and one prediction per epoch (`frames[epoch][i]` at `x[i]`) drawn on fixed
 *   axes; the SVG cycles through the frames by itself (SMIL), labelled `frameLabel` + number.
 * - `heatmap`: `values[row][column]` over whole-number axes `y` (rows) and `x` (columns), coloured on
 *   a linear or log scale, e.g. gradient flow per time step (x) and epoch (y).
 * - `text`: preformatted lines (e.g. sampled names); rendered as HTML, not SVG.
 *
 * @category report
 */
export type Figure =
  | { kind: 'lines'; title: string; xLabel: string; yLabel: string; logY?: boolean; series: readonly Series[] }
  | { kind: 'confusion'; title: string; labels: readonly string[]; counts: readonly (readonly number[])[] } // counts[true][predicted]
  | { kind: 'digits'; title: string; images: readonly (readonly number[])[] /* 28*28 values in [0,1], row-major */; captions: readonly string[] }
  | { kind: 'animation'; title: string; xLabel: string; yLabel: string; x: readonly number[]; truth: readonly number[]; frames: readonly (readonly number[])[] /* prediction per epoch */; frameLabel?: string }
  | { kind: 'heatmap'; title: string; xLabel: string; yLabel: string; valueLabel: string; x: readonly number[]; y: readonly number[]; values: readonly (readonly number[])[] /* values[y][x] */; logScale?: boolean }
  | { kind: 'text'; title: string; lines: readonly string[] } // e.g. sampled names

/**
 * Everything a run's `report.html` shows: a title, the final numbers, the figures in order and the
 * resolved run config (any JSON value, printed pretty at the end).
 *
 * @category report
 */
export interface ReportInput {
  readonly title: string
  readonly subtitle?: string
  readonly summary: Readonly<Record<string, string | number>> // final numbers: test accuracy, loss, ...
  readonly figures: readonly Figure[]
  readonly config: unknown // the resolved run config (JSON), shown at the end
}
