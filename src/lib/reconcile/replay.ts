import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'
import type {ClientBase} from 'pg'
import {SafeRollbackError} from '../errors.js'
import {SESSION_SETTINGS, TABLE_MARK} from './folder.js'

// Runs a folder's replay.sql on DATABASE in ONE transaction, statement by statement (one a line), to
// count the rows each table gained or changed. Any error rolls all of it back. The file is applied as
// it was written and shown, never recomputed.

export interface ReplayResult {
  // Rows inserted or updated per table; tables where nothing changed are listed with 0.
  changed: Record<string, number>
  statements: number
}

const ROLLED_BACK = 'Nothing was changed: the transaction was rolled back, so DATABASE is exactly as before.'

const isStatement = (line: string) => line.length > 0 && !line.startsWith('--') && !/^(BEGIN|COMMIT|SET )/.test(line)

export async function applyReplay(client: ClientBase, file: string): Promise<ReplayResult> {
  const result: ReplayResult = {changed: {}, statements: 0}
  await client.query('BEGIN')
  try {
    await client.query('SET CONSTRAINTS ALL DEFERRED')
    for (const setting of SESSION_SETTINGS) await client.query(setting)
    let table = ''
    for await (const line of createInterface({input: createReadStream(file, 'utf8'), crlfDelay: Infinity})) {
      if (line.startsWith(TABLE_MARK)) {
        table = line.slice(TABLE_MARK.length)
        result.changed[table] ??= 0
        continue
      }
      if (!isStatement(line)) continue
      try {
        const {rowCount} = await client.query(line)
        result.changed[table] = (result.changed[table] ?? 0) + (rowCount ?? 0)
        result.statements++
      } catch (error) {
        throw new SafeRollbackError(`replay.sql: statement ${result.statements + 1} (${table}) failed: ${(error as Error).message}`, ROLLED_BACK)
      }
    }
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    if (error instanceof SafeRollbackError) throw error
    throw new SafeRollbackError(`Applying replay.sql failed: ${(error as Error).message}`, ROLLED_BACK)
  }
}
