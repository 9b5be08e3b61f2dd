/**
 * @file WebAssembly text of the Adam step (build-time only): one pass over a leaf's gradient and
 * moments, in place. Each operation rounds in the lane type, with the constants rounded to it
 * first, exactly as the JavaScript kernel and the composition of elementwise ops do.
 */
import { type LaneType, get, i32, set } from './wat.js'

const CONSTANTS = ['b1', 'mb1', 'b2', 'mb2', 'c1', 'c2', 'eps'] as const

/**
 * `adam_${t.scalar}(g, m, v, n, β₁, 1 − β₁, β₂, 1 − β₂, ĉ₁, ĉ₂, ε)` on three regions of n elements:
 * m ← m·β₁ + g·(1 − β₁), v ← v·β₂ + g²·(1 − β₂), g ← (m·ĉ₁) / (√(v·ĉ₂) + ε), the update written
 * over g. Whole vectors: the regions must be padded to 16 bytes, and the padding lanes are
 * computed and written too.
 */
export const adamWat = (t: LaneType): string => {
  const v = t.vector
  const splat = (name: string) => `(${v}.splat ${t.scalar === 'f32' ? `(f32.demote_f64 ${get(name)})` : get(name)})`
  const load = (p: string) => `(v128.load ${get(p)})`
  return `
  (func $adam_${t.scalar} (export "adam_${t.scalar}") (param $g i32) (param $m i32) (param $v i32) (param $n i32)
      ${CONSTANTS.map((c) => `(param $${c} f64)`).join(' ')}
    (local $end i32) (local $gi v128) (local $mi v128) (local $vi v128)
    ${CONSTANTS.map((c) => `(local $${c}V v128)`).join(' ')}
    ${CONSTANTS.map((c) => set(`${c}V`, splat(c))).join('\n    ')}
    ${set('end', `(i32.add ${get('g')} (i32.shl ${get('n')} ${i32(Math.log2(t.bytes))}))`)}
    (block $done
      (br_if $done (i32.ge_u ${get('g')} ${get('end')}))
      (loop $vectors
        ${set('gi', load('g'))}
        ${set('mi', `(${v}.add (${v}.mul ${load('m')} ${get('b1V')}) (${v}.mul ${get('gi')} ${get('mb1V')}))`)}
        ${set('vi', `(${v}.add (${v}.mul ${load('v')} ${get('b2V')}) (${v}.mul (${v}.mul ${get('gi')} ${get('gi')}) ${get('mb2V')}))`)}
        (v128.store ${get('m')} ${get('mi')})
        (v128.store ${get('v')} ${get('vi')})
        (v128.store ${get('g')} (${v}.div (${v}.mul ${get('mi')} ${get('c1V')}) (${v}.add (${v}.sqrt (${v}.mul ${get('vi')} ${get('c2V')})) ${get('epsV')})))
        ${['g', 'm', 'v'].map((p) => set(p, `(i32.add ${get(p)} (i32.const 16))`)).join(' ')}
        (br_if $vectors (i32.lt_u ${get('g')} ${get('end')})))))`
}
