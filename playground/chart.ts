/**
 * @file Line charts on a canvas for the playground page: a few series of (x, y) points, axes with
 * round ticks, optionally a logarithmic y axis. Drawn whole each time (a few thousand points at
 * most), sized to the canvas's CSS box and the screen's pixel ratio.
 */

/** One line. */
export interface Series {
  readonly points: readonly (readonly [number, number])[]
  readonly color: string
  readonly width?: number
  /** Draw a dot at each point instead of a line (sparse series such as the held-out loss). */
  readonly dots?: boolean
}

export interface ChartOptions {
  readonly xLabel: string
  readonly yLabel: string
  readonly logY?: boolean
  /** Shown in the middle while there is nothing to draw. */
  readonly empty?: string
}

const MARGIN = { left: 56, right: 12, top: 10, bottom: 34 }

/** About `count` round numbers (1, 2 or 5 × 10ᵏ apart) covering [lo, hi]. */
const ticks = (lo: number, hi: number, count: number): number[] => {
  const raw = (hi - lo) / count
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw
  const out: number[] = []
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(t)
  return out
}

const label = (v: number): string => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-2) ? v.toExponential(0) : String(Number(v.toPrecision(3))))

/** Draws `series` on `canvas`, replacing what was there. */
export const drawChart = (canvas: HTMLCanvasElement, series: readonly Series[], options: ChartOptions): void => {
  const ratio = window.devicePixelRatio || 1
  const width = canvas.clientWidth
  const height = canvas.clientHeight
  canvas.width = Math.round(width * ratio)
  canvas.height = Math.round(height * ratio)
  const g = canvas.getContext('2d')
  if (g === null) return
  g.setTransform(ratio, 0, 0, ratio, 0, 0)
  g.clearRect(0, 0, width, height)
  g.font = '12px system-ui, sans-serif'
  g.fillStyle = '#555'

  const fy = options.logY === true ? Math.log10 : (y: number) => y
  const points = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(fy(y)))
  if (points.length === 0) {
    g.textAlign = 'center'
    g.fillText(options.empty ?? 'no data yet', width / 2, height / 2)
    return
  }
  const xs = points.map(([x]) => x)
  const ys = points.map(([, y]) => fy(y))
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)]
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)]
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5]
  const plotWidth = width - MARGIN.left - MARGIN.right
  const plotHeight = height - MARGIN.top - MARGIN.bottom
  const px = (x: number): number => MARGIN.left + ((x - x0) / (x1 - x0)) * plotWidth
  const py = (y: number): number => MARGIN.top + (1 - (fy(y) - y0) / (y1 - y0)) * plotHeight

  g.strokeStyle = '#ddd'
  g.lineWidth = 1
  g.textAlign = 'right'
  g.textBaseline = 'middle'
  for (const t of ticks(y0, y1, 4)) {
    const y = MARGIN.top + (1 - (t - y0) / (y1 - y0)) * plotHeight
    g.beginPath()
    g.moveTo(MARGIN.left, y)
    g.lineTo(width - MARGIN.right, y)
    g.stroke()
    g.fillText(label(options.logY === true ? 10 ** t : t), MARGIN.left - 6, y)
  }
  g.textAlign = 'center'
  g.textBaseline = 'top'
  for (const t of ticks(x0, x1, 5)) g.fillText(label(t), px(t), height - MARGIN.bottom + 6)
  g.fillText(options.xLabel, MARGIN.left + plotWidth / 2, height - 14)
  g.save()
  g.translate(12, MARGIN.top + plotHeight / 2)
  g.rotate(-Math.PI / 2)
  g.fillText(options.yLabel, 0, -6)
  g.restore()

  for (const s of series) {
    const visible = s.points.filter(([, y]) => Number.isFinite(fy(y)))
    g.strokeStyle = s.color
    g.fillStyle = s.color
    g.lineWidth = s.width ?? 1.5
    if (s.dots === true) {
      for (const [x, y] of visible) {
        g.beginPath()
        g.arc(px(x), py(y), 3, 0, 2 * Math.PI)
        g.fill()
      }
      continue
    }
    g.beginPath()
    visible.forEach(([x, y], i) => (i === 0 ? g.moveTo(px(x), py(y)) : g.lineTo(px(x), py(y))))
    g.stroke()
  }
}
