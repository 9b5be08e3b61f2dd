/**
 * Accuracy of the WebAssembly float32 exp / tanh / sigmoid over every float32 input (or every
 * `step`-th one): the largest error in ulps against the exact value (Math.* in float64, whose own
 * error is far below a float32 ulp) and against the correctly rounded float32, where it happens,
 * and how often the result is not the correctly rounded one. Also checks the special values and
 * tanh's oddness and saturation. Usage:
 *   tsx bench/ulpSweep.ts [step=1] [exp,tanh,sigmoid]
 * A full sweep (step 1) takes a few minutes per function.
 */
import { decodeBase64 } from '../src/tensor/wasm/base64.js'
import { kernelsWasmBase64 } from '../src/tensor/wasm/kernelsBinary.generated.js'
import type { KernelExports } from '../src/tensor/wasm/exports.js'
import { webAssemblyApi } from '../src/tensor/wasm/webAssembly.js'

const exactOf: Record<string, (x: number) => number> = {
  exp: Math.exp,
  tanh: Math.tanh,
  // 1/(1 + e^{−x}) loses nothing here: e^{−x} is accurate to 1 double ulp and the rest rounds twice.
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
}

/** The float32 ulp at |v|: the spacing of float32 numbers in v's binade (2⁻¹⁴⁹ for subnormals). */
const ulpAt = (v: number): number => {
  const a = Math.abs(v)
  if (a < 2 ** -126) return 2 ** -149
  if (!Number.isFinite(a)) return Infinity
  return 2 ** (Math.floor(Math.log2(a)) - 23)
}

const api = webAssemblyApi()!
const instance = new api.Instance(new api.Module(decodeBase64(kernelsWasmBase64)), {})
const wasm = instance.exports as unknown as KernelExports

const CHUNK = 1 << 20
wasm.memory.grow(Math.ceil((8 * CHUNK + 128) / 65536))
const input = new Float32Array(wasm.memory.buffer, 0, CHUNK)
const output = new Float32Array(wasm.memory.buffer, 4 * CHUNK + 64, CHUNK)
const bits = new Uint32Array(input.buffer, 0, CHUNK)

const sweep = (name: 'exp' | 'tanh' | 'sigmoid', step: number): void => {
  const exact = exactOf[name]
  let worstExact = 0
  let worstExactAt = 0
  let worstRounded = 0
  let worstRoundedAt = 0
  let misses = 0
  let count = 0
  // Every finite float32 bit pattern, both signs (NaNs and infinities are checked below).
  for (let start = 0; start < 0x7f800000 * 2; start += CHUNK * step) {
    let filled = 0
    for (let b = start; b < start + CHUNK * step && filled < CHUNK && b < 0x7f800000 * 2; b += step) {
      bits[filled++] = b < 0x7f800000 ? b : (b - 0x7f800000) | 0x80000000
    }
    wasm[`${name}_f32`](0, 4 * CHUNK + 64, filled)
    for (let i = 0; i < filled; i++) {
      const x = input[i]
      const y = output[i]
      const e = exact(x)
      const rounded = Math.fround(e)
      if (y === rounded) continue
      misses++
      const ulp = ulpAt(rounded === 0 ? e : rounded)
      const errExact = Math.abs(y - e) / ulp
      const errRounded = Math.abs(y - rounded) / ulp
      if (!(errExact <= worstExact)) { worstExact = errExact; worstExactAt = x }
      if (!(errRounded <= worstRounded)) { worstRounded = errRounded; worstRoundedAt = x }
    }
    count += filled
  }
  console.log(`${name}_f32 over ${count} inputs: max ${worstExact.toFixed(3)} ulp from exact (x = ${worstExactAt}), `
    + `${worstRounded.toFixed(2)} ulp from correctly rounded (x = ${worstRoundedAt}); `
    + `${((100 * misses) / count).toFixed(3)}% not correctly rounded`)
}

const specials = (): void => {
  const values = [0, -0, 1e-45, -1e-45, 1e-38, -1e-38, 1e-30, 9, 9.01, 9.02, 10, 20, 88.72, 88.73, 89, -87.3, -103.9, -104, -110,
    1e30, -1e30, Infinity, -Infinity, NaN]
  input.set(values)
  for (const name of ['exp', 'tanh', 'sigmoid'] as const) {
    wasm[`${name}_f32`](0, 4 * CHUNK + 64, values.length)
    const xs = Array.from(input.subarray(0, values.length))
    const got = Array.from(output.subarray(0, values.length))
    const want = xs.map((x) => Math.fround(exactOf[name](x)))
    const bad = xs.flatMap((x, i) => (Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]))
      ? [] : [`${x} → ${got[i]} (correctly rounded: ${want[i]})`]))
    console.log(`${name}_f32 special values: ${bad.length === 0 ? 'all correctly rounded, signed zeros kept, NaN stays NaN' : bad.join('; ')}`)
  }
  // tanh: odd, and ±1 exactly from 9.02 on.
  const n = CHUNK
  for (let i = 0; i < n; i++) input[i] = (i % 2 === 0 ? 1 : -1) * Math.fround(9.02 + i * 1e-3)
  wasm.tanh_f32(0, 4 * CHUNK + 64, n)
  let saturated = true
  for (let i = 0; i < n; i++) saturated &&= output[i] === (i % 2 === 0 ? 1 : -1)
  for (let i = 0; i < n; i++) input[i] = (i % 2 === 0 ? 1 : -1) * Math.fround(Math.floor(i / 2) * 1e-5)
  wasm.tanh_f32(0, 4 * CHUNK + 64, n)
  let odd = true
  for (let i = 0; i < n; i += 2) odd &&= Object.is(output[i], -output[i + 1])
  console.log(`tanh_f32: saturates to ±1 exactly on [9.02, ${(9.02 + n * 1e-3).toFixed(0)}]: ${saturated}; odd on [0, 5.2]: ${odd}`)
}

const step = Number(process.argv[2] ?? 1)
const names = (process.argv[3] ?? 'exp,tanh,sigmoid').split(',') as ('exp' | 'tanh' | 'sigmoid')[]
specials()
for (const name of names) sweep(name, step)
