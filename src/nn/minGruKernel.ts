/**
 * @file minGRU's parallel form as one kernel primitive over both gates' pre-activations: one fused
 * elementwise pass makes the recurrence's coefficients (a = 1 − σ(k_z), b = σ(k_z) ⊙ k_h), the
 * linear-recurrence kernel runs over time, and backwards the recurrence's reverse kernel and one
 * fused pass give the pre-activations' cotangents. It runs in the inputs' own layout, batch-first
 * or time-major, so a batch-first layer needs no transposes. Its differentiable VJP is the VJP of
 * the same composition written with primitives. Imports ops, kernels and transforms.
 */
import { sigmoid, sub, mul } from '../autodiff/ops/elementwise.js'
import { defineKernelPrimitive } from '../autodiff/primitive.js'
import { slice, transpose } from '../autodiff/ops/structural.js'
import { K } from '../tensor/backend.js'
import { scalar } from '../tensor/creation.js'
import { type FusedPlace, type FusedProgram, assembleFused } from '../tensor/fused.js'
import { type Data, Tensor, allocate, dtypeOf } from '../tensor/Tensor.js'
import { vjp } from '../transforms/grad.js'
import { jvpLeaves } from '../transforms/jvp.js'
import { linearRecurrence } from '../transforms/linearRecurrence.js'

interface Layout {
  /** k is `[batch, time, 2·hidden]` (else `[time, batch, 2·hidden]`). */
  readonly batchFirst: boolean
}

const input = (index: number, offset: number, rowStride: number): FusedPlace => ({ kind: 'input', index, offset, rowStride })
const output = (index: number, offset: number, rowStride: number): FusedPlace => ({ kind: 'output', index, offset, rowStride })
const temporary = (id: number): FusedPlace => ({ kind: 'temporary', id })

/** Over rows of k `[rows, 2H]`: a = 1 − z and b = z ⊙ k_h with z = σ(k_z), each `[rows, H]`, as the composition's kernels compute them. */
const gatesProgramOf = (rows: number, hidden: number): FusedProgram => {
  const [kz, kh, z] = [input(0, 0, 2 * hidden), input(0, hidden, 2 * hidden), temporary(0)]
  return assembleFused(rows, hidden, [rows * hidden, rows * hidden], [
    { op: 'sigmoid', out: z, args: [kz] },
    { op: 'sub', out: output(0, 0, hidden), args: [{ kind: 'constant', value: 1 }, z] },
    { op: 'mul', out: output(1, 0, hidden), args: [z, kh] },
  ])
}

/**
 * From k and the coefficients' cotangents da, db: dk_h = db ⊙ z and dk_z = σ′ · (db ⊙ k_h − da),
 * written into one `[rows, 2H]` as k is laid out (the composition's VJPs, in their order).
 */
const cotangentsProgramOf = (rows: number, hidden: number): FusedProgram => {
  const [kz, kh, da, db] = [input(0, 0, 2 * hidden), input(0, hidden, 2 * hidden), input(1, 0, hidden), input(2, 0, hidden)]
  const [z, product, dz] = [temporary(0), temporary(1), temporary(2)]
  return assembleFused(rows, hidden, [rows * 2 * hidden], [
    { op: 'sigmoid', out: z, args: [kz] },
    { op: 'mul', out: output(0, hidden, 2 * hidden), args: [db, z] },
    { op: 'mul', out: product, args: [db, kh] },
    { op: 'sub', out: dz, args: [product, da] },
    { op: 'sigmoidBackward', out: output(0, 0, 2 * hidden), args: [dz, z] },
  ])
}

/**
 * One program per size, made once: the fused kernel lays a program out on its first run and keeps
 * that layout for the same program object, so a training loop must not rebuild it every step.
 */
const bySize = (make: (rows: number, hidden: number) => FusedProgram) => {
  const made = new Map<string, FusedProgram>()
  return (rows: number, hidden: number): FusedProgram => {
    const key = `${rows} ${hidden}`
    let program = made.get(key)
    if (program === undefined) {
      // A few sizes recur in a run; batches of many lengths must not grow the table without end.
      if (made.size >= 16) made.delete(made.keys().next().value!)
      made.set(key, (program = make(rows, hidden)))
    }
    return program
  }
}
const gatesProgram = bySize(gatesProgramOf)
const cotangentsProgram = bySize(cotangentsProgramOf)

/** `[batch, time, hidden]` sizes of k and h0 in either layout. */
const sizesOf = (k: Tensor, batchFirst: boolean): { batch: number; time: number; hidden: number } => {
  const [d0, d1, width] = k.shape
  return batchFirst ? { batch: d0, time: d1, hidden: width / 2 } : { batch: d1, time: d0, hidden: width / 2 }
}

/** Batch-first arrays hold one `[time, hidden]` run per example: the kernels run each in turn, on views. */
const perExample = (batch: number, time: number, hidden: number, run: (i: number, steps: number, states: number) => void): void => {
  for (let i = 0; i < batch; i++) run(i * time * hidden, i * hidden, (i + 1) * time * hidden)
}

const states = (a: Data, b: Data, h0: Data, { batch, time, hidden }: { batch: number; time: number; hidden: number }, batchFirst: boolean): Data => {
  if (!batchFirst) return K.linearRecurrence(a, b, h0, time, batch * hidden, false)
  const hs = allocate(dtypeOf(a), a.length)
  perExample(batch, time, hidden, (from, at, to) => {
    hs.set(K.linearRecurrence(a.subarray(from, to), b.subarray(from, to), h0.subarray(at, at + hidden), time, hidden, false), from)
  })
  return hs
}

const statesBackward = (g: Data, a: Data, hs: Data, h0: Data, { batch, time, hidden }: { batch: number; time: number; hidden: number }, batchFirst: boolean) => {
  if (!batchFirst) return K.linearRecurrenceBackward(g, a, hs, h0, time, batch * hidden, false)
  const [da, db, dh0] = [allocate(dtypeOf(a), a.length), allocate(dtypeOf(a), a.length), allocate(dtypeOf(a), h0.length)]
  perExample(batch, time, hidden, (from, at, to) => {
    const d = K.linearRecurrenceBackward(g.subarray(from, to), a.subarray(from, to), hs.subarray(from, to), h0.subarray(at, at + hidden), time, hidden, false)
    da.set(d.da, from)
    db.set(d.db, from)
    dh0.set(d.dh0, at)
  })
  return { da, db, dh0 }
}

/** The same states written with primitives: what the kernel computes, for outer differentiation. */
const composition = (k: Tensor, h0: Tensor, batchFirst: boolean): Tensor => {
  const [d0, d1, width] = k.shape
  const z = sigmoid(slice(k, [[0, d0], [0, d1], [0, width / 2]]))
  const a = sub(scalar(1, z.dtype), z)
  const b = mul(z, slice(k, [[0, d0], [0, d1], [width / 2, width]]))
  if (!batchFirst) return linearRecurrence(a, b, h0)
  const swap = (x: Tensor): Tensor => transpose(x, [1, 0, 2])
  return swap(linearRecurrence(swap(a), swap(b), h0))
}

const minGruStatesPrimitive = defineKernelPrimitive<Layout, Data>({
  name: 'minGruStates',
  // The coefficient a is the residual: the reverse recurrence reads it, and b is not needed.
  forward: ([k, h0], { batchFirst }) => {
    const sizes = sizesOf(k, batchFirst)
    const rows = sizes.batch * sizes.time
    const [a, b] = K.fused(gatesProgram(rows, sizes.hidden), [k.data])
    return { outs: [new Tensor(states(a, b, h0.data, sizes, batchFirst), [...k.shape.slice(0, 2), sizes.hidden])], residuals: a }
  },
  vjp: ([g], { inputs: [k, h0], outs: [hs], params: { batchFirst }, residuals: a, needed }) => {
    if (g === null) return [null, null]
    const sizes = sizesOf(k, batchFirst)
    const { da, db, dh0 } = statesBackward(g.data, a, hs.data, h0.data, sizes, batchFirst)
    const dk = needed[0] ? new Tensor(K.fused(cotangentsProgram(sizes.batch * sizes.time, sizes.hidden), [k.data, da, db])[0], k.shape) : null
    return [dk, needed[1] ? new Tensor(dh0, h0.shape) : null]
  },
  differentiableVjp: ([g], { inputs: [k, h0], outs: [hs], params: { batchFirst } }) => {
    const [, pullback] = vjp((kk: Tensor, hh: Tensor) => composition(kk, hh, batchFirst), k, h0)
    return pullback(g ?? new Tensor(allocate(hs.dtype, hs.size), hs.shape))
  },
  // The tangent of the composition (sigmoid, products, linearRecurrence's own rule): one forward
  // pass, where a rule derived by transposing the VJP would cost about two VJPs.
  jvp: (tangents, { inputs: [k, h0], params: { batchFirst } }) =>
    jvpLeaves(([kk, hh]) => [composition(kk, hh, batchFirst)], [k, h0], tangents),
})

/**
 * Every minGRU state from both gates' pre-activations `k = [k_z | k_h]` (`[batch, time, 2·hidden]`
 * when `batchFirst`, else `[time, batch, 2·hidden]`) and the initial state `h0` `[batch, hidden]`:
 * `h_t = (1 − σ(k_z,t)) ⊙ h_{t−1} + σ(k_z,t) ⊙ k_h,t`, in k's layout. Internal to nn.minGru's
 * parallel mode, which checks shapes and dtypes before.
 */
export const minGruStates = (k: Tensor, h0: Tensor, batchFirst: boolean): Tensor => minGruStatesPrimitive([k, h0], { batchFirst })[0]
