/**
 * @file WebAssembly text of the elementwise kernels (build-time only): binary operations over
 * same-shape operands, neg / abs / square / sqrt / relu, exp / tanh / sigmoid, and full sums. Loops
 * run over whole blocks of up to 64 bytes: the JavaScript side lays each operand out in a region
 * padded to 64 bytes, so a last partial block reads and writes only padding, never copied out.
 */
import { type LaneType, f64x2, get, i32, range, set } from './wat.js'

// ---- binary operations ----

/** The vector expression of each binary operation, matching `jsKernels.binary` lane for lane. */
const binaryBody = (t: LaneType, op: string, p: string, q: string): string => {
  const v = t.vector
  const one = `(${v}.splat (${t.scalar}.const 1))`
  switch (op) {
    case 'add': case 'sub': case 'mul': case 'div':
      return `(${v}.${op} ${p} ${q})`
    // `p >= q ? p : q`, not fmax: a NaN in p yields q, and max(-0, +0) is -0, as in JavaScript.
    case 'maximum': return `(v128.bitselect ${p} ${q} (${v}.ge ${p} ${q}))`
    case 'minimum': return `(v128.bitselect ${p} ${q} (${v}.le ${p} ${q}))`
    case 'greater': return `(v128.and (${v}.gt ${p} ${q}) ${one})`
    case 'greaterEqual': return `(v128.and (${v}.ge ${p} ${q}) ${one})`
    case 'equal': return `(v128.and (${v}.eq ${p} ${q}) ${one})`
    default: throw new Error(`binaryBody: unknown operation ${op}`)
  }
}

/** The binary operations the module implements: every `BinaryOp`. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'greater', 'greaterEqual', 'equal'] as const

/** `out[i] = a[i] op b[i]` for the `n` elements (rounded up to whole vectors). */
const binary = (t: LaneType, op: string): string => `
  (func (export "${op}_${t.scalar}") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $end i32)
    ${set('end', `(i32.add ${get('out')} (i32.shl ${get('n')} ${i32(Math.log2(t.bytes))}))`)}
    (block $done
      (br_if $done (i32.ge_u ${get('out')} ${get('end')}))
      (loop $vectors
        (v128.store ${get('out')} ${binaryBody(t, op, `(v128.load ${get('a')})`, `(v128.load ${get('b')})`)})
        ${set('a', `(i32.add ${get('a')} (i32.const 16))`)}
        ${set('b', `(i32.add ${get('b')} (i32.const 16))`)}
        (br_if $vectors (i32.lt_u (local.tee $out (i32.add ${get('out')} (i32.const 16))) ${get('end')})))))`

// ---- exact unary operations ----

/**
 * Unary operations that are exact (or correctly rounded) in the element type itself, so the vector
 * result equals the JavaScript kernels' bit for bit: relu maps NaN and −0 to +0 as `x > 0 ? x : 0` does.
 */
const simpleBody = (t: LaneType, op: string, x: string): string => {
  const v = t.vector
  switch (op) {
    case 'neg': return `(${v}.neg ${x})`
    case 'abs': return `(${v}.abs ${x})`
    case 'square': return `(${v}.mul ${x} ${x})`
    case 'sqrt': return `(${v}.sqrt ${x})`
    case 'relu': return `(v128.and ${x} (${v}.gt ${x} (v128.const i64x2 0 0)))`
    default: throw new Error(`simpleBody: unknown operation ${op}`)
  }
}

/** The exact unary operations the module implements. */
export const SIMPLE_OPS = ['neg', 'abs', 'square', 'sqrt', 'relu'] as const

/** `out[i] = op(x[i])` for `n` elements (rounded up to whole vectors). */
const simpleMap = (t: LaneType, op: string): string => `
  (func (export "${op}_${t.scalar}") (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) (local $v v128)
    ${set('end', `(i32.add ${get('out')} (i32.shl ${get('n')} ${i32(Math.log2(t.bytes))}))`)}
    (block $done
      (br_if $done (i32.ge_u ${get('out')} ${get('end')}))
      (loop $vectors
        ${set('v', `(v128.load ${get('x')})`)}
        (v128.store ${get('out')} ${simpleBody(t, op, get('v'))})
        ${set('x', `(i32.add ${get('x')} (i32.const 16))`)}
        (br_if $vectors (i32.lt_u (local.tee $out (i32.add ${get('out')} (i32.const 16))) ${get('end')})))))`

// ---- transcendental functions on f64x2 ----
// Each emitter writes code computing the local `out` from the local `x` (both v128 holding f64x2)
// and lists the locals it needs, all named with the prefix `p` so that several independent copies
// can run interleaved in one loop iteration (their long multiply-add chains then overlap).

interface Emitted {
  readonly locals: readonly string[]
  readonly code: readonly string[]
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1))

/** Horner's rule: Σ coefficients[i]·yⁱ. */
const horner = (y: string, coefficients: readonly number[]): string =>
  coefficients.slice(0, -1).reduceRight(
    (acc, c) => `(f64x2.add (f64x2.mul ${acc} ${y}) ${f64x2(c)})`,
    f64x2(coefficients[coefficients.length - 1]),
  )

/**
 * `x` clamped to [lo, hi] with pmin/pmax (`b < a ? b : a`), which V8 compiles to one instruction
 * each where min/max need a NaN- and ±0-correcting sequence; a NaN in x still comes out NaN.
 */
const clamp = (x: string, lo: number, hi: number): string => `(f64x2.pmin (f64x2.pmax ${x} ${f64x2(lo)}) ${f64x2(hi)})`

// ln 2 = LN2_HI + LN2_LO to about 2⁻¹⁰⁰ (Cody–Waite). LN2_HI ends in 21 zero bits, so n·LN2_HI is
// exact for |n| < 2²¹ and r = x − n·ln 2 loses nothing to cancellation.
const LN2_HI = '0x1.62e42fee00000p-1'
const LN2_LO = '0x1.a39ef35793c76p-33'
/** 1.5·2⁵²: adding it rounds a double of magnitude < 2⁵¹ to an integer held in the low mantissa bits. */
const ROUNDER = 0x18000000000000
const ROUNDER_BITS = '0x4338000000000000'

/**
 * exp(x) = 2ⁿ·exp(r), n = round(x / ln 2), |r| ≤ ln2 / 2, exp(r) by its Taylor polynomial of
 * t.expDegree. 2ⁿ is applied as two powers of two (n = n₁ + n₂), so results that underflow to
 * subnormals round once, and each stays a valid exponent over the clamped range x ∈ [−746, 710]
 * (beyond it exp is 0 or ∞ anyway).
 */
const emitExp = (t: LaneType, x: string, out: string, p: string): Emitted => {
  const L = (s: string) => `${p}${s}`
  const magicBits = `(v128.const i64x2 ${ROUNDER_BITS} ${ROUNDER_BITS})`
  const bias = `(v128.const i64x2 1023 1023)`
  const twoTo = (k: string) => `(i64x2.shl (i64x2.add ${k} ${bias}) (i32.const 52))`
  const coefficients = range(t.expDegree + 1).map((i) => 1 / factorial(i))
  return {
    locals: [L('x'), L('t'), L('n'), L('r'), L('k'), L('k1')],
    code: [
      set(L('x'), clamp(get(x), -746, 710)),
      set(L('t'), `(f64x2.add (f64x2.mul ${get(L('x'))} ${f64x2(Math.LOG2E)}) ${f64x2(ROUNDER)})`),
      set(L('n'), `(f64x2.sub ${get(L('t'))} ${f64x2(ROUNDER)})`),
      set(L('r'), `(f64x2.sub (f64x2.sub ${get(L('x'))} (f64x2.mul ${get(L('n'))} (v128.const f64x2 ${LN2_HI} ${LN2_HI}))) (f64x2.mul ${get(L('n'))} (v128.const f64x2 ${LN2_LO} ${LN2_LO})))`),
      set(L('k'), `(i64x2.sub ${get(L('t'))} ${magicBits})`),
      set(L('k1'), `(i64x2.shr_s ${get(L('k'))} (i32.const 1))`),
      set(out, `(f64x2.mul (f64x2.mul ${horner(get(L('r')), coefficients)} ${twoTo(get(L('k1')))}) ${twoTo(`(i64x2.sub ${get(L('k'))} ${get(L('k1'))})`)})`),
    ],
  }
}

const SIGN_MASK = '(v128.const i64x2 0x8000000000000000 0x8000000000000000)'

/**
 * tanh(x) = sign(x)·τ(|x|), τ(a) = N/D with one division: for a < 0.625, N/D = sinh(a)/cosh(a) from
 * their Taylor series (there e^{2a} − 1 would cancel); above, N/D = (e^{2a} − 1)/(e^{2a} + 1) with
 * 2a clamped to 40, where τ already rounds to 1 in float64 and e^{2a} stays finite. Both branches
 * run and a mask picks per lane.
 */
const emitTanh = (t: LaneType, x: string, out: string, p: string): Emitted => {
  const L = (s: string) => `${p}${s}`
  const exp = emitExp(t, L('2a'), L('e'), `${p}e_`)
  const sinh = range((t.sinhDegree + 1) / 2).map((i) => 1 / factorial(2 * i + 1))
  const cosh = range((t.sinhDegree + 3) / 2).map((i) => 1 / factorial(2 * i))
  const one = f64x2(1)
  return {
    locals: [L('a'), L('y'), L('2a'), L('e'), L('small'), ...exp.locals],
    code: [
      set(L('a'), `(f64x2.abs ${get(x)})`),
      set(L('y'), `(f64x2.mul ${get(L('a'))} ${get(L('a'))})`),
      set(L('2a'), `(f64x2.pmin (f64x2.add ${get(L('a'))} ${get(L('a'))}) ${f64x2(40)})`),
      ...exp.code,
      set(L('small'), `(f64x2.lt ${get(L('a'))} ${f64x2(0.625)})`),
      set(out, `(f64x2.div
          (v128.bitselect (f64x2.mul ${get(L('a'))} ${horner(get(L('y')), sinh)}) (f64x2.sub ${get(L('e'))} ${one}) ${get(L('small'))})
          (v128.bitselect ${horner(get(L('y')), cosh)} (f64x2.add ${get(L('e'))} ${one}) ${get(L('small'))}))`),
      set(out, `(v128.or ${get(out)} (v128.and ${get(x)} ${SIGN_MASK}))`),
    ],
  }
}

/** σ(x) with e = exp(−|x|): 1/(1 + e) for x ≥ 0, e/(1 + e) below, as the JavaScript kernel does. */
const emitSigmoid = (t: LaneType, x: string, out: string, p: string): Emitted => {
  const L = (s: string) => `${p}${s}`
  const exp = emitExp(t, L('m'), L('e'), `${p}e_`)
  return {
    locals: [L('m'), L('e'), ...exp.locals],
    code: [
      set(L('m'), `(f64x2.neg (f64x2.abs ${get(x)}))`),
      ...exp.code,
      set(out, `(f64x2.div (v128.bitselect ${f64x2(1)} ${get(L('e'))} (f64x2.ge ${get(x)} ${f64x2(0)})) (f64x2.add ${f64x2(1)} ${get(L('e'))}))`),
    ],
  }
}

const MATH = { exp: emitExp, tanh: emitTanh, sigmoid: emitSigmoid } as const
/** The transcendental functions the module implements (in f64 lanes). */
export const MATH_OPS = Object.keys(MATH) as (keyof typeof MATH)[]

/** Independent f64x2 chains per loop iteration: enough to hide the multiply-add latency. */
const CHAINS = 4

/**
 * `out[i] = f(x[i])` over `n` elements, 64 bytes per iteration. float32 lanes are promoted to f64,
 * computed there and rounded once on the way back, like `Math.f` on a float32 element in the
 * JavaScript kernels.
 */
const mathMap = (t: LaneType, name: keyof typeof MATH): string => {
  const chains = range(CHAINS).map((i) => ({ in: `in${i}`, out: `out${i}`, ...MATH[name](t, `in${i}`, `out${i}`, `c${i}_`) }))
  const locals = chains.flatMap((c) => [c.in, c.out, ...c.locals])
  const vectors = 64 / 16
  const load = t.scalar === 'f64'
    ? range(vectors).map((v) => set(`in${v}`, `(v128.load offset=${v * 16} ${get('x')})`))
    // float32: vector v (4 lanes) feeds chains 2v (low lanes) and 2v + 1 (high lanes); 32 bytes.
    : range(vectors / 2).flatMap((v) => [
      set(`in${2 * v}`, `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${v * 16} ${get('x')}))`),
      set(`in${2 * v + 1}`, `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${v * 16 + 8} ${get('x')}))`),
    ])
  const store = t.scalar === 'f64'
    ? range(vectors).map((v) => `(v128.store offset=${v * 16} ${get('out')} ${get(`out${v}`)})`)
    : range(vectors / 2).map((v) =>
      `(v128.store offset=${v * 16} ${get('out')} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero ${get(`out${2 * v}`)}) (f32x4.demote_f64x2_zero ${get(`out${2 * v + 1}`)})))`)
  const step = t.scalar === 'f64' ? 64 : 32
  return `
  (func (export "${name}_${t.scalar}") (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) ${locals.map((l) => `(local $${l} v128)`).join(' ')}
    ${set('end', `(i32.add ${get('out')} (i32.shl ${get('n')} ${i32(Math.log2(t.bytes))}))`)}
    (block $done
      (br_if $done (i32.ge_u ${get('out')} ${get('end')}))
      (loop $blocks
        ${load.join('\n        ')}
        ${chains.flatMap((c) => c.code).join('\n        ')}
        ${store.join('\n        ')}
        ${set('x', `(i32.add ${get('x')} ${i32(step)})`)}
        (br_if $blocks (i32.lt_u (local.tee $out (i32.add ${get('out')} ${i32(step)})) ${get('end')})))))`
}

// ---- reductions ----

/**
 * Σ x[i] over `n` elements, accumulated in f64 lanes (float32 promoted, as the JavaScript kernel
 * accumulates in doubles) with four independent accumulators; only the summation order differs.
 * The padding after the last element must be zero (the caller clears it).
 */
const total = (t: LaneType): string => {
  // One term is one f64x2: a whole vector of f64, or two float32 lanes loaded into the low half.
  const termBytes = t.scalar === 'f64' ? 16 : 8
  const load = (offset: number) => t.scalar === 'f64'
    ? `(v128.load offset=${offset} ${get('x')})`
    : `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${offset} ${get('x')}))`
  const terms = range(64 / termBytes).map((i) => load(i * termBytes))
  const tail = range(16 / termBytes).map((i) => load(i * termBytes))
  return `
  (func (export "sum_${t.scalar}") (param $x i32) (param $n i32) (result f64)
    (local $end i32) (local $full i32) ${range(4).map((i) => `(local $s${i} v128)`).join(' ')}
    ${set('end', `(i32.add ${get('x')} (i32.shl ${get('n')} ${i32(Math.log2(t.bytes))}))`)}
    ${set('full', `(i32.sub ${get('end')} (i32.const 63))`)}
    (block $blocksDone
      (br_if $blocksDone (i32.ge_s ${get('x')} ${get('full')}))
      (loop $blocks
        ${terms.map((term, i) => set(`s${i % 4}`, `(f64x2.add ${get(`s${i % 4}`)} ${term})`)).join('\n        ')}
        (br_if $blocks (i32.lt_s (local.tee $x (i32.add ${get('x')} (i32.const 64))) ${get('full')}))))
    (block $tailDone
      (br_if $tailDone (i32.ge_s ${get('x')} ${get('end')}))
      (loop $tail
        ${tail.map((term, i) => set(`s${i}`, `(f64x2.add ${get(`s${i}`)} ${term})`)).join('\n        ')}
        (br_if $tail (i32.lt_s (local.tee $x (i32.add ${get('x')} (i32.const 16))) ${get('end')}))))
    ${set('s0', `(f64x2.add (f64x2.add ${get('s0')} ${get('s1')}) (f64x2.add ${get('s2')} ${get('s3')}))`)}
    (f64.add (f64x2.extract_lane 0 ${get('s0')}) (f64x2.extract_lane 1 ${get('s0')})))`
}

/** All elementwise functions for one element type. */
export const elementwiseWat = (t: LaneType): string[] => [
  ...BINARY_OPS.map((op) => binary(t, op)),
  ...SIMPLE_OPS.map((op) => simpleMap(t, op)),
  ...MATH_OPS.map((name) => mathMap(t, name)),
  total(t),
]

