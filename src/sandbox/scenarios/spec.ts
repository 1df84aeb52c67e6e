import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {CodeBehaviour} from '../heroku/state.js'
import type {UploadsProvider} from '../heroku/storage-addons.js'

// Scenarios: small declarative files (sandbox/scenarios/*.json) that describe an app's shape as Heroku
// would show it (process types, releases with their config vars and commits, Postgres add-ons and
// their attachments) and what happened to its data (tables and rows, Prisma migrations, backups,
// points in time, uploaded files). This is their shape and how they are read and checked; load.ts
// turns one into sandbox state.

export const SCENARIOS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'sandbox', 'scenarios')

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
  // Not a database of its own: another attachment of a database already there, as `heroku addons:attach`
  // makes it: `acme-shop::DATABASE` (another app's, loaded before this one) or `DATABASE` (this app's).
  // Attached at the release that names it (`{"attach": AS}`), else right after the releases.
  attaches?: string
  // With `attaches`: a connection pooler (namespace connection-pooling:default), under the name `as`.
  pooler?: boolean
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

// The requests the app gets while its logs are read, and how each release's code answers them: by
// version (`v53`) or commit (its first 7 or more characters): `healthy` (the default), `failing` (500s),
// `{"failing": 5}` (5% of requests), `crashing` (its dynos crash at boot: H10), `slow` (H12).
export interface TrafficSpec {
  perSecond: number
  code?: Record<string, CodeBehaviour>
}

export interface AppSpec {
  name: string
  // Cedar (the default) or Fir: Fir's log sessions take no `lines` and keep no history, its dynos have other names.
  generation?: 'cedar' | 'fir'
  // Features turned on (`preboot`).
  features?: string[]
  // A team's app, where the sandbox user is a member with these app permissions (view, deploy, operate, manage).
  team?: {name: string, permissions: string[]}
  traffic?: TrafficSpec
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

const UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

export function agoMs(ago: Ago): number {
  if (typeof ago === 'number') return ago
  const parts = [...ago.matchAll(/(\d+)([smhd])/g)]
  if (parts.length === 0 || parts.map(p => p[0]).join('') !== ago) throw new Error(`"${ago}" is not a duration such as 30d, 9h or 1d12h`)
  return parts.reduce((total, [, n, unit]) => total + Number(n) * UNITS[unit], 0)
}

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
    for (const database of app.databases ?? []) {
      if (database.pooler && !database.attaches) problems.push(`the pooler ${database.as} of ${app.name} needs "attaches": the database it pools`)
      if (database.attaches && !/^([a-z][a-z0-9-]{2,29}::)?[A-Z][A-Z0-9_]*$/.test(database.attaches)) problems.push(`${database.as} of ${app.name} attaches "${database.attaches}", which is neither APP::ATTACHMENT nor ATTACHMENT`)
    }
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
    if (app.generation !== undefined && !['cedar', 'fir'].includes(app.generation)) problems.push(`the generation of ${app.name} is neither cedar nor fir`)
    if (app.team !== undefined && !(typeof app.team.name === 'string' && Array.isArray(app.team.permissions) && app.team.permissions.every(p => ['view', 'deploy', 'operate', 'manage'].includes(p)))) {
      problems.push(`the team of ${app.name} needs a name and permissions among view, deploy, operate, manage`)
    }
    if (app.traffic) {
      if (!(typeof app.traffic.perSecond === 'number' && app.traffic.perSecond >= 0)) problems.push(`the traffic of ${app.name} needs perSecond, a number of requests a second`)
      for (const [key, code] of Object.entries(app.traffic.code ?? {})) {
        if (!/^(v\d+|[0-9a-f]{7,40})$/.test(key)) problems.push(`the traffic of ${app.name} names "${key}", which is neither a version (v53) nor a commit`)
        const known = ['healthy', 'failing', 'crashing', 'slow'].includes(code as string) || (typeof code === 'object' && code !== null && typeof code.failing === 'number' && code.failing >= 0 && code.failing <= 100)
        if (!known) problems.push(`the code of ${app.name} at ${key} is none of healthy, failing, {"failing": PERCENT}, crashing, slow`)
      }
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
