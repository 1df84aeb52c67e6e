import type {Api} from '../api/client.js'
import {resolveAppDatabase, withConnection} from '../postgres/connect.js'

// `--verify SQL`: one query on the recovered database. It passes when it returns a row whose first
// value is not false, null, 0 or empty.

export interface Verification {
  passed: boolean
  detail: string
}

const falsy = (value: unknown) => value === null || value === undefined || value === false || value === 0 || value === '0' || value === '' || value === 'f' || value === 'false'

export async function runVerification(api: Api, app: string, database: string, sql: string): Promise<Verification> {
  try {
    const target = await resolveAppDatabase(api, app, database)
    const rows = await withConnection(target, async ({client}) => {
      await client.query('SET statement_timeout = 120000')
      return (await client.query(sql)).rows
    })
    if (rows.length === 0) return {passed: false, detail: 'the query returned no rows'}
    const first = Object.values(rows[0])[0]
    return {passed: !falsy(first), detail: `the query returned ${JSON.stringify(first)}`}
  } catch (error) {
    return {passed: false, detail: `the query failed: ${(error as Error).message}`}
  }
}
