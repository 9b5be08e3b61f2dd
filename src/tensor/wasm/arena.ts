/**
 * @file Scratch space in WebAssembly memory. Every kernel call lays its operands out from address 0,
 * copies them in, runs, and copies the result out into a fresh typed array, so there is nothing to
 * free. One range may outlive its call (`keep`): it stays valid until a later call lays operands
 * out over it. Memory only grows (up to the module's 2 GiB maximum). Imports only tensor types.
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

/**
 * Regions of `sizes` elements of `bytes` bytes laid out one after another from byte `start` (0 by
 * default), each padded by `alignRegion`: their byte addresses and the end of the last.
 */
export const layout = (bytes: number, sizes: readonly number[], start = 0): { ptrs: number[]; end: number } => {
  const ptrs: number[] = []
  let end = start
  for (const size of sizes) {
    ptrs.push(end)
    end += alignRegion(size * bytes)
  }
  return { ptrs, end }
}

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
  /**
   * Marks bytes [from, to) as holding a result that a later call may read again (the states a
   * recurrent forward pass leaves for its backward pass). Only one range is kept; `kept` tells
   * whether it still holds what was left there. `release` runs when the range stops being kept (a
   * call reserves memory over it, or another range is kept), before anything is written there: the
   * last moment to copy out what it holds.
   */
  keep(from: number, to: number, release?: () => void): void
  /** Whether [from, to) is the kept range and no call has laid out operands over it since. */
  kept(from: number, to: number): boolean
  /** Whether any range is kept now. */
  keeping(): boolean
}

/**
 * The arena over `memory` (the module's memory; in the threaded backend a shared one, whose views
 * are over a SharedArrayBuffer and whose growth the workers' instances see at once).
 * @category wasm
 */
export const createArena = (memory: WasmMemory): Arena => {
  // Every call lays its operands out over [0, reserved bytes), so a reservation past the kept
  // range's start may overwrite it.
  let keptRange: { readonly from: number; readonly to: number; readonly release?: () => void } | null = null
  const drop = (): void => {
    const range = keptRange
    keptRange = null
    range?.release?.()
  }
  return {
    reserve(bytes) {
      if (keptRange !== null && bytes > keptRange.from) drop()
      return grow(memory, bytes)
    },
    view(dtype, ptr, length) {
      return dtype === 'float32' ? new Float32Array(memory.buffer, ptr, length) : new Float64Array(memory.buffer, ptr, length)
    },
    keep(from, to, release) {
      drop()
      keptRange = { from, to, release }
    },
    kept(from, to) {
      return keptRange !== null && keptRange.from === from && keptRange.to === to
    },
    keeping() {
      return keptRange !== null
    },
  }
}

/** Grows `memory` to at least `bytes`; false when it cannot. */
const grow = (memory: WasmMemory, bytes: number): boolean => {
  const have = memory.buffer.byteLength
  if (bytes <= have) return true
  if (bytes > MAX_BYTES) return false
  try {
    memory.grow(Math.ceil((bytes - have) / PAGE))
    return true
  } catch {
    return false // RangeError: the host could not allocate the pages
  }
}
