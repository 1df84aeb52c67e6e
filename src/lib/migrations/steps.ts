import type {ClientBase} from 'pg'
import {SafeRollbackError} from '../errors.js'
import {AppDatabase, resolveAppDatabase, withConnection, withInterruptibleConnection} from '../postgres/connect.js'
import type {BuildersOf} from '../runner/plan.js'
import type {StepContext} from '../runner/step.js'
import {fingerprintOf, HistoryRow, isApplied, migrationsTable, readHistory} from './history.js'
import {DownPlan, firstLine} from './plan.js'

declare module '../runner/plan.js' {
  interface StepKinds {
    // Revert these migrations in one transaction. `database` names the config var, never its URL;
    // `history` is the fingerprint of _prisma_migrations the plan was made from; with `compensate` (a
    // revert coupled with a code rollback) the migrations' SQL, to apply them again if the run fails.
    revert: {app: string, database: {configVar: string, label: string, schema: string}, plan: DownPlan, history: string, compensate?: Record<string, string>}
  }
}

// Prisma's own migration lock (`pg_advisory_lock(72707369)` in prisma-engines): holding it keeps a
// `prisma migrate deploy` in a release phase from running while the table is being changed.
export const PRISMA_LOCK_KEY = 72_707_369

// Bookkeeping: the reverted migrations' rows are DELETED from _prisma_migrations, not marked rolled back.
// Prisma (6.19 and 7.x) reads a migration as applied when any row of it has rolled_back_at NULL, and `deploy`
// would re-apply a rolled-back one either way; but `migrate status` matches rows to folders by name only and
// ignores rolled_back_at, so with marked rows it would keep saying "up to date" for a schema that no longer
// has the change, and `migrate resolve --applied` refuses a migration that has a finished row. Prisma never
// writes rolled_back_at together with finished_at, and its own `resolve --rolled-back` only handles failed
// rows. Deleting is the one state every Prisma command reads the same way (not applied). The history that
// deleting loses is kept: each deleted row is copied, in the same transaction, to a table in a schema of
// its own (a new table in the schema Prisma manages would be drift for `migrate dev`), and printed in --json.
export const HISTORY_SCHEMA = 'heroku_migrate_down'

export interface ApplyResult {
  reverted: string[]
  deletedRows: HistoryRow[]
  history: {kept: boolean, where?: string, reason?: string}
  durationMs: number
}

const ROLLED_BACK = 'Nothing was changed: the transaction was rolled back, so the schema and _prisma_migrations are exactly as before.'

// A statement of a down script failed; everything was rolled back.
export class StatementFailed extends SafeRollbackError {
  constructor(migration: string, index: number, statement: string, cause: string) {
    super(`${migration}: statement ${index + 1} failed: ${cause}: \`${firstLine(statement)}\``, ROLLED_BACK)
  }
}

const describeDbError = (error: unknown, lockTimeout: string) => {
  const e = error as {code?: string, message?: string}
  if (e.code === '55P03') return `could not get a lock within --lock-timeout ${lockTimeout} (the app or another migration is using the table); nothing waited longer`
  if (e.code === '57014') return `cancelled by --statement-timeout (${e.message})`
  return e.message ?? String(error)
}

async function takeLocks(client: ClientBase, plan: DownPlan) {
  await client.query('SELECT set_config(\'lock_timeout\', $1, true)', [plan.settings.lockTimeout])
  if (plan.settings.statementTimeout) await client.query('SELECT set_config(\'statement_timeout\', $1, true)', [plan.settings.statementTimeout])
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [PRISMA_LOCK_KEY])
  } catch (error) {
    if ((error as {code?: string}).code === '55P03') throw new SafeRollbackError(`Another Prisma migration (say, a release phase running \`prisma migrate deploy\`) holds Prisma's migration lock; waited ${plan.settings.lockTimeout}. Try again when it is done.`, ROLLED_BACK)
    throw error
  }
}

// The copy of the deleted rows. Best effort under a savepoint: a credential that may not create a
// schema must not block a revert, so then the rows are only in the command's output.
async function keepHistory(client: ClientBase, schema: string, names: string[]): Promise<ApplyResult['history']> {
  const where = `${HISTORY_SCHEMA}.reverted_migrations`
  await client.query('SAVEPOINT keep_history')
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${HISTORY_SCHEMA}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${where} (LIKE ${migrationsTable(schema)}, reverted_at timestamptz NOT NULL DEFAULT now(), from_schema text NOT NULL)`)
    await client.query(`INSERT INTO ${where} SELECT *, now(), $2 FROM ${migrationsTable(schema)} WHERE migration_name = ANY($1)`, [names, schema])
    await client.query('RELEASE SAVEPOINT keep_history')
    return {kept: true, where}
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT keep_history')
    return {kept: false, reason: (error as Error).message}
  }
}

// Runs every step in ONE transaction: the down SQL of each migration, newest first, then the bookkeeping.
// Any error rolls all of it back.
export async function applyDown(client: ClientBase, plan: DownPlan, schema: string, plannedHistory: string): Promise<ApplyResult> {
  const started = Date.now()
  await client.query('BEGIN')
  try {
    await takeLocks(client, plan)
    const now = await readHistory(client, schema) ?? []
    if (fingerprintOf(now) !== plannedHistory) {
      throw new SafeRollbackError('_prisma_migrations changed while the plan was being made (a deploy ran?): run the command again to see a fresh plan.', ROLLED_BACK)
    }
    for (const step of plan.steps) {
      for (const [index, statement] of step.statements.entries()) {
        try {
          await client.query(statement)
        } catch (error) {
          throw new StatementFailed(step.migration, index, statement, describeDbError(error, plan.settings.lockTimeout))
        }
      }
    }
    const names = plan.steps.map(s => s.migration)
    const history = await keepHistory(client, schema, names)
    const {rows: deletedRows} = await client.query<HistoryRow>(`DELETE FROM ${migrationsTable(schema)} WHERE migration_name = ANY($1) RETURNING *`, [names])
    await client.query('COMMIT')
    return {reverted: names, deletedRows, history, durationMs: Date.now() - started}
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    if (error instanceof SafeRollbackError) throw error
    throw new SafeRollbackError(`The revert failed: ${describeDbError(error, plan.settings.lockTimeout)}`, ROLLED_BACK)
  }
}

// The database a step names, as the command resolved it, or resolved again (a run continued elsewhere).
export const databaseIn = (context: StepContext, app: string, configVar: string): Promise<AppDatabase> =>
  context.resource(`database:${configVar}`, () => resolveAppDatabase(context.api, app, configVar))

// The revert as a step of the runner. Ctrl-C closes the connection, which rolls the transaction back,
// unless its COMMIT is already on its way (it gets the runner's moment of grace); a connection lost
// around the COMMIT is settled by reading _prisma_migrations again.
// With `compensate` (a revert coupled with a code rollback), a failure later in the run applies the
// migrations again, automatically.
export const migrationSteps: BuildersOf<'revert'> = {
  revert({app, database: {configVar, schema}, plan, history, compensate}) {
    const names = plan.steps.map(s => s.migration)
    const manual = `DATABASE_URL="$(heroku config:get ${configVar} --app ${app})" npx prisma migrate deploy`
    return {
      title: `Revert ${names.join(', ')} in one transaction holding Prisma's migration lock`,
      apply: async context => withInterruptibleConnection(await databaseIn(context, app, configVar), context.writeSignal, ({client}) => applyDown(client, plan, schema, history)),
      observe: async context => withConnection(await databaseIn(context, app, configVar), async ({client}) => {
        const rows = await readHistory(client, schema) ?? []
        const stillApplied = rows.some(r => names.includes(r.migration_name) && isApplied(r))
        return stillApplied ? {applied: false} : {applied: true, result: {reverted: names, deletedRows: [], history: {kept: true, where: HISTORY_SCHEMA}, durationMs: 0}}
      }),
      undo: (result?: ApplyResult) => compensate
        ? {
          title: 'Apply the reverted migrations again', command: manual, automatic: true,
          action: {kind: 'reapply-migrations', app, database: configVar, migrations: names.map(name => ({name, sql: compensate[name], row: result?.deletedRows.find(r => r.migration_name === name)}))},
        }
        : {title: 'Apply the reverted migrations again', command: manual, automatic: false},
      done: (result: ApplyResult) => `reverted in ${result.durationMs} ms`,
    }
  },
}
