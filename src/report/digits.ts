/**
 * @file The `digits` figure: a grid of 28×28 greyscale images with a caption under each, drawn as
 * vega-lite rect marks. Imports the report plumbing and errors only.
 */
import type { TopLevelSpec } from 'vega-lite'
import { ValueError } from '../errors.js'
import type { Figure } from './types.js'
import { renderVegaLite } from './vega.js'

type DigitsFigure = Extract<Figure, { kind: 'digits' }>

/** Image side in pixels of the data (MNIST). */
export const DIGIT_SIDE = 28

/**
 * Images drawn at most; more are left out and the title says so.
 * @example
 * ```ts
 * const blank = Array<number>(28 * 28).fill(0)
 * const images = Array.from({ length: 100 }, () => blank)
 * const spec = report.digitsSpec({ kind: 'digits', title: 'test digits', images, captions: images.map((_, i) => `#${i}`) })
 * console.log(report.MAX_DIGITS, spec.title) // 64 test digits (first 64 of 100)
 * ```
 * @category report
 */
export const MAX_DIGITS = 64

/** Screen pixels per image pixel, grid columns, and the cell around each image (image + caption). */
const SCALE = 3
const COLUMNS = 8
const CELL_WIDTH = 104
const CELL_HEIGHT = DIGIT_SIDE * SCALE + 26

/** Ink levels: 16 greys are indistinguishable from 256 at this size and let runs merge. */
const LEVELS = 15

interface Run { readonly x: number; readonly x2: number; readonly y: number; readonly y2: number; readonly fill: string }

const grey = (level: number): string => {
  const v = Math.round(255 * (1 - level / LEVELS)).toString(16).padStart(2, '0')
  return `#${v}${v}${v}`
}

/**
 * The dark pixels of one image as horizontal runs of equal grey: ink is dark on white, blank pixels
 * are not drawn (the cell's white background shows), and neighbours of the same level merge into one
 * rect. An MNIST digit becomes ~100 rects instead of 784, which keeps a 16-digit SVG near 100 kB.
 *
 * @param image 784 values in [0, 1] (clamped), row-major
 * @param left, top where the image's top-left corner goes, in screen pixels
 */
const runsOf = (image: readonly number[], left: number, top: number): Run[] => {
  const runs: Run[] = []
  for (let row = 0; row < DIGIT_SIDE; row++) {
    let col = 0
    while (col < DIGIT_SIDE) {
      const level = levelAt(image, row, col)
      let end = col + 1
      while (end < DIGIT_SIDE && levelAt(image, row, end) === level) end++
      if (level > 0) {
        runs.push({ x: left + col * SCALE, x2: left + end * SCALE, y: top + row * SCALE, y2: top + (row + 1) * SCALE, fill: grey(level) })
      }
      col = end
    }
  }
  return runs
}

const levelAt = (image: readonly number[], row: number, col: number): number => {
  const v = image[row * DIGIT_SIDE + col]
  return Number.isFinite(v) ? Math.round(Math.min(1, Math.max(0, v)) * LEVELS) : 0
}

const check = (figure: DigitsFigure): void => {
  const who = `report.digits ("${figure.title}")`
  if (figure.captions.length !== figure.images.length) {
    throw new ValueError(`${who}: needs one caption per image, got ${figure.images.length} images and ${figure.captions.length} captions.`)
  }
  figure.images.forEach((image, i) => {
    if (image.length !== DIGIT_SIDE * DIGIT_SIDE) {
      throw new ValueError(`${who}: image ${i} has ${image.length} values, expected ${DIGIT_SIDE * DIGIT_SIDE} (a [28, 28] image flattened row by row).`)
    }
  })
}

/**
 * The vega-lite spec of a digit grid: up to {@link MAX_DIGITS} images, 8 per row, each drawn 3×
 * (84 px) in grey on a white, thin-bordered cell with its caption below. Positions are computed
 * here in screen pixels and the x/y scales are identities, so no facet machinery is needed.
 *
 * @throws ValueError when an image is not 784 values or captions and images differ in number
 * @example
 * ```ts
 * // a "1": a vertical bar in the middle of a 28×28 image, row-major values in [0, 1]
 * const one = Array.from({ length: 28 * 28 }, (_, i) => (i % 28 >= 13 && i % 28 <= 14 && i >= 4 * 28 && i < 24 * 28 ? 1 : 0))
 * const figure = { kind: 'digits', title: 'predictions', images: [one, one.map((v) => v / 2)], captions: ['pred 1 (true 1)', 'pred 7 (true 1)'] } as const
 * const spec = report.digitsSpec(figure) // a vega-lite spec, e.g. for vega-embed
 * console.log(spec.title) // predictions
 * const svg = await report.renderFigure(figure) // what report.html shows
 * console.log(svg.startsWith('<svg'), svg.includes('pred 7 (true 1)')) // true true
 * ```
 * @category report
 */
export const digitsSpec = (figure: DigitsFigure): TopLevelSpec => {
  check(figure)
  const shown = figure.images.slice(0, MAX_DIGITS)
  const columns = Math.max(1, Math.min(COLUMNS, shown.length))
  const rows = Math.max(1, Math.ceil(shown.length / columns))
  const width = columns * CELL_WIDTH
  const height = rows * CELL_HEIGHT
  const origin = (i: number) => ({
    left: (i % columns) * CELL_WIDTH + (CELL_WIDTH - DIGIT_SIDE * SCALE) / 2,
    top: Math.floor(i / columns) * CELL_HEIGHT,
  })
  const frames = shown.map((_, i) => {
    const { left, top } = origin(i)
    return { x: left, x2: left + DIGIT_SIDE * SCALE, y: top, y2: top + DIGIT_SIDE * SCALE, caption: figure.captions[i], cx: left + (DIGIT_SIDE * SCALE) / 2, cy: top + DIGIT_SIDE * SCALE + 5 }
  })
  const ink = shown.flatMap((image, i) => {
    const { left, top } = origin(i)
    return runsOf(image, left, top)
  })
  const title = figure.images.length > MAX_DIGITS ? `${figure.title} (first ${MAX_DIGITS} of ${figure.images.length})` : figure.title
  // Identity scales: data coordinates are screen pixels, y grows downwards as in the image.
  const x = { type: 'quantitative' as const, scale: { domain: [0, width], nice: false, zero: false }, axis: null }
  const y = { type: 'quantitative' as const, scale: { domain: [0, height], nice: false, zero: false, reverse: true }, axis: null }
  return {
    title,
    width,
    height,
    config: { view: { stroke: null } },
    layer: [
      {
        data: { values: frames },
        mark: { type: 'rect', fill: 'white', stroke: '#bbb', strokeWidth: 1, aria: false },
        encoding: { x: { field: 'x', ...x }, x2: { field: 'x2' }, y: { field: 'y', ...y }, y2: { field: 'y2' } },
      },
      {
        data: { values: ink },
        mark: { type: 'rect', aria: false },
        encoding: {
          x: { field: 'x', ...x }, x2: { field: 'x2' }, y: { field: 'y', ...y }, y2: { field: 'y2' },
          fill: { field: 'fill', type: 'nominal', scale: null, legend: null },
        },
      },
      {
        data: { values: frames },
        // No `limit`: without a canvas vega overestimates text widths and would cut short captions.
        mark: { type: 'text', baseline: 'top', align: 'center', fontSize: 11 },
        encoding: { x: { field: 'cx', ...x }, y: { field: 'cy', ...y }, text: { field: 'caption', type: 'nominal' } },
      },
    ],
  }
}

/**
 * Renders a `digits` figure to SVG (see {@link digitsSpec}).
 *
 * @category report
 */
export const renderDigits = (figure: DigitsFigure): Promise<string> => renderVegaLite(digitsSpec(figure))
