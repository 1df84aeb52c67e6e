import {createReadStream, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {createInterface} from 'node:readline'
import type {ClientBase} from 'pg'
import {SafeRollbackError} from '../errors.js'
import {printable} from '../names.js'
import {SESSION_SETTINGS, TABLE_MARK} from './folder.js'

// Runs a folder's replay.sql on DATABASE in ONE transaction, statement by statement (one a line), to
// count the rows each table gained or changed. Each line goes over the extended protocol, which the
// server parses as exactly one statement, and must be a write db:reconcile itself writes: a line can
// never end the transaction or run a second statement. An insert or update that meets another row on a
// unique key (not its primary key) is a conflict: set aside, counted, and listed, never "already there".
// Any other error rolls all of it back. The file is applied as it was written and shown, never recomputed.

export interface ReplayResult {
  // Rows inserted or updated per table; tables where nothing changed are listed with 0.
  changed: Record<string, number>
  // Statements set aside per table because another row holds the same unique value.
  conflicts: Record<string, number>
  conflictsFile?: string
  // Sequences moved past the largest value the inserts wrote, so that the app's next insert fits.
  sequences: {sequence: string, to: string}[]
  statements: number
}

const INSERT_TARGET = /^INSERT INTO ((?:U&)?"(?:[^"]|"")*"\.(?:U&)?"(?:[^"]|"")*") /
const WRITES = /^(INSERT INTO|UPDATE|DELETE FROM) /
const isSkipped = (line: string) => line.length === 0 || line.startsWith('--') || line === 'BEGIN;' || line === 'COMMIT;' || SESSION_SETTINGS.some(s => line === `${s};`) || line === 'SET CONSTRAINTS ALL DEFERRED;'
// unique_violation, exclusion_violation
const CONFLICT_CODES = new Set(['23505', '23P01'])
// Statements run between two savepoints: a conflict rolls back to the last one and replays the batch
// one statement at a time, so the common case costs two round trips per batch, not per row.
const BATCH = 500

interface Line {table: string, text: string, number: number}

export async function applyReplay(client: ClientBase, file: string): Promise<ReplayResult> {
  const result: ReplayResult = {changed: {}, conflicts: {}, sequences: [], statements: 0}
  const insertedInto = new Set<string>()
  const conflicting: string[] = []
  const run = (text: string) => client.query({text, queryMode: 'extended'} as any)
  const runOne = async (line: Line) => {
    try {
      const {rowCount} = await run(line.text)
      if (rowCount) insertedInto.add(INSERT_TARGET.exec(line.text)?.[1] ?? '')
      result.changed[line.table] = (result.changed[line.table] ?? 0) + (rowCount ?? 0)
      result.statements++
    } catch (error) {
      if (CONFLICT_CODES.has(codeOf(error))) throw error
      throw new SafeRollbackError(`replay.sql line ${line.number} (${line.table}) failed: ${printable((error as Error).message)}`, 'rolled back')
    }
  }
  const runBatch = async (batch: Line[]) => {
    if (batch.length === 0) return
    await client.query('SAVEPOINT replay_batch')
    const before = {changed: {...result.changed}, statements: result.statements}
    try {
      for (const line of batch) await runOne(line)
      await client.query('RELEASE SAVEPOINT replay_batch')
    } catch (error) {
      if (!CONFLICT_CODES.has(codeOf(error))) throw error
      await client.query('ROLLBACK TO SAVEPOINT replay_batch')
      Object.assign(result, before)
      for (const line of batch) {
        await client.query('SAVEPOINT replay_row')
        try {
          await runOne(line)
          await client.query('RELEASE SAVEPOINT replay_row')
        } catch (rowError) {
          if (!CONFLICT_CODES.has(codeOf(rowError))) throw rowError
          await client.query('ROLLBACK TO SAVEPOINT replay_row')
          result.conflicts[line.table] = (result.conflicts[line.table] ?? 0) + 1
          conflicting.push(`${TABLE_MARK}${line.table}`, line.text)
        }
      }
      await client.query('RELEASE SAVEPOINT replay_batch')
    }
  }
  await client.query('BEGIN')
  try {
    await client.query('SET CONSTRAINTS ALL DEFERRED')
    for (const setting of SESSION_SETTINGS) await client.query(setting)
    let table = ''
    let number = 0
    let batch: Line[] = []
    for await (const text of createInterface({input: createReadStream(file, 'utf8'), crlfDelay: Infinity})) {
      number++
      if (text.startsWith(TABLE_MARK)) {
        table = printable(text.slice(TABLE_MARK.length))
        result.changed[table] ??= 0
        continue
      }
      if (isSkipped(text)) continue
      if (!WRITES.test(text)) throw new SafeRollbackError(`replay.sql line ${number} is not a statement db:reconcile writes (INSERT, UPDATE or DELETE): it was not run.`, 'rolled back')
      batch.push({table, text, number})
      if (batch.length >= BATCH) {
        await runBatch(batch)
        batch = []
      }
    }
    await runBatch(batch)
    insertedInto.delete('')
    for (const target of insertedInto) result.sequences.push(...await moveOwnedSequences(client, target))
    await client.query('COMMIT')
  } catch (error) {
    throw await rolledBack(client, error)
  }
  if (conflicting.length > 0) {
    result.conflictsFile = join(dirname(file), 'conflicts.sql')
    writeFileSync(result.conflictsFile, `-- Statements of replay.sql that met another row of DATABASE on a unique key; not applied.\n${conflicting.join('\n')}\n`, {mode: 0o600})
  }
  return result
}

// The sequence fence of db:recover, for the rows replay.sql inserted: every sequence owned by a column
// of the table (serial or identity) is moved forward to the column's largest value, never back.
async function moveOwnedSequences(client: ClientBase, target: string): Promise<{sequence: string, to: string}[]> {
  const {rows: owned} = await client.query<{sequence: string, oid: string, column: string}>({text: `
    SELECT d.objid::regclass::text AS sequence, d.objid::text AS oid, quote_ident(a.attname) AS column
    FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjid = (SELECT tableoid FROM ${target} LIMIT 1)
    ORDER BY 1`, queryMode: 'extended'} as any)
  const moved: {sequence: string, to: string}[] = []
  for (const {sequence, oid, column} of owned) {
    const {rows} = await client.query<{to: string}>({text: `
      SELECT setval($1::oid::regclass, m)::text AS to FROM (SELECT max(${column})::bigint AS m FROM ${target}) x, ${sequence} s
      WHERE m IS NOT NULL AND m >= s.last_value + CASE WHEN s.is_called THEN 1 ELSE 0 END`, values: [oid]})
    if (rows.length > 0) moved.push({sequence, to: rows[0].to})
  }
  return moved
}

const codeOf = (error: unknown) => (error as {code?: string}).code ?? ''

// Says "rolled back" only when the server confirmed it; a lost connection before COMMIT also ends the
// transaction without a trace, since no line can commit it.
async function rolledBack(client: ClientBase, error: unknown): Promise<SafeRollbackError> {
  const confirmed = await client.query('ROLLBACK').then(() => true, () => false)
  const state = confirmed
    ? 'Nothing was changed: the transaction was rolled back, so DATABASE is exactly as before.'
    : 'Nothing was changed: the connection ended before COMMIT, so PostgreSQL discarded the transaction (no line of replay.sql can commit it).'
  const message = error instanceof SafeRollbackError ? error.message : `Applying replay.sql failed: ${printable((error as Error).message)}`
  return new SafeRollbackError(message, state)
}
