import { describe, expect, it } from 'vitest'
import { ValueError } from '../../src/errors.js'
import { confusionSpec, renderFigure } from '../../src/report/index.js'
import { count, firstImbalance } from './markup.js'

describe('report.renderFigure (confusion)', () => {
  const labels = ['cat', 'dog', 'bird']
  const counts = [[50, 3, 1], [4, 61, 0], [2, 7, 1234]]

  it('draws one cell per (true, predicted) pair with its count written in it', async () => {
    const svg = await renderFigure({ kind: 'confusion', title: 'Confusion (test)', labels, counts })
    expect(firstImbalance(svg)).toBeNull()
    expect(svg).toContain('>Confusion (test)</text>')
    for (const text of ['predicted', 'true', ...labels]) expect(svg).toContain(`>${text}</text>`)
    for (const n of counts.flat()) expect(svg).toContain(`>${n}</text>`)
    expect(count(svg, /aria-roledescription="rect mark"/)).toBe(9)
  })

  it('writes counts in white on the darker half of the colour scale', async () => {
    const svg = await renderFigure({ kind: 'confusion', title: 'c', labels, counts })
    expect(svg).toMatch(/fill="white"[^>]*>1234<\/text>/)
    expect(svg).toMatch(/fill="#222"[^>]*>61<\/text>/)
  })

  it('rejects counts that are not labels × labels, and repeated labels', () => {
    expect(() => confusionSpec({ kind: 'confusion', title: 'c', labels, counts: counts.slice(0, 2) })).toThrow(ValueError)
    expect(() => confusionSpec({ kind: 'confusion', title: 'c', labels, counts: [[1, 2, 3], [1, 2], [1, 2, 3]] })).toThrow(/row 1 has 2 entries, expected 3/)
    expect(() => confusionSpec({ kind: 'confusion', title: 'c', labels: ['a', 'a'], counts: [[1, 2], [3, 4]] })).toThrow(/labels must be distinct/)
  })
})
