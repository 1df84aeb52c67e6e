import {type Api, started} from '../api/client.js'
import {otherUsersOf} from '../estate/gather.js'
import {Refused} from '../errors.js'
import {gatherDown} from '../migrations/gather.js'
import type {HistoryRow} from '../migrations/history.js'
import type {DownPlan, PlanInput} from '../migrations/plan.js'
import {AppDatabase, resolveAppDatabase, withConnection} from '../postgres/connect.js'
import type {SchemaCheck} from '../schema/gate.js'
import {readOthersCode} from '../schema/others.js'
import type {RollbackPlan} from './plan.js'

// `safe-rollback --with-migrations`: one plan for a code rollback whose target needs the schema as it
// was. The migrations the target does not know are reverted first (migrate:down's own plan and checks),
// so that the target's dynos start on the schema they expect. If the rollback then does not happen (its
// call fails, or its release phase does), they are applied again, so that the current code meets its
// schema again; once the rollback release is live, they stay reverted, and the way back is said. The
// release phase decides, so the run waits for it with maintenance on, Ctrl-C included; a run left
// before it ended (a second Ctrl-C, a killed process) is finished by `recovery:resume`, which waits too.

export interface CoupledDown {
  database: AppDatabase
  // What migrate:down's planner plans the revert from.
  facts: PlanInput
  history: HistoryRow[]
  sql: Map<string, string>
}

export interface CoupledOptions {
  cwd: string
  allowDataLoss: boolean
  // Revert even when another app's code does not fit the schema the down leaves.
  acceptSchemaRisk: boolean
  dryRun: boolean
}

// Undefined when the target knows every applied migration: then there is nothing to revert.
export async function gatherCoupledDown(api: Api, app: string, schema: SchemaCheck | undefined, options: CoupledOptions): Promise<CoupledDown | undefined> {
  if (!schema || schema.verdict === 'unknown' || schema.verdict === 'not applicable') {
    throw new Refused(`--with-migrations needs to know which migrations the target does not have, and the schema check could not tell: ${schema?.reason ?? 'it did not run'}.`)
  }
  if (schema.migrationsSince.length === 0) return undefined
  const others = started(otherUsersOf(api, app, 'DATABASE_URL').then(shared => readOthersCode(api, shared, options.cwd)))
  const database = await resolveAppDatabase(api, app)
  const {facts, history} = await withConnection(database, ({client}) => gatherDown(api, client, {
    app, database: database.label, schema: database.schema, projectDir: options.cwd,
    target: {steps: schema.migrationsSince.length}, allowDataLoss: options.allowDataLoss, ignoreChecksum: false,
    lockTimeout: '5000ms', statementTimeout: null,
    // The rollback's own backup gate covers this database.
    backup: {maxAgeMs: 0, capture: false, skip: true}, dryRun: options.dryRun,
    others, acceptSchemaRisk: options.acceptSchemaRisk,
  }))
  const reverting = facts.selection.revert.map(m => m.name).sort()
  if (reverting.join() !== [...schema.migrationsSince].sort().join()) {
    throw new Refused(`The migrations the target does not know (${schema.migrationsSince.join(', ')}) are not the newest applied ones (${reverting.join(', ')}): revert them with \`heroku migrate:down\` first.`)
  }
  // The rollback's own backup check covers this database: the down plan says so instead of "skipped".
  facts.backups = {name: 'backups', outcome: 'passed', detail: `${database.label}: see the rollback's backup check below.`}
  const {readLocalMigrations, findMigrationsDir} = await import('../migrations/project.js')
  const local = readLocalMigrations(findMigrationsDir(options.cwd).path)
  const sql = new Map(local.filter(m => reverting.includes(m.name)).map(m => [m.name, m.sql]))
  return {database, facts, history, sql}
}

// The rollback's plan, told that the migrations it would leave applied are reverted first.
export function withRevertedMigrations(plan: RollbackPlan, down: DownPlan): RollbackPlan {
  const names = down.steps.map(s => s.migration)
  return {
    ...plan,
    warnings: [
      ...plan.warnings.filter(w => w.kind !== 'migrations'),
      {kind: 'migrations', message: `${names.length} Prisma migration(s) the target does not know are reverted first (--with-migrations): ${names.join(', ')}; applied again if the rollback does not happen, kept once its release exists.`},
    ],
  }
}
