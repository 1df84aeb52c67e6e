import {join} from 'node:path'
import {AppDatabase, withConnection, withInterruptibleConnection} from '../postgres/connect.js'
import {compareDatabases} from './compare.js'
import {ReconcileFolder} from './folder.js'
import {applyReplay, ReplayResult} from './replay.js'

// `db:recover --surgical`: the rows of some tables that a recovered copy has and DATABASE does not
// (deleted by the damage) are put back, and nothing else: rows DATABASE has, or has changed since, are
// never touched. The folder keeps what was put back (inserted.csv per table) and the replay.sql that did it.

export interface PutBack extends ReplayResult {
  folder: string
}

export async function putBackMissingRows(copy: AppDatabase, database: AppDatabase, tables: string[], out: string, writeSignal: AbortSignal): Promise<PutBack> {
  // Only inserts are recorded here: rows the copy has and DATABASE does not, put back as OLD's side of a two-way comparison.
  const folder = ReconcileFolder.create(out, {prefer: 'old'})
  let compared: string[] = []
  try {
    await withConnection(copy, ({client: from}) => withConnection(database, async ({client: to}) => {
      const comparison = await compareDatabases({client: from, schema: copy.schema}, {client: to, schema: database.schema}, {
        tables, onDifference: (table, difference) => difference.kind === 'inserted' ? folder.record(table, difference) : undefined,
      })
      compared = comparison.tables.map(t => t.table)
      const missing = tables.filter(t => !compared.includes(t))
      if (missing.length > 0) throw new Error(`--tables: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in both the recovered copy and ${database.label}`)
      folder.finish(comparison, {tables: comparison.tables.map(t => ({table: t.table, putBack: t.inserted}))})
    }))
  } catch (error) {
    folder.discard()
    throw error
  }
  const result = await withInterruptibleConnection(database, writeSignal, ({client}) => applyReplay(client, join(out, 'replay.sql')))
  return {...result, folder: out}
}
