import {resolve} from 'node:path'
import {withConnection} from '../postgres/connect.js'
import type {Base} from './base.js'
import {compareDatabases} from './compare.js'
import {Prefer, ReconcileFolder} from './folder.js'
import type {ReconcileDatabase} from './gather.js'

// The comparison as a plan: it reads both databases, writes the folder (rows, replay.sql) and returns
// a summary that holds names and counts only, never a row value: that is what the terminal and --json show.

export interface ReconcileOptions {
  app: string
  since?: string
  tables?: string[]
  exclude?: string[]
  out: string
  // The base db:recover recorded in DATABASE: the comparison is three-way with it, two-way without.
  base?: Base
  prefer?: Prefer
}

export interface TableSummary {
  table: string
  mode: 'key' | 'multiset'
  against: 'three-way' | 'two-way'
  key: string[]
  inserted: number
  updated: number
  deleted: number
  conflicts: number
  kept: number
  columnsOnlyInOld: string[]
  columnsOnlyInDatabase: string[]
  warnings: string[]
}

export interface BaseSummary {
  run: string
  recoveryPoint: string
  recordedAt: string
  // The schema in DATABASE that holds it (dropped with DROP SCHEMA ... CASCADE once done).
  schema: string
}

export interface ReconcileSummary {
  app: string
  from: string
  to: string
  // The recovery point the writes came after, when given (or known from the base).
  since: string | null
  // 'three-way': with the base db:recover recorded; 'two-way': OLD against DATABASE only.
  against: 'three-way' | 'two-way'
  // The same in words: 'three-way (base from run X at TIME, recorded TIME)', 'two-way (no base)'.
  comparison: string
  base: BaseSummary | null
  prefer: Prefer | null
  folder: string
  tables: TableSummary[]
  tablesOnlyInOld: string[]
  tablesOnlyInDatabase: string[]
  totals: {inserted: number, updated: number, deleted: number, conflicts: number, kept: number}
  cost: {queries: number, rowsFetched: number, bytesFetched: number, durationMs: number}
}

// How the comparison was made, in one line: what --dry-run, the summary and the folder say first.
export function describeAgainst(summary: {base?: {run: string, recoveryPoint: string, recordedAt: string} | null, prefer?: string | null}): string {
  if (summary.base) return `three-way (base from run ${summary.base.run} at ${summary.base.recoveryPoint}, recorded ${summary.base.recordedAt})`
  return `two-way (no base)${summary.prefer ? `, --prefer ${summary.prefer}` : ''}`
}

export const defaultFolder = (app: string, now = new Date()) => `reconcile-${app}-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`

export async function planReconcile(old: ReconcileDatabase, current: ReconcileDatabase, options: ReconcileOptions): Promise<ReconcileSummary> {
  const started = Date.now()
  const folder = ReconcileFolder.create(options.out, {prefer: options.prefer})
  try {
    const comparison = await withConnection(old, oldConnection => withConnection(current, currentConnection => compareDatabases(
      {client: oldConnection.client, schema: old.schema}, {client: currentConnection.client, schema: current.schema},
      {tables: options.tables, exclude: options.exclude, base: options.base, onDifference: (table, difference) => folder.record(table, difference)},
    )))
    const tables = comparison.tables.map(t => ({
      table: t.table, mode: t.mode, against: t.against, key: t.key, inserted: t.inserted, updated: t.updated, deleted: t.deleted, conflicts: t.conflicts, kept: t.kept,
      columnsOnlyInOld: t.onlyInOld, columnsOnlyInDatabase: t.onlyInDatabase, warnings: t.warnings,
    }))
    const sum = (pick: (t: typeof comparison.tables[number]) => number) => comparison.tables.reduce((total, t) => total + pick(t), 0)
    const {base} = options
    const summary: ReconcileSummary = {
      app: options.app, from: old.label, to: current.label, since: options.since ?? base?.recoveryPoint ?? null,
      against: base ? 'three-way' : 'two-way',
      comparison: describeAgainst({base, prefer: options.prefer}),
      base: base ? {run: base.run, recoveryPoint: base.recoveryPoint, recordedAt: base.recordedAt, schema: base.schema} : null,
      prefer: options.prefer ?? null, folder: resolve(options.out),
      tables, tablesOnlyInOld: comparison.tablesOnlyInOld, tablesOnlyInDatabase: comparison.tablesOnlyInDatabase,
      totals: {inserted: sum(t => t.inserted), updated: sum(t => t.updated), deleted: sum(t => t.deleted), conflicts: sum(t => t.conflicts), kept: sum(t => t.kept)},
      cost: {queries: sum(t => t.cost.queries), rowsFetched: sum(t => t.cost.rowsFetched), bytesFetched: sum(t => t.cost.bytesFetched), durationMs: Date.now() - started},
    }
    folder.finish(comparison, summary as unknown as Record<string, unknown>)
    return summary
  } catch (error) {
    folder.discard()
    throw error
  }
}
