/**
 * @file Test helpers for generated markup: a small tag-balance checker (no XML parser is installed)
 * and counting.
 */

const VOID_HTML = new Set(['meta', 'link', 'br', 'hr', 'img', 'input', 'col', 'area', 'base', 'source', 'wbr', 'track', 'embed', 'param'])

/**
 * Checks that every element is closed in order and attributes are quoted: scans tags left to right
 * with a stack. Self-closing tags (`<x/>`) and HTML void elements need no closing tag. Returns the
 * first problem found, or null when the markup is balanced.
 */
export const firstImbalance = (markup: string, { html = false } = {}): string | null => {
  const stack: string[] = []
  // Comments and the doctype carry no elements.
  const text = markup.replace(/<!--[\s\S]*?-->/g, '').replace(/<!DOCTYPE[^>]*>/i, '')
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*(\/?)>/g
  let consumed = 0
  for (const m of text.matchAll(tag)) {
    const between = text.slice(consumed, m.index)
    if (between.includes('<')) return `unparsed "<" near ${JSON.stringify(between.slice(between.indexOf('<'), between.indexOf('<') + 40))}`
    consumed = m.index + m[0].length
    const [, closing, name, , selfClosing] = m
    if (closing === '/') {
      const open = stack.pop()
      if (open !== name) return `</${name}> closes <${open ?? 'nothing'}>`
    } else if (selfClosing !== '/' && !(html && VOID_HTML.has(name.toLowerCase()))) {
      stack.push(name)
    }
  }
  if (text.slice(consumed).includes('<')) return 'unparsed "<" at the end'
  return stack.length === 0 ? null : `unclosed <${stack.join('>, <')}>`
}

/** How many times `needle` occurs in `haystack` (non-overlapping). */
export const count = (haystack: string, needle: string | RegExp): number =>
  typeof needle === 'string' ? haystack.split(needle).length - 1 : [...haystack.matchAll(new RegExp(needle, 'g'))].length

/** Every URL-looking string (`http://…`, `https://…`) in the markup. */
export const urls = (markup: string): string[] => [...markup.matchAll(/https?:\/\/[^\s"'<>)]*/g)].map((m) => m[0])
