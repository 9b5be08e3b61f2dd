/**
 * @file Report plumbing: HTML escaping and number formatting. Pure string functions, no imports.
 */

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/**
 * Escapes text for HTML element content and quoted attribute values: `& < > " '` become entities,
 * so `<script>` in a title shows as text and never runs.
 *
 * @example escapeHtml('<b>') // '&lt;b&gt;'
 * @category report
 */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c)

/**
 * Formats a summary number for people: integers as they are, other values with 5 significant
 * digits (trailing zeros dropped), very large or small magnitudes in exponent form; NaN and ±∞ by
 * name.
 *
 * @example formatNumber(0.912345678) // '0.91235'
 * @category report
 */
export const formatNumber = (value: number): string => {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '∞' : '−∞'
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value)
  const magnitude = Math.abs(value)
  if (magnitude >= 1e-3 && magnitude < 1e6) return String(Number(value.toPrecision(5)))
  return value.toExponential(3)
}
