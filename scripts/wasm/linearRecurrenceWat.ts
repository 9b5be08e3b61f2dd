/**
 * @file WebAssembly text of the first-order linear recurrence `h_t = a_t ⊙ h_{t−1} + b_t` and its
 * reverse (build-time only), real and complex, over rows of `size` elements. Every element is
 * computed in f64 and rounded once when stored, as the JavaScript kernels do (a float32 product is
 * exact in a double), so both give the same bits; the backward carry stays in f64 between steps.
 * Two elements move per iteration as one f64x2: two reals, or one complex (re, im) pair.
 */
import { type LaneType, get, i32, set, shiftOf } from './wat.js'

/** The two elements at `p` as an f64x2. */
const loadPair = (t: LaneType, p: string): string =>
  t.scalar === 'f32' ? `(f64x2.promote_low_f32x4 (v128.load64_zero ${p}))` : `(v128.load ${p})`

/** Stores the f64x2 `v` at `p`, rounded to the element type. */
const storePair = (t: LaneType, p: string, v: string): string =>
  t.scalar === 'f32' ? `(v128.store64_lane 0 ${p} (f32x4.demote_f64x2_zero ${v}))` : `(v128.store ${p} ${v})`

const loadOne = (t: LaneType, p: string): string => (t.scalar === 'f32' ? `(f64.promote_f32 (f32.load ${p}))` : `(f64.load ${p})`)
const storeOne = (t: LaneType, p: string, v: string): string => (t.scalar === 'f32' ? `(f32.store ${p} (f32.demote_f64 ${v}))` : `(f64.store ${p} ${v})`)

const lane = (name: string, k: 0 | 1): string => `(f64x2.splat (f64x2.extract_lane ${k} ${get(name)}))`
/** (x.im, −x.re): i·x̅'s lanes as the complex products below use them. */
const swapNegated = (v: string): string => `(f64x2.mul (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${v} ${v}) (v128.const f64x2 1 -1))`

/** p + bytes, as an i32 expression. */
const at = (p: string, bytes: string): string => `(i32.add ${get(p)} ${bytes})`

/**
 * The loop over a row's element pairs: `body(offset)` for offsets 0, 16 / 8 bytes per pair…, then,
 * for a real row of odd length, `tail(offset)` for the last element.
 */
const rowLoop = (t: LaneType, body: (off: string) => string, tail: ((off: string) => string) | null): string => `
      ${set('k', i32(0))}
      (block $pairsDone
        (br_if $pairsDone (i32.lt_u ${get('size')} (i32.const 2)))
        (loop $pairs
          ${body(get('off'))}
          ${set('off', `(i32.add ${get('off')} ${i32(2 * t.bytes)})`)}
          ${set('k', `(i32.add ${get('k')} (i32.const 2))`)}
          (br_if $pairs (i32.le_u (i32.add ${get('k')} (i32.const 2)) ${get('size')}))))
      ${tail === null ? '' : `(if (i32.lt_u ${get('k')} ${get('size')}) (then ${tail(get('off'))}))`}`

/**
 * `linearRecurrence[Complex]_${t}(a, b, prev, out, time, size)`: row t of out is
 * a_t ⊙ h_{t−1} + b_t, h_{−1} being the row at `prev` and h_{t−1} otherwise out's row t − 1.
 */
const forward = (t: LaneType, complex: boolean): string => {
  const name = `linearRecurrence${complex ? 'Complex' : ''}_${t.scalar}`
  const value = (off: string): string => {
    const [A, P, B] = [loadPair(t, at('a', off)), loadPair(t, at('h', off)), loadPair(t, at('b', off))]
    if (!complex) return `(f64x2.add (f64x2.mul ${A} ${P}) ${B})`
    // (ar·hr − ai·hi, ar·hi + ai·hr) + b, in the JavaScript kernel's order of operations.
    const first = `(f64x2.mul (f64x2.splat (f64x2.extract_lane 0 (local.tee $va ${A}))) (local.tee $vp ${P}))`
    return `(f64x2.add (f64x2.add ${first} (f64x2.mul ${lane('va', 1)} (f64x2.neg ${swapNegated(get('vp'))}))) ${B})`
  }
  return `
  (func $${name} (export "${name}") (param $a i32) (param $b i32) (param $prev i32) (param $out i32) (param $time i32) (param $size i32)
    (local $row i32) (local $t i32) (local $k i32) (local $off i32) (local $h i32) (local $va v128) (local $vp v128)
    ${set('row', `(i32.shl ${get('size')} ${i32(shiftOf(t))})`)}
    ${set('h', get('prev'))}
    (block $done
      (br_if $done (i32.eqz ${get('time')}))
      (loop $steps
        ${set('off', i32(0))}
        ${rowLoop(t, (off) => storePair(t, at('out', off), value(off)), complex ? null : (off) =>
          storeOne(t, at('out', off), `(f64.add (f64.mul ${loadOne(t, at('a', off))} ${loadOne(t, at('h', off))}) ${loadOne(t, at('b', off))})`))}
        ${set('h', get('out'))}
        ${['a', 'b', 'out'].map((p) => set(p, at(p, get('row')))).join(' ')}
        ${set('t', `(i32.add ${get('t')} (i32.const 1))`)}
        (br_if $steps (i32.lt_u ${get('t')} ${get('time')})))))`
}

/**
 * `linearRecurrenceBackward[Complex]_${t}(g, a, prev, da, db, carry, time, size)`, last row first:
 * λ_t = g_t + carry, db_t = λ_t, da_t = λ_t ⊙ h̅_{t−1} (prev's row t), carry = a̅_t ⊙ λ_t. `carry`
 * holds `size` f64 (zero, or the carry of the rows after these) and is left holding a̅_0 ⊙ λ_0.
 */
const backward = (t: LaneType, complex: boolean): string => {
  const name = `linearRecurrenceBackward${complex ? 'Complex' : ''}_${t.scalar}`
  const carryAt = (off: string): string => `(i32.add ${get('carry')} (i32.shl ${off} ${i32(3 - shiftOf(t))}))`
  /** x̅ ⊙ λ as f64x2 from the pair x: (xr·lr + xi·li, xr·li − xi·lr). */
  const conjTimes = (x: string): string => complex
    ? `(f64x2.add (f64x2.mul (f64x2.splat (f64x2.extract_lane 0 (local.tee $vx ${x}))) ${get('vl')}) (f64x2.mul ${lane('vx', 1)} ${swapNegated(get('vl'))}))`
    : `(f64x2.mul ${x} ${get('vl')})`
  const body = (off: string): string => `
          ${set('vl', `(f64x2.add ${loadPair(t, at('g', off))} (v128.load ${carryAt(off)}))`)}
          ${storePair(t, at('db', off), get('vl'))}
          ${storePair(t, at('da', off), complex ? conjTimes(loadPair(t, at('prev', off))) : `(f64x2.mul ${get('vl')} ${loadPair(t, at('prev', off))})`)}
          (v128.store ${carryAt(off)} ${conjTimes(loadPair(t, at('a', off)))})`
  const tail = (off: string): string => `
          ${set('l', `(f64.add ${loadOne(t, at('g', off))} (f64.load ${carryAt(off)}))`)}
          ${storeOne(t, at('db', off), get('l'))}
          ${storeOne(t, at('da', off), `(f64.mul ${get('l')} ${loadOne(t, at('prev', off))})`)}
          (f64.store ${carryAt(off)} (f64.mul ${loadOne(t, at('a', off))} ${get('l')}))`
  const pointers = ['g', 'a', 'prev', 'da', 'db']
  return `
  (func $${name} (export "${name}") (param $g i32) (param $a i32) (param $prev i32) (param $da i32) (param $db i32) (param $carry i32) (param $time i32) (param $size i32)
    (local $row i32) (local $t i32) (local $k i32) (local $off i32) (local $l f64) (local $vl v128) (local $vx v128)
    ${set('row', `(i32.shl ${get('size')} ${i32(shiftOf(t))})`)}
    (block $done
      (br_if $done (i32.eqz ${get('time')}))
      ;; Start at the last row.
      ${pointers.map((p) => set(p, at(p, `(i32.mul ${get('row')} (i32.sub ${get('time')} (i32.const 1)))`))).join(' ')}
      ${set('t', get('time'))}
      (loop $steps
        ${set('off', i32(0))}
        ${rowLoop(t, body, complex ? null : tail)}
        ${pointers.map((p) => set(p, `(i32.sub ${get(p)} ${get('row')})`)).join(' ')}
        ${set('t', `(i32.sub ${get('t')} (i32.const 1))`)}
        (br_if $steps (i32.gt_u ${get('t')} (i32.const 0))))))`
}

/** The four recurrence kernels for one element type. */
export const linearRecurrenceWat = (t: LaneType): string[] => [forward(t, false), forward(t, true), backward(t, false), backward(t, true)]
