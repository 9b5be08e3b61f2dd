/**
 * @file WebAssembly text of the matrix-product kernels (build-time only). The GotoBLAS/BLIS scheme:
 * `gemm` cuts the product into blocks (sizes from src/tensor/wasm/blocking.ts), packs a block of A
 * into row panels of tileRows and a block of B into column panels of tileColumns (zero-padded, so
 * edge tiles run the same code), and `macro` walks the register tiles. Transposed operands are
 * handled by the packing strides alone, so no transpose is ever materialised. The whole driver runs
 * inside the module, so one call from JavaScript (or from a worker thread) computes a product.
 * `gemmPacked` runs the same row blocks on a B packed beforehand (a recurrent weight, packed once
 * per sequence), so it makes the same operations in the same order as `gemm`.
 */
import { BLOCKING, EDGE_TILE_BYTES, MAX_TILE_ROWS } from '../../src/tensor/wasm/blocking.js'
import { type LaneType, get, i32, range, set, shiftOf, tileColumns } from './wat.js'

/**
 * The register tile: C[tileRows × tileColumns] (+)= Apanel[kc × tileRows]ᵀ · Bpanel[kc × tileColumns],
 * every accumulator in a v128 local. Per k-step: tileVectors loads of B, tileRows broadcasts of A,
 * tileRows·tileVectors multiplies and adds. Measured on V8 (Node 20, x64): 4 × 2 vectors is the
 * largest tile whose accumulators stay in registers (5 × 2, 6 × 2, 3 × 3 and 2 × 4 each spill one
 * and run twice as slow), and unrolling the k loop makes TurboFan hoist every load of the body and
 * spill, so the loop is not unrolled (≈ 6–7 cycles per k-step; ≈ 9 unrolled by 2, ≈ 14 by 4). With
 * `fma` the multiply-add is relaxed-simd's `relaxed_madd` (fused where the CPU can): ≈ 5 cycles.
 * Relaxed SIMD is on by default from Node 22 and Chrome 114; Node 20 needs
 * --experimental-wasm-relaxed-simd, so the loader keeps a module without it.
 *
 * Re-measured (Zen 4 at ≈ 2.7 GHz, Node 20; the macro-kernel alone on L1-resident panels, best of 200
 * runs): f32 29 GFLOP/s, f64 14; with `fma` 42 and 21. The disassembly (--print-wasm-code) explains
 * the ceiling: a k-step is 30 instructions (16 mulps/addps, 2 loads, 4 vbroadcastss, 2 pointer adds,
 * 2 index zero-extensions, the loop's stack check and counter), ≈ 6 cycles at ≈ 5 per cycle, while
 * the four FP pipes would need only 4; with `fma` it is 22 instructions and the two FMA pipes bind
 * (8 FMAs = 4 cycles ≈ 43 GFLOP/s, the core's 128-bit peak). The spills above are TurboFan's
 * scheduler placing every load of the body before the arithmetic: accumulators + all loads must fit
 * in 15 xmm registers, which rules out 5 × 2 even with `fma` (10 + 2 + 5 = 17: 18 GFLOP/s). Tried and
 * dropped: unrolled by 2 (21 f32 / 10.5 f64: 20 values live, spills), A broadcast by lane shuffles of
 * one A vector load (23–26: shuffles take FP pipes), the loop closed by comparing the A pointer
 * with its end instead of a counter (no change), 3 × 3 and 4 × 3 vectors (18–21). Cache blocking
 * barely matters at these sizes: KC 128–512, MC 64–256 and NC 512–4096 all land within noise of the
 * kernel (28–30 f32, 13–14 f64 best-of) for 512², C4's 128 × 512 · 512 × 512 and 4096 × 256 · 256 ×
 * 512, and their transposed VJP variants.
 */
const microKernel = (t: LaneType, fma: boolean): string => {
  const R = t.tileRows
  const V = t.tileVectors
  const v = t.vector
  const nr = tileColumns(t)
  const acc = (r: number, c: number) => `c${r}_${c}`
  const splat = t.bytes === 4 ? 'v128.load32_splat' : 'v128.load64_splat'
  const step = [
    ...range(V).map((c) => set(`b${c}`, `(v128.load offset=${c * 16} ${get('bp')})`)),
    ...range(R).flatMap((r) => [
      set('a', `(${splat} offset=${r * t.bytes} ${get('ap')})`),
      ...range(V).map((c) => set(acc(r, c), fma
        ? `(${v}.relaxed_madd ${get('a')} ${get(`b${c}`)} ${get(acc(r, c))})`
        : `(${v}.add ${get(acc(r, c))} (${v}.mul ${get('a')} ${get(`b${c}`)}))`)),
    ]),
  ]
  const store = range(R).flatMap((r) => [
    set('row', `(i32.add ${get('c')} (i32.mul ${get('ldc')} ${i32(r)}))`),
    ...range(V).map((c) => {
      const sum = `(${v}.add ${get(acc(r, c))} (v128.load offset=${c * 16} ${get('row')}))`
      return `(v128.store offset=${c * 16} ${get('row')} (select ${sum} ${get(acc(r, c))} ${get('accumulate')}))`
    }),
  ])
  return `
  ;; C tile (+)= packed A panel · packed B panel over kc k-steps; ldc in bytes.
  (func $kernel_${t.scalar} (param $kc i32) (param $ap i32) (param $bp i32) (param $c i32) (param $ldc i32) (param $accumulate i32)
    (local $a v128) ${range(V).map((c) => `(local $b${c} v128)`).join(' ')}
    ${range(R).flatMap((r) => range(V).map((c) => `(local $${acc(r, c)} v128)`)).join(' ')}
    (local $row i32)
    (block $done
      (br_if $done (i32.eqz ${get('kc')}))
      (loop $steps
        ${step.join('\n        ')}
        ${set('ap', `(i32.add ${get('ap')} ${i32(R * t.bytes)})`)}
        ${set('bp', `(i32.add ${get('bp')} ${i32(nr * t.bytes)})`)}
        (br_if $steps (local.tee $kc (i32.sub ${get('kc')} (i32.const 1))))))
    ${store.join('\n    ')})`
}

/** Copies the valid mr × nr corner of a full scratch tile into C (the output's edge tiles). */
const edgeCopy = (t: LaneType): string => {
  const T = t.scalar
  const shift = i32(shiftOf(t))
  return `
  (func $edge_${T} (param $tile i32) (param $c i32) (param $ldc i32) (param $mr i32) (param $nr i32) (param $accumulate i32)
    (local $i i32) (local $j i32) (local $src i32) (local $dst i32) (local $value ${T})
    (loop $rows
      ${set('j', i32(0))}
      (loop $columns
        ${set('src', `(i32.add ${get('tile')} (i32.shl (i32.add (i32.mul ${get('i')} ${i32(tileColumns(t))}) ${get('j')}) ${shift}))`)}
        ${set('dst', `(i32.add (i32.add ${get('c')} (i32.mul ${get('i')} ${get('ldc')})) (i32.shl ${get('j')} ${shift}))`)}
        ${set('value', `(${T}.load ${get('src')})`)}
        (if ${get('accumulate')} (then ${set('value', `(${T}.add ${get('value')} (${T}.load ${get('dst')}))`)}))
        (${T}.store ${get('dst')} ${get('value')})
        (br_if $columns (i32.lt_u (local.tee $j (i32.add ${get('j')} (i32.const 1))) ${get('nr')})))
      (br_if $rows (i32.lt_u (local.tee $i (i32.add ${get('i')} (i32.const 1))) ${get('mr')}))))`
}

/** `min(limit, x)` for i32 operands. */
const minI32 = (limit: number, x: string): string => `(select ${i32(limit)} ${x} (i32.gt_s ${x} ${i32(limit)}))`

/**
 * Walks the tiles of one block: C[mc × nc] (+)= Apacked · Bpacked (`ldc` in elements). Column
 * panels outside, row panels inside, so one B panel (kc × tileColumns) stays in L1 while the A
 * block streams from L2.
 */
const macroKernel = (t: LaneType): string => {
  const T = t.scalar
  const R = t.tileRows
  const nr = tileColumns(t)
  const shift = i32(shiftOf(t))
  return `
  (func $macro_${T} (export "macro_${T}") (param $mc i32) (param $nc i32) (param $kc i32) (param $ap i32) (param $bp i32)
      (param $c i32) (param $ldc i32) (param $accumulate i32) (param $tile i32)
    (local $ir i32) (local $jr i32) (local $mr i32) (local $nr i32) (local $ldcBytes i32)
    (local $aPanel i32) (local $bPanel i32) (local $cTile i32)
    ${set('ldcBytes', `(i32.shl ${get('ldc')} ${shift})`)}
    (loop $columnPanels
      ${set('nr', minI32(nr, `(i32.sub ${get('nc')} ${get('jr')})`))}
      ${set('bPanel', `(i32.add ${get('bp')} (i32.shl (i32.mul ${get('jr')} ${get('kc')}) ${shift}))`)}
      ${set('ir', i32(0))}
      (loop $rowPanels
        ${set('mr', minI32(R, `(i32.sub ${get('mc')} ${get('ir')})`))}
        ${set('aPanel', `(i32.add ${get('ap')} (i32.shl (i32.mul ${get('ir')} ${get('kc')}) ${shift}))`)}
        ${set('cTile', `(i32.add ${get('c')} (i32.shl (i32.add (i32.mul ${get('ir')} ${get('ldc')}) ${get('jr')}) ${shift}))`)}
        (if (i32.and (i32.eq ${get('mr')} ${i32(R)}) (i32.eq ${get('nr')} ${i32(nr)}))
          (then (call $kernel_${T} ${get('kc')} ${get('aPanel')} ${get('bPanel')} ${get('cTile')} ${get('ldcBytes')} ${get('accumulate')}))
          (else
            (call $kernel_${T} ${get('kc')} ${get('aPanel')} ${get('bPanel')} ${get('tile')} ${i32(nr * t.bytes)} (i32.const 0))
            (call $edge_${T} ${get('tile')} ${get('cTile')} ${get('ldcBytes')} ${get('mr')} ${get('nr')} ${get('accumulate')})))
        (br_if $rowPanels (i32.lt_s (local.tee $ir (i32.add ${get('ir')} ${i32(R)})) ${get('mc')})))
      (br_if $columnPanels (i32.lt_s (local.tee $jr (i32.add ${get('jr')} ${i32(nr)})) ${get('nc')}))))`
}

/** `(i8x16.shuffle …)` picking whole lanes of `bytes` bytes: lane l < 16/bytes from a, others from b. */
const laneShuffle = (a: string, b: string, lanes: readonly number[], bytes: number): string =>
  `(i8x16.shuffle ${lanes.flatMap((l) => range(bytes).map((j) => l * bytes + j)).join(' ')} ${a} ${b})`

/**
 * Transposes L × L lanes (L = 16 / bytes): the local vectors `rows[j]` hold L consecutive k of row
 * j; the result expressions hold, for each k, the L rows' values. f32: two rounds of interleaves;
 * f64: one.
 */
const transposeLanes = (t: LaneType, rows: readonly string[]): { code: string[]; columns: string[] } => {
  const r = rows.map(get)
  if (t.lanes === 2) return { code: [], columns: [laneShuffle(r[0], r[1], [0, 2], 8), laneShuffle(r[0], r[1], [1, 3], 8)] }
  const code = [
    set('t0', laneShuffle(r[0], r[1], [0, 4, 1, 5], 4)), set('t1', laneShuffle(r[2], r[3], [0, 4, 1, 5], 4)),
    set('t2', laneShuffle(r[0], r[1], [2, 6, 3, 7], 4)), set('t3', laneShuffle(r[2], r[3], [2, 6, 3, 7], 4)),
  ]
  const [t0, t1, t2, t3] = ['t0', 't1', 't2', 't3'].map(get)
  return {
    code,
    columns: [
      laneShuffle(t0, t1, [0, 1, 4, 5], 4), laneShuffle(t0, t1, [2, 3, 6, 7], 4),
      laneShuffle(t2, t3, [0, 1, 4, 5], 4), laneShuffle(t2, t3, [2, 3, 6, 7], 4),
    ],
  }
}

/**
 * Packs X[rows × kc] (element (i, p) at src + (i·rowStride + p·colStride)·bytes, strides in
 * elements) into panels of `width` rows stored k-major: X[q·width + r, p] goes to element
 * (q·kc + p)·width + r. Serves A (width = tileRows) and B read as Bᵀ (width = tileColumns). A ragged
 * last panel is zero-padded. When a panel's rows are adjacent elements (rowStride = 1), each k-step
 * moves whole vectors; when each row is contiguous along k (colStride = 1: a row-major A, a
 * transposed B), blocks of L rows × L k-steps are loaded as L vectors and transposed in registers
 * (L = lanes per vector), and only the last kc mod L k-steps move element by element.
 */
const pack = (t: LaneType, name: string, width: number): string => {
  const T = t.scalar
  const L = t.lanes
  const shift = i32(shiftOf(t))
  const stepBytes = i32(width * t.bytes)
  const rowLocals = range(width).map((j) => `row${j}`)
  const vecLocals = range(width).map((j) => `v${j}`)
  // One L × L block per group of L rows: L vector loads, the transpose, L stores at k-steps p … p+L−1.
  const blocks = range(width / L).flatMap((group) => {
    const rows = range(L).map((j) => vecLocals[group * L + j])
    const { code, columns } = transposeLanes(t, rows)
    return [
      ...rows.map((v, j) => set(v, `(v128.load (i32.add ${get(rowLocals[group * L + j])} ${get('off')}))`)),
      ...code,
      ...columns.map((column, q) => `(v128.store offset=${(q * width + group * L) * t.bytes} ${get('to')} ${column})`),
    ]
  })
  return `
  (func $${name}_${T} (export "${name}_${T}") (param $src i32) (param $rowStride i32) (param $colStride i32) (param $rows i32)
      (param $kc i32) (param $dst i32)
    (local $i i32) (local $r i32) (local $p i32) (local $w i32) (local $from i32) (local $to i32) (local $panelBytes i32)
    (local $off i32) (local $mainEnd i32) (local $k0 i32) (local $at i32) ${rowLocals.map((l) => `(local $${l} i32)`).join(' ')}
    ${vecLocals.map((l) => `(local $${l} v128)`).join(' ')} (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    ${set('rowStride', `(i32.shl ${get('rowStride')} ${shift})`)}
    ${set('colStride', `(i32.shl ${get('colStride')} ${shift})`)}
    ${set('panelBytes', `(i32.mul ${get('kc')} ${stepBytes})`)}
    ;; Bytes of the k-steps the transposing path covers in whole blocks of L.
    ${set('mainEnd', `(i32.shl (i32.and ${get('kc')} ${i32(-L)}) ${shift})`)}
    (block $done
      (br_if $done (i32.or (i32.eqz ${get('rows')}) (i32.eqz ${get('kc')})))
      (loop $panels
        ${set('w', minI32(width, `(i32.sub ${get('rows')} ${get('i')})`))}
        ${set('from', `(i32.add ${get('src')} (i32.mul ${get('i')} ${get('rowStride')}))`)}
        (if (i32.and (i32.eq ${get('w')} ${i32(width)}) (i32.eq ${get('rowStride')} ${i32(t.bytes)}))
          (then
            ${set('to', get('dst'))}
            ${set('p', get('kc'))}
            (loop $steps
              ${range((width * t.bytes) / 16).map((v) => `(v128.store offset=${v * 16} ${get('to')} (v128.load offset=${v * 16} ${get('from')}))`).join('\n              ')}
              ${set('from', `(i32.add ${get('from')} ${get('colStride')})`)}
              ${set('to', `(i32.add ${get('to')} ${stepBytes})`)}
              (br_if $steps (local.tee $p (i32.sub ${get('p')} (i32.const 1))))))
          (else
            (if (i32.lt_s ${get('w')} ${i32(width)}) (then (memory.fill ${get('dst')} (i32.const 0) ${get('panelBytes')})))
            ${set('k0', i32(0))}
            (if (i32.and (i32.eq ${get('w')} ${i32(width)}) (i32.eq ${get('colStride')} ${i32(t.bytes)}))
              (then
                ${rowLocals.map((l, j) => set(l, `(i32.add ${get('from')} (i32.mul ${get('rowStride')} ${i32(j)}))`)).join(' ')}
                ${set('to', get('dst'))}
                ${set('off', i32(0))}
                (block $blocksDone
                  (br_if $blocksDone (i32.eqz ${get('mainEnd')}))
                  (loop $blocks
                    ${blocks.join('\n                    ')}
                    ${set('to', `(i32.add ${get('to')} ${i32(L * width * t.bytes)})`)}
                    (br_if $blocks (i32.lt_u (local.tee $off (i32.add ${get('off')} (i32.const 16))) ${get('mainEnd')}))))
                ${set('k0', `(i32.and ${get('kc')} ${i32(-L)})`)}))
            ;; Element by element: every k-step, or the last kc mod L after the transposing path.
            (block $elementsDone
              (br_if $elementsDone (i32.ge_u ${get('k0')} ${get('kc')}))
              ${set('r', i32(0))}
              (loop $lines
                ${set('at', `(i32.add (i32.add ${get('from')} (i32.mul ${get('r')} ${get('rowStride')})) (i32.mul ${get('k0')} ${get('colStride')}))`)}
                ${set('to', `(i32.add ${get('dst')} (i32.shl (i32.add (i32.mul ${get('k0')} ${i32(width)}) ${get('r')}) ${shift}))`)}
                ${set('p', `(i32.sub ${get('kc')} ${get('k0')})`)}
                (loop $steps
                  (${T}.store ${get('to')} (${T}.load ${get('at')}))
                  ${set('at', `(i32.add ${get('at')} ${get('colStride')})`)}
                  ${set('to', `(i32.add ${get('to')} ${stepBytes})`)}
                  (br_if $steps (local.tee $p (i32.sub ${get('p')} (i32.const 1)))))
                (br_if $lines (i32.lt_s (local.tee $r (i32.add ${get('r')} (i32.const 1))) ${get('w')}))))))
        ${set('dst', `(i32.add ${get('dst')} ${get('panelBytes')})`)}
        (br_if $panels (i32.lt_s (local.tee $i (i32.add ${get('i')} ${i32(width)})) ${get('rows')})))))`
}

/**
 * The row blocks of one packed B block: for each mc rows of op(A) (`a` at the block's first depth),
 * pack them (into `scratch`'s packed-A region) and let the macro-kernel multiply them with the
 * packed B block at `bp` into C (`c` at the block's first column). Shared by both drivers, so a
 * product with a pre-packed B makes the same operations, in the same order, as one without.
 */
const rowBlocks = (t: LaneType): string => {
  const T = t.scalar
  const { mc: MC } = BLOCKING[t.bytes === 4 ? 'float32' : 'float64']
  const mcMax = Math.floor(MC / t.tileRows) * t.tileRows
  const shift = i32(shiftOf(t))
  const bytesOf = (x: string) => `(i32.shl ${x} ${shift})`
  return `
  (func $rowBlocks_${T} (param $m i32) (param $nc i32) (param $kc i32) (param $a i32) (param $rowA i32) (param $colA i32)
      (param $bp i32) (param $c i32) (param $ldc i32) (param $accumulate i32) (param $scratch i32)
    (local $ic i32) (local $mc i32) (local $packA i32)
    ${set('packA', `(i32.add ${get('scratch')} ${i32(EDGE_TILE_BYTES)})`)}
    (loop $rowBlocks
      ${set('mc', minI32(mcMax, `(i32.sub ${get('m')} ${get('ic')})`))}
      (call $packA_${T} (i32.add ${get('a')} ${bytesOf(`(i32.mul ${get('ic')} ${get('rowA')})`)}) ${get('rowA')} ${get('colA')} ${get('mc')} ${get('kc')} ${get('packA')})
      (call $macro_${T} ${get('mc')} ${get('nc')} ${get('kc')} ${get('packA')} ${get('bp')}
        (i32.add ${get('c')} ${bytesOf(`(i32.mul ${get('ic')} ${get('ldc')})`)}) ${get('ldc')} ${get('accumulate')} ${get('scratch')})
      (br_if $rowBlocks (i32.lt_s (local.tee $ic (i32.add ${get('ic')} ${i32(mcMax)})) ${get('m')}))))`
}

/**
 * The degenerate products, for both drivers: returns 1 (done) when m or n is not positive, or when
 * k = 0 (C zeroed unless accumulating), else 0.
 */
const degenerate = (t: LaneType): string => {
  const T = t.scalar
  const shift = i32(shiftOf(t))
  const bytesOf = (x: string) => `(i32.shl ${x} ${shift})`
  return `
  (func $degenerate_${T} (param $m i32) (param $n i32) (param $k i32) (param $c i32) (param $ldc i32) (param $accumulate i32) (result i32)
    (local $i i32)
    (if (i32.or (i32.le_s ${get('m')} (i32.const 0)) (i32.le_s ${get('n')} (i32.const 0))) (then (return (i32.const 1))))
    (if (i32.eqz ${get('k')})
      (then
        (if (i32.eqz ${get('accumulate')})
          (then
            (loop $rows
              (memory.fill (i32.add ${get('c')} ${bytesOf(`(i32.mul ${get('i')} ${get('ldc')})`)}) (i32.const 0) ${bytesOf(get('n'))})
              (br_if $rows (i32.lt_s (local.tee $i (i32.add ${get('i')} (i32.const 1))) ${get('m')})))))
        (return (i32.const 1))))
    (i32.const 0))`
}

/**
 * The blocked product `C[m × n] (+)= op(A) · op(B)` on byte addresses, element (i, p) of op(A) at
 * `a + (i·rowA + p·colA)·bytes`, element (p, j) of op(B) at `b + (p·rowB + j·colB)·bytes`, C with row
 * stride `ldc` (strides in elements, so a row or column range of a product is a product too: the
 * threads split by adjusting the pointers). Loop order jc (nc columns) → pc (kc depth: pack B) →
 * ic (mc rows: pack A, macro). `scratch` (64-byte aligned) holds the edge tile, then the packed A
 * block, then the packed B block, at the offsets src/tensor/wasm/matmul.ts's `scratchLayout` uses.
 * With k = 0, C is zeroed unless accumulating.
 */
const gemm = (t: LaneType): string => {
  const T = t.scalar
  const { kc: KC, mc: MC, nc: NC } = BLOCKING[t.bytes === 4 ? 'float32' : 'float64']
  const shift = i32(shiftOf(t))
  const bytesOf = (x: string) => `(i32.shl ${x} ${shift})`
  const align64 = (x: string) => `(i32.and (i32.add ${x} ${i32(63)}) ${i32(-64)})`
  return `
  (func (export "gemm_${T}") (param $m i32) (param $n i32) (param $k i32) (param $a i32) (param $rowA i32) (param $colA i32)
      (param $b i32) (param $rowB i32) (param $colB i32) (param $c i32) (param $ldc i32) (param $accumulate i32) (param $scratch i32)
    (local $jc i32) (local $pc i32) (local $nc i32) (local $kc i32) (local $packB i32)
    (if (call $degenerate_${T} ${get('m')} ${get('n')} ${get('k')} ${get('c')} ${get('ldc')} ${get('accumulate')}) (then (return)))
    ${set('packB', `(i32.add (i32.add ${get('scratch')} ${i32(EDGE_TILE_BYTES)}) ${align64(bytesOf(`(i32.mul (i32.add ${minI32(MC, get('m'))} ${i32(MAX_TILE_ROWS)}) ${minI32(KC, get('k'))})`))})`)}
    (loop $columnBlocks
      ${set('nc', minI32(NC, `(i32.sub ${get('n')} ${get('jc')})`))}
      ${set('pc', i32(0))}
      (loop $depthBlocks
        ${set('kc', minI32(KC, `(i32.sub ${get('k')} ${get('pc')})`))}
        (call $packB_${T} (i32.add ${get('b')} ${bytesOf(`(i32.add (i32.mul ${get('pc')} ${get('rowB')}) (i32.mul ${get('jc')} ${get('colB')}))`)})
          ${get('colB')} ${get('rowB')} ${get('nc')} ${get('kc')} ${get('packB')})
        ;; The first depth block stores into C (unless accumulating), later ones add to it.
        (call $rowBlocks_${T} ${get('m')} ${get('nc')} ${get('kc')} (i32.add ${get('a')} ${bytesOf(`(i32.mul ${get('pc')} ${get('colA')})`)}) ${get('rowA')} ${get('colA')}
          ${get('packB')} (i32.add ${get('c')} ${bytesOf(get('jc'))}) ${get('ldc')} (i32.or ${get('accumulate')} (i32.gt_s ${get('pc')} (i32.const 0))) ${get('scratch')})
        (br_if $depthBlocks (i32.lt_s (local.tee $pc (i32.add ${get('pc')} ${i32(KC)})) ${get('k')})))
      (br_if $columnBlocks (i32.lt_s (local.tee $jc (i32.add ${get('jc')} ${i32(NC)})) ${get('n')}))))`
}

/**
 * The same product with op(B) packed beforehand (src/tensor/wasm/matmul.ts packs it with `packB`,
 * one depth block of KC after another): the depth block at pc starts at element pc·width of
 * `packed`, holding `width` (the columns rounded up to tileColumns) packed columns, k-major in
 * panels of tileColumns. C's n columns are the packed ones from `column` on (a multiple of
 * tileColumns), so a column range of the product reads its own panels. No nc blocking: the packed
 * B needs no scratch. A weight that multiplies every time step is packed once instead of each step.
 */
const gemmPacked = (t: LaneType): string => {
  const T = t.scalar
  const { kc: KC } = BLOCKING[t.bytes === 4 ? 'float32' : 'float64']
  const shift = i32(shiftOf(t))
  const bytesOf = (x: string) => `(i32.shl ${x} ${shift})`
  return `
  (func (export "gemmPacked_${T}") (param $m i32) (param $n i32) (param $k i32) (param $a i32) (param $rowA i32) (param $colA i32)
      (param $packed i32) (param $width i32) (param $column i32) (param $c i32) (param $ldc i32) (param $accumulate i32) (param $scratch i32)
    (local $pc i32) (local $kc i32)
    (if (call $degenerate_${T} ${get('m')} ${get('n')} ${get('k')} ${get('c')} ${get('ldc')} ${get('accumulate')}) (then (return)))
    (loop $depthBlocks
      ${set('kc', minI32(KC, `(i32.sub ${get('k')} ${get('pc')})`))}
      (call $rowBlocks_${T} ${get('m')} ${get('n')} ${get('kc')} (i32.add ${get('a')} ${bytesOf(`(i32.mul ${get('pc')} ${get('colA')})`)}) ${get('rowA')} ${get('colA')}
        (i32.add ${get('packed')} ${bytesOf(`(i32.add (i32.mul ${get('pc')} ${get('width')}) (i32.mul ${get('column')} ${get('kc')}))`)})
        ${get('c')} ${get('ldc')} (i32.or ${get('accumulate')} (i32.gt_s ${get('pc')} (i32.const 0))) ${get('scratch')})
      (br_if $depthBlocks (i32.lt_s (local.tee $pc (i32.add ${get('pc')} ${i32(KC)})) ${get('k')}))))`
}

/** Exports the tile geometry, so the JavaScript driver sizes its buffers from the module itself. */
const geometry = (t: LaneType): string => `
  (global (export "tileRows_${t.scalar}") i32 ${i32(t.tileRows)})
  (global (export "tileColumns_${t.scalar}") i32 ${i32(tileColumns(t))})`

/** All matrix-product functions for one element type; `fma` selects relaxed-simd multiply-adds. */
export const matmulWat = (t: LaneType, fma: boolean): string[] => [
  geometry(t), microKernel(t, fma), edgeCopy(t), macroKernel(t), pack(t, 'packA', t.tileRows), pack(t, 'packB', tileColumns(t)), rowBlocks(t), degenerate(t), gemm(t), gemmPacked(t),
]
