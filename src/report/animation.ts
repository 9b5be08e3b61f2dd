/**
 * @file The `animation` figure: the truth and the prediction after each epoch, on fixed axes, in one
 * self-animating SVG (SMIL). Imports the report plumbing and errors only.
 *
 * How the SVG is put together: vega renders the still part once (axes, truth, legend, title), then
 * one transparent overlay per frame (that epoch's prediction and its label) with the same size,
 * padding and fixed scale domains, so the overlays line up with the still part pixel for pixel.
 * Each overlay sits in a `<g>` whose `visibility` a SMIL `<animate calcMode="discrete">` switches on
 * for its time slot; the loop repeats forever and holds the last frame a little longer. SMIL runs in
 * every current browser when the SVG is inline in HTML or opened directly, without any script.
 * Where SMIL does not run, the last frame (the final fit) is the one shown.
 */
import type { TopLevelSpec } from 'vega-lite'
import { ValueError } from '../errors.js'
import type { Figure } from './types.js'
import { innerSvg, openView, renderVegaLite } from './vega.js'

type AnimationFigure = Extract<Figure, { kind: 'animation' }>

/**
 * Frames kept at most; more are subsampled evenly, keeping the first and the last.
 * @example
 * ```ts
 * const kept = report.pickFrames(500) // 500 epochs of predictions
 * console.log(kept.length === report.MAX_FRAMES, kept[0], kept[kept.length - 1]) // true 0 499
 * ```
 * @category report
 */
export const MAX_FRAMES = 60

const WIDTH = 560
const HEIGHT = 300
// Fixed padding (autosize 'none') is what makes the still part and the overlays share one origin.
const PADDING = { left: 64, right: 120, top: 48, bottom: 48 }
const COLORS = { truth: '#4c78a8', prediction: '#e45756' }

/** Seconds per frame: the whole loop takes about 6 s, within [0.12, 0.6] s per frame. */
const frameSeconds = (frames: number): number => Math.min(0.6, Math.max(0.12, 6 / frames))
const HOLD_LAST_SECONDS = 1.5

/**
 * Which frames to draw: all of them up to `max`, else `max` indices spread evenly over
 * `[0, count − 1]`, always including both ends.
 *
 * @example
 * ```ts
 * console.log(report.pickFrames(5, 3), report.pickFrames(10, 4), report.pickFrames(3, 60)) // [0, 2, 4] [0, 3, 6, 9] [0, 1, 2]
 * ```
 * @category report
 */
export const pickFrames = (count: number, max: number = MAX_FRAMES): number[] => {
  if (count <= max) return Array.from({ length: count }, (_, i) => i)
  if (max <= 1) return [count - 1]
  return Array.from({ length: max }, (_, i) => Math.round((i * (count - 1)) / (max - 1)))
}

const check = (figure: AnimationFigure): void => {
  const who = `report.animation ("${figure.title}")`
  if (figure.truth.length !== figure.x.length) {
    throw new ValueError(`${who}: truth has ${figure.truth.length} values but x has ${figure.x.length}; give one truth value per x.`)
  }
  figure.frames.forEach((frame, i) => {
    if (frame.length !== figure.x.length) {
      throw new ValueError(`${who}: frame ${i} has ${frame.length} values but x has ${figure.x.length}; every frame predicts one value per x.`)
    }
  })
}

const finite = (values: readonly number[]): number[] => values.filter(Number.isFinite)

const extent = (values: readonly number[]): [number, number] => {
  if (values.length === 0) return [0, 1]
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi]
}

/**
 * The y range shared by all frames: the truth and every prediction, but no further than one truth
 * range beyond the truth on either side, so an early epoch that shoots off (the weather model's
 * first extrapolations) does not squash the rest; such excursions are clipped at the plot's edge.
 */
const yDomain = (figure: AnimationFigure, frames: readonly (readonly number[])[]): [number, number] => {
  const [tLo, tHi] = extent(finite(figure.truth))
  const span = tHi - tLo
  const [lo, hi] = extent([tLo, tHi, ...frames.flatMap((f) => finite(f))])
  const low = Math.max(lo, tLo - span)
  const high = Math.min(hi, tHi + span)
  const pad = 0.05 * (high - low)
  return [low - pad, high + pad]
}

const points = (x: readonly number[], y: readonly number[], series: string) =>
  x.flatMap((xi, i) => (Number.isFinite(xi) && Number.isFinite(y[i]) ? [{ x: xi, y: y[i], series, order: i }] : []))

/** The encodings both layers share: fixed domains, so every rendering maps data to the same pixels. */
const axes = (figure: AnimationFigure, xs: [number, number], ys: [number, number], visible: boolean) => ({
  x: { field: 'x', type: 'quantitative', title: figure.xLabel, scale: { domain: xs, nice: false, zero: false }, axis: visible ? {} : null },
  y: { field: 'y', type: 'quantitative', title: figure.yLabel, scale: { domain: ys, nice: false, zero: false }, axis: visible ? {} : null },
  order: { field: 'order', type: 'quantitative' },
  color: {
    field: 'series', type: 'nominal', title: null,
    scale: { domain: ['truth', 'prediction'], range: [COLORS.truth, COLORS.prediction] },
    legend: visible ? { orient: 'right', symbolType: 'stroke' } : null,
  },
}) as const

const frameTitle = (figure: AnimationFigure, epoch: number): string => `${figure.frameLabel ?? 'epoch'} ${epoch + 1}`

/**
 * The still part: axes, legend, title and the truth (drawn in the legend's "truth" colour, with an
 * empty "prediction" entry so the legend names both lines).
 *
 * @category report
 */
export const stillSpec = (figure: AnimationFigure, xs: [number, number], ys: [number, number]): TopLevelSpec => ({
  title: figure.title,
  width: WIDTH,
  height: HEIGHT,
  autosize: { type: 'none' },
  padding: PADDING,
  data: { values: points(figure.x, figure.truth, 'truth') },
  mark: { type: 'line', clip: true, strokeWidth: 2 },
  encoding: axes(figure, xs, ys, true),
})

/**
 * One overlay, compiled once and drawn per frame: the prediction (named dataset `prediction`) and
 * the frame label (dataset `label`) at the plot's top right, on a transparent background with no
 * axes or frame.
 *
 * @category report
 */
export const frameSpec = (figure: AnimationFigure, xs: [number, number], ys: [number, number]): TopLevelSpec => ({
  width: WIDTH,
  height: HEIGHT,
  autosize: { type: 'none' },
  padding: PADDING,
  background: 'transparent',
  config: { view: { stroke: null } },
  layer: [
    {
      data: { name: 'prediction' },
      mark: { type: 'line', clip: true, strokeWidth: 2, aria: false },
      encoding: axes(figure, xs, ys, false),
    },
    {
      data: { name: 'label' },
      mark: { type: 'text', align: 'right', baseline: 'bottom', x: WIDTH, y: -4, fontSize: 12, fontWeight: 'bold', fill: COLORS.prediction },
      encoding: { text: { field: 'label', type: 'nominal' } },
    },
  ],
})

/**
 * The SMIL markup that shows frame `k` of `n` during its slot of a loop of `n` frames plus a hold on
 * the last one. `calcMode="discrete"` jumps between `hidden` and `visible` at the `keyTimes`.
 */
const visibilityAnimation = (k: number, n: number): string => {
  const step = frameSeconds(n)
  const total = n * step + HOLD_LAST_SECONDS
  const at = (seconds: number): string => String(Number((seconds / total).toFixed(6)))
  const timing = k === 0
    ? { values: 'visible;hidden', keyTimes: `0;${at(step)}` }
    : k === n - 1
      ? { values: 'hidden;visible', keyTimes: `0;${at(k * step)}` }
      : { values: 'hidden;visible;hidden', keyTimes: `0;${at(k * step)};${at((k + 1) * step)}` }
  return `<animate attributeName="visibility" calcMode="discrete" dur="${total.toFixed(3)}s" repeatCount="indefinite" values="${timing.values}" keyTimes="${timing.keyTimes}"/>`
}

/**
 * Renders an `animation` figure: one SVG whose prediction line steps through the epochs (at most
 * {@link MAX_FRAMES} frames, subsampled evenly), looping. Frames are `<g class="frame">` elements,
 * each with one SMIL `<animate attributeName="visibility">`; with a single frame there is nothing
 * to animate and the figure is a still.
 *
 * @throws ValueError when truth or a frame does not have one value per x
 * @category report
 */
export const renderAnimation = async (figure: AnimationFigure): Promise<string> => {
  check(figure)
  const chosen = pickFrames(figure.frames.length)
  const xs = extent(finite(figure.x))
  const ys = yDomain(figure, chosen.map((i) => figure.frames[i]))
  const still = await renderVegaLite(stillSpec(figure, xs, ys))
  const overlay = await openView(frameSpec(figure, xs, ys))
  const overlays: string[] = []
  try {
    for (const [k, epoch] of chosen.entries()) {
      const svg = await overlay.render({
        prediction: points(figure.x, figure.frames[epoch], 'prediction'),
        label: [{ label: frameTitle(figure, epoch) }],
      })
      const last = k === chosen.length - 1
      const animate = chosen.length > 1 ? visibilityAnimation(k, chosen.length) : ''
      overlays.push(`<g class="frame" data-frame="${epoch + 1}" visibility="${last ? 'visible' : 'hidden'}">${animate}${innerSvg(svg)}</g>`)
    }
  } finally {
    overlay.close()
  }
  const close = still.lastIndexOf('</svg>')
  return `${still.slice(0, close)}${overlays.join('')}</svg>`
}
