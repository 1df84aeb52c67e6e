import type {Heroku} from '../heroku/heroku.js'
import type {Addon, App} from '../heroku/state.js'
import {loadApp} from '../scenarios/load.js'
import type {AppSpec} from '../scenarios/spec.js'
import {brokenAppSpec, BrokenAppOptions} from './broken-app.js'

export interface DataLoss {
  app: App
  database: Addon
  // A manual backup taken with all 60 customers, named as Heroku names it (b002, ...).
  backup: string
  // A time, to the second, when all 60 customers were still there: a point-in-time target.
  beforeLoss: string
  rowsBefore: number
  rowsAfter: number
}

// The runbook's "critical data loss": the broken app of `seedBrokenApp`, ten more customers, a backup
// and a snapshot for point-in-time rollback, then a DELETE that wipes two thirds of the table.
// sandbox/scenarios/data-loss.json is this app with the defaults.
export function dataLossSpec(name: string, options: BrokenAppOptions = {}): AppSpec {
  const spec = brokenAppSpec(name, options)
  return {...spec, events: [
    ...spec.events!,
    {sql: "INSERT INTO customers (email) SELECT 'vip' || g || '@example.com' FROM generate_series(1, 10) g"},
    {backup: {name: 'backup-before-loss'}},
    {checkpoint: 'before-loss'},
    {sql: 'DELETE FROM customers WHERE id > 20'},
    {checkpoint: true},
  ]}
}

export async function seedDataLoss(sandbox: Heroku, name: string, options: BrokenAppOptions = {}): Promise<DataLoss> {
  const {app, databases, names} = await loadApp(sandbox, dataLossSpec(name, options))
  return {app, database: databases.DATABASE, backup: names['backup-before-loss'], beforeLoss: names['before-loss'], rowsBefore: 60, rowsAfter: 20}
}
