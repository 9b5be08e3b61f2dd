import { describe, expect, it } from 'vitest'
import { innerSvg, renderVegaLite, scopeIds } from '../../src/report/vega.js'
import { urls } from './markup.js'

describe('report plumbing (vega.ts)', () => {
  it('scopeIds prefixes ids and every reference to them', () => {
    const svg = '<svg><g clip-path="url(#clip1)"><use href="#clip1"/></g><defs><clipPath id="clip1"/></defs></svg>'
    expect(scopeIds(svg, 'p')).toBe('<svg><g clip-path="url(#p-clip1)"><use href="#p-clip1"/></g><defs><clipPath id="p-clip1"/></defs></svg>')
  })

  it('innerSvg returns what is inside the outer <svg> element', () => {
    expect(innerSvg('<svg a="1"><g/><svg><rect/></svg></svg>')).toBe('<g/><svg><rect/></svg>')
    expect(() => innerSvg('<div/>')).toThrow(/expected one <svg> element/)
  })

  it('renders a vega-lite spec to an SVG whose only URL is the SVG namespace and whose ids are scoped', async () => {
    const svg = await renderVegaLite({
      data: { values: [{ a: 1, b: 2 }, { a: 2, b: 3 }] },
      mark: { type: 'line', clip: true },
      encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } },
    })
    expect(urls(svg)).toEqual(['http://www.w3.org/2000/svg'])
    expect(svg).toMatch(/<clipPath id="sg[0-9a-z]+-clip1">/)
    expect(svg).toMatch(/clip-path="url\(#sg[0-9a-z]+-clip1\)"/)
  })
})
