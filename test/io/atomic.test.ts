import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { randomKey, treeLeaves, uniform } from '../../src/index.js'
import { CHECKPOINT_FILE, loadCheckpoint } from '../../src/io/index.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const script = fileURLToPath(new URL('./fixtures/saveLoop.ts', import.meta.url))

/** Starts the save loop and resolves once it has printed `ready`; `saved` collects the epochs it reports. */
const startSaver = (path: string, firstEpoch: number): Promise<{ child: ChildProcess; saved: number[] }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, path, String(firstEpoch)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    const saved: number[] = []
    let stderr = ''
    let buffered = ''
    child.stderr?.on('data', (chunk) => (stderr += chunk))
    child.stdout?.on('data', (chunk) => {
      buffered += chunk
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        if (line === 'ready') resolve({ child, saved })
        else if (line.startsWith('saved ')) saved.push(Number(line.slice(6)))
      }
    })
    child.on('exit', (code, signal) => {
      if (signal === null) reject(new Error(`the save loop exited with code ${code}:\n${stderr}`))
    })
  })

const killNow = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })

describe('io.saveCheckpoint atomicity', () => {
  it('SIGKILL at random moments of a save loop never leaves a broken checkpoint in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scangrad-atomic-'))
    const path = join(dir, CHECKPOINT_FILE)
    // Random but reproducible kill delays (ms after the child is ready), from scangrad's own PRNG.
    const delays = Array.from(uniform(randomKey(2024), [8], { low: 0, high: 400 }).data)
    let everSaved = false
    let whole = 0
    for (const [i, delay] of delays.entries()) {
      const { child, saved } = await startSaver(path, 1000 * (i + 1))
      await new Promise((r) => setTimeout(r, delay))
      await killNow(child)
      everSaved ||= saved.length > 0

      if (!existsSync(path)) {
        expect(everSaved, `kill ${i}: the checkpoint vanished after a completed save`).toBe(false)
        continue
      }
      const loaded = await loadCheckpoint(path)
      if (E.isLeft(loaded)) throw new Error(`kill ${i} after ${delay.toFixed(0)} ms left a broken checkpoint:\n${loaded.left.message}`)
      const { epoch, params, optState } = loaded.right
      // Whole: every value of every tensor is the epoch in the metadata.
      for (const leaf of [...treeLeaves(params), ...treeLeaves(optState)]) expect(leaf.data.every((v) => v === epoch)).toBe(true)
      // Latest: the last reported save, or the one after it if the kill came between rename and print.
      if (saved.length > 0) expect([saved[saved.length - 1], saved[saved.length - 1] + 1]).toContain(epoch)
      whole++
    }
    expect(whole).toBeGreaterThan(4) // most kills land after at least one save: the test did test something
    for (const name of readdirSync(dir)) {
      if (name !== CHECKPOINT_FILE) expect(name).toMatch(/^\.checkpoint\.safetensors\.[0-9a-f]{12}\.tmp$/)
    }
    rmSync(dir, { recursive: true })
  }, 60_000)
})
