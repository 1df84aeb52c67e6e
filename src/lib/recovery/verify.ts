import type {Heroku} from '../api/heroku.js'
import {registerSecrets} from '../secrets.js'

// `--verify SQL`: one query on the recovered database. It passes when it returns a row whose first
// value is not false, null, 0 or empty.

export interface Verification {
  passed: boolean
  detail: string
}

const LOCAL = new Set(['localhost', '127.0.0.1', '::1'])

// With DEBUG=* the HTTP client prints every response body, and the config vars read here hold the
// database password: switch debug output off for the one request that reads them.
async function withoutDebugOutput<T>(work: () => Promise<T>): Promise<T> {
  const debug = await import('debug').then(m => m.default).catch(() => undefined)
  const namespaces = debug?.disable()
  try {
    return await work()
  } finally {
    if (namespaces) debug!.enable(namespaces)
  }
}

async function connectionUrl(heroku: Heroku, app: string, database: string): Promise<{url: string, host: string}> {
  const {utils} = await import('@heroku/heroku-cli-util')
  const details = await withoutDebugOutput(() => new utils.pg.DatabaseResolver(heroku).getDatabase(app, database))
  registerSecrets([details.url, details.password])
  return {url: details.url, host: details.host}
}

const falsy = (value: unknown) => value === null || value === undefined || value === false || value === 0 || value === '0' || value === '' || value === 'f' || value === 'false'

export async function runVerification(heroku: Heroku, app: string, database: string, sql: string): Promise<Verification> {
  const {url, host} = await connectionUrl(heroku, app, database)
  const {default: pg} = await import('pg')
  const client = new pg.Client({connectionString: url, ssl: LOCAL.has(host) ? false : {rejectUnauthorized: false}, connectionTimeoutMillis: 30_000, statement_timeout: 120_000})
  try {
    await client.connect()
    const {rows} = await client.query(sql)
    if (rows.length === 0) return {passed: false, detail: 'the query returned no rows'}
    const first = Object.values(rows[0])[0]
    return falsy(first) ? {passed: false, detail: `the query returned ${JSON.stringify(first)}`} : {passed: true, detail: `the query returned ${JSON.stringify(first)}`}
  } catch (error) {
    return {passed: false, detail: `the query failed: ${(error as Error).message}`}
  } finally {
    await client.end().catch(() => {})
  }
}
