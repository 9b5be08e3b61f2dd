/**
 * @file Report plumbing: compile a vega-lite spec, render it to an SVG string with vega's headless
 * view, and make the result safe to inline several times in one HTML page. Imports vega and
 * vega-lite lazily (the first render pays for loading them, `import 'scangrad'` does not) and no
 * Node API, so it also runs in a browser.
 */
import type { TopLevelSpec } from 'vega-lite'

type Libraries = readonly [typeof import('vega'), typeof import('vega-lite')]

let libraries: Promise<Libraries> | undefined

// Loaded once per process; a failed load is not cached, so a retry can succeed.
const loadLibraries = (): Promise<Libraries> => {
  libraries ??= Promise.all([import('vega'), import('vega-lite')]).catch((e: unknown) => {
    libraries = undefined
    throw e
  })
  return libraries
}

/**
 * The look shared by every figure: one font stack, quiet grid, no outer view border on images.
 * Text widths are estimated (no canvas in Node), so labels get a little extra room via `limit`s
 * in the figure specs rather than exact measurement.
 *
 * @category report
 */
export const theme = {
  font: 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif',
  title: { fontSize: 14, anchor: 'start', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 220 },
} as const

/** Options of {@link renderVegaLite}. */
export interface RenderOptions {
  /** Prefix for every `id` in the SVG; defaults to a hash of the SVG text (see {@link scopeIds}). */
  readonly idPrefix?: string
}

/**
 * Renders a vega-lite spec to a standalone `<svg>` string: `vegaLite.compile → vega.parse →
 * new View(…, { renderer: 'none' }).toSVG()`. Without a canvas package vega estimates text widths,
 * which is precise enough for axis and legend layout.
 *
 * The result has unique ids ({@link scopeIds}) and only the SVG namespace as a URL.
 *
 * @param spec a vega-lite top-level spec (data inline: the report never fetches anything)
 * @returns the SVG markup
 * @category report
 */
export const renderVegaLite = async (spec: TopLevelSpec, options: RenderOptions = {}): Promise<string> => {
  const view = await openView(spec)
  try {
    return await view.render({}, options)
  } finally {
    view.close()
  }
}

/** A compiled vega view kept open to render the same spec with different named datasets. */
export interface OpenView {
  /** Replaces the named datasets (vega-lite `data: { name }`), reruns the dataflow, returns the SVG. */
  readonly render: (datasets: Readonly<Record<string, readonly object[]>>, options?: RenderOptions) => Promise<string>
  /** Releases the view. */
  readonly close: () => void
}

/**
 * Compiles and parses a vega-lite spec once, for specs drawn many times with different data (the
 * animation's frames): re-running an open view is several times faster than compiling each frame.
 *
 * @category report
 */
export const openView = async (spec: TopLevelSpec): Promise<OpenView> => {
  const [vega, vegaLite] = await loadLibraries()
  const compiled = vegaLite.compile({ ...spec, config: { ...theme, ...spec.config } } as TopLevelSpec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' })
  return {
    render: async (datasets, options = {}) => {
      for (const [name, values] of Object.entries(datasets)) view.data(name, values as object[])
      await view.runAsync()
      const svg = dropUnusedXlink(await view.toSVG())
      return scopeIds(svg, options.idPrefix ?? `sg${hashText(svg)}`)
    },
    close: () => view.finalize(),
  }
}

/**
 * Makes the ids of one SVG unique in a page: `id="clip1"` → `id="<prefix>-clip1"`, and every
 * `url(#…)` / `href="#…"` reference with it. Vega numbers its clip paths from 1 in every render, so
 * two inlined figures would otherwise share `clip1` and clip each other with the wrong rectangle.
 *
 * @param svg SVG markup
 * @param prefix an XML-name-safe prefix (letters, digits, `-`, `_`)
 * @category report
 */
export const scopeIds = (svg: string, prefix: string): string =>
  svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .replace(/\bhref="#([^"]+)"/g, (_, id: string) => `href="#${prefix}-${id}"`)

/**
 * The markup inside the outer `<svg …>…</svg>`, to nest one rendering inside another.
 *
 * @category report
 */
export const innerSvg = (svg: string): string => {
  const open = svg.indexOf('>', svg.indexOf('<svg'))
  const close = svg.lastIndexOf('</svg>')
  if (open < 0 || close < open) throw new Error(`report: expected one <svg> element, got ${JSON.stringify(svg.slice(0, 60))}…`)
  return svg.slice(open + 1, close)
}

// vega always declares the xlink namespace; when nothing uses it, it is just one more URL in the page.
const dropUnusedXlink = (svg: string): string => {
  const without = svg.replace(/\s+xmlns:xlink="[^"]*"/, '')
  return without.includes('xlink:') ? svg : without
}

/**
 * FNV-1a (32 bit) of a string, in base 36: a short, deterministic id prefix. Not cryptographic;
 * distinct figures collide with probability ~2⁻³².
 */
const hashText = (text: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0).toString(36)
}
