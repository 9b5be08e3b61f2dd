/// <reference types="node" />
/**
 * @file Locating data files shipped inside installed npm packages (Node only). Resolution goes
 * through the package's `package.json`, so it works wherever npm put the package.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { ValueError } from '../../errors.js'

/** The absolute path of `relative` inside the installed package `name`; throws if not installed. */
export const packageFile = (who: string, name: string, relative: string): string => {
  let root: string
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${name}/package.json`))
  } catch {
    throw new ValueError(`${who}: the package ${name} is not installed; run \`npm ci\` in the scangrad folder.`)
  }
  return join(root, relative)
}

/** Parses a JSON file shipped in a package; throws naming the file if it is unreadable. */
export const readPackageJson = (who: string, name: string, relative: string): unknown => {
  const path = packageFile(who, name, relative)
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    throw new ValueError(`${who}: cannot read ${path} (${reason}); reinstall ${name} with \`npm ci\`.`)
  }
}
