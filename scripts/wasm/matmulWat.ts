/**
 * @file WebAssembly text of the matrix-product kernels (build-time only). The GotoBLAS/BLIS scheme:
 * the JavaScript driver (src/tensor/wasm/matmul.ts) cuts the product into blocks, packs a block of
 * A into row panels of tileRows and a block of B into column panels of tileColumns (zero-padded, so
 * edge tiles run the same code), and `macro` walks the register tiles. Transposed operands are
 * handled by the packing strides alone, so no transpose is ever materialised.
 */
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
  (func (export "macro_${T}") (param $mc i32) (param $nc i32) (param $kc i32) (param $ap i32) (param $bp i32)
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

/**
 * Packs X[rows × kc] (element (i, p) at src + (i·rowStride + p·colStride)·bytes, strides in
 * elements) into panels of `width` rows stored k-major: X[q·width + r, p] goes to element
 * (q·kc + p)·width + r. Serves A (width = tileRows) and B read as Bᵀ (width = tileColumns). A ragged
 * last panel is zero-padded. When a panel's rows are adjacent elements (rowStride = 1), each k-step
 * moves whole vectors.
 */
const pack = (t: LaneType, name: string, width: number): string => {
  const T = t.scalar
  const shift = i32(shiftOf(t))
  const stepBytes = i32(width * t.bytes)
  return `
  (func (export "${name}_${T}") (param $src i32) (param $rowStride i32) (param $colStride i32) (param $rows i32)
      (param $kc i32) (param $dst i32)
    (local $i i32) (local $r i32) (local $p i32) (local $w i32) (local $from i32) (local $to i32) (local $panelBytes i32)
    ${set('rowStride', `(i32.shl ${get('rowStride')} ${shift})`)}
    ${set('colStride', `(i32.shl ${get('colStride')} ${shift})`)}
    ${set('panelBytes', `(i32.mul ${get('kc')} ${stepBytes})`)}
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
            ${set('r', i32(0))}
            (loop $lines
              ${set('to', `(i32.add ${get('dst')} (i32.shl ${get('r')} ${shift}))`)}
              ${set('p', get('kc'))}
              (loop $steps
                (${T}.store ${get('to')} (${T}.load ${get('from')}))
                ${set('from', `(i32.add ${get('from')} ${get('colStride')})`)}
                ${set('to', `(i32.add ${get('to')} ${stepBytes})`)}
                (br_if $steps (local.tee $p (i32.sub ${get('p')} (i32.const 1)))))
              ${set('from', `(i32.sub (i32.add ${get('from')} ${get('rowStride')}) (i32.mul ${get('kc')} ${get('colStride')}))`)}
              (br_if $lines (i32.lt_s (local.tee $r (i32.add ${get('r')} (i32.const 1))) ${get('w')})))))
        ${set('dst', `(i32.add ${get('dst')} ${get('panelBytes')})`)}
        (br_if $panels (i32.lt_s (local.tee $i (i32.add ${get('i')} ${i32(width)})) ${get('rows')})))))`
}

/** Exports the tile geometry, so the JavaScript driver sizes its buffers from the module itself. */
const geometry = (t: LaneType): string => `
  (global (export "tileRows_${t.scalar}") i32 ${i32(t.tileRows)})
  (global (export "tileColumns_${t.scalar}") i32 ${i32(tileColumns(t))})`

/** All matrix-product functions for one element type; `fma` selects relaxed-simd multiply-adds. */
export const matmulWat = (t: LaneType, fma: boolean): string[] => [
  geometry(t), microKernel(t, fma), edgeCopy(t), macroKernel(t), pack(t, 'packA', t.tileRows), pack(t, 'packB', tileColumns(t)),
]
