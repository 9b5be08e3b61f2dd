/**
 * @file The heatmap figure: rectangles, titles and legend in the SVG; values a log scale cannot
 * show are left out; long axes pooled into group means; the shape check.
 */
import { describe, expect, it } from 'vitest'
import { ValueError } from '../../src/errors.js'
import { MAX_HEATMAP_CELLS, poolGroups } from '../../src/report/heatmap.js'
import { heatmapSpec, renderFigure } from '../../src/report/index.js'
import { count, firstImbalance } from './markup.js'

type Cell = { x: number; y: number; value: number }
const cellsOf = (spec: ReturnType<typeof heatmapSpec>): Cell[] => (spec as { data: { values: Cell[] } }).data.values

describe('report.renderFigure (heatmap)', () => {
  const base = { kind: 'heatmap' as const, title: 'Gradient flow', xLabel: 'step', yLabel: 'epoch', valueLabel: '‖∂L/∂c_t‖' }

  it('draws one rectangle per value with the axis titles and a legend', async () => {
    const svg = await renderFigure({ ...base, x: [1, 2, 3], y: [1, 2], values: [[1e-3, 1e-2, 1], [2e-3, 3e-2, 2]], logScale: true })
    expect(firstImbalance(svg)).toBeNull()
    for (const text of ['Gradient flow', 'step', 'epoch', '‖∂L/∂c_t‖']) expect(svg).toContain(`>${text}</text>`)
    expect(count(svg, /aria-roledescription="rect mark"/)).toBe(6)
  })

  it('leaves out what a log scale cannot show, and pools long axes into group means (geometric on a log scale)', () => {
    const spec = heatmapSpec({ ...base, x: [1, 2], y: [1], values: [[0, Number.NaN]], logScale: true })
    expect(cellsOf(spec)).toEqual([])
    const steps = 2 * MAX_HEATMAP_CELLS
    const pooled = cellsOf(heatmapSpec({ ...base, x: Array.from({ length: steps }, (_, i) => i + 1), y: [1], values: [Array.from({ length: steps }, (_, i) => (i % 2 === 0 ? 1 : 100))], logScale: true }))
    expect(pooled.length).toBe(MAX_HEATMAP_CELLS)
    expect([pooled[0].x, pooled[0].y]).toEqual([1, 1])
    expect(pooled[0].value).toBeCloseTo(10, 12)
    expect(pooled[1].x).toBe(3)
    const linear = cellsOf(heatmapSpec({ ...base, x: Array.from({ length: steps }, (_, i) => i + 1), y: [1], values: [Array.from({ length: steps }, (_, i) => (i % 2 === 0 ? 1 : 100))] }))
    expect(linear[0].value).toBe(50.5)
    expect(poolGroups(5, 2)).toEqual([[0, 1], [2, 3, 4]])
    expect(poolGroups(2, 5)).toEqual([[0], [1]])
  })

  it('rejects values that are not y × x', () => {
    expect(() => heatmapSpec({ ...base, x: [1, 2], y: [1, 2], values: [[1, 2]] })).toThrow(ValueError)
    expect(() => heatmapSpec({ ...base, x: [1, 2], y: [1], values: [[1]] })).toThrow('report.heatmap ("Gradient flow"): values row 0 has 1 entries, expected 2 (one per x).')
  })
})
