import type {ClientBase} from 'pg'
import type {Api} from '../api/client.js'
import {backupGate, BackupState, backupStates, GateResult} from '../backups/gate.js'
import {type Prompts, prompts} from '../prompts.js'
import {Refused} from '../errors.js'
import {fitOthers, type OtherCode} from '../schema/others.js'
import {checkDownsWithVerdicts} from './check/down-check.js'
import {LossFinding, lossyOperations, measureLoss} from './data-loss.js'
import {DownSql, downSqlsFor, findPrismaCli} from './down-sql.js'
import type {GeneratedDown} from './generate/write.js'
import {HistoryRow, readHistory} from './history.js'
import {type PlanInput, selectReverts, Target} from './plan.js'
import {findMigrationsDir, readLocalMigrations} from './project.js'
import {parseStatements, Statement} from './statements.js'

// The reading phase of migrate:down: everything the pure planner needs, gathered from the project folder,
// the database and the API. Nothing here writes.

export interface GatherOptions {
  app: string
  database: string
  schema: string
  projectDir: string
  dir?: string
  target: Target
  shadowDatabaseUrl?: string
  // --generate: a missing down.sql is generated with Prisma's WebAssembly schema engine when the project's CLI cannot.
  generate?: boolean
  allowDataLoss: boolean
  ignoreChecksum: boolean
  // Leave out the staircase of the down SQL on a scratch database (migrate:down --skip-down-check).
  skipDownCheck?: boolean
  cacheDir?: string
  lockTimeout: string
  statementTimeout: string | null
  backup: {maxAgeMs: number, capture: boolean, skip: boolean}
  // The other apps attached to the database and the code they run now, read alongside (their code meets
  // the reverted schema too).
  others?: Promise<OtherCode[]>
  // Revert even when another app's code does not fit the schema the down leaves.
  acceptSchemaRisk?: boolean
  // The backup states, when the command started reading them before the database was resolved.
  backupStates?: Promise<BackupState[]>
  dryRun: boolean
}

export interface Gathered {
  // What the pure planner (planDown) plans from.
  facts: PlanInput
  history: HistoryRow[]
  gate: GateResult
  // The downs Prisma generated, with the staircase's verdict on each (for --write).
  generated: GeneratedDown[]
}

export async function gatherDown(api: Api, client: ClientBase, options: GatherOptions, ask: Prompts = prompts): Promise<Gathered> {
  const migrationsDir = findMigrationsDir(options.projectDir, options.dir)
  const local = readLocalMigrations(migrationsDir.path)
  const history = await readHistory(client, options.schema)
  if (!history) throw new Refused(`${options.database} has no _prisma_migrations table in schema "${options.schema}": Prisma Migrate has never run there.`)
  const selection = selectReverts(local, history, options.target)

  const prisma = selection.revert.some(m => m.downSql === undefined) ? findPrismaCli(options.projectDir) : undefined
  const downs: Map<string, DownSql> = await downSqlsFor(selection.revert, local, {
    projectDir: options.projectDir, migrationsDir: migrationsDir.path, shadowDatabaseUrl: options.shadowDatabaseUrl, prisma,
    generate: {flag: '--generate', enabled: options.generate ?? false}, schema: options.schema, cacheDir: options.cacheDir,
  })
  const statements = new Map<string, Statement[]>()
  for (const migration of selection.revert) {
    const down = downs.get(migration.name)!
    if (down.kind !== 'missing') statements.set(migration.name, await parseStatements(down.sql, down.kind === 'file' ? down.path : `the SQL generated for ${migration.name}`))
  }

  // Generated downs are also checked with rows in the tables (a step that fails on them), and for what Prisma's diff cannot see.
  const generated = selection.revert.filter(m => downs.get(m.name)?.kind === 'generated')
  const isGenerated = (name: string) => generated.some(m => m.name === name)
  const {amendVerdict} = generated.length > 0 ? await import('./generate/by-hand.js') : {amendVerdict: undefined}
  const {check: downCheck, verdicts} = await checkDownsWithVerdicts({
    local, applied: selection.applied, revert: selection.revert.map(m => m.name), downs, skip: options.skipDownCheck ?? false, cacheDir: options.cacheDir,
    schema: options.schema, data: generated.length > 0 ? m => isGenerated(m.name) : undefined,
    amend: amendVerdict && (async check => isGenerated(check.migration)
      ? amendVerdict(check, local.find(m => m.name === check.migration)!.sql, (downs.get(check.migration) as {sql: string}).sql)
      : check),
  })

  const operations = selection.revert.flatMap(m => lossyOperations(m.name, statements.get(m.name) ?? []))
  const dataLoss: LossFinding[] = await measureLoss(client, operations)
  const gate = await backupGate(options.backup.skip ? [] : await (options.backupStates ?? backupStates(api, options.app, options.backup.maxAgeMs)), {...options.backup, dryRun: options.dryRun}, ask)

  const others = await options.others
  const otherApps = others && others.length > 0 && selection.revert.length > 0 ? await fitOthers(client, others, {
    local, applied: selection.applied, schema: options.schema, cacheDir: options.cacheDir,
    reverts: selection.revert.map(m => ({name: m.name, down: statements.get(m.name)})),
  }) : undefined

  const facts: PlanInput = {
    app: options.app, database: options.database, migrationsDir: `${migrationsDir.path} (${migrationsDir.source})`,
    selection, rows: history, downs, statements, dataLoss, backups: gate.check, downCheck,
    allowDataLoss: options.allowDataLoss, ignoreChecksum: options.ignoreChecksum,
    lockTimeout: options.lockTimeout, statementTimeout: options.statementTimeout, otherApps, acceptSchemaRisk: options.acceptSchemaRisk,
  }
  const generatedDowns = generated.map(m => ({migration: m.name, dir: m.dir, sql: (downs.get(m.name) as {sql: string}).sql, verdict: verdicts.find(v => v.migration === m.name)?.verdict}))
  return {facts, history, gate, generated: generatedDowns}
}
