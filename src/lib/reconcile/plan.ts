import {resolve} from 'node:path'
import {withConnection} from '../postgres/connect.js'
import {compareDatabases} from './compare.js'
import {ReconcileFolder} from './folder.js'
import type {ReconcileDatabase} from './gather.js'

// The comparison as a plan: it reads both databases, writes the folder (rows, replay.sql) and returns
// a summary that holds names and counts only, never a row value: that is what the terminal and --json show.

export interface ReconcileOptions {
  app: string
  since?: string
  tables?: string[]
  exclude?: string[]
  out: string
}

export interface TableSummary {
  table: string
  mode: 'key' | 'multiset'
  key: string[]
  inserted: number
  updated: number
  deleted: number
  columnsOnlyInOld: string[]
  columnsOnlyInDatabase: string[]
  warnings: string[]
}

export interface ReconcileSummary {
  app: string
  from: string
  to: string
  // The recovery point the writes came after, when given.
  since: string | null
  folder: string
  tables: TableSummary[]
  tablesOnlyInOld: string[]
  tablesOnlyInDatabase: string[]
  totals: {inserted: number, updated: number, deleted: number}
  cost: {queries: number, rowsFetched: number, bytesFetched: number, durationMs: number}
}

export const defaultFolder = (app: string, now = new Date()) => `reconcile-${app}-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`

export async function planReconcile(old: ReconcileDatabase, current: ReconcileDatabase, options: ReconcileOptions): Promise<ReconcileSummary> {
  const started = Date.now()
  const folder = ReconcileFolder.create(options.out, current.schema)
  try {
    const comparison = await withConnection(old, oldConnection => withConnection(current, currentConnection => compareDatabases(
      {client: oldConnection.client, schema: old.schema}, {client: currentConnection.client, schema: current.schema},
      {tables: options.tables, exclude: options.exclude, onDifference: (table, difference) => folder.record(table, difference)},
    )))
    const tables = comparison.tables.map(t => ({
      table: t.table, mode: t.mode, key: t.key, inserted: t.inserted, updated: t.updated, deleted: t.deleted,
      columnsOnlyInOld: t.onlyInOld, columnsOnlyInDatabase: t.onlyInDatabase, warnings: t.warnings,
    }))
    const sum = (pick: (t: typeof comparison.tables[number]) => number) => comparison.tables.reduce((total, t) => total + pick(t), 0)
    const summary: ReconcileSummary = {
      app: options.app, from: old.label, to: current.label, since: options.since ?? null, folder: resolve(options.out),
      tables, tablesOnlyInOld: comparison.tablesOnlyInOld, tablesOnlyInDatabase: comparison.tablesOnlyInDatabase,
      totals: {inserted: sum(t => t.inserted), updated: sum(t => t.updated), deleted: sum(t => t.deleted)},
      cost: {queries: sum(t => t.cost.queries), rowsFetched: sum(t => t.cost.rowsFetched), bytesFetched: sum(t => t.cost.bytesFetched), durationMs: Date.now() - started},
    }
    folder.finish(comparison, summary as unknown as Record<string, unknown>)
    return summary
  } catch (error) {
    folder.discard()
    throw error
  }
}
