import type {ClientBase} from 'pg'
import type {Api} from '../api/client.js'
import {backupGate, BackupState, backupStates, GateResult} from '../backups/gate.js'
import {Refused} from '../errors.js'
import {checkDowns} from './check/down-check.js'
import {LossFinding, lossyOperations, measureLoss} from './data-loss.js'
import {DownSql, downSqlFor, findPrismaCli} from './down-sql.js'
import {HistoryRow, readHistory} from './history.js'
import {DownPlan, planDown, selectReverts, Target} from './plan.js'
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
  allowDataLoss: boolean
  ignoreChecksum: boolean
  // Leave out the staircase of the down SQL on a scratch database (migrate:down --skip-down-check).
  skipDownCheck?: boolean
  cacheDir?: string
  lockTimeout: string
  statementTimeout: string | null
  backup: {maxAgeMs: number, capture: boolean, skip: boolean}
  // The backup states, when the command started reading them before the database was resolved.
  backupStates?: Promise<BackupState[]>
  dryRun: boolean
}

export interface Gathered {
  plan: DownPlan
  history: HistoryRow[]
  gate: GateResult
}

export async function gatherDown(api: Api, client: ClientBase, options: GatherOptions): Promise<Gathered> {
  const migrationsDir = findMigrationsDir(options.projectDir, options.dir)
  const local = readLocalMigrations(migrationsDir.path)
  const history = await readHistory(client, options.schema)
  if (!history) throw new Refused(`${options.database} has no _prisma_migrations table in schema "${options.schema}": Prisma Migrate has never run there.`)
  const selection = selectReverts(local, history, options.target)

  const prisma = selection.revert.some(m => m.downSql === undefined) ? findPrismaCli(options.projectDir) : undefined
  const downs = new Map<string, DownSql>()
  const statements = new Map<string, Statement[]>()
  for (const migration of selection.revert) {
    const down = await downSqlFor(migration, local, {projectDir: options.projectDir, migrationsDir: migrationsDir.path, shadowDatabaseUrl: options.shadowDatabaseUrl, prisma})
    downs.set(migration.name, down)
    if (down.kind !== 'missing') statements.set(migration.name, await parseStatements(down.sql, down.kind === 'file' ? down.path : `the SQL generated for ${migration.name}`))
  }

  const downCheck = await checkDowns({local, applied: selection.applied, revert: selection.revert.map(m => m.name), downs, skip: options.skipDownCheck ?? false, cacheDir: options.cacheDir})

  const operations = selection.revert.flatMap(m => lossyOperations(m.name, statements.get(m.name) ?? []))
  const dataLoss: LossFinding[] = await measureLoss(client, operations)
  const gate = await backupGate(options.backup.skip ? [] : await (options.backupStates ?? backupStates(api, options.app, options.backup.maxAgeMs)), {...options.backup, dryRun: options.dryRun})

  const plan = planDown({
    app: options.app, database: options.database, migrationsDir: `${migrationsDir.path} (${migrationsDir.source})`,
    selection, rows: history, downs, statements, dataLoss, backups: gate.check, downCheck,
    allowDataLoss: options.allowDataLoss, ignoreChecksum: options.ignoreChecksum,
    lockTimeout: options.lockTimeout, statementTimeout: options.statementTimeout,
  })
  return {plan, history, gate}
}
