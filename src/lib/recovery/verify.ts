import type {ClientBase, QueryConfig} from 'pg'
import {Refused} from '../errors.js'
import {parseStatements} from '../migrations/statements.js'
import {printable} from '../names.js'
import {type AppDatabase, withConnection} from '../postgres/connect.js'

// `--verify SQL`: one query on the recovered database. It passes when it returns a row whose first
// value is not false, null, 0 or empty.

export interface Verification {
  passed: boolean
  detail: string
}

export const VERIFY_TIMEOUT_MS = 120_000

const WRITES = new Map([['InsertStmt', 'INSERT'], ['UpdateStmt', 'UPDATE'], ['DeleteStmt', 'DELETE'], ['MergeStmt', 'MERGE']])

// Functions whose effect the READ ONLY transaction does not stop, or that run SQL the parse tree cannot
// see: a reviewed deny-list by family, matched on the function's own name whatever its schema
// (`pg_catalog.pg_terminate_backend`, `public.dblink`). Not an allow-list: a check may call the app's own
// functions and its extensions' (PostGIS, citext...), and whatever those write the READ ONLY transaction
// refuses; what it does not refuse is listed here. A function of the app that calls one of these itself
// is the app's own code and out of sight of the parse tree.
const SIDE_EFFECTS: [RegExp, string][] = [
  [/^pg_(terminate|cancel|signal)_backend$|^pg_reload_conf$|^pg_rotate_logfile(_old)?$|^pg_log_backend_memory_contexts$|^pg_promote$|^pg_(wal|xlog)_replay_(pause|resume)$|^pg_switch_(wal|xlog)$|^pg_create_restore_point$|^pg_(start|stop)_backup$|^pg_backup_(start|stop)$/,
    'signals other sessions or acts on the server'],
  [/^pg_stat_(statements_)?reset/, 'resets the server\'s statistics'],
  [/^pg_(try_)?advisory_/, 'takes or releases an advisory lock, which outlives the query'],
  [/^dblink|^postgres_fdw_/, 'runs SQL over a connection of its own, outside the read-only transaction'],
  [/^query_to_xml|^cursor_to_xml|^ts_stat$|^ts_rewrite$/, 'runs SQL given as text, which this check cannot see'],
  [/^set_config$/, 'changes a setting'],
  [/^(nextval|setval)$/, 'moves a sequence, which no rollback undoes'],
  [/^pg_notify$/, 'notifies other sessions'],
  [/^txid_current$|^pg_current_xact_id$/, 'assigns a transaction id'],
  [/^pg_(read_file|read_binary_file|stat_file)$|^pg_ls_|^pg_file_|^pg_logdir_ls$/, 'reads or writes the server\'s files'],
  [/^lo_(import|export|create|creat|unlink|open|close|put|get|from_bytea|truncate|truncate64|lseek|lseek64|tell|tell64)$|^lo(read|write)$/, 'reads or writes large objects'],
  [/^pg_.*replication_(slot|origin)|^pg_logical_/, 'creates, moves or drops replication state'],
  [/^brin_(de)?summarize|^gin_clean_pending_list$|^pg_truncate_visibility_map$|^pg_import_system_collations$/, 'rewrites index or catalog data'],
  [/^pg_sleep(_for|_until)?$/, 'holds the query\'s locks on the database for nothing'],
]

// Why a function of this name may not be called by a query that only reads, or undefined.
export function sideEffectOf(name: string): string | undefined {
  const bare = name.toLowerCase()
  return SIDE_EFFECTS.find(([pattern]) => pattern.test(bare))?.[1]
}

// The name of a FuncCall node without its schema: `pg_catalog.pg_sleep` is `pg_sleep`.
const functionName = (call: {funcname?: {String?: {sval?: string}}[]}) => call.funcname?.at(-1)?.String?.sval ?? ''

// What in a parse tree makes a SELECT more than a read, wherever it is nested (CTEs, subqueries,
// function arguments, lateral joins, FROM functions).
function writingPart(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = writingPart(item)
      if (found) return found
    }
    return undefined
  }
  if (!value || typeof value !== 'object') return undefined
  for (const [key, child] of Object.entries(value)) {
    if (WRITES.has(key)) return `${WRITES.get(key)} inside the query changes data`
    if (key === 'intoClause' && child) return 'SELECT INTO creates a table'
    if (key === 'lockingClause' && Array.isArray(child) && child.length > 0) return 'FOR UPDATE/SHARE locks rows'
    if (key === 'FuncCall' && child) {
      const name = functionName(child)
      const effect = sideEffectOf(name)
      if (effect) return `${printable(name)}() ${effect}`
    }
    const found = writingPart(child)
    if (found) return found
  }
  return undefined
}

// Refuses, before anything runs, whatever is not exactly one plain read: a single SELECT, VALUES or
// TABLE, without data-modifying CTEs, SELECT INTO, row locks or a function with side effects (above).
// Another function the query calls may still try to write: the READ ONLY transaction of `readOnlyRows`
// stops that.
export async function assertReadOnlyQuery(sql: string, flag = '--verify'): Promise<void> {
  const statements = await parseStatements(sql, flag)
  if (statements.length !== 1) throw new Refused(`${flag} must be exactly one query; it has ${statements.length} statements.`)
  const [{kind, node, text}] = statements
  if (kind !== 'SelectStmt') {
    const what = WRITES.get(kind) ?? text.split(/\s+/)[0].toUpperCase()
    throw new Refused(`${flag} must be a query that only reads (SELECT, VALUES or TABLE), not ${what}.`)
  }
  const writing = writingPart(node)
  if (writing) throw new Refused(`${flag} must only read: ${writing}.`)
}

// The rows of a read-only query, in a READ ONLY transaction with a statement timeout, always rolled
// back. The extended protocol runs one statement at most, whatever the text holds.
export async function readOnlyRows(client: ClientBase, sql: string, timeoutMs = VERIFY_TIMEOUT_MS, flag = '--verify'): Promise<Record<string, unknown>[]> {
  await assertReadOnlyQuery(sql, flag)
  await client.query('BEGIN READ ONLY')
  try {
    await client.query(`SET LOCAL statement_timeout = ${Math.round(timeoutMs)}`)
    return (await client.query({text: sql, queryMode: 'extended'} as QueryConfig)).rows
  } finally {
    await client.query('ROLLBACK').catch(() => {})
  }
}

const falsy = (value: unknown) => value === null || value === undefined || value === false || value === 0 || value === '0' || value === '' || value === 'f' || value === 'false'

// `database` resolves the recovered database (a run's shared resource, see postgres/connect.ts).
export async function runVerification(database: () => Promise<AppDatabase>, sql: string): Promise<Verification> {
  try {
    const rows = await withConnection(await database(), ({client}) => readOnlyRows(client, sql))
    if (rows.length === 0) return {passed: false, detail: 'the query returned no rows'}
    const first = Object.values(rows[0])[0]
    return {passed: !falsy(first), detail: `the query returned ${JSON.stringify(first)}`}
  } catch (error) {
    return {passed: false, detail: `the query failed: ${printable((error as Error).message)}`}
  }
}
