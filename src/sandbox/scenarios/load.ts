import {randomBytes} from 'node:crypto'
import {cpSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {isAbsolute, join} from 'node:path'
import type {Heroku} from '../heroku/heroku.js'
import type {Addon, App} from '../heroku/state.js'
import {bucketConfig, newAccessKeys} from '../heroku/storage-addons.js'
import {deployMigrations} from './prisma.js'
import {Ago, agoMs, AppSpec, DatabaseSpec, SCENARIOS_DIR, ScenarioSpec, UploadsSpec} from './spec.js'

// Turns a scenario (spec.ts) into sandbox state. The seed functions of the tests and the demo (seeds/)
// are thin uses of `loadApp`.

// Relative paths in a scenario (a Prisma project) are read from the repository's root.
const REPO_ROOT = join(SCENARIOS_DIR, '..', '..')

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

const at = (ago: Ago | undefined) => new Date(Date.now() - agoMs(ago ?? 0)).toISOString()
const user = (email: string) => ({id: `u-${email.split('@')[0]}`, email})
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

// The commit of an ordinary deploy of a `deploys` run: made up, but the same for the same version.
const fillerCommit = (version: number) => (version * 2654435761 % 0xffffffff).toString(16).padStart(8, '0').repeat(5)

export interface LoadOptions {
  // Where relative project paths are read from (default: the repository's root).
  root?: string
  // Copies of projects to run commands from, by their path in the scenario (default: the project itself).
  copies?: Record<string, string>
  // The apps loaded before this one, whose databases `attaches` may name.
  loaded?: LoadedApp[]
}

// One app: its process types, releases in order (databases provisioned at their attach release), then the events.
export async function loadApp(sandbox: Heroku, spec: AppSpec, options: LoadOptions = {}): Promise<LoadedApp> {
  const {state} = sandbox
  const app = sandbox.createApp(spec.name)
  if (spec.generation) app.generation.name = spec.generation
  for (const feature of spec.features ?? []) app.features[feature] = true
  if (spec.team) state.joinTeam(app, spec.team.name, spec.team.permissions)
  if (spec.traffic) app.traffic = {perSecond: spec.traffic.perSecond, code: {...spec.traffic.code}}
  for (const process of spec.formation ?? []) {
    app.formation.push({id: `f-${process.type}`, type: process.type, quantity: process.quantity ?? (process.type === 'release' ? 0 : 1), size: process.size ?? 'Standard-1X', command: process.command})
  }
  const processTypes = Object.fromEntries(app.formation.filter(p => p.type !== 'release').map(p => [p.type, p.command]))
  const databases: Record<string, Addon> = {}
  const names: Record<string, string> = {}

  // A database spec that `attaches` an existing database: found among this app's or the loaded apps'.
  const attachExisting = (database: DatabaseSpec, release: boolean) => {
    const [owner, name] = database.attaches!.includes('::') ? database.attaches!.split('::') : [spec.name, database.attaches!]
    const addon = owner === spec.name ? databases[name] : options.loaded?.find(l => l.app.name === owner)?.databases[name]
    if (!addon) throw new Error(`${spec.name}: ${database.as} attaches ${database.attaches}, which is not loaded before it`)
    databases[database.as] = addon
    const namespace = database.pooler ? 'connection-pooling:default' : null
    if (release) sandbox.attachWithRelease(app, addon, database.as, undefined, namespace)
    else state.attach(app, addon, database.as, namespace)
    return addon
  }

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
    } else if (release.attach && spec.databases!.find(d => d.as === release.attach)!.attaches) {
      attachExisting(spec.databases!.find(d => d.as === release.attach)!, true)
    } else if (release.attach) {
      const database = spec.databases!.find(d => d.as === release.attach)!
      const addon = await sandbox.createPostgres(app, database.plan ?? 'heroku-postgresql:standard-0', database.as, {createdAt: Date.parse(when), release: false})
      databases[database.as] = addon
      state.addRelease(app, {description: release.description ?? `Attach ${database.as} (@ref:${addon.name})`, ...by}, when)
    } else {
      state.addRelease(app, {description: release.description ?? 'Release', ...by}, when)
    }
  }

  for (const database of spec.databases ?? []) if (database.attaches && !databases[database.as]) attachExisting(database, false)

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
function loadUploads(sandbox: Heroku, app: App, spec: UploadsSpec): Record<string, string> {
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
export async function loadScenario(sandbox: Heroku, spec: ScenarioSpec, options: LoadOptions & {copyProject?: boolean, copyTo?: string} = {}): Promise<LoadedScenario> {
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
  for (const app of spec.apps) apps.push(await loadApp(sandbox, app, {...options, copies: spec.project && projectDir ? {[spec.project]: projectDir} : {}, loaded: apps}))
  const values: Record<string, string> = Object.assign({}, ...apps.map(a => a.names), projectDir ? {project: projectDir} : {})
  const fill = (line: string) => line.replace(/\{([\w-]+)\}/g, (whole, key: string) => values[key] ?? whole)
  return {spec, apps, projectDir, try: spec.try.map(fill)}
}
