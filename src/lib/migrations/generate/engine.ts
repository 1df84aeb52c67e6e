import {existsSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import type {SqlMigrationAwareDriverAdapterFactory} from '@prisma/driver-adapter-utils'
import {findPrismaCli} from '../prisma-cli.js'

// Prisma's schema engine compiled to WebAssembly: the engine `prisma migrate diff` runs, without its native
// binary (which cannot be downloaded on machines without internet). Loaded only on the --generate paths.
//
// Which build: the project's own, when its `prisma` package carries one that these bindings can drive
// (build/schema_engine_bg.wasm, shipped by Prisma 7): then the SQL comes from the project's Prisma release.
// Otherwise the one this plugin pins (@prisma/schema-engine-wasm), which is Prisma BUNDLED_PRISMA's engine.

// The Prisma release whose engine @prisma/schema-engine-wasm is pinned to in package.json, and that engine's
// commit (what its version() answers): 7.10.0's @prisma/engines depends on engines-version 7.10.0-4.0edf323.
export const BUNDLED_PRISMA = '7.10.0'
export const BUNDLED_ENGINE_COMMIT = '0edf323efd1d98336f3f0a68684b56f689b900d3'

export interface MigrationList {
  baseDir: string
  lockfile: {path: string, content: string | null}
  shadowDbInitScript: string
  migrationDirectories: {path: string, migrationFile: {path: string, content: {tag: 'ok', value: string}}}[]
}

interface DiffParams {
  from: {tag: 'migrations'} & MigrationList
  to: {tag: 'migrations'} & MigrationList
  script: boolean
  exitCode: null
  filters: {externalTables: string[], externalEnums: string[]}
}

export interface SchemaEngine {
  diff(params: DiffParams): Promise<{exitCode: number, stdout: string | null}>
  free(): void
}

// The wasm-bindgen glue of @prisma/schema-engine-wasm (schema_engine_bg.js), which holds the instance it drives.
interface Glue {
  __wbg_set_wasm(exports: WebAssembly.Exports): void
  version(): string
  SchemaEngine: {new: (options: {datamodels: undefined}, log: (line: string) => void, adapter: object) => Promise<SchemaEngine>}
  [name: string]: unknown
}

export interface EngineInfo {
  // The Prisma release the engine comes from, and the engine's own commit.
  prisma: string
  commit: string
  // 'project': the project's own node_modules/prisma; 'bundled': the one pinned by this plugin.
  source: 'project' | 'bundled'
  wasmPath: string
  // The project's Prisma as installed (node_modules/prisma) or declared (package.json), when known.
  projectPrisma?: {version: string, installed: boolean}
  // Why the engine is not from the project's release, in words; undefined when it is.
  mismatch?: string
}

export interface LoadedEngine {
  info: EngineInfo
  create(adapter: SqlMigrationAwareDriverAdapterFactory, log?: (line: string) => void): Promise<SchemaEngine>
}

const require = createRequire(import.meta.url)

// The glue module's own folder: its package.json lists no ./schema_engine_bg.wasm export, so the file is found beside the glue.
const bundledGluePath = () => require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')

// The project's Prisma version: its node_modules/prisma, or the range its package.json asks for.
export function projectPrismaVersion(projectDir: string): {version: string, installed: boolean, dir?: string} | undefined {
  const cli = findPrismaCli(projectDir)
  if (cli) return {version: cli.version, installed: true, dir: join(dirname(dirname(cli.bin)), 'prisma')}
  const manifest = join(projectDir, 'package.json')
  if (!existsSync(manifest)) return undefined
  try {
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, Record<string, string> | undefined>
    const declared = ['dependencies', 'devDependencies'].map(key => json[key]?.prisma ?? json[key]?.['@prisma/client']).find(Boolean)
    return declared ? {version: declared, installed: false} : undefined
  } catch {
    return undefined
  }
}

// The names the wasm imports must all be functions of the glue, and the exports the glue calls must all be in
// the wasm: otherwise this build needs other bindings (another wasm-bindgen) and must not be driven by these.
export function bindingsFit(module: WebAssembly.Module, glue: Record<string, unknown>, glueSource: string): boolean {
  const imports = WebAssembly.Module.imports(module)
  const exports = new Set(WebAssembly.Module.exports(module).map(e => e.name))
  const called = new Set([...glueSource.matchAll(/\bwasm\.([A-Za-z_$][\w$]*)/g)].map(m => m[1]))
  return imports.every(i => typeof glue[i.name] === 'function') && [...called].every(name => exports.has(name))
}

const sameRelease = (declared: string) => declared.replace(/^[\^~=v]+/, '') === BUNDLED_PRISMA

function mismatchOf(project: ReturnType<typeof projectPrismaVersion>, why?: string): string | undefined {
  if (!project) return `The project's Prisma version is unknown (no node_modules/prisma, no prisma in package.json): this SQL comes from Prisma ${BUNDLED_PRISMA}'s schema engine`
  if (project.installed ? project.version === BUNDLED_PRISMA : sameRelease(project.version)) return undefined
  const what = project.installed ? `The project has Prisma ${project.version}` : `The project's package.json asks for Prisma ${project.version} (not installed)`
  return `${what}, not ${BUNDLED_PRISMA}: this SQL comes from Prisma ${BUNDLED_PRISMA}'s schema engine${why ? ` (${why})` : ''}, so it may differ from what the project's release would generate`
}

let instantiated: {wasmPath: string, glue: Glue} | undefined

// One engine build per process: the glue module keeps the instance it drives in a module variable.
async function instantiate(wasmPath: string, module: WebAssembly.Module, glue: Glue): Promise<Glue> {
  if (instantiated && instantiated.wasmPath !== wasmPath) throw new Error(`a schema engine from ${instantiated.wasmPath} is already loaded in this process`)
  if (instantiated) return instantiated.glue
  const instance = new WebAssembly.Instance(module, {'./schema_engine_bg.js': glue as unknown as WebAssembly.ModuleImports})
  glue.__wbg_set_wasm(instance.exports)
  ;(instance.exports.__wbindgen_start as () => void)()
  instantiated = {wasmPath, glue}
  return glue
}

export async function loadEngine(projectDir: string): Promise<LoadedEngine> {
  const gluePath = bundledGluePath()
  const glue = await import('@prisma/schema-engine-wasm/schema_engine_bg') as unknown as Glue
  const glueSource = readFileSync(gluePath, 'utf8')
  const project = projectPrismaVersion(projectDir)
  let chosen: {wasmPath: string, module: WebAssembly.Module, source: EngineInfo['source']} | undefined
  let why: string | undefined
  const projectWasm = project?.dir && join(project.dir, 'build', 'schema_engine_bg.wasm')
  if (projectWasm && existsSync(projectWasm)) {
    const module = new WebAssembly.Module(readFileSync(projectWasm))
    if (bindingsFit(module, glue, glueSource)) chosen = {wasmPath: projectWasm, module, source: 'project'}
    else why = `the project's own engine, ${projectWasm}, needs other bindings than the ones this plugin ships`
  } else if (project?.installed) {
    why = 'the project\'s Prisma ships no WebAssembly schema engine (build/schema_engine_bg.wasm)'
  }
  if (!chosen) {
    const wasmPath = join(dirname(gluePath), 'schema_engine_bg.wasm')
    chosen = {wasmPath, module: new WebAssembly.Module(readFileSync(wasmPath)), source: 'bundled'}
  }
  const loaded = await instantiate(chosen.wasmPath, chosen.module, glue)
  const commit = loaded.version()
  const info: EngineInfo = chosen.source === 'project'
    ? {prisma: project!.version, commit, source: 'project', wasmPath: chosen.wasmPath, projectPrisma: {version: project!.version, installed: true}}
    : {prisma: BUNDLED_PRISMA, commit, source: 'bundled', wasmPath: chosen.wasmPath, projectPrisma: project && {version: project.version, installed: project.installed}, mismatch: mismatchOf(project, why)}
  if (chosen.source === 'bundled' && commit !== BUNDLED_ENGINE_COMMIT) {
    throw new Error(`the bundled schema engine answers version ${commit}, not Prisma ${BUNDLED_PRISMA}'s ${BUNDLED_ENGINE_COMMIT}: reinstall the plugin`)
  }
  const {bindMigrationAwareSqlAdapterFactory} = await import('@prisma/driver-adapter-utils')
  return {
    info,
    create: (adapter, log = () => {}) => loaded.SchemaEngine.new({datamodels: undefined}, log, bindMigrationAwareSqlAdapterFactory(adapter)),
  }
}

// How the engine is named in plans and reports.
export const describeEngine = (info: EngineInfo) => info.source === 'project'
  ? `the project's Prisma ${info.prisma} schema engine (WebAssembly, ${info.wasmPath})`
  : `Prisma ${info.prisma}'s schema engine (WebAssembly, bundled with heroku-safe-rollback)`
