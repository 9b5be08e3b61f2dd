/**
 * @file The report page: one self-contained HTML document (inline CSS and SVG, no script, no font
 * or image fetched from anywhere) with the title, the summary numbers, the figures and the config.
 * Imports the figure renderers; no Node API, so a browser can build the same page.
 */
import { escapeHtml, formatNumber } from './html.js'
import type { Figure, ReportInput } from './types.js'

/** A figure already turned into markup: an `<svg>` for plots, an HTML block for text. */
export type RenderFigure = (figure: Figure) => Promise<string>

/**
 * A `text` figure as HTML: its title and the lines in a `<pre>`, all escaped.
 *
 * @category report
 */
export const textBlock = (figure: Extract<Figure, { kind: 'text' }>): string =>
  `<div class="text-figure"><h3>${escapeHtml(figure.title)}</h3><pre>${figure.lines.map(escapeHtml).join('\n')}</pre></div>`

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1d232b; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 32px 24px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 12px; }
h3 { font-size: 14px; margin: 0 0 8px; }
.subtitle { margin: 0; color: #5b6572; }
section.card, figure { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 16px; margin: 0 0 16px; overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 4px 24px 4px 0; border-bottom: 1px solid #eef0f2; vertical-align: top; }
th { font-weight: 600; color: #3a4450; }
td { font-variant-numeric: tabular-nums; }
pre { margin: 0; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; word-break: break-word; }
.empty { color: #5b6572; font-style: italic; }
footer { margin-top: 32px; color: #8a939e; font-size: 12px; }
`

const summaryTable = (summary: ReportInput['summary']): string => {
  const entries = Object.entries(summary)
  if (entries.length === 0) return '<p class="empty">No summary numbers.</p>'
  const rows = entries.map(([name, value]) =>
    `<tr><th scope="row">${escapeHtml(name)}</th><td>${escapeHtml(typeof value === 'number' ? formatNumber(value) : String(value))}</td></tr>`)
  return `<table>${rows.join('')}</table>`
}

// The config is JSON by contract, but a report must not fail at the last step of a long run because
// of a stray cycle or bigint: such a value is shown as a note instead.
const configText = (config: unknown): string => {
  try {
    return JSON.stringify(config, null, 2) ?? String(config)
  } catch (e) {
    return `(config not serialisable as JSON: ${e instanceof Error ? e.message : String(e)})`
  }
}

/**
 * Builds the report page from its parts; `render` turns each figure into markup, and figures appear
 * in the given order.
 *
 * @category report
 */
export const buildPage = async (input: ReportInput, render: RenderFigure): Promise<string> => {
  const figures: string[] = []
  // One at a time: vega renders synchronously anyway, and the order of work stays deterministic.
  for (const figure of input.figures) {
    figures.push(`<figure class="figure-${figure.kind}" aria-label="${escapeHtml(figure.title)}">${await render(figure)}</figure>`)
  }
  const subtitle = input.subtitle === undefined ? '' : `<p class="subtitle">${escapeHtml(input.subtitle)}</p>`
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header><h1>${escapeHtml(input.title)}</h1>${subtitle}</header>`,
    `<h2>Summary</h2><section class="card summary">${summaryTable(input.summary)}</section>`,
    figures.length === 0 ? '' : `<h2>Figures</h2>${figures.join('\n')}`,
    `<h2>Config</h2><section class="card config"><pre>${escapeHtml(configText(input.config))}</pre></section>`,
    '<footer>Made by scangrad. Plots drawn with vega-lite; the page needs no network.</footer>',
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n')
}
