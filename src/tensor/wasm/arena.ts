/**
 * @file Scratch space in WebAssembly memory. Every kernel call lays its operands out from address 0,
 * copies them in, runs, and copies the result out into a fresh typed array, so nothing outlives a
 * call and there is nothing to free. Memory only grows (up to the module's 2 GiB maximum). Imports
 * only tensor types.
 */
import type { DType, Data } from '../Tensor.js'
import type { WasmMemory } from './webAssembly.js'

const PAGE = 65536
/** The module declares at most 32768 pages: addresses stay below 2³¹. */
const MAX_BYTES = 2 ** 31

/**
 * Rounds a byte count up to 64, the alignment and padding of every region: the module's loops move
 * up to 64 bytes per iteration (four v128), so a region's last block stays inside its padding.
 */
export const alignRegion = (bytes: number): number => Math.ceil(bytes / 64) * 64

/** A bump layout over one WebAssembly memory. */
export interface Arena {
  /**
   * Grows the memory to at least `bytes`; false when it cannot (beyond 2 GiB, or the host refuses),
   * in which case the caller falls back to the JavaScript kernel. Growing detaches the old buffer,
   * so take views only after the last `reserve` of a call.
   */
  reserve(bytes: number): boolean
  /** A typed view of `length` elements at byte address `ptr` (a multiple of 64). */
  view(dtype: DType, ptr: number, length: number): Data
}

/**
 * The arena over `memory` (the module's memory; in the threaded backend a shared one, whose views
 * are over a SharedArrayBuffer and whose growth the workers' instances see at once).
 * @category wasm
 */
export const createArena = (memory: WasmMemory): Arena => ({
  reserve(bytes) {
    const have = memory.buffer.byteLength
    if (bytes <= have) return true
    if (bytes > MAX_BYTES) return false
    try {
      memory.grow(Math.ceil((bytes - have) / PAGE))
      return true
    } catch {
      return false // RangeError: the host could not allocate the pages
    }
  },
  view(dtype, ptr, length) {
    return dtype === 'float32' ? new Float32Array(memory.buffer, ptr, length) : new Float64Array(memory.buffer, ptr, length)
  },
})
