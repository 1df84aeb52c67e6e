import type {ClientBase} from 'pg'
import type {Heroku} from '../api/heroku.js'
import {backupGate} from '../backups/gate.js'
import {Refused} from '../errors.js'
import {LossFinding, lossyOperations, measureLoss} from './data-loss.js'
import {DownSql, downSqlFor, findPrismaCli} from './down-sql.js'
import {HistoryRow, readHistory} from './history.js'
import {DownPlan, planDown, selectReverts, Target} from './plan.js'
import {findMigrationsDir, readLocalMigrations} from './project.js'
import {parseStatements, Statement} from './statements.js'

// The reading half of migrate:down: everything the pure planner needs, gathered from the project folder,
// the database and the API. Nothing here writes.

export interface PrepareOptions {
  app: string
  database: string
  schema: string
  projectDir: string
  dir?: string
  target: Target
  shadowDatabaseUrl?: string
  allowDataLoss: boolean
  ignoreChecksum: boolean
  lockTimeout: string
  statementTimeout: string | null
  backup: {maxAgeMs: number, capture: boolean, skip: boolean}
}

export interface Prepared {
  plan: DownPlan
  history: HistoryRow[]
}

export async function prepareDown(heroku: Heroku, client: ClientBase, options: PrepareOptions): Promise<Prepared> {
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

  const operations = selection.revert.flatMap(m => lossyOperations(m.name, statements.get(m.name) ?? []))
  const dataLoss: LossFinding[] = await measureLoss(client, operations)
  const {check: backups} = await backupGate(heroku, options.app, {...options.backup, dryRun: true})

  const plan = planDown({
    app: options.app, database: options.database, migrationsDir: `${migrationsDir.path} (${migrationsDir.source})`,
    selection, rows: history, downs, statements, dataLoss, backups,
    allowDataLoss: options.allowDataLoss, ignoreChecksum: options.ignoreChecksum,
    lockTimeout: options.lockTimeout, statementTimeout: options.statementTimeout,
  })
  return {plan, history}
}
