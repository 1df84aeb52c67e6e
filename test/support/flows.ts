import assert from 'node:assert/strict'
import type {Addon, App} from '../../src/sandbox/index.js'
import type {Fault} from '../../src/sandbox/server/faults.js'
import {seedDataLoss} from '../../src/sandbox/seeds/data-loss.js'
import {seedBrokenApp} from '../../src/sandbox/seeds/broken-app.js'
import {heroku, Result} from './heroku.js'
import {appName, sandbox} from './sandbox.js'

// The three flows that change an app, each with the writes it makes (in order) and the invariants that
// must hold afterwards whatever went wrong: never a write done twice, never a guard left behind
// without saying so, and --json telling the same truth as the sandbox's state.

export interface Seeded {
  name: string
  app: App
  database?: Addon
  backup?: string
  beforeLoss?: string
  backupsBefore?: number
}

export interface Write {
  label: string
  fault: (seeded: Seeded) => Omit<Fault, 'kind'>
}

export interface Flow {
  name: string
  seed(): Promise<Seeded>
  args(seeded: Seeded): string[]
  writes: Write[]
  // What must be true after any run, whatever its outcome (the run's --json and exit code given).
  check(seeded: Seeded, result: Result, document: any): Promise<void>
}

export const runFlow = async (flow: Flow, seeded: Seeded, extra: string[] = [], options: Parameters<typeof heroku>[1] = {}) => {
  const result = await heroku([...flow.args(seeded), ...extra], options)
  await sandbox().settle()
  let document: any
  assert.doesNotThrow(() => (document = JSON.parse(result.stdout)), `--json printed one document: ${result.stdout.slice(0, 300)}\n${result.stderr.slice(-800)}`)
  return {result, document}
}

const step = (document: any, id: string) => document.run?.steps.find((s: {id: string}) => s.id === id)

// A step's report agrees with whether its change is there: made means not "not made", absent means not "done".
// With no run in the document the command stopped before its first step: then nothing may have been made.
function agrees(document: any, id: string, made: boolean) {
  if (!document?.run) {
    assert.ok(!made, `${id}: made, but the command reports no run`)
    return
  }
  const report = step(document, id)
  assert.ok(report, `${id}: no such step in the run (${(document.run.steps ?? []).map((s: {id: string}) => s.id).join(', ')})`)
  if (made) assert.ok(report.state !== 'not run' && report.change !== 'not made', `${id}: made, but reported ${report.state}/${report.change}`)
  else assert.ok(report.state !== 'done' && report.change !== 'made', `${id}: not made, but reported ${report.state}/${report.change}`)
}

function guardsPutBack(app: App, result: Result, document: any, workers?: number) {
  const leftOn = app.maintenance
  if (leftOn) {
    // Only when the put-back itself failed, and then the exact command is given.
    assert.notEqual(result.code, 0)
    assert.ok(document.run.finish.includes(`heroku maintenance:off --app ${app.name}`), 'maintenance left on must come with its command')
  }
  if (workers !== undefined) {
    const now = app.formation.find(p => p.type === 'worker')!.quantity
    if (now !== workers) assert.ok(document.run.finish.some((c: string) => c.startsWith('heroku ps:scale worker=')), 'workers left at 0 must come with their command')
  }
  assert.equal(result.code === 0, document.run?.status === 'succeeded', 'exit code and --json agree')
}

export const rollbackFlow: Flow = {
  name: 'safe-rollback --maintenance',
  async seed() {
    const name = appName('fault-sr')
    const {app, database} = await seedBrokenApp(sandbox(), name, {releaseCommand: 'npx prisma migrate deploy'})
    return {name, app, database}
  },
  args: ({name}) => ['safe-rollback', 'v50', '--app', name, '--confirm', name, '--maintenance', '--json', '--wait-timeout', '10s'],
  writes: [
    {label: 'maintenance on', fault: ({name}) => ({app: name, method: 'PATCH', path: `/apps/${name}`, nth: 1})},
    {label: 'rollback POST', fault: ({name}) => ({app: name, method: 'POST', path: `/apps/${name}/releases`})},
    {label: 'maintenance off', fault: ({name}) => ({app: name, method: 'PATCH', path: `/apps/${name}`, nth: 2})},
  ],
  async check({app}, result, document) {
    const rollbacks = app.releases.filter(r => r.description === 'Rollback to v50')
    assert.ok(rollbacks.length <= 1, `${rollbacks.length} rollback releases: a write was repeated`)
    agrees(document, 'rollback', rollbacks.length === 1)
    guardsPutBack(app, result, document)
    if (result.code === 0) {
      assert.equal(sandbox().state.currentRelease(app)!.description, 'Rollback to v50')
      assert.equal(document.maintenance, 'turned off again')
    }
    if (!app.maintenance && step(document, 'maintenance-on')?.state !== 'not run' && step(document, 'maintenance-on')?.change !== 'not made') {
      assert.equal(document.maintenance, 'turned off again')
    }
  },
}

const rows = async (addon: Addon) => Number((await sandbox().sql(addon, 'SELECT count(*) AS n FROM customers'))[0].n)
const transfersOf = (addon: Addon, kind: 'backup' | 'restore') =>
  sandbox().state.transfers.filter(t => t._addonId === addon.id && (kind === 'restore' ? t.to_type === 'pg_restore' : t.from_type === 'pg_dump'))

export const restoreFlow: Flow = {
  name: 'db:recover --backup --scale-down-workers',
  async seed() {
    const name = appName('fault-restore')
    const loss = await seedDataLoss(sandbox(), name)
    return {name, app: loss.app, database: loss.database, backup: loss.backup, backupsBefore: transfersOf(loss.database, 'backup').length}
  },
  args: ({name, backup}) => ['db:recover', '--app', name, '--backup', backup!, '--confirm', name, '--scale-down-workers',
    '--verify', 'SELECT count(*) = 60 FROM customers', '--json', '--wait-timeout', '10s'],
  writes: [
    {label: 'maintenance on', fault: ({name}) => ({app: name, method: 'PATCH', path: `/apps/${name}`, nth: 1})},
    {label: 'scale down', fault: ({name}) => ({app: name, method: 'PATCH', path: `/apps/${name}/formation`, nth: 1})},
    {label: 'safety backup POST', fault: ({name, database}) => ({app: name, method: 'POST', path: `/client/v11/databases/${database!.id}/backups`})},
    {label: 'restore POST', fault: ({name, database}) => ({app: name, method: 'POST', path: `/client/v11/databases/${database!.id}/restores`})},
    {label: 'scale back', fault: ({name}) => ({app: name, method: 'PATCH', path: `/apps/${name}/formation`, nth: 2})},
    {label: 'maintenance off', fault: ({name}) => ({app: name, method: 'PATCH', path: `/apps/${name}`, nth: 2})},
  ],
  async check({app, database, backupsBefore}, result, document) {
    const backups = transfersOf(database!, 'backup').length - backupsBefore!
    assert.ok(backups <= 1, `${backups} safety backups: a write was repeated`)
    const restores = transfersOf(database!, 'restore')
    assert.ok(restores.length <= 1, `${restores.length} restores: a write was repeated`)
    agrees(document, 'restore', restores.length === 1)
    guardsPutBack(app, result, document, 1)
    if (result.code === 0) assert.equal(await rows(database!), 60)
    else if (restores.length === 0) assert.equal(await rows(database!), 20, 'no restore, no change of data')
  },
}

export const pointInTimeFlow: Flow = {
  name: 'db:recover --to (point in time, promote)',
  async seed() {
    const name = appName('fault-pitr')
    const loss = await seedDataLoss(sandbox(), name)
    return {name, app: loss.app, database: loss.database, beforeLoss: loss.beforeLoss}
  },
  args: ({name, beforeLoss}) => ['db:recover', '--app', name, '--to', beforeLoss!, '--confirm', name,
    '--verify', 'SELECT count(*) = 60 FROM customers', '--json', '--wait-timeout', '10s'],
  writes: [
    {label: 'create database POST', fault: ({name}) => ({app: name, method: 'POST', path: `/apps/${name}/addons`})},
    {label: 'maintenance on', fault: ({name}) => ({app: name, method: 'PATCH', path: `/apps/${name}`, nth: 1})},
    {label: 'colour alias POST', fault: ({name}) => ({app: name, method: 'POST', path: '/addon-attachments', nth: 1})},
    {label: 'promote POST', fault: ({name}) => ({app: name, method: 'POST', path: '/addon-attachments', nth: 2})},
    {label: 'maintenance off', fault: ({name}) => ({app: name, method: 'PATCH', path: `/apps/${name}`, nth: 2})},
    {label: 'backup of the new database POST', fault: ({name}) => ({app: name, method: 'POST', path: /^\/client\/v11\/databases\/[^/]+\/backups$/})},
  ],
  async check({app, database}, result, document) {
    const created = sandbox().state.addonsOf(app).filter(a => a.id !== database!.id)
    assert.ok(created.length <= 1, `${created.length} new databases: a write was repeated (and billed)`)
    agrees(document, 'create-database', created.length === 1)
    const current = sandbox().state.attachmentsOf(app).find(a => a.name === 'DATABASE')!.addon.id
    agrees(document, 'promote', created.length === 1 && current === created[0].id)
    guardsPutBack(app, result, document)
    if (result.code === 0) assert.equal(current, created[0].id)
    if (created.length === 1 && current !== created[0].id) {
      assert.ok(document.run.undo.includes(`heroku addons:destroy ${created[0].name} --app ${app.name} --confirm ${app.name}`), 'a database made and not promoted is named, with the command that removes it')
    }
  },
}
