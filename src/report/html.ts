/**
 * @file Report plumbing: HTML escaping and number formatting. Pure string functions, no imports.
 */

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/**
 * Escapes text for HTML element content and quoted attribute values: `& < > " '` become entities,
 * so `<script>` in a title shows as text and never runs.
 *
 * @example
 * ```ts
 * console.log(report.escapeHtml(`<script>alert("hi")</script> & 'more'`))
 * // &lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; &#39;more&#39;
 * ```
 * @category report
 */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c)

/**
 * Formats a summary number for people: integers as they are, other values with 5 significant
 * digits (trailing zeros dropped), very large or small magnitudes in exponent form; NaN and ±∞ by
 * name.
 *
 * @example
 * ```ts
 * console.log([0.912345678, 60000, 1234567.8, 0.00001234, NaN, -Infinity].map(report.formatNumber))
 * // ['0.91235', '60000', '1.235e+6', '1.234e-5', 'NaN', '−∞']
 * ```
 * @category report
 */
export const formatNumber = (value: number): string => {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '∞' : '−∞'
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value)
  const magnitude = Math.abs(value)
  if (magnitude >= 1e-3 && magnitude < 1e6) return String(Number(value.toPrecision(5)))
  return value.toExponential(3)
}
