import type {ClientBase, QueryConfig} from 'pg'
import type {Api} from '../api/client.js'
import {Refused} from '../errors.js'
import {parseStatements} from '../migrations/statements.js'
import {resolveAppDatabase, withConnection} from '../postgres/connect.js'

// `--verify SQL`: one query on the recovered database. It passes when it returns a row whose first
// value is not false, null, 0 or empty.

export interface Verification {
  passed: boolean
  detail: string
}

export const VERIFY_TIMEOUT_MS = 120_000

const WRITES = new Map([['InsertStmt', 'INSERT'], ['UpdateStmt', 'UPDATE'], ['DeleteStmt', 'DELETE'], ['MergeStmt', 'MERGE']])

// What in a parse tree makes a SELECT more than a read, wherever it is nested (CTEs, subqueries).
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
    const found = writingPart(child)
    if (found) return found
  }
  return undefined
}

// Refuses, before anything runs, whatever is not exactly one plain read: a single SELECT, VALUES or
// TABLE, without data-modifying CTEs, SELECT INTO or row locks. A function the query calls may still
// try to write: the READ ONLY transaction of `readOnlyRows` stops that.
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

export async function runVerification(api: Api, app: string, database: string, sql: string): Promise<Verification> {
  try {
    const target = await resolveAppDatabase(api, app, database)
    const rows = await withConnection(target, ({client}) => readOnlyRows(client, sql))
    if (rows.length === 0) return {passed: false, detail: 'the query returned no rows'}
    const first = Object.values(rows[0])[0]
    return {passed: !falsy(first), detail: `the query returned ${JSON.stringify(first)}`}
  } catch (error) {
    return {passed: false, detail: `the query failed: ${(error as Error).message}`}
  }
}
