import type {Client} from 'pg'
import type {Api} from '../api/client.js'
import {commitOf, Release} from '../api/releases.js'
import {messageOf} from '../errors.js'
import {isApplied, readHistory} from '../migrations/history.js'
import {parseStatements} from '../migrations/statements.js'
import {connect, resolveAppDatabase} from '../postgres/connect.js'
import {readCatalog, valuesInUse} from './catalog.js'
import {enumProbes, Finding, findCompatibility, MigrationSince, Verdict, verdictOf} from './compat.js'
import {expectedSchema} from './expected.js'
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
  commits: Map<string, string | null>
}

async function projectOf(api: Api, app: string, release: Release, input: GateInput, readSqlOf?: (name: string) => boolean): Promise<ProjectAt | undefined> {
  const commit = input.commits.get(release.id) ?? await commitOf(api, app, release)
  const local = commit ? await fromGit(input.cwd, commit, readSqlOf) : undefined
  if (local) return local
  return release.slug?.id ? fromSlug(api, app, release.slug.id, readSqlOf) : undefined
}

// One release against the database: its findings, with the migrations since it named where they can be.
async function judge(database: DatabaseSide, project: ProjectAt, since: MigrationSince[]): Promise<{verdict: Verdict, findings: Finding[]}> {
  const expected = await expectedSchema(project.schemas)
  const schemas = [...new Set([database.schema, ...expected.tables.map(t => t.schema ?? database.schema), ...expected.enums.map(e => e.schema ?? database.schema)])]
  const catalog = await readCatalog(database.client, schemas)
  const inUse = new Map<string, string[]>()
  for (const probe of enumProbes(expected, catalog, database.schema)) {
    inUse.set(`${probe.schema}.${probe.table}.${probe.column}`, await valuesInUse(database.client, probe))
  }
  const findings = findCompatibility(expected, catalog, {defaultSchema: database.schema, inUse, migrations: since})
  return {verdict: verdictOf(findings), findings}
}

export async function checkSchema(api: Api, app: string, opened: Promise<Awaited<ReturnType<typeof openDatabaseSide>>>, input: GateInput): Promise<SchemaCheck> {
  const database = await opened
  if (!('client' in database)) return {verdict: database.unknown ? 'unknown' : 'not applicable', reason: database.reason, findings: [], migrationsSince: []}
  try {
    const target = await projectOf(api, app, input.target, input, () => false)
    if (!target) {
      return {verdict: 'unknown', reason: `the Prisma schema of v${input.target.version} could not be read: no git repository here with its commit, and no slug to read it from`, findings: [], migrationsSince: []}
    }
    const migrationsSince = database.applied.filter(name => !target.migrations.has(name))
    const since = await migrationsFrom(api, app, input, new Set(migrationsSince))
    const {verdict, findings} = await judge(database, target, since)
    const floor = verdict === 'blocked' ? await findFloor(api, app, database, input, since) : undefined
    return {verdict, from: target.from, findings, migrationsSince, floor}
  } catch (error) {
    return {verdict: 'unknown', reason: `the schema check failed: ${messageOf(error)}`, findings: [], migrationsSince: []}
  } finally {
    await database.close()
  }
}

// The SQL of the migrations since the target, from the current release's code (that deployed them).
async function migrationsFrom(api: Api, app: string, input: GateInput, names: Set<string>): Promise<MigrationSince[]> {
  if (names.size === 0) return []
  const current = await projectOf(api, app, input.current, input, name => names.has(name)).catch(() => undefined)
  const since: MigrationSince[] = []
  for (const name of [...names].sort()) {
    const sql = current?.migrations.get(name)
    since.push({name, statements: sql ? await parseStatements(sql, name).catch(() => []) : []})
  }
  return since
}

// Walking back from the current release: the oldest deploy from which every newer one is compatible.
async function findFloor(api: Api, app: string, database: DatabaseSide, input: GateInput, since: MigrationSince[]): Promise<SchemaCheck['floor']> {
  const candidates = input.listed.filter(r => r.version > input.target.version && r.version <= input.current.version && r.status === 'succeeded')
  const commits = await Promise.all(candidates.map(r => input.commits.get(r.id) ?? commitOf(api, app, r).catch(() => null)))
  const compatible = new Map<string, boolean>()
  let floor: Release | null = null
  for (const [index, release] of candidates.entries()) {
    const key = commits[index] ?? release.id
    if (!compatible.has(key)) {
      const project = await projectOf(api, app, release, {...input, commits: new Map([[release.id, commits[index]]])}, () => false).catch(() => undefined)
      compatible.set(key, project !== undefined && (await judge(database, project, since.filter(m => !project.migrations.has(m.name)))).verdict !== 'blocked')
    }
    if (!compatible.get(key)) break
    floor = release
  }
  return floor ? {version: floor.version, id: floor.id} : null
}
