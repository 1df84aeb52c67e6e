import {resolve} from 'node:path'
import {blocking} from '../checks.js'
import {withConnection} from '../postgres/connect.js'
import {type ReconcileFacts, reconcileChecks, type ReconcileInput} from './checks.js'
import {compareDatabases} from './compare.js'
import {Prefer, ReconcileFolder} from './folder.js'
import {describeAgainst} from './words.js'

// The comparison: it reads both databases and writes what it found to a folder on this machine (the
// rows, replay.sql), and returns a summary of names and counts only, never a row value: what the terminal
// and --json show, and what the plan is made from. It belongs with the reads, before the plan: the
// folder is this machine's record of what was read, not a change to the app (nothing at Heroku or in a
// database changes, so there is nothing to confirm, undo or log as a step); a run without --apply, or
// with --dry-run, exists to write it; and --apply's step replays the file that was shown, never a
// comparison made again. A check that refuses stops it first: a refused run leaves no folder.

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

// Undefined when a check refuses: nothing is read then, and no folder is written.
export async function compareReconcile(facts: ReconcileFacts, input: ReconcileInput): Promise<ReconcileSummary | undefined> {
  if (blocking(reconcileChecks(facts, input)).length > 0) return undefined
  const {old, current, base} = facts
  const started = Date.now()
  const folder = ReconcileFolder.create(input.out, {prefer: input.prefer})
  try {
    const comparison = await withConnection(old, oldConnection => withConnection(current, currentConnection => compareDatabases(
      {client: oldConnection.client, schema: old.schema}, {client: currentConnection.client, schema: current.schema},
      {tables: input.tables, exclude: input.exclude, base, onDifference: (table, difference) => folder.record(table, difference)},
    )))
    const tables = comparison.tables.map(t => ({
      table: t.table, mode: t.mode, against: t.against, key: t.key, inserted: t.inserted, updated: t.updated, deleted: t.deleted, conflicts: t.conflicts, kept: t.kept,
      columnsOnlyInOld: t.onlyInOld, columnsOnlyInDatabase: t.onlyInDatabase, warnings: t.warnings,
    }))
    const sum = (pick: (t: typeof comparison.tables[number]) => number) => comparison.tables.reduce((total, t) => total + pick(t), 0)
    const summary: ReconcileSummary = {
      app: input.app, from: old.label, to: current.label, since: input.since ?? base?.recoveryPoint ?? null,
      against: base ? 'three-way' : 'two-way',
      comparison: describeAgainst({base, prefer: input.prefer}),
      base: base ? {run: base.run, recoveryPoint: base.recoveryPoint, recordedAt: base.recordedAt, schema: base.schema} : null,
      prefer: input.prefer ?? null, folder: resolve(input.out),
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
