import {randomBytes} from 'node:crypto'
import {cpSync, existsSync, mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, isAbsolute, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Sandbox} from '../index.js'
import {deployMigrations} from '../seeds/prisma-app.js'
import {bucketConfig, newAccessKeys, type UploadsProvider} from '../seeds/uploads.js'
import type {Addon, App} from '../heroku/state.js'

// Scenarios: small declarative files (sandbox/scenarios/*.json) that describe an app's shape as Heroku
// would show it (process types, releases with their config vars and commits, Postgres add-ons and
// their attachments) and what happened to its data (tables and rows, Prisma migrations, backups,
// points in time, uploaded files). `loadScenario` turns one into sandbox state; the seed functions of the tests and
// the demo (scenario.ts, recovery-scenario.ts, prisma-scenario.ts) are thin uses of `loadApp`.

export const SCENARIOS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'sandbox', 'scenarios')
// Relative paths in a scenario (a Prisma project) are read from the repository's root.
const REPO_ROOT = join(SCENARIOS_DIR, '..', '..')

// A duration back from now: milliseconds, or `30d`, `9h`, `7m`, `1d12h`.
export type Ago = number | string

export interface UserSpec {
  email: string
}

export interface ProcessSpec {
  type: string
  command: string
  quantity?: number
  size?: string
}

// One release, as `heroku releases` lists it. Exactly one of: a deploy (`deploy`: its commit), a config
// change (`config`: the vars set; null unsets one), an attachment (`attach`: a database's attachment
// name, provisioned then), or a description alone. `deploys` makes a run of ordinary deploys.
export interface ReleaseSpec {
  ago?: Ago
  by?: string
  description?: string
  deploy?: string
  config?: Record<string, string | null>
  attach?: string
}

export interface DeploysSpec {
  // How many, the first how long ago, and the time between two; authors taken in turn by version.
  deploys: number
  first: Ago
  every: Ago
  by?: string[]
}

export interface DatabaseSpec {
  // The attachment name (DATABASE) that releases and events refer to.
  as: string
  plan?: string
}

// What happened to the data, in order, after the releases: SQL as the app's own role, `prisma migrate
// deploy` of a project's migrations, a backup (`pg:backups:capture`, or a scheduled one finished some time
// ago), and a checkpoint: a moment a point-in-time rollback can reach, named to be used in `try`.
export type EventSpec =
  | {sql: string, database?: string}
  | {migrate: {project: string, applied?: number}, database?: string}
  | {backup: {scheduled?: boolean, ago?: Ago, fails?: boolean, name?: string}, database?: string}
  | {checkpoint: string | true, database?: string}

// The app's uploads: a versioned bucket of the sandbox's S3 behind an add-on's config vars, and what
// happened to its files, in order: files uploaded (random content), deleted (a delete marker),
// overwritten (`put` again), and named moments for `try` (ISO times to the second).
export interface UploadsSpec {
  bucket: string
  provider?: UploadsProvider
  versioning?: boolean
  files: ({put: string[], ago: Ago} | {delete: string[], ago: Ago} | {moment: string, ago: Ago})[]
}

export interface AppSpec {
  name: string
  formation?: ProcessSpec[]
  databases?: DatabaseSpec[]
  releases: (ReleaseSpec | DeploysSpec)[]
  events?: EventSpec[]
  uploads?: UploadsSpec
}

export interface ScenarioSpec {
  name: string
  title: string
  // What happened, in a sentence or two, as the person on call hears it.
  story?: string
  // A Prisma project (path from the repository root) copied to a folder of its own to run commands from.
  project?: string
  apps: AppSpec[]
  // What to try first: commands with {placeholders} for what loading made (a backup's name, a
  // checkpoint's time, {project} for the project folder).
  try: string[]
}

export interface LoadedApp {
  app: App
  databases: Record<string, Addon>
  // Named checkpoints (ISO times to the second) and backups (b002...).
  names: Record<string, string>
}

export interface LoadedScenario {
  spec: ScenarioSpec
  apps: LoadedApp[]
  // The copy of the scenario's Prisma project, when it has one.
  projectDir?: string
  try: string[]
}

const UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

export function agoMs(ago: Ago): number {
  if (typeof ago === 'number') return ago
  const parts = [...ago.matchAll(/(\d+)([smhd])/g)]
  if (parts.length === 0 || parts.map(p => p[0]).join('') !== ago) throw new Error(`"${ago}" is not a duration such as 30d, 9h or 1d12h`)
  return parts.reduce((total, [, n, unit]) => total + Number(n) * UNITS[unit], 0)
}

const at = (ago: Ago | undefined) => new Date(Date.now() - agoMs(ago ?? 0)).toISOString()
const user = (email: string) => ({id: `u-${email.split('@')[0]}`, email})
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

// The commit of an ordinary deploy of a `deploys` run: made up, but the same for the same version.
const fillerCommit = (version: number) => (version * 2654435761 % 0xffffffff).toString(16).padStart(8, '0').repeat(5)

// --- Files ---------------------------------------------------------------------------------------------

export function scenarioFiles(dir = SCENARIOS_DIR): string[] {
  return readdirSync(dir).filter(file => file.endsWith('.json')).sort().map(file => join(dir, file))
}

export function readScenario(file: string): ScenarioSpec {
  let spec: ScenarioSpec
  try {
    spec = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`)
  }
  const problems = validate(spec)
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`)
  return {...spec, name: spec.name ?? basename(file, '.json')}
}

// A scenario by name (a file in sandbox/scenarios) or by path (a team's own copy).
export function findScenario(nameOrPath: string, dir = SCENARIOS_DIR): ScenarioSpec {
  if (nameOrPath.endsWith('.json') || nameOrPath.includes('/')) return readScenario(resolve(nameOrPath))
  const file = join(dir, `${nameOrPath}.json`)
  if (!existsSync(file)) {
    const known = scenarioFiles(dir).map(f => basename(f, '.json'))
    throw new Error(`No scenario "${nameOrPath}": use one of ${[...known, 'all'].join(', ')}, or the path of a scenario file.`)
  }
  return readScenario(file)
}

function validate(spec: ScenarioSpec): string[] {
  const problems: string[] = []
  if (typeof spec !== 'object' || spec === null) return ['not a JSON object']
  if (typeof spec.title !== 'string') problems.push('"title" is missing')
  if (!Array.isArray(spec.apps) || spec.apps.length === 0) problems.push('"apps" must list at least one app')
  if (!Array.isArray(spec.try)) problems.push('"try" must list commands to try first')
  for (const app of spec.apps ?? []) {
    if (!/^[a-z][a-z0-9-]{2,29}$/.test(app.name ?? '')) problems.push(`app "${app.name}" is not a Heroku app name`)
    const attachments = new Set((app.databases ?? []).map(d => d.as))
    for (const release of app.releases ?? []) {
      if ('deploys' in release) {
        for (const ago of [release.first, release.every]) problems.push(...durationProblem(ago))
        continue
      }
      const kinds = ['deploy', 'config', 'attach'].filter(kind => kind in release)
      if (kinds.length > 1) problems.push(`a release of ${app.name} is both ${kinds.join(' and ')}`)
      if (release.attach && !attachments.has(release.attach)) problems.push(`a release of ${app.name} attaches ${release.attach}, which "databases" does not list`)
      problems.push(...durationProblem(release.ago))
    }
    for (const event of app.events ?? []) {
      const database = event.database ?? 'DATABASE'
      if (!attachments.has(database)) problems.push(`an event of ${app.name} is about ${database}, which "databases" does not list`)
      if ('backup' in event) problems.push(...durationProblem(event.backup.ago))
      if (!['sql', 'migrate', 'backup', 'checkpoint'].some(kind => kind in event)) problems.push(`an event of ${app.name} is none of sql, migrate, backup, checkpoint`)
    }
    if (app.uploads) {
      if (typeof app.uploads.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{2,62}$/.test(app.uploads.bucket)) problems.push(`the uploads bucket of ${app.name} is not an S3 bucket name`)
      for (const change of app.uploads.files ?? []) {
        if (!['put', 'delete', 'moment'].some(kind => kind in change)) problems.push(`a change to the files of ${app.name} is none of put, delete, moment`)
        problems.push(...durationProblem(change.ago))
      }
    }
  }
  return problems
}

function durationProblem(ago: Ago | undefined): string[] {
  try {
    if (ago !== undefined) agoMs(ago)
    return []
  } catch (error) {
    return [(error as Error).message]
  }
}

// --- Loading -------------------------------------------------------------------------------------------

export interface LoadOptions {
  // Where relative project paths are read from (default: the repository's root).
  root?: string
  // Copies of projects to run commands from, by their path in the scenario (default: the project itself).
  copies?: Record<string, string>
}

// One app: its process types, releases in order (databases provisioned at their attach release), then the events.
export async function loadApp(sandbox: Sandbox, spec: AppSpec, options: LoadOptions = {}): Promise<LoadedApp> {
  const {state} = sandbox
  const app = sandbox.createApp(spec.name)
  for (const process of spec.formation ?? []) {
    app.formation.push({id: `f-${process.type}`, type: process.type, quantity: process.quantity ?? (process.type === 'release' ? 0 : 1), size: process.size ?? 'Standard-1X', command: process.command})
  }
  const processTypes = Object.fromEntries(app.formation.filter(p => p.type !== 'release').map(p => [p.type, p.command]))
  const databases: Record<string, Addon> = {}
  const names: Record<string, string> = {}

  const deploy = (commit: string, fields: {by?: string, at: string, description?: string}) => {
    const slug = state.addSlug(app, commit, processTypes, fields.at)
    state.addRelease(app, {description: fields.description ?? `Deploy ${commit.slice(0, 7)}`, slug: {id: slug.id}, ...(fields.by ? {user: user(fields.by)} : {})}, fields.at)
  }

  for (const release of spec.releases) {
    if ('deploys' in release) {
      for (let i = 0; i < release.deploys; i++) {
        const version = (app.releases.at(-1)?.version ?? 0) + 1
        const by = release.by?.length ? release.by[version % release.by.length] : undefined
        deploy(fillerCommit(version), {by, at: at(agoMs(release.first) - (i * agoMs(release.every)))})
      }
      continue
    }
    const when = at(release.ago)
    const by = release.by ? {user: user(release.by)} : {}
    if (release.deploy) {
      deploy(release.deploy, {by: release.by, at: when, description: release.description})
    } else if (release.config) {
      for (const [name, value] of Object.entries(release.config)) {
        if (value === null) delete app.config[name]
        else app.config[name] = value
      }
      const names = Object.keys(release.config).join(', ')
      state.addRelease(app, {description: release.description ?? `Set ${names} config vars`, ...by}, when)
    } else if (release.attach) {
      const database = spec.databases!.find(d => d.as === release.attach)!
      const addon = await sandbox.createPostgres(app, database.plan ?? 'heroku-postgresql:standard-0', database.as, {createdAt: Date.parse(when), release: false})
      databases[database.as] = addon
      state.addRelease(app, {description: release.description ?? `Attach ${database.as} (@ref:${addon.name})`, ...by}, when)
    } else {
      state.addRelease(app, {description: release.description ?? 'Release', ...by}, when)
    }
  }

  for (const event of spec.events ?? []) {
    const name = event.database ?? 'DATABASE'
    const database = databases[name]
    if (!database) throw new Error(`${spec.name}: ${name} is not attached by any release before its events`)
    if ('sql' in event) {
      await sandbox.sql(database, event.sql)
    } else if ('migrate' in event) {
      const project = options.copies?.[event.migrate.project] ?? resolveFrom(options.root ?? REPO_ROOT, event.migrate.project)
      await deployMigrations(sandbox, database, join(project, 'prisma', 'migrations'), event.migrate.applied)
    } else if ('backup' in event) {
      const {scheduled, ago, fails} = event.backup
      const transfer = sandbox.capture(database, {scheduled, fails, ...(ago === undefined ? {} : {finishedAt: at(ago)})})
      await sandbox.settle()
      // A backup that finished some time ago also started then (a minute earlier), as `pg:backups` lists it.
      if (ago !== undefined) transfer.created_at = transfer.started_at = at(agoMs(ago) + 60_000)
      if (event.backup.name) names[event.backup.name] = sandbox.state.transferName(transfer)
    } else if ('checkpoint' in event) {
      const snapshot = await sandbox.checkpoint(database)
      if (event.checkpoint !== true) {
        // Heroku takes rollback times to the second: the name stands for the next whole second, and
        // nothing after this event happens before it.
        const second = Math.ceil(snapshot.at / 1000) * 1000
        await sleep(second - Date.now() + 50)
        names[event.checkpoint] = new Date(second).toISOString()
      }
    }
  }
  if (spec.uploads) Object.assign(names, loadUploads(sandbox, app, spec.uploads))
  return {app, databases, names}
}

// The bucket, its config vars, and its files' history; returns the named moments.
function loadUploads(sandbox: Sandbox, app: App, spec: UploadsSpec): Record<string, string> {
  const bucket = sandbox.s3.createBucket(spec.bucket, {app: app.name, versioning: spec.versioning === false ? undefined : 'Enabled'})
  Object.assign(app.config, bucketConfig(spec.provider ?? 'bucketeer', bucket.name, sandbox.s3Endpoint, newAccessKeys()))
  const moments: Record<string, string> = {}
  for (const change of spec.files) {
    const when = Date.now() - agoMs(change.ago)
    if ('put' in change) for (const key of change.put) sandbox.s3.put(bucket, key, randomBytes(200 + key.length * 7), when)
    else if ('delete' in change) for (const key of change.delete) sandbox.s3.delete(bucket, key, when)
    else moments[change.moment] = new Date(Math.floor(when / 1000) * 1000).toISOString()
  }
  return moments
}

const resolveFrom = (root: string, path: string) => (isAbsolute(path) ? path : join(root, path))

// A whole scenario; its Prisma project, if any, is copied first to a folder of its own (in `copyTo`, or
// a new temporary folder), which the caller removes. `copyProject: false` runs from the project itself.
export async function loadScenario(sandbox: Sandbox, spec: ScenarioSpec, options: LoadOptions & {copyProject?: boolean, copyTo?: string} = {}): Promise<LoadedScenario> {
  let projectDir: string | undefined
  if (spec.project) {
    const source = resolveFrom(options.root ?? REPO_ROOT, spec.project)
    if (options.copyProject === false) {
      projectDir = source
    } else {
      projectDir = options.copyTo ? join(options.copyTo, spec.name) : mkdtempSync(join(tmpdir(), `heroku-sandbox-${spec.name}-`))
      cpSync(source, projectDir, {recursive: true})
    }
  }
  const apps: LoadedApp[] = []
  for (const app of spec.apps) apps.push(await loadApp(sandbox, app, {...options, copies: spec.project && projectDir ? {[spec.project]: projectDir} : {}}))
  const values: Record<string, string> = Object.assign({}, ...apps.map(a => a.names), projectDir ? {project: projectDir} : {})
  const fill = (line: string) => line.replace(/\{([\w-]+)\}/g, (whole, key: string) => values[key] ?? whole)
  return {spec, apps, projectDir, try: spec.try.map(fill)}
}
