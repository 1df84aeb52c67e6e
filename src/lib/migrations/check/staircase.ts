import {join} from 'node:path'
import {MIGRATIONS_TABLE} from '../history.js'
import {firstLine} from '../plan.js'
import type {LocalMigration} from '../project.js'
import {nonTransactionalReason, parseStatements, runsProgram, type Statement} from '../statements.js'
import {AFTER_DOWN, AFTER_REDO, describeDifference, diffSnapshots} from './diff.js'
import {describeDropped, DroppedValues, fillSampleRows, valuesToDrop} from './sample-rows.js'
import {isMissingFeature, type Scratch} from './scratch.js'
import {type Snapshot, takeSnapshot} from './snapshot.js'

// The staircase: for each migration in order, apply it and take a snapshot S(k); run its down.sql, which
// must leave S(k-1); apply it again, which must give S(k) again. The down and the second up run inside a
// transaction that is rolled back, so that the next step starts from S(k) whatever the down did.

export type Verdict = 'reverts' | 'differs' | 'no-down' | 'cannot-check' | 'broken' | 'not-checked'

export interface MigrationCheck {
  migration: string
  verdict: Verdict
  // What is wrong with the down: schema differences, statements it must not hold, errors.
  problems: string[]
  // With sample rows: what the down drops.
  drops: string[]
  notes: string[]
  // A down Prisma generated (--generate-missing): how, its SQL, and where --write put it.
  generated?: {by: string, note?: string, sql: string, written?: string}
}

export interface StaircaseOptions {
  // Put sample rows in every table before each down (or before the downs of the migrations it selects).
  data?: boolean | ((migration: LocalMigration) => boolean)
  // Which migrations get the down and up again; the others are only applied (migrate:down checks the ones it reverts).
  check?: (migration: LocalMigration) => boolean
  progress?: (done: number, total: number, migration: string) => void
}

// Prisma's own table, as `migrate deploy` creates it, so that a down touching it runs as it would for real.
const PRISMA_TABLE = `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`

// The snapshot without Prisma's table: it is the tool's book, not the app's schema.
const withoutBook = (snapshot: Snapshot): Snapshot =>
  Object.fromEntries(Object.entries(snapshot).filter(([, o]) => !o.name.includes(`"${MIGRATIONS_TABLE}"`)))

const snapshot = async (db: Scratch) => withoutBook(await takeSnapshot(db))

const mentionsBook = (node: unknown): boolean => {
  if (Array.isArray(node)) return node.some(mentionsBook)
  if (!node || typeof node !== 'object') return false
  const record = node as Record<string, unknown>
  if (record.relname === MIGRATIONS_TABLE || record.sval === MIGRATIONS_TABLE) return true
  return Object.values(record).some(mentionsBook)
}

// A statement that changes _prisma_migrations: migrate:down keeps that book itself, and a down that also
// does would leave it wrong.
export const writesBook = (statement: Statement) => statement.kind !== 'SelectStmt' && mentionsBook(statement.node)

// What the check runs for a statement. CONCURRENTLY builds the same index, just without a long lock, and
// cannot run in the check's transaction, so it is dropped; statements that change no schema and cannot
// run in a transaction (VACUUM, BEGIN/COMMIT of the file itself) are skipped.
export function runnableText(statement: Statement): string | undefined {
  if (!nonTransactionalReason(statement)) return statement.text
  if ((statement.kind === 'IndexStmt' || statement.kind === 'DropStmt') && statement.node.concurrent) return statement.text.replace(/\s+CONCURRENTLY\b/i, '')
  return undefined
}

async function runScript(db: Scratch, statements: Statement[]) {
  for (const statement of statements) {
    const text = runnableText(statement)
    if (text !== undefined) await db.query(text)
  }
}

const messageOf = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0]

// Reads a script; a parse failure is a finding about the file, not a crash of the check.
async function parse(sql: string, file: string): Promise<{statements?: Statement[], error?: string}> {
  try {
    return {statements: await parseStatements(sql, file)}
  } catch (error) {
    return {error: messageOf(error)}
  }
}

const CANNOT_CHECK = 'cannot check here (an extension this PostgreSQL lacks): use --database-url with a PostgreSQL that has it'

export const RUNS_PROGRAM = 'cannot check here: it runs a program on the database server (COPY ... PROGRAM), which the check never does'

// What this scratch PostgreSQL cannot do, as opposed to what is wrong with the migration: an extension it
// lacks, or a lock table too small for a script that touches thousands of objects in one transaction
// (53200 out of shared memory: PGlite's max_locks_per_transaction is 64).
function cannotCheckHere(error: unknown): string | undefined {
  if (isMissingFeature(error)) return `${CANNOT_CHECK}: ${messageOf(error)}`
  if ((error as {code?: string}).code === '53200') {
    return `cannot check here (this PostgreSQL's lock table is too small for it: ${messageOf(error)}): use --database-url with a PostgreSQL whose max_locks_per_transaction is larger`
  }
  return undefined
}

export async function runStaircase(db: Scratch, migrations: LocalMigration[], options: StaircaseOptions = {}): Promise<MigrationCheck[]> {
  await db.query(PRISMA_TABLE)
  const results: MigrationCheck[] = []
  let before = await snapshot(db)
  let stoppedBy: string | undefined
  for (const [index, migration] of migrations.entries()) {
    options.progress?.(index, migrations.length, migration.name)
    const checked = options.check?.(migration) ?? true
    const result: MigrationCheck = {migration: migration.name, verdict: 'reverts', problems: [], drops: [], notes: []}
    if (stoppedBy) {
      if (checked) results.push({...result, verdict: 'not-checked', notes: [stoppedBy]})
      continue
    }
    const up = await parse(migration.sql, join(migration.dir, 'migration.sql'))
    if (up.statements?.some(runsProgram)) {
      stoppedBy = `not checked: ${migration.name} could not be applied here`
      results.push({...result, verdict: 'cannot-check', notes: [`migration.sql: ${RUNS_PROGRAM}`]})
      continue
    }
    try {
      if (up.error) throw new Error(up.error)
      await runScript(db, up.statements!)
    } catch (error) {
      const cannot = cannotCheckHere(error)
      stoppedBy = cannot
        ? `not checked: ${migration.name} could not be applied here`
        : `not checked: ${migration.name} could not be applied`
      results.push({...result, verdict: cannot ? 'cannot-check' : 'broken', notes: [cannot ?? `migration.sql fails on an empty database: ${messageOf(error)}`]})
      continue
    }
    const after = await snapshot(db)
    if (!checked) {
      before = after
      continue
    }
    if (migration.downSql === undefined) {
      results.push({...result, verdict: 'no-down'})
      before = after
      continue
    }
    results.push(await checkDown(db, migration, up.statements!, {before, after}, options))
    before = after
  }
  options.progress?.(migrations.length, migrations.length, '')
  return results
}

async function checkDown(db: Scratch, migration: LocalMigration, up: Statement[], states: {before: Snapshot, after: Snapshot}, options: StaircaseOptions): Promise<MigrationCheck> {
  const result: MigrationCheck = {migration: migration.name, verdict: 'reverts', problems: [], drops: [], notes: []}
  const downFile = join(migration.dir, 'down.sql')
  const data = typeof options.data === 'function' ? options.data(migration) : options.data ?? false
  const parsed = await parse(migration.downSql!, downFile)
  if (parsed.error) return {...result, verdict: 'differs', problems: [`down.sql is not valid PostgreSQL: ${parsed.error}`]}
  const down = parsed.statements!
  if (down.some(runsProgram)) return {...result, verdict: 'cannot-check', notes: [`down.sql: ${RUNS_PROGRAM}`]}
  for (const statement of down) {
    if (writesBook(statement)) result.problems.push(`down.sql writes _prisma_migrations (\`${firstLine(statement.text)}\`): migrate:down keeps that table itself; remove the statement`)
    const reason = nonTransactionalReason(statement)
    if (reason) result.problems.push(`down.sql: \`${firstLine(statement.text)}\`: ${reason}, and migrate:down runs every down in one transaction`)
  }
  await db.query('BEGIN')
  try {
    if (data) {
      result.notes.push(...await fillSampleRows(db))
      const dropped: DroppedValues[] = await valuesToDrop(db, states.before, states.after)
      result.drops.push(...dropped.map(describeDropped))
    }
    try {
      await runScript(db, down)
    } catch (error) {
      if (cannotCheckHere(error)) throw error
      result.problems.push(`down.sql fails${data ? ' on tables with sample rows' : ''}: ${messageOf(error)}`)
      return finish(result)
    }
    const afterDown = await snapshot(db)
    result.problems.push(...diffSnapshots(states.before, afterDown).map(d => describeDifference(d, AFTER_DOWN)))
    try {
      await runScript(db, up)
    } catch (error) {
      if (cannotCheckHere(error)) throw error
      // A new enum value cannot be used in the transaction that added it; deploy commits in between, the check cannot.
      if ((error as {code?: string}).code === '55P04') result.notes.push(`could not apply migration.sql again inside the check's transaction: ${messageOf(error)}`)
      else result.problems.push(`migration.sql fails when applied again after down: ${messageOf(error)}`)
      return finish(result)
    }
    const afterRedo = await snapshot(db)
    result.problems.push(...diffSnapshots(states.after, afterRedo).map(d => describeDifference(d, AFTER_REDO)))
    return finish(result)
  } catch (error) {
    // Inconclusive, not a wrong down; what was found wrong before it stays found.
    const cannot = cannotCheckHere(error)
    if (!cannot) throw error
    return finish({...result, notes: [...result.notes, cannot]}, 'cannot-check')
  } finally {
    await db.query('ROLLBACK')
  }
}

const finish = (result: MigrationCheck, otherwise: Verdict = 'reverts'): MigrationCheck => ({...result, verdict: result.problems.length > 0 ? 'differs' : otherwise})
