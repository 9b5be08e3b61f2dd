/**
 * scripts/buildStamp.mjs, which lets `npm start` skip the build `npm ci` already made: after a
 * build (`--write`) `--check` passes; an edited source, a missing dist/ or no stamp make it fail,
 * naming the reason; and package.json's start script builds only when the check fails.
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../cli/helpers.js'

const run = promisify(execFile)
const script = new URL('../../scripts/buildStamp.mjs', import.meta.url)

/** `node scripts/buildStamp.mjs <flag>` in `root`: its exit code and stderr. */
const stamp = async (root: string, flag: string): Promise<{ code: number; stderr: string }> => {
  try {
    const { stderr } = await run(process.execPath, [join(root, 'scripts', 'buildStamp.mjs'), flag])
    return { code: 0, stderr }
  } catch (e) {
    const failed = e as { code: number; stderr: string }
    return { code: failed.code, stderr: failed.stderr }
  }
}

describe('scripts/buildStamp.mjs', () => {
  it('passes after a build and fails after an edit or without dist/', async () => {
    const root = join(tempDir(), 'repo')
    mkdirSync(join(root, 'scripts'), { recursive: true })
    cpSync(script, join(root, 'scripts', 'buildStamp.mjs'))
    mkdirSync(join(root, 'src', 'cli'), { recursive: true })
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), 'export const a = 1\n')
    writeFileSync(join(root, 'package.json'), '{}\n')
    expect(await stamp(root, '--check')).toEqual({ code: 1, stderr: 'dist/ has no build: building.\n' })

    mkdirSync(join(root, 'dist', 'cli'), { recursive: true })
    writeFileSync(join(root, 'dist', 'cli', 'main.js'), '')
    expect((await stamp(root, '--write')).code).toBe(0)
    expect(await stamp(root, '--check')).toEqual({ code: 0, stderr: '' })

    writeFileSync(join(root, 'src', 'cli', 'main.ts'), 'export const a = 2\n')
    expect(await stamp(root, '--check')).toEqual({ code: 1, stderr: `${join('src', 'cli', 'main.ts')} changed since the last build: building.\n` })
    writeFileSync(join(root, 'src', 'cli', 'new.ts'), '')
    expect((await stamp(root, '--write')).code).toBe(0)
    expect((await stamp(root, '--check')).code).toBe(0)
    // A README beside the sources is not compiled: editing it needs no build.
    writeFileSync(join(root, 'src', 'cli', 'README.md'), 'notes')
    expect((await stamp(root, '--check')).code).toBe(0)
  })

  it('package.json: start builds only when the check fails; every build writes the stamp', () => {
    const scripts = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts
    expect(scripts.start).toBe('(node scripts/buildStamp.mjs --check || npm run build) && node dist/cli/main.js train')
    expect(scripts.postbuild).toMatch(/&& node scripts\/buildStamp\.mjs --write$/)
  })
})
