/**
 * @file WebAssembly text of the elementwise kernels (build-time only): binary operations over
 * same-shape operands, neg / abs / square / sqrt / relu, exp / tanh / sigmoid, the tanh and sigmoid
 * VJPs, full sums, column sums and strided gathers.
 *
 * Every map kernel writes exactly its n elements, so callers holding pointers may run it in place
 * or on a slice of a larger buffer: four vectors per loop iteration, then single vectors, then one
 * partial vector whose lanes are stored one by one. Loads are whole vectors, so a kernel may read
 * up to 60 bytes past the end of an input (the JavaScript drivers pad every region to 64 bytes).
 */
import { type LaneType, f64x2, get, hexFloat, i32, range, set } from './wat.js'

/** Code computing the v128 local `out` from the v128 locals `inputs`; its own locals carry `prefix`. */
interface Emitted {
  readonly locals: readonly string[]
  readonly code: readonly string[]
}

/** One vector of a map kernel: several copies run interleaved, so their latency chains overlap. */
type VectorEmitter = (inputs: readonly string[], out: string, prefix: string) => Emitted

/** Vectors per iteration of the main loop, at most 4 (64 bytes, the padding of every region). */
const UNROLL = 4

/**
 * Stores the first `end − out` bytes (less than one vector) of the v128 local `v` at `out`: one or
 * two float32 lanes as an 8-byte store, a third as a 4-byte store; one float64 lane as 8 bytes.
 */
const partialStore = (t: LaneType, v: string): string => t.scalar === 'f64'
  ? `(v128.store64_lane 0 ${get('out')} ${get(v)})`
  : `(if (i32.ge_u (i32.sub ${get('end')} ${get('out')}) (i32.const 8))
        (then
          (v128.store64_lane 0 ${get('out')} ${get(v)})
          (if (i32.gt_u (i32.sub ${get('end')} ${get('out')}) (i32.const 8))
            (then (v128.store32_lane offset=8 2 ${get('out')} ${get(v)}))))
        (else (v128.store32_lane 0 ${get('out')} ${get(v)})))`

/**
 * `out[i] = f(inputs[0][i], …)` for the `n` elements: the exported `${name}_${t.scalar}` with
 * parameters (input pointers…, out, n), also callable inside the module as `$${name}_${t.scalar}`.
 */
const mapKernel = (name: string, t: LaneType, inputs: readonly string[], emit: VectorEmitter, unroll = UNROLL): string => {
  const copies = range(unroll).map((u) => {
    const loaded = inputs.map((p) => `${p}${u}`)
    return { u, loaded, out: `out${u}`, ...emit(loaded, `out${u}`, `c${u}_`) }
  })
  const locals = [...new Set(copies.flatMap((c) => [...c.loaded, c.out, ...c.locals]))]
  const load = (u: number) => inputs.map((p) => set(`${p}${u}`, `(v128.load offset=${16 * u} ${get(p)})`))
  const advance = (bytes: number) => inputs.map((p) => set(p, `(i32.add ${get(p)} ${i32(bytes)})`))
  const one = copies[0]
  return `
  (func $${name}_${t.scalar} (export "${name}_${t.scalar}") ${inputs.map((p) => `(param $${p} i32)`).join(' ')} (param $out i32) (param $n i32)
    (local $end i32) ${locals.map((l) => `(local $${l} v128)`).join(' ')}
    ${set('end', `(i32.add ${get('out')} (i32.shl ${get('n')} ${i32(Math.log2(t.bytes))}))`)}
    (block $blocksDone
      (br_if $blocksDone (i32.gt_u (i32.add ${get('out')} ${i32(16 * unroll)}) ${get('end')}))
      (loop $blocks
        ${copies.flatMap((c) => load(c.u)).join('\n        ')}
        ${copies.flatMap((c) => c.code).join('\n        ')}
        ${copies.map((c) => `(v128.store offset=${16 * c.u} ${get('out')} ${get(c.out)})`).join('\n        ')}
        ${advance(16 * unroll).join(' ')}
        (br_if $blocks (i32.le_u (i32.add (local.tee $out (i32.add ${get('out')} ${i32(16 * unroll)})) ${i32(16 * unroll)}) ${get('end')}))))
    (block $vectorsDone
      (br_if $vectorsDone (i32.gt_u (i32.add ${get('out')} (i32.const 16)) ${get('end')}))
      (loop $vectors
        ${load(0).join(' ')}
        ${one.code.join('\n        ')}
        (v128.store ${get('out')} ${get(one.out)})
        ${advance(16).join(' ')}
        (br_if $vectors (i32.le_u (i32.add (local.tee $out (i32.add ${get('out')} (i32.const 16))) (i32.const 16)) ${get('end')}))))
    (if (i32.lt_u ${get('out')} ${get('end')})
      (then
        ${load(0).join(' ')}
        ${one.code.join('\n        ')}
        ${partialStore(t, one.out)})))`
}

/** A vector emitter for a single expression of the loaded inputs. */
const expression = (f: (...inputs: string[]) => string): VectorEmitter => (inputs, out) =>
  ({ locals: [], code: [set(out, f(...inputs.map(get)))] })

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

// ---- activation VJPs ----

/**
 * The tanh and sigmoid VJPs from the forward output, `g·(1 − t²)` and `g·(s·(1 − s))`: one rounding
 * per operation in the element type, so they equal the compositions mul(g, sub(1, square(t))) and
 * mul(g, mul(s, sub(1, s))) bit for bit.
 */
const backwardBody = (t: LaneType, op: string, g: string, y: string): string => {
  const v = t.vector
  const one = `(${v}.splat (${t.scalar}.const 1))`
  switch (op) {
    case 'tanhBackward': return `(${v}.mul ${g} (${v}.sub ${one} (${v}.mul ${y} ${y})))`
    case 'sigmoidBackward': return `(${v}.mul ${g} (${v}.mul ${y} (${v}.sub ${one} ${y})))`
    default: throw new Error(`backwardBody: unknown operation ${op}`)
  }
}

/** The activation VJPs the module implements, with parameters (g, y, out, n). */
export const BACKWARD_OPS = ['tanhBackward', 'sigmoidBackward'] as const

// ---- transcendental functions, float64: f64x2 lanes ----
// Each emitter writes code computing the local `out` from the local `x` (both v128 holding f64x2)
// and lists the locals it needs, all named with the prefix `p`.

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1))

/** Taylor degree of e^r on |r| ≤ ln2/2: truncation error r¹⁴/14! ≈ 4e-18, well below float64 rounding. */
const EXP_DEGREE = 13

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
 * EXP_DEGREE. 2ⁿ is applied as two powers of two (n = n₁ + n₂), so results that underflow to
 * subnormals round once, and each stays a valid exponent over the clamped range x ∈ [−746, 710]
 * (beyond it exp is 0 or ∞ anyway).
 */
const emitExp = (t: LaneType, x: string, out: string, p: string): Emitted => {
  const L = (s: string) => `${p}${s}`
  const magicBits = `(v128.const i64x2 ${ROUNDER_BITS} ${ROUNDER_BITS})`
  const bias = `(v128.const i64x2 1023 1023)`
  const twoTo = (k: string) => `(i64x2.shl (i64x2.add ${k} ${bias}) (i32.const 52))`
  const coefficients = range(EXP_DEGREE + 1).map((i) => 1 / factorial(i))
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
 * tanh(x) = sign(x)·τ(|x|), τ(a) = E/(E + 2) with E = e^{2a} − 1 = (2ⁿ − 1) + 2ⁿ·q, where
 * 2a = n·ln 2 + r and q = e^r − 1 = r + r²·Q(r) (Taylor, EXP_DEGREE). 2ⁿ − 1 is exact and the two
 * terms do not cancel, so E keeps its relative accuracy down to a → 0 (n = 0 there, E = q) and no
 * second series is needed near zero. 2a is clamped to 40, where τ already rounds to 1 in float64;
 * the sign is copied back, so tanh is odd and tanh(−0) = −0.
 */
const emitTanh = (t: LaneType, x: string, out: string, p: string): Emitted => {
  const L = (s: string) => `${p}${s}`
  const magicBits = `(v128.const i64x2 ${ROUNDER_BITS} ${ROUNDER_BITS})`
  const twoToN = `(i64x2.shl (i64x2.add (i64x2.sub ${get(L('t'))} ${magicBits}) (v128.const i64x2 1023 1023)) (i32.const 52))`
  // e^r − 1 − r over r²: the Taylor coefficients 1/(i + 2)!.
  const q = range(EXP_DEGREE - 1).map((i) => 1 / factorial(i + 2))
  const one = f64x2(1)
  return {
    locals: [L('2a'), L('t'), L('n'), L('r'), L('q'), L('2n'), L('e')],
    code: [
      set(L('2a'), `(f64x2.pmin (f64x2.add (f64x2.abs ${get(x)}) (f64x2.abs ${get(x)})) ${f64x2(40)})`),
      set(L('t'), `(f64x2.add (f64x2.mul ${get(L('2a'))} ${f64x2(Math.LOG2E)}) ${f64x2(ROUNDER)})`),
      set(L('n'), `(f64x2.sub ${get(L('t'))} ${f64x2(ROUNDER)})`),
      set(L('r'), `(f64x2.sub (f64x2.sub ${get(L('2a'))} (f64x2.mul ${get(L('n'))} (v128.const f64x2 ${LN2_HI} ${LN2_HI}))) (f64x2.mul ${get(L('n'))} (v128.const f64x2 ${LN2_LO} ${LN2_LO})))`),
      set(L('q'), `(f64x2.add ${get(L('r'))} (f64x2.mul (f64x2.mul ${get(L('r'))} ${get(L('r'))}) ${horner(get(L('r')), q)}))`),
      set(L('2n'), twoToN),
      set(L('e'), `(f64x2.add (f64x2.sub ${get(L('2n'))} ${one}) (f64x2.mul ${get(L('2n'))} ${get(L('q'))}))`),
      set(out, `(f64x2.div ${get(L('e'))} (f64x2.add ${get(L('e'))} ${f64x2(2)}))`),
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

// ---- transcendental functions, float32: f32x4 lanes ----
// Four lanes per vector and float32 arithmetic throughout: 2–4× faster per element than the float64
// kernels. Accuracy, measured over every third float32 bit pattern (bench/ulpSweep.ts, 1.4·10⁹
// inputs): exp, tanh and sigmoid stay within 1 ulp of the correctly rounded result, and within
// 0.88, 1.03 and 1.33 ulp of the exact value. The polynomials are minimax fits (Remez exchange)
// made for these kernels, rounded to float32.

/** A float32 constant in all four lanes; `value` must be a float32, so nothing is rounded here. */
const f32x4 = (value: number): string => {
  if (Math.fround(value) !== value) throw new Error(`f32x4: ${value} is not a float32; pass Math.fround(value).`)
  const h = hexFloat(value)
  return `(v128.const f32x4 ${h} ${h} ${h} ${h})`
}

const i32x4 = (value: number): string => `(v128.const i32x4 ${value} ${value} ${value} ${value})`

/** Horner's rule in f32x4 lanes: Σ coefficients[i]·yⁱ. */
const horner32 = (y: string, coefficients: readonly number[]): string =>
  coefficients.slice(0, -1).reduceRight(
    (acc, c) => `(f32x4.add (f32x4.mul ${acc} ${y}) ${f32x4(c)})`,
    f32x4(coefficients[coefficients.length - 1]),
  )

/** 2ᵏ for integer lanes k in [−126, 127], built from its exponent bits. */
const twoTo32 = (k: string): string => `(i32x4.shl (i32x4.add ${k} ${i32x4(127)}) (i32.const 23))`

/** exp(r) = 1 + r + r²·Q(r) on |r| ≤ 1.02·ln2/2: relative error 2⁻²⁸ before rounding. */
const EXP_Q = [0.4999999403953552, 0.16666509211063385, 0.04166852682828903, 0.008370133116841316, 0.0013811687240377069]
/** ln 2 = LN2_HI32 + LN2_LO32: LN2_HI32 has 16 significant bits, so n·LN2_HI32 is exact for |n| < 2⁸. */
const LN2_HI32 = Math.round(Math.LN2 * 2 ** 16) / 2 ** 16
const LN2_LO32 = Math.fround(Math.LN2 - LN2_HI32)
/** 1.5·2²³: adding it rounds a float32 of magnitude < 2²² to an integer held in the low mantissa bits. */
const ROUNDER32 = 1.5 * 2 ** 23
const ROUNDER32_BITS = 0x4b400000

/**
 * exp(x) as 2ⁿ·(1 + p) without rounding 1 + p: n = round(x·log₂e) in the i32 lanes of `k`, p in
 * f32 lanes of `p`, for x clamped to [−104, hi]. r = x − n·ln 2 is carried as r + rLow (the rounding
 * error of the reduction) so the reduction costs no accuracy; callers combine 2ⁿ and p without
 * cancellation (tanh and sigmoid add 1 to 2ⁿ exactly before adding 2ⁿ·p).
 */
const emitExpParts32 = (x: string, hi: number, p: string): Emitted & { k: string; p: string } => {
  const L = (s: string) => `${p}${s}`
  return {
    k: L('k'),
    p: L('p'),
    locals: [L('x'), L('t'), L('n'), L('k'), L('c'), L('m'), L('r'), L('rLow'), L('p')],
    code: [
      set(L('x'), `(f32x4.pmin (f32x4.pmax ${get(x)} ${f32x4(-104)}) ${f32x4(Math.fround(hi))})`),
      set(L('t'), `(f32x4.add (f32x4.mul ${get(L('x'))} ${f32x4(Math.fround(Math.LOG2E))}) ${f32x4(ROUNDER32)})`),
      set(L('n'), `(f32x4.sub ${get(L('t'))} ${f32x4(ROUNDER32)})`),
      set(L('k'), `(i32x4.sub ${get(L('t'))} ${i32x4(ROUNDER32_BITS)})`),
      // x − n·LN2_HI32 is exact (Sterbenz); only the second step rounds, and rLow keeps its error.
      set(L('c'), `(f32x4.sub ${get(L('x'))} (f32x4.mul ${get(L('n'))} ${f32x4(LN2_HI32)}))`),
      set(L('m'), `(f32x4.mul ${get(L('n'))} ${f32x4(LN2_LO32)})`),
      set(L('r'), `(f32x4.sub ${get(L('c'))} ${get(L('m'))})`),
      set(L('rLow'), `(f32x4.sub (f32x4.sub ${get(L('c'))} ${get(L('r'))}) ${get(L('m'))})`),
      set(L('p'), `(f32x4.add ${get(L('r'))} (f32x4.add (f32x4.mul (f32x4.mul ${get(L('r'))} ${get(L('r'))}) ${horner32(get(L('r')), EXP_Q)}) ${get(L('rLow'))}))`),
    ],
  }
}

/**
 * exp(x) = (1 + p)·2ⁿ, 2ⁿ applied as two powers of two (n = n₁ + n₂) so that results in the
 * subnormal range round once and every factor stays a normal float32 over x ∈ [−104, 88.8]
 * (beyond it exp rounds to 0 or overflows to ∞ anyway).
 */
const emitExp32 = (inputs: readonly string[], out: string, p: string): Emitted => {
  const parts = emitExpParts32(inputs[0], 88.8, p)
  const k1 = `${p}k1`
  return {
    locals: [...parts.locals, k1],
    code: [
      ...parts.code,
      set(k1, `(i32x4.shr_s ${get(parts.k)} (i32.const 1))`),
      set(out, `(f32x4.mul (f32x4.mul (f32x4.add ${f32x4(1)} ${get(parts.p)}) ${twoTo32(get(k1))}) ${twoTo32(`(i32x4.sub ${get(parts.k)} ${get(k1)})`)})`),
    ],
  }
}

/** tanh(a) = a + a³·P(a²) for a < TANH_SMALL: relative error 2⁻²⁹·⁷ before rounding. */
const TANH_SMALL = 0.9
const TANH_P = [-0.33333322405815125, 0.1333298236131668, -0.05392961576581001, 0.021664580330252647, -0.008266315795481205,
  0.0025841828901320696, -0.00045597279677167535]
const SIGN_MASK32 = i32x4(-0x80000000)

/**
 * tanh(x) = sign(x)·τ(|x|): below 0.9, τ(a) = a + a³·P(a²); above, τ = 1 − 2/(e^{2a} + 1) with
 * e^{2a} + 1 = (2ⁿ + 1) + 2ⁿ·p summed from exact terms, so only that sum, the division and the
 * subtraction round. 2a is clamped to 20, where τ rounds to 1 (from a ≈ 9.01 on), so tanh
 * saturates to ±1 exactly; the sign is copied back, so tanh is odd and tanh(−0) = −0.
 */
const emitTanh32 = (inputs: readonly string[], out: string, p: string): Emitted => {
  const L = (s: string) => `${p}${s}`
  const x = inputs[0]
  const parts = emitExpParts32(L('2a'), 20, `${p}e_`)
  return {
    locals: [L('a'), L('y'), L('2a'), L('2n'), ...parts.locals],
    code: [
      set(L('a'), `(f32x4.abs ${get(x)})`),
      set(L('y'), `(f32x4.mul ${get(L('a'))} ${get(L('a'))})`),
      set(L('2a'), `(f32x4.pmin (f32x4.add ${get(L('a'))} ${get(L('a'))}) ${f32x4(20)})`),
      ...parts.code,
      set(L('2n'), twoTo32(get(parts.k))),
      set(out, `(v128.bitselect
          (f32x4.add ${get(L('a'))} (f32x4.mul (f32x4.mul ${get(L('a'))} ${get(L('y'))}) ${horner32(get(L('y')), TANH_P)}))
          (f32x4.sub ${f32x4(1)} (f32x4.div ${f32x4(2)} (f32x4.add (f32x4.add ${get(L('2n'))} ${f32x4(1)}) (f32x4.mul ${get(L('2n'))} ${get(parts.p)}))))
          (f32x4.lt ${get(L('a'))} ${f32x4(Math.fround(TANH_SMALL))}))`),
      set(out, `(v128.or ${get(out)} (v128.and ${get(x)} ${SIGN_MASK32}))`),
    ],
  }
}

/**
 * σ(x) = 1/(1 + e^{−x}) for every x, with e^{−x} = 2ⁿ·(1 + p) and, to stay finite for n > 0,
 * numerator and denominator scaled by f = 2^{min(0, −n)}: σ = f/(f + g·(1 + p)), g = 2^{min(0, n)}
 * (one of f, g is 1). The denominator d = (f + g) + g·p is summed with its two rounding errors kept
 * (Fast2Sum), q = 1/d is corrected by −q²·error, and f is applied in two steps so that results
 * down to the subnormals round once. 1/(1 + e) alone would lose up to 1.5 ulp to d's rounding.
 */
const emitSigmoid32 = (inputs: readonly string[], out: string, p: string): Emitted => {
  const L = (s: string) => `${p}${s}`
  const parts = emitExpParts32(L('m'), 104, `${p}e_`)
  const k = get(parts.k)
  return {
    locals: [L('m'), L('kf'), L('f'), L('g'), L('hi'), L('hiErr'), L('lo'), L('d'), L('dErr'), L('q'), L('kf1'), ...parts.locals],
    code: [
      set(L('m'), `(f32x4.neg ${get(inputs[0])})`),
      ...parts.code,
      set(L('kf'), `(i32x4.min_s (i32x4.neg ${k}) ${i32x4(0)})`),
      // f and g below 2⁻¹²⁶ only matter relative to the other one, which is then 1: clamped there.
      set(L('f'), twoTo32(`(i32x4.max_s ${get(L('kf'))} ${i32x4(-126)})`)),
      set(L('g'), twoTo32(`(i32x4.max_s (i32x4.min_s ${k} ${i32x4(0)}) ${i32x4(-126)})`)),
      set(L('hi'), `(f32x4.add ${get(L('f'))} ${get(L('g'))})`),
      set(L('hiErr'), `(f32x4.add (f32x4.sub (f32x4.pmax ${get(L('f'))} ${get(L('g'))}) ${get(L('hi'))}) (f32x4.pmin ${get(L('f'))} ${get(L('g'))}))`),
      set(L('lo'), `(f32x4.mul ${get(L('g'))} ${get(parts.p)})`),
      set(L('d'), `(f32x4.add ${get(L('hi'))} ${get(L('lo'))})`),
      set(L('dErr'), `(f32x4.add (f32x4.add (f32x4.sub ${get(L('hi'))} ${get(L('d'))}) ${get(L('lo'))}) ${get(L('hiErr'))})`),
      set(L('q'), `(f32x4.div ${f32x4(1)} ${get(L('d'))})`),
      set(L('q'), `(f32x4.sub ${get(L('q'))} (f32x4.mul (f32x4.mul ${get(L('q'))} ${get(L('q'))}) ${get(L('dErr'))}))`),
      set(L('kf1'), `(i32x4.shr_s ${get(L('kf'))} (i32.const 1))`),
      set(out, `(f32x4.mul (f32x4.mul ${get(L('q'))} ${twoTo32(get(L('kf1')))}) ${twoTo32(`(i32x4.sub ${get(L('kf'))} ${get(L('kf1'))})`)})`),
    ],
  }
}

/** The transcendental functions the module implements, per element type. */
export const MATH_OPS = ['exp', 'tanh', 'sigmoid'] as const

const mathEmitter = (t: LaneType, name: (typeof MATH_OPS)[number]): VectorEmitter => {
  if (t.scalar === 'f32') return { exp: emitExp32, tanh: emitTanh32, sigmoid: emitSigmoid32 }[name]
  const emit = { exp: emitExp, tanh: emitTanh, sigmoid: emitSigmoid }[name]
  return (inputs, out, prefix) => emit(t, inputs[0], out, prefix)
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

/** Rows summed per pass over a band of columns: a band of rows stays in cache while its columns are swept. */
const ROW_BAND = 64
/** Columns per register block of `sumRows`: eight f64x2 accumulators. */
const WIDE = 16

/**
 * `acc[j] += Σ_r x[r·cols + j]` for a `[rows, cols]` matrix x and float64 `acc` (the caller zeroes
 * it): the column sums of `sumRows`. Every column is summed in f64 over its rows in order, as the
 * JavaScript kernel does, so the sums are the same bit for bit; the loops only choose which columns
 * advance together (16 in eight f64x2 accumulators, then 2, then 1) and walk rows in bands of 64.
 */
const sumRows = (t: LaneType): string => {
  const shift = Math.log2(t.bytes)
  // Two columns as one f64x2 term at byte offset `offset` from the row pointer.
  const pair = (offset: number) => t.scalar === 'f64'
    ? `(v128.load offset=${offset} ${get('p')})`
    : `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${offset} ${get('p')}))`
  const single = t.scalar === 'f64' ? `(f64.load ${get('p')})` : `(f64.promote_f32 (f32.load ${get('p')}))`
  const accs = range(WIDE / 2)
  /** Points p at row r0, column j, and pEnd at row rEnd of that column. */
  const startColumn = [
    set('p', `(i32.add ${get('x')} (i32.shl (i32.add (i32.mul ${get('r0')} ${get('cols')}) ${get('j')}) ${i32(shift)}))`),
    set('pEnd', `(i32.add ${get('x')} (i32.shl (i32.add (i32.mul ${get('rEnd')} ${get('cols')}) ${get('j')}) ${i32(shift)}))`),
    set('a', `(i32.add ${get('acc')} (i32.shl ${get('j')} (i32.const 3)))`),
  ]
  const nextRow = `(br_if $rows (i32.lt_u (local.tee $p (i32.add ${get('p')} ${get('stride')})) ${get('pEnd')}))`
  return `
  (func $sumRows_${t.scalar} (export "sumRows_${t.scalar}") (param $x i32) (param $rows i32) (param $cols i32) (param $acc i32)
    (local $stride i32) (local $r0 i32) (local $rEnd i32) (local $j i32) (local $p i32) (local $pEnd i32) (local $a i32)
    ${accs.map((i) => `(local $s${i} v128)`).join(' ')} (local $s f64)
    ${set('stride', `(i32.shl ${get('cols')} ${i32(shift)})`)}
    (block $bandsDone
      (br_if $bandsDone (i32.eqz ${get('cols')}))
      (loop $bands
        (br_if $bandsDone (i32.ge_u ${get('r0')} ${get('rows')}))
        ${set('rEnd', `(select (i32.add ${get('r0')} ${i32(ROW_BAND)}) ${get('rows')} (i32.lt_u (i32.add ${get('r0')} ${i32(ROW_BAND)}) ${get('rows')}))`)}
        ${set('j', i32(0))}
        (block $wideDone
          (loop $wide
            (br_if $wideDone (i32.gt_u (i32.add ${get('j')} ${i32(WIDE)}) ${get('cols')}))
            ${startColumn.join(' ')}
            ${accs.map((i) => set(`s${i}`, `(v128.load offset=${16 * i} ${get('a')})`)).join(' ')}
            (loop $rows
              ${accs.map((i) => set(`s${i}`, `(f64x2.add ${get(`s${i}`)} ${pair(i * 2 * t.bytes)})`)).join('\n              ')}
              ${nextRow})
            ${accs.map((i) => `(v128.store offset=${16 * i} ${get('a')} ${get(`s${i}`)})`).join(' ')}
            ${set('j', `(i32.add ${get('j')} ${i32(WIDE)})`)}
            (br $wide)))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_u (i32.add ${get('j')} (i32.const 2)) ${get('cols')}))
            ${startColumn.join(' ')}
            ${set('s0', `(v128.load ${get('a')})`)}
            (loop $rows
              ${set('s0', `(f64x2.add ${get('s0')} ${pair(0)})`)}
              ${nextRow})
            (v128.store ${get('a')} ${get('s0')})
            ${set('j', `(i32.add ${get('j')} (i32.const 2))`)}
            (br $pairs)))
        (if (i32.lt_u ${get('j')} ${get('cols')})
          (then
            ${startColumn.join(' ')}
            ${set('s', `(f64.load ${get('a')})`)}
            (loop $rows
              ${set('s', `(f64.add ${get('s')} ${single})`)}
              ${nextRow})
            (f64.store ${get('a')} ${get('s')})))
        ${set('r0', get('rEnd'))}
        (br $bands))))`
}

// ---- data movement ----

/** Axes of a strided gather beyond the row axis: the JavaScript driver collapses views to at most this many. */
export const GATHER_OUTER_AXES = 3

/**
 * A strided gather over rows: out, row after row, gets `n` elements read from
 * `x + (i1·s1 + i2·s2 + i3·s3 + j·step)` (strides in elements) for i1 < n1, i2 < n2, i3 < n3, j < n,
 * the odometer over the three outer axes of a collapsed view (unused ones have length 1). Output
 * rows start `outStride` elements apart (0: n, back to back), so a concatenation writes each
 * part's rows into its columns of the result. Contiguous rows (step 1) move whole vectors, then
 * the last n mod (16 / bytes) elements one by one: exactly the output's elements are written, so
 * threads may gather into neighbouring ranges of one region. Elements are moved as integers, so
 * every bit pattern (NaN payloads too) is copied exactly.
 */
const gatherStrided = (t: LaneType): string => {
  const shift = Math.log2(t.bytes)
  const int = t.bytes === 4 ? 'i32' : 'i64'
  const bytes = (name: string) => set(name, `(i32.shl ${get(name)} ${i32(shift)})`)
  const axis = (level: number, body: string): string => `
      ${set(`i${level}`, get(`n${level}`))} ${set(`p${level}`, level === 1 ? get('x') : get(`p${level - 1}`))}
      (loop $axis${level}
        ${body}
        ${set(`p${level}`, `(i32.add ${get(`p${level}`)} ${get(`s${level}`)})`)}
        (br_if $axis${level} (local.tee $i${level} (i32.sub ${get(`i${level}`)} (i32.const 1)))))`
  const row = `
        ${set('q', get('p3'))} ${set('rowEnd', `(i32.add ${get('out')} ${get('rowBytes')})`)} ${set('next', `(i32.add ${get('out')} ${get('outStride')})`)}
        (if (i32.eq ${get('step')} (i32.const ${t.bytes}))
          (then
            (block $vectorsDone
              (loop $vectors
                (br_if $vectorsDone (i32.gt_u (i32.add ${get('out')} (i32.const 16)) ${get('rowEnd')}))
                (v128.store ${get('out')} (v128.load ${get('q')}))
                ${set('q', `(i32.add ${get('q')} (i32.const 16))`)}
                ${set('out', `(i32.add ${get('out')} (i32.const 16))`)}
                (br $vectors)))
            (block $tailDone
              (loop $tail
                (br_if $tailDone (i32.ge_u ${get('out')} ${get('rowEnd')}))
                (${int}.store ${get('out')} (${int}.load ${get('q')}))
                ${set('q', `(i32.add ${get('q')} (i32.const ${t.bytes}))`)}
                ${set('out', `(i32.add ${get('out')} (i32.const ${t.bytes}))`)}
                (br $tail))))
          (else
            (loop $elements
              (${int}.store ${get('out')} (${int}.load ${get('q')}))
              ${set('q', `(i32.add ${get('q')} ${get('step')})`)}
              (br_if $elements (i32.lt_u (local.tee $out (i32.add ${get('out')} ${i32(t.bytes)})) ${get('rowEnd')})))))
        ${set('out', get('next'))}`
  return `
  (func $gatherStrided_${t.scalar} (export "gatherStrided_${t.scalar}") (param $x i32) (param $out i32) (param $n i32) (param $step i32)
    (param $n1 i32) (param $s1 i32) (param $n2 i32) (param $s2 i32) (param $n3 i32) (param $s3 i32) (param $outStride i32)
    (local $rowBytes i32) (local $rowEnd i32) (local $next i32) (local $q i32) (local $i1 i32) (local $i2 i32) (local $i3 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (if (i32.eqz (i32.mul (i32.mul ${get('n')} ${get('n1')}) (i32.mul ${get('n2')} ${get('n3')}))) (then (return)))
    ${set('rowBytes', `(i32.shl ${get('n')} ${i32(shift)})`)}
    (if (i32.eqz ${get('outStride')}) (then ${set('outStride', get('n'))}))
    ${['step', 's1', 's2', 's3', 'outStride'].map(bytes).join(' ')}
    ${axis(1, axis(2, axis(3, row)))})`
}

/** Experiment switches of the elementwise kernels (the defaults are the measured best). */
export interface ElementwiseOptions {
  /** Vectors per main-loop iteration of exp / tanh / sigmoid, per element type (1 to 4). */
  readonly mathUnroll?: Partial<Record<LaneType['scalar'], number>>
}

/**
 * Measured on V8 (Node 20, x64; CPU time, 8192 elements): f32 exp / tanh / sigmoid take about 2.1 /
 * 3.8 / 4.2 ns per element with one vector per iteration and 1.5 / 2.6–2.9 / 3.1 with three or four
 * (the latency chains overlap; beyond that the locals spill); f64 gains up to four.
 */
const MATH_UNROLL: Record<LaneType['scalar'], number> = { f32: 4, f64: 4 }

/** All elementwise functions for one element type. */
export const elementwiseWat = (t: LaneType, options: ElementwiseOptions = {}): string[] => [
  ...BINARY_OPS.map((op) => mapKernel(op, t, ['a', 'b'], expression((p, q) => binaryBody(t, op, p, q)))),
  ...SIMPLE_OPS.map((op) => mapKernel(op, t, ['x'], expression((x) => simpleBody(t, op, x)))),
  ...BACKWARD_OPS.map((op) => mapKernel(op, t, ['g', 'y'], expression((g, y) => backwardBody(t, op, g, y)))),
  ...MATH_OPS.map((name) => mapKernel(name, t, ['x'], mathEmitter(t, name), options.mathUnroll?.[t.scalar] ?? MATH_UNROLL[t.scalar])),
  total(t),
  sumRows(t),
  gatherStrided(t),
]
