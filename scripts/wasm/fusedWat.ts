/**
 * @file WebAssembly text of the fused elementwise program interpreter (build-time only; the
 * program format is src/tensor/fused.ts). It adds no arithmetic of its own: each instruction calls
 * the elementwise kernel of the same name (elementwiseWat.ts) on one chunk of one row, so a fused
 * program computes exactly what the separate kernels compute, without copying each intermediate
 * into and out of memory.
 */
import { FUSED_OPS, arityOf } from '../../src/tensor/fused.js'
import { type LaneType, get, i32, set } from './wat.js'

/** Bytes per slot in the slot table: base, row stride and chunk step (bytes), then the current address. */
const SLOT_BYTES = 16
/** Bytes per instruction: opcode (an index of FUSED_OPS), result slot, two argument slots. */
const INSTRUCTION_BYTES = 16

/**
 * `fused_${t.scalar}(code, count, slots, slotCount, rows, cols, chunk)`: for each row, for each
 * chunk of at most `chunk` columns, sets every slot's address to base + row·rowStride +
 * firstColumn·chunkStep, then runs the `count` instructions at `code`, dispatching on the opcode
 * with one `br_table`. Temporaries and constants have row stride and chunk step 0.
 */
export const fusedWat = (t: LaneType): string => {
  const address = (slot: string) => `(i32.load offset=12 (i32.add ${get('slots')} (i32.shl ${slot} (i32.const 4))))`
  const field = (offset: number) => `(i32.load offset=${offset} ${get('ins')})`
  const calls = FUSED_OPS.map((op) => (arityOf(op) === 2
    ? `(call $${op}_${t.scalar} ${get('a')} ${get('b')} ${get('out')} ${get('n')})`
    : `(call $${op}_${t.scalar} ${get('a')} ${get('out')} ${get('n')})`))
  // Nested blocks: br_table jumps out of block k to the code of opcode k, which then leaves the whole dispatch.
  const dispatch = calls.reduce(
    (inner, call, k) => `(block $op${k}\n          ${inner})\n          ${call} (br $dispatched)`,
    `(br_table ${FUSED_OPS.map((_, k) => `$op${k}`).join(' ')} $dispatched ${field(0)})`,
  )
  return `
  (func (export "fused_${t.scalar}") (param $code i32) (param $count i32) (param $slots i32) (param $slotCount i32)
      (param $rows i32) (param $cols i32) (param $chunk i32)
    (local $r i32) (local $c0 i32) (local $n i32) (local $s i32) (local $ins i32) (local $end i32) (local $out i32) (local $a i32) (local $b i32)
    (if (i32.or (i32.eqz ${get('rows')}) (i32.eqz ${get('cols')})) (then (return)))
    ${set('end', `(i32.add ${get('code')} (i32.mul ${get('count')} ${i32(INSTRUCTION_BYTES)}))`)}
    (loop $rowsLoop
      ${set('c0', i32(0))}
      (loop $chunks
        ${set('n', `(select (i32.sub ${get('cols')} ${get('c0')}) ${get('chunk')} (i32.lt_u (i32.sub ${get('cols')} ${get('c0')}) ${get('chunk')}))`)}
        ${set('s', get('slots'))}
        (block $addressed
          (br_if $addressed (i32.eqz ${get('slotCount')}))
          (loop $addresses
            (i32.store offset=12 ${get('s')} (i32.add (i32.load ${get('s')})
              (i32.add (i32.mul ${get('r')} (i32.load offset=4 ${get('s')})) (i32.mul ${get('c0')} (i32.load offset=8 ${get('s')})))))
            (br_if $addresses (i32.lt_u (local.tee $s (i32.add ${get('s')} ${i32(SLOT_BYTES)}))
              (i32.add ${get('slots')} (i32.mul ${get('slotCount')} ${i32(SLOT_BYTES)}))))))
        ${set('ins', get('code'))}
        (block $ran
          (loop $instructions
            (br_if $ran (i32.ge_u ${get('ins')} ${get('end')}))
            ${set('out', address(field(4)))}
            ${set('a', address(field(8)))}
            ${set('b', address(field(12)))}
            (block $dispatched
          ${dispatch})
            ${set('ins', `(i32.add ${get('ins')} ${i32(INSTRUCTION_BYTES)})`)}
            (br $instructions)))
        (br_if $chunks (i32.lt_u (local.tee $c0 (i32.add ${get('c0')} ${get('chunk')})) ${get('cols')})))
      (br_if $rowsLoop (i32.lt_u (local.tee $r (i32.add ${get('r')} (i32.const 1))) ${get('rows')}))))`
}
