import type {Client, ClientBase} from 'pg'
import {type Api, started} from '../api/client.js'
import {CodeSource, Release, sourceOf} from '../api/releases.js'
import {messageOf} from '../errors.js'
import {isApplied, readHistory} from '../migrations/history.js'
import {parseStatements} from '../migrations/statements.js'
import {connect, resolveAppDatabase} from '../postgres/connect.js'
import {type Catalog, readCatalog, valuesInUse} from './catalog.js'
import {enumProbes, Finding, findCompatibility, MigrationSince, Verdict, verdictOf} from './compat.js'
import {type ExpectedSchema, expectedSchema} from './expected.js'
import {fromGit, fromSlug, ProjectAt} from './source.js'

// The schema gate of a code rollback: can the target release's code run on the database as it is now?
// The database side (applied migrations, catalog) is read over one read-only connection; the code side
// (the target's Prisma schema) from the app's git repository, else from the target's slug.

export interface SchemaCheck {
  verdict: Verdict | 'unknown' | 'not applicable'
  // Why the check could not run, or does not apply.
  reason?: string
  from?: ProjectAt['from']
  findings: Finding[]
  // Applied in the database, absent from the target's migrations folder: what `--with-migrations` reverts.
  migrationsSince: string[]
  // The oldest listed release from which every newer one is compatible; null when none is.
  floor?: {version: number, id: string} | null
}

export interface DatabaseSide {
  schema: string
  applied: string[]
  client: Client
  close(): Promise<void>
}

// Opened in the first round of reads; undefined with a reason when there is nothing to check.
export async function openDatabaseSide(api: Api, app: string): Promise<DatabaseSide | {reason: string, unknown: boolean}> {
  let database
  try {
    database = await resolveAppDatabase(api, app)
  } catch (error) {
    return {reason: `no database to check (${messageOf(error)})`, unknown: false}
  }
  try {
    const connection = await connect(database)
    try {
      await connection.client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY')
      const history = await readHistory(connection.client, connection.schema)
      if (!history) {
        await connection.close()
        return {reason: `${database.label} has no _prisma_migrations table`, unknown: false}
      }
      return {schema: connection.schema, applied: [...new Set(history.filter(isApplied).map(r => r.migration_name))].sort(), client: connection.client, close: connection.close}
    } catch (error) {
      await connection.close()
      throw error
    }
  } catch (error) {
    return {reason: `${database.label} could not be read: ${messageOf(error)}`, unknown: true}
  }
}

export interface GateInput {
  cwd: string
  target: Release
  current: Release
  // The releases listed, newest first: where the floor is looked for.
  listed: Release[]
  // What code each release runs, where already read.
  sources: Map<string, CodeSource>
}

// A release's Prisma project, from the git repository in `cwd` at its commit, else from its slug.
export async function readProjectAt(api: Api, cwd: string, {commit, archiveUrl}: CodeSource, readSqlOf?: (name: string) => boolean): Promise<ProjectAt | undefined> {
  const local = commit ? await fromGit(cwd, commit, readSqlOf) : undefined
  if (local) return local
  return archiveUrl ? fromSlug(archiveUrl, api.settings.signal, readSqlOf) : undefined
}

async function projectOf(api: Api, app: string, release: Release, input: GateInput, readSqlOf?: (name: string) => boolean): Promise<ProjectAt | undefined> {
  return readProjectAt(api, input.cwd, input.sources.get(release.id) ?? await sourceOf(api, app, release), readSqlOf)
}

// The schemas a release's code maps, besides the database's own.
export const schemasOf = (expected: ExpectedSchema, defaultSchema: string) =>
  [...new Set([defaultSchema, ...expected.tables.map(t => t.schema ?? defaultSchema), ...expected.enums.map(e => e.schema ?? defaultSchema)])]

// The gate's comparison: the code's Prisma schema against a catalog (today's, or the one a down leaves),
// the enum values the code does not know looked up in the rows of the database behind `client`.
export async function compareWith(client: ClientBase, defaultSchema: string, expected: ExpectedSchema, catalog: Catalog, since: MigrationSince[]): Promise<{verdict: Verdict, findings: Finding[]}> {
  const inUse = new Map<string, string[]>()
  for (const probe of enumProbes(expected, catalog, defaultSchema)) {
    inUse.set(`${probe.schema}.${probe.table}.${probe.column}`, await valuesInUse(client, probe))
  }
  const findings = findCompatibility(expected, catalog, {defaultSchema, inUse, migrations: since})
  return {verdict: verdictOf(findings), findings}
}

// One release against the database: its findings, with the migrations since it named where they can be.
async function judge(database: DatabaseSide, project: ProjectAt, since: MigrationSince[]): Promise<{verdict: Verdict, findings: Finding[]}> {
  const expected = expectedSchema(project.schemas)
  const catalog = await readCatalog(database.client, schemasOf(expected, database.schema))
  return compareWith(database.client, database.schema, expected, catalog, since)
}

export type OpenedDatabase = ReturnType<typeof openDatabaseSide>

export async function checkSchema(api: Api, app: string, opened: OpenedDatabase, input: GateInput): Promise<SchemaCheck> {
  const database = await opened
  if (!('client' in database)) return {verdict: database.unknown ? 'unknown' : 'not applicable', reason: database.reason, findings: [], migrationsSince: []}
  // The current release's code holds the SQL of the migrations since the target: it is read alongside the
  // target's (keeping the SQL of every applied migration), and the read is dropped when none are since.
  const ahead = new AbortController()
  const stop = () => ahead.abort()
  api.settings.signal?.addEventListener('abort', stop, {once: true})
  const applied = new Set(database.applied)
  const current = started(projectOf(api.with({signal: ahead.signal}), app, input.current, input, name => applied.has(name)))
  try {
    const target = await projectOf(api, app, input.target, input, () => false)
    if (!target) {
      return {verdict: 'unknown', reason: `the Prisma schema of v${input.target.version} could not be read: no git repository here with its commit, and no slug to read it from`, findings: [], migrationsSince: []}
    }
    const migrationsSince = database.applied.filter(name => !target.migrations.has(name))
    if (migrationsSince.length === 0) stop()
    const since = await migrationsFrom(current, new Set(migrationsSince))
    const {verdict, findings} = await judge(database, target, since)
    const floor = verdict === 'blocked' ? await findFloor(api, app, database, input, since) : undefined
    return {verdict, from: target.from, findings, migrationsSince, floor}
  } catch (error) {
    return {verdict: 'unknown', reason: `the schema check failed: ${messageOf(error)}`, findings: [], migrationsSince: []}
  } finally {
    stop()
    api.settings.signal?.removeEventListener('abort', stop)
  }
}

// The SQL of the migrations since the target, from the current release's code (that deployed them).
async function migrationsFrom(currentCode: Promise<ProjectAt | undefined>, names: Set<string>): Promise<MigrationSince[]> {
  if (names.size === 0) return []
  const current = await currentCode.catch(() => undefined)
  const since: MigrationSince[] = []
  for (const name of [...names].sort()) {
    const sql = current?.migrations.get(name)
    since.push({name, statements: sql ? await parseStatements(sql, name).catch(() => []) : []})
  }
  return since
}

// Each release's verdict, by its commit (config releases share their deploy's code); `untilBlocked`
// stops at the first release whose code does not fit, walking from the newest.
async function releaseVerdicts(api: Api, app: string, database: DatabaseSide, releases: Release[], input: GateInput, untilBlocked: boolean, since: MigrationSince[] = []): Promise<Map<string, Verdict | 'unknown'>> {
  const sources = await Promise.all(releases.map(r => input.sources.get(r.id) ?? sourceOf(api, app, r).catch(() => ({commit: null}))))
  const byCommit = new Map<string, Verdict | 'unknown'>()
  const verdicts = new Map<string, Verdict | 'unknown'>()
  for (const [index, release] of releases.entries()) {
    const key = sources[index].commit ?? release.id
    if (!byCommit.has(key)) {
      const project = await projectOf(api, app, release, {...input, sources: new Map([[release.id, sources[index]]])}, () => false).catch(() => undefined)
      byCommit.set(key, project ? (await judge(database, project, since.filter(m => !project.migrations.has(m.name)))).verdict : 'unknown')
    }
    verdicts.set(release.id, byCommit.get(key)!)
    if (untilBlocked && byCommit.get(key) !== 'compatible' && byCommit.get(key) !== 'warnings') break
  }
  return verdicts
}

// The oldest release from which every newer one, up to the current, fits today's schema.
function floorOf(newestFirst: Release[], verdicts: Map<string, Verdict | 'unknown'>): Release | null {
  let floor: Release | null = null
  for (const release of newestFirst) {
    const verdict = verdicts.get(release.id)
    if (verdict !== 'compatible' && verdict !== 'warnings') break
    floor = release
  }
  return floor
}

const rollbackCandidates = (input: Pick<GateInput, 'listed' | 'current'>, above = 0) =>
  input.listed.filter(r => r.version > above && r.version <= input.current.version && r.status === 'succeeded')

async function findFloor(api: Api, app: string, database: DatabaseSide, input: GateInput, since: MigrationSince[]): Promise<SchemaCheck['floor']> {
  const candidates = rollbackCandidates(input, input.target.version)
  const floor = floorOf(candidates, await releaseVerdicts(api, app, database, candidates, input, true, since))
  return floor ? {version: floor.version, id: floor.id} : null
}

export interface Fits {
  verdicts: Map<string, Verdict | 'unknown'>
  floor: number | null
}

// For the picker: whether each listed release's code fits today's schema, and the floor.
export async function schemaFits(api: Api, app: string, opened: OpenedDatabase, input: Pick<GateInput, 'cwd' | 'listed' | 'current'>): Promise<Fits | undefined> {
  const database = await opened
  if (!('client' in database)) return undefined
  const candidates = rollbackCandidates(input).slice(0, 15)
  const verdicts = await releaseVerdicts(api, app, database, candidates, {...input, target: input.current, sources: new Map()}, false).catch(() => undefined)
  return verdicts && {verdicts, floor: floorOf(candidates, verdicts)?.version ?? null}
}
