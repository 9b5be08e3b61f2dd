import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ValueError } from '../../src/errors.js'
import { MAX_POINTS_PER_SERIES, decimate, linesSpec, renderFigure } from '../../src/report/index.js'
import { count, firstImbalance } from './markup.js'

const epochs = [1, 2, 3, 4, 5]

describe('report.renderFigure (lines)', () => {
  it('draws an <svg> with the title, axis titles and one legend entry per series', async () => {
    const svg = await renderFigure({
      kind: 'lines', title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'binary cross-entropy',
      series: [{ name: 'train', x: epochs, y: [0.9, 0.5, 0.3, 0.2, 0.15] }, { name: 'validation', x: epochs, y: [1, 0.6, 0.4, 0.3, 0.28] }],
    })
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    expect(firstImbalance(svg)).toBeNull()
    for (const text of ['Loss per epoch', 'epoch', 'binary cross-entropy', 'train', 'validation']) expect(svg).toContain(`>${text}</text>`)
    expect(svg).toMatch(/legend[^"]* with 2 values: train, validation"/)
    expect(count(svg, /aria-roledescription="line mark"/)).toBe(2)
    expect(svg).toContain('for a linear scale')
  })

  it('puts y on a log scale when logY is set, dropping values a log axis cannot show', async () => {
    const svg = await renderFigure({
      kind: 'lines', title: 'MSE', xLabel: 'epoch', yLabel: 'MSE (log)', logY: true,
      series: [{ name: 'train', x: epochs, y: [1, 0.1, 0, -1, 0.001] }],
    })
    expect(svg).toMatch(/Y-axis titled 'MSE \(log\)' for a log scale/)
    expect(svg).not.toContain('NaN')
    const spec = linesSpec({ kind: 'lines', title: 'MSE', xLabel: 'epoch', yLabel: 'MSE', logY: true, series: [{ name: 'train', x: epochs, y: [1, 0.1, 0, -1, 0.001] }] })
    expect((spec as { data: { values: unknown[] } }).data.values).toHaveLength(3)
  })

  it('skips NaN and infinite points instead of failing (a diverged run still gets its report)', async () => {
    const svg = await renderFigure({ kind: 'lines', title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', x: epochs, y: [1, NaN, Infinity, 2, 3] }] })
    expect(svg).not.toMatch(/NaN|Infinity/)
  })

  it('renders an empty figure (no series) without throwing', async () => {
    const svg = await renderFigure({ kind: 'lines', title: 'nothing yet', xLabel: 'x', yLabel: 'y', series: [] })
    expect(svg).toContain('>nothing yet</text>')
  })

  it('rejects a series whose x and y differ in length, naming it', () => {
    const bad = { kind: 'lines', title: 'Fit', xLabel: 'x', yLabel: 'y', series: [{ name: 'truth', x: [1, 2, 3], y: [1, 2] }] } as const
    expect(() => linesSpec(bad)).toThrow(ValueError)
    expect(() => linesSpec(bad)).toThrow(/series 0 \("truth"\) of "Fit" has 3 x values but 2 y values/)
  })

  it('thins a long series to at most MAX_POINTS_PER_SERIES points', () => {
    const n = 13_509
    const x = Array.from({ length: n }, (_, i) => i)
    const spec = linesSpec({ kind: 'lines', title: 'weather', xLabel: 'day', yLabel: 'tmax', series: [{ name: 'tmax', x, y: x.map((i) => Math.sin(i / 50)) }] })
    expect((spec as { data: { values: unknown[] } }).data.values.length).toBeLessThanOrEqual(MAX_POINTS_PER_SERIES)
  })
})

describe('report.decimate', () => {
  it('keeps increasing indices, at most max of them, including the global minimum and maximum', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 2, max: 64 }), (y, max) => {
        const kept = decimate(y, max)
        expect(kept.length).toBeLessThanOrEqual(Math.max(max, y.length <= max ? y.length : 0))
        for (let i = 1; i < kept.length; i++) expect(kept[i]).toBeGreaterThan(kept[i - 1])
        const values = kept.map((i) => y[i])
        expect(Math.min(...values)).toBe(Math.min(...y))
        expect(Math.max(...values)).toBe(Math.max(...y))
      }),
      { numRuns: 50, seed: 4242 },
    )
  })

  it('returns every index when the curve is short enough', () => {
    expect(decimate([3, 1, 2], 10)).toEqual([0, 1, 2])
  })
})
