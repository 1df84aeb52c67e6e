import {type Api, started} from '../api/client.js'
import {backupStates, planCapture} from '../backups/gate.js'
import {otherUsersOf} from '../estate/gather.js'
import type {Plan} from '../plan.js'
import {type AppDatabase, resolveAppDatabase, withConnection} from '../postgres/connect.js'
import type {Planned} from '../runner/plan.js'
import {type Gathered, gatherDown} from './gather.js'
import type {WriteResult} from './generate/write.js'
import {readOthersCode} from '../schema/others.js'
import {fingerprintOf} from './history.js'
import {type DownPlan, planDown} from './plan.js'

// migrate:down: gather (the project's migrations, _prisma_migrations, the down SQL and its checks, the
// backups), then the pure plan: the revert as one step, after a fresh backup when asked for.

export interface DownInput {
  app: string
  database: string
  projectDir: string
  dir?: string
  steps?: number
  to?: string
  shadowDatabaseUrl?: string
  generate: boolean
  allowDataLoss: boolean
  ignoreChecksum: boolean
  skipDownCheck: boolean
  cacheDir: string
  lockTimeout: string
  statementTimeout: string | null
  maxBackupAgeMs: number
  capture: boolean
  skipBackupCheck: boolean
  acceptSchemaRisk: boolean
  dryRun: boolean
  // The duration flags as given (--lock-timeout 5s), for the command that carries out the plan.
  given: {lockTimeout: string, statementTimeout?: string, maxBackupAge: string}
}

export interface DownFacts extends Gathered {
  database: AppDatabase
}

export interface MigrateDownPlan extends Plan {
  down: DownPlan
  // The down.sql files --write kept (files of the project, not of the app).
  written?: WriteResult[]
  dryRun: boolean
}

export async function gatherMigrateDown(api: Api, input: DownInput): Promise<DownFacts> {
  // The backup states are read alongside the database's resolution, not after the project and database work.
  const backups = input.skipBackupCheck ? undefined : started(backupStates(api, input.app, input.maxBackupAgeMs))
  // The other apps on the database and the code each runs now: read while the project and the database are.
  const others = started(otherUsersOf(api, input.app, input.database).then(shared => readOthersCode(api, shared, input.projectDir)))
  const database = await resolveAppDatabase(api, input.app, input.database)
  const gathered = await withConnection(database, ({client}) => gatherDown(api, client, {
    app: input.app, database: database.label, schema: database.schema, projectDir: input.projectDir, dir: input.dir,
    target: {steps: input.steps, to: input.to}, shadowDatabaseUrl: input.shadowDatabaseUrl, generate: input.generate,
    allowDataLoss: input.allowDataLoss, ignoreChecksum: input.ignoreChecksum, skipDownCheck: input.skipDownCheck, cacheDir: input.cacheDir,
    lockTimeout: input.lockTimeout, statementTimeout: input.statementTimeout,
    backup: {maxAgeMs: input.maxBackupAgeMs, capture: input.capture, skip: input.skipBackupCheck}, backupStates: backups, dryRun: input.dryRun,
    others, acceptSchemaRisk: input.acceptSchemaRisk,
  }))
  return {...gathered, database}
}

export function planMigrateDown(facts: DownFacts, input: DownInput, written?: WriteResult[]): MigrateDownPlan {
  const {app} = input
  const down = planDown(facts.facts)
  const names = down.steps.map(s => s.migration).join(', ')
  const {database} = facts
  const revert: Planned = {
    id: 'revert', kind: 'revert', app, database: {configVar: database.configVar, label: database.label, schema: database.schema},
    plan: down, history: fingerprintOf(facts.history),
  }
  return {
    app, down, written, dryRun: input.dryRun, checks: down.checks, timeoutMs: 60 * 60_000,
    what: `revert ${names}`,
    // A refused plan shows no steps.
    steps: down.blocked || down.steps.length === 0 ? [] : [...facts.gate.capture.map(planCapture), revert],
    confirm: `This reverts ${names} on ${down.database} of ${app}.`,
    rerun: [
      'heroku', 'migrate:down', ...(input.database === 'DATABASE_URL' ? [] : [input.database]), '--app', app, '--steps', String(down.steps.length),
      ...(input.dir ? ['--dir', input.dir] : []), ...(input.generate ? ['--generate'] : []),
      ...(input.allowDataLoss ? ['--allow-data-loss'] : []), ...(input.ignoreChecksum ? ['--ignore-checksum'] : []), ...(input.skipDownCheck ? ['--skip-down-check'] : []),
      ...(input.acceptSchemaRisk ? ['--accept-schema-risk'] : []),
      ...(input.given.lockTimeout === '5s' ? [] : ['--lock-timeout', input.given.lockTimeout]), ...(input.given.statementTimeout ? ['--statement-timeout', input.given.statementTimeout] : []),
      ...(input.skipBackupCheck ? ['--skip-backup-check'] : []), ...(input.capture ? ['--capture-backup'] : []),
      ...(input.given.maxBackupAge === '24h' ? [] : ['--max-backup-age', input.given.maxBackupAge]), '--confirm', app,
    ],
  }
}
