import type {Sandbox} from './index.js'
import {BrokenAppOptions, seedBrokenApp} from './scenario.js'
import type {Addon, App} from './state.js'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

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
export async function seedDataLoss(sandbox: Sandbox, name: string, options: BrokenAppOptions = {}): Promise<DataLoss> {
  const {app, database} = await seedBrokenApp(sandbox, name, options)
  await sandbox.sql(database!, "INSERT INTO customers (email) SELECT 'vip' || g || '@example.com' FROM generate_series(1, 10) g")
  const backup = sandbox.capture(database!)
  await sandbox.settle()
  const snapshot = await sandbox.checkpoint(database!)
  // Heroku takes rollback times to the second: wait for a whole second past the snapshot.
  const beforeLoss = Math.ceil(snapshot.at / 1000) * 1000
  await sleep(beforeLoss - Date.now() + 50)
  await sandbox.sql(database!, 'DELETE FROM customers WHERE id > 20')
  await sandbox.checkpoint(database!)
  return {app, database: database!, backup: sandbox.state.transferName(backup), beforeLoss: new Date(beforeLoss).toISOString(), rowsBefore: 60, rowsAfter: 20}
}
