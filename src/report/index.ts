/**
 * @file The report namespace: turns a run's numbers into plots (vega-lite specs rendered to SVG by
 * vega) and one self-contained HTML page. Pure string generation with no Node API, so it runs in a
 * browser too; vega and vega-lite load on the first render, not on import.
 */
import { renderAnimation } from './animation.js'
import { renderConfusion } from './confusion.js'
import { renderDigits } from './digits.js'
import { renderHeatmap } from './heatmap.js'
import { renderLines } from './lines.js'
import { buildPage, textBlock } from './page.js'
import type { Figure, ReportInput } from './types.js'

export type { Figure, ReportInput, Series } from './types.js'
export { escapeHtml, formatNumber } from './html.js'
export { linesSpec, decimate, MAX_POINTS_PER_SERIES } from './lines.js'
export { confusionSpec } from './confusion.js'
export { digitsSpec, MAX_DIGITS } from './digits.js'
export { pickFrames, MAX_FRAMES } from './animation.js'
export { heatmapSpec } from './heatmap.js'

/**
 * Renders one figure to markup:
 * - `lines`, `confusion`, `digits`, `heatmap`: a static `<svg>` (vega-lite → vega → SVG);
 * - `animation`: an `<svg>` that animates itself with SMIL, one frame per epoch (≤ 60);
 * - `text`: an HTML `<div>` (title and escaped lines in a `<pre>`), not SVG.
 *
 * Each SVG is standalone (`xmlns` set, ids prefixed with a content hash so several can share a page)
 * and references no URL other than the SVG namespace.
 *
 * @example
 * ```ts
 * const svg = await report.renderFigure({ kind: 'lines', title: 'loss', xLabel: 'epoch', yLabel: 'loss',
 *   logY: true, series: [{ name: 'train', x: [1, 2, 3], y: [1, 0.5, 0.2] }] })
 * console.log(svg.startsWith('<svg'), svg.includes('http://www.w3.org/2000/svg')) // true true
 * const names = await report.renderFigure({ kind: 'text', title: 'sampled names', lines: ['anna', '<bob>'] })
 * console.log(names.includes('&lt;bob&gt;')) // true: text is escaped
 * ```
 * @throws ValueError when the figure's arrays disagree in length (see each kind's spec function)
 * @category report
 */
export const renderFigure = (figure: Figure): Promise<string> => {
  switch (figure.kind) {
    case 'lines': return renderLines(figure)
    case 'confusion': return renderConfusion(figure)
    case 'digits': return renderDigits(figure)
    case 'animation': return renderAnimation(figure)
    case 'heatmap': return renderHeatmap(figure)
    case 'text': return Promise.resolve(textBlock(figure))
  }
}

/**
 * Renders a complete, self-contained HTML page: title (and subtitle), a summary table of the final
 * numbers, the figures in order, and the config as pretty-printed JSON. All text is HTML-escaped;
 * the page has inline CSS, inline SVG, no script and no external resource, so it opens offline and
 * can be mailed as one file. The output is deterministic (no timestamps).
 *
 * @example
 * ```ts
 * const fs = await import('node:fs')
 * const os = await import('node:os')
 * const path = await import('node:path')
 * const html = await report.renderReport({ title: 'mnist', summary: { 'test accuracy': 0.9123456 },
 *   figures: [{ kind: 'text', title: 'notes', lines: ['2 epochs'] }], config: { epochs: 10 } })
 * console.log(html.startsWith('<!DOCTYPE html>'), html.includes('0.91235'), html.includes('<script')) // true true false
 * const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scangrad-')), 'report.html')
 * await io.writeFileAtomic(file, html) // one self-contained file, opens offline
 * ```
 * @category report
 */
export const renderReport = (input: ReportInput): Promise<string> => buildPage(input, renderFigure)
