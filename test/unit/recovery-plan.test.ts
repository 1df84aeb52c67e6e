import assert from 'node:assert/strict'
import type {Transfer} from '../../src/lib/api/postgres.js'
import type {BackupState} from '../../src/lib/backups/gate.js'
import {blocking} from '../../src/lib/checks.js'
import {type Choice, type Prompts, prompts} from '../../src/lib/prompts.js'
import {compareReconcile} from '../../src/lib/reconcile/comparison.js'
import type {ReconcileDatabase, ReconcileFacts, ReconcileInput} from '../../src/lib/reconcile/checks.js'
import type {ReconcileSummary} from '../../src/lib/reconcile/comparison.js'
import {planReconcile} from '../../src/lib/reconcile/plan.js'
import {askTarget, type RecoveryFacts} from '../../src/lib/recovery/gather.js'
import {planRecovery, RecoveryOptions, recoveryResources, RUNBOOK_WARNING, SURGICAL_NOTE} from '../../src/lib/recovery/plan.js'
import type {Target} from '../../src/lib/recovery/target.js'

// The planners of db:recover and db:reconcile are pure: facts in, a plan of data out (no API, no PostgreSQL).

const NOW = Date.parse('2026-11-24T12:00:00Z')
const HOUR = 3_600_000
const SECRET = 'https://backups.example/b002?X-Amz-Signature=SECRET-SIGNATURE'
const VERIFY = 'SELECT count(*) = 60 FROM customers'

const backup = (num: number, fields: Partial<Transfer> = {}): Transfer => ({
  uuid: `uuid-${num}`, num, from_name: 'DATABASE', from_type: 'pg_dump', to_name: 'BACKUP', to_type: 'gof3r', to_url: `${SECRET}-${num}`,
  succeeded: true, created_at: new Date(NOW - (10 - num) * HOUR).toISOString(), finished_at: new Date(NOW - (10 - num) * HOUR + 60_000).toISOString(), processed_bytes: 2048, ...fields,
})

const facts = (fields: Partial<RecoveryFacts> = {}): RecoveryFacts => ({
  app: 'shop', appId: 'app-1',
  database: {id: 'db-1', name: 'postgresql-curved-12345', plan: 'heroku-postgresql:standard-0', billingApp: 'shop', attachment: 'DATABASE', attachmentNames: ['DATABASE'], advanced: false, essential: false},
  transfers: [backup(1), backup(2)], rollbackEarliest: new Date(NOW - 4 * 24 * HOUR),
  formation: [{type: 'web', quantity: 2, size: 'standard-1x', command: 'npm start'}, {type: 'worker', quantity: 1, size: 'standard-1x', command: 'npm run worker'}, {type: 'release', quantity: 0, size: 'standard-1x', command: 'npx prisma migrate deploy'}],
  maintenance: false, hasPooler: true, knownAddons: ['db-1', 'redis-1'], hasBucket: false, releases: [], now: NOW,
  estate: {attachments: [{app: 'shop', name: 'DATABASE', namespace: null}, ...(fields.hasPooler === false ? [] : [{app: 'shop', name: 'DATABASE_CONNECTION_POOL', namespace: 'connection-pooling:default'}])], others: []}, ...fields,
})

const options = (fields: Partial<RecoveryOptions> = {}): RecoveryOptions => ({
  database: 'DATABASE_URL', drill: false, keep: false, safetyBackup: true, maintenance: true, scaleDownWorkers: false, reconcileBase: true,
  waitTimeout: '2h', timeoutMs: 2 * HOUR, ...fields,
})

const twoHoursAgo: Target = {kind: 'time', at: new Date(NOW - 2 * HOUR), reason: '2h ago (--by)'}
const at = twoHoursAgo.kind === 'time' ? twoHoursAgo.at.toISOString() : ''
const source = {id: 'db-1', name: 'postgresql-curved-12345', plan: 'heroku-postgresql:standard-0', billingApp: 'shop', attachment: 'DATABASE', attachmentNames: ['DATABASE']}

const ids = (plan: {steps: {id: string, kind: string}[]}) => plan.steps.map(s => `${s.id}:${s.kind}`)
const step = (plan: {steps: {id: string}[]}, id: string) => plan.steps.find(s => s.id === id) as Record<string, unknown> | undefined

describe('planRecovery', () => {
  it('a point-in-time recovery: a new database, verified, its base recorded, fenced and promoted behind the quiet, then backed up', () => {
    const plan = planRecovery(facts(), twoHoursAgo, options({scaleDownWorkers: true, verify: VERIFY}))
    assert.deepEqual(blocking(plan.checks), [])
    assert.deepEqual(ids(plan), [
      'create-database:create-database', 'verify:verify-database', 'record-base:record-reconcile-base', 'maintenance-on:maintenance', 'scale-down:scale',
      'sequence-fence:sequence-fence', 'keep-alias:keep-alias', 'promote:promote-database', 'pooler:attach-pooler', 'release-phase:await-promote-release',
      'scale-back:scale', 'maintenance-off:maintenance', 'follower-check:follower-check', 'backup-new:capture-backup', 'left-behind:left-behind',
    ])
    assert.deepEqual(step(plan, 'create-database'), {id: 'create-database', kind: 'create-database', app: 'shop', source, at, scratch: false, keep: false, knownAddons: ['db-1', 'redis-1']})
    const created = {ref: 'create-database'}
    assert.deepEqual(step(plan, 'verify'), {id: 'verify', kind: 'verify-database', app: 'shop', database: created, sql: VERIFY})
    assert.deepEqual(step(plan, 'record-base'), {id: 'record-base', kind: 'record-reconcile-base', app: 'shop', created, old: {id: 'db-1', name: 'postgresql-curved-12345'}, recoveryPoint: at})
    assert.deepEqual(step(plan, 'promote'), {id: 'promote', kind: 'promote-database', app: 'shop', created, old: 'postgresql-curved-12345', as: 'DATABASE'})
    assert.deepEqual(step(plan, 'scale-back'), {id: 'scale-back', kind: 'scale', app: 'shop', formation: [{type: 'worker', quantity: 1}], down: false, putsBack: 'scale-down'})
    assert.deepEqual(step(plan, 'backup-new'), {id: 'backup-new', kind: 'capture-backup', target: {created, plan: 'heroku-postgresql:standard-0', billingApp: 'shop', attachmentNames: ['DATABASE'], newestNum: 2}})
    assert.equal(plan.promoteAs, 'DATABASE')
    assert.deepEqual(plan.rerun, ['heroku', 'db:recover', 'DATABASE_URL', '--app', 'shop', '--to', at, '--verify', VERIFY, '--scale-down-workers', '--confirm', 'shop'])
    assert.equal(plan.confirm, RUNBOOK_WARNING)
    assert.equal(plan.what, `recover DATABASE to ${at}`)
    assert.ok(!JSON.stringify(plan).includes('SECRET'), 'no backup URL in the plan')
  })

  it('a backup restored in place: the safety backup first, the restore by uuid and name, never its URL (which the command seeds as a resource)', () => {
    const gathered = facts()
    const plan = planRecovery(gathered, {kind: 'backup', ref: 'latest'}, options({maintenance: false, waitTimeout: '30m'}))
    assert.deepEqual(ids(plan), ['safety-backup:capture-backup', 'restore:restore-backup'])
    assert.deepEqual(step(plan, 'safety-backup'), {
      id: 'safety-backup', kind: 'capture-backup', safety: true,
      target: {database: {addon: {id: 'db-1', name: 'postgresql-curved-12345', plan: {name: 'heroku-postgresql:standard-0'}, app: {name: 'shop'}}, attachmentNames: ['DATABASE']}, label: 'DATABASE (postgresql-curved-12345)', newestNum: 2},
    })
    assert.deepEqual(step(plan, 'restore'), {id: 'restore', kind: 'restore-backup', app: 'shop', source, backup: {uuid: 'uuid-2', name: 'b002'}, newestNum: 2, safety: {ref: 'safety-backup'}})
    assert.deepEqual(plan.rerun, ['heroku', 'db:recover', 'DATABASE_URL', '--app', 'shop', '--backup', 'b002', '--no-maintenance', '--wait-timeout', '30m', '--confirm', 'shop'], 'latest is named as the backup it is')
    assert.ok(!JSON.stringify(plan).includes('SECRET'), 'no backup URL in the plan')
    assert.deepEqual([...recoveryResources(gathered, plan)], [['backup-url:uuid-2', `${SECRET}-2`]])
    assert.ok(plan.warnings.some(w => w.startsWith('--no-maintenance')))
  })

  it('a drill: a scratch database (restored from the backup), verified, kept with --keep; nothing quieted', () => {
    const plan = planRecovery(facts(), {kind: 'backup', ref: 'b001'}, options({drill: true, keep: true, verify: VERIFY, scaleDownWorkers: true}))
    const scratch = {ref: 'create-scratch'}
    assert.deepEqual(ids(plan), ['create-scratch:create-database', 'restore-scratch:restore-backup', 'verify:verify-database'])
    assert.deepEqual(step(plan, 'create-scratch'), {id: 'create-scratch', kind: 'create-database', app: 'shop', source, scratch: true, keep: true, knownAddons: ['db-1', 'redis-1']})
    assert.deepEqual(step(plan, 'restore-scratch'), {id: 'restore-scratch', kind: 'restore-backup', app: 'shop', source, backup: {uuid: 'uuid-1', name: 'b001'}, newestNum: 2, into: scratch})
    assert.deepEqual(step(plan, 'verify'), {id: 'verify', kind: 'verify-database', app: 'shop', database: scratch, sql: VERIFY})
    assert.deepEqual([plan.maintenance, plan.workers, plan.safetyBackup], [false, [], false])
    assert.deepEqual(plan.rerun, ['heroku', 'db:recover', 'DATABASE_URL', '--app', 'shop', '--backup', 'b001', '--verify', VERIFY, '--scale-down-workers', '--drill', '--keep', '--confirm', 'shop'])
    assert.equal(plan.confirm, 'This creates and destroys a scratch database on shop.')

    const timed = planRecovery(facts(), twoHoursAgo, options({drill: true}))
    assert.deepEqual(ids(timed), ['create-scratch:create-database', 'destroy-scratch:destroy-scratch'])
    assert.equal(step(timed, 'create-scratch')!.at, at)
    assert.deepEqual(step(timed, 'destroy-scratch'), {id: 'destroy-scratch', kind: 'destroy-scratch', app: 'shop', scratch: {ref: 'create-scratch'}, putsBack: 'create-scratch'})
  })

  it('a surgical recovery: a scratch copy as of the time, a safety backup, the rows put back behind maintenance; never promoted', () => {
    const surgical = {tables: ['customers', 'orders'], out: '/tmp/surgical-shop', outGiven: true}
    const plan = planRecovery(facts(), twoHoursAgo, options({surgical}))
    assert.deepEqual(ids(plan), [
      'create-scratch:create-database', 'safety-backup:capture-backup', 'maintenance-on:maintenance', 'put-back:put-back-rows', 'maintenance-off:maintenance', 'destroy-scratch:destroy-scratch',
    ])
    assert.deepEqual(step(plan, 'put-back'), {id: 'put-back', kind: 'put-back-rows', app: 'shop', source, scratch: {ref: 'create-scratch'}, tables: ['customers', 'orders'], out: '/tmp/surgical-shop', safety: true})
    assert.equal(plan.promoteAs, undefined)
    assert.equal(plan.reconcileBase, false)
    assert.deepEqual(plan.rerun, ['heroku', 'db:recover', 'DATABASE_URL', '--app', 'shop', '--to', at, '--surgical', '--tables', 'customers,orders', '--out', '/tmp/surgical-shop', '--confirm', 'shop'])
    assert.equal(plan.confirm, SURGICAL_NOTE(['customers', 'orders'], 'DATABASE'))
  })

  it('a check that refuses leaves no step: a time outside the window, a backup that failed', () => {
    const outside = planRecovery(facts(), {kind: 'time', at: new Date(NOW - 5 * 24 * HOUR), reason: '5d ago (--by)'}, options())
    assert.match(blocking(outside.checks)[0].detail, /outside the rollback window/)
    assert.deepEqual(outside.steps, [])
    const failed = planRecovery(facts({transfers: [backup(1), backup(2, {succeeded: false})]}), {kind: 'backup', ref: 'b002'}, options())
    assert.match(blocking(failed.checks)[0].detail, /Backup b002 did not complete successfully/)
    assert.deepEqual(failed.steps, [])
  })

  it('--no-reconcile-base and --no-safety-backup: no base, no backup of the new database, and the re-run says so', () => {
    const plan = planRecovery(facts({hasPooler: false, formation: []}), twoHoursAgo, options({reconcileBase: false, safetyBackup: false}))
    assert.deepEqual(ids(plan), ['create-database:create-database', 'maintenance-on:maintenance', 'sequence-fence:sequence-fence', 'keep-alias:keep-alias', 'promote:promote-database', 'maintenance-off:maintenance', 'follower-check:follower-check', 'left-behind:left-behind'])
    assert.deepEqual(plan.rerun.slice(7, -2), ['--no-safety-backup', '--no-reconcile-base'])
  })
})

describe('askTarget', () => {
  it('asks through the prompt it is given, names both ways back, and returns the time one minute before the release', async () => {
    const release = {id: 'r-52', version: 52, description: 'Deploy 7c35f77', created_at: new Date(NOW - 3 * HOUR).toISOString(), current: true, status: 'succeeded'} as RecoveryFacts['releases'][number]
    const asked: {message: string, choices: Choice<Target>[], flag: string, options?: {asking?: string, note?: string}}[] = []
    const pick = async <T>(message: string, choices: Choice<T>[], flag: string, _suggested?: T, more?: {asking?: string, note?: string}): Promise<T> => {
      asked.push({message, choices: choices as unknown as Choice<Target>[], flag, options: more})
      return choices.at(-1)!.value
    }
    const target = await askTarget(facts({releases: [release]}), {...prompts, choose: pick as Prompts['choose']})
    assert.deepEqual(target, {kind: 'time', at: new Date(NOW - 3 * HOUR - 60_000), reason: `one minute before v52 "Deploy 7c35f77" was created at ${release.created_at}`})
    assert.equal(asked.length, 1)
    assert.deepEqual(asked[0].choices.slice(0, 2).map(c => c.value), [{kind: 'backup', ref: 'b002'}, {kind: 'backup', ref: 'b001'}])
    assert.equal(asked[0].options?.asking, 'Choosing how to recover')
    assert.match(asked[0].options?.note ?? '', /^Point-in-time rollback reaches back to 2026-11-20T12:00:00\.000Z/)
  })
})

describe('planReconcile', () => {
  const database = (given: string, name: string, id: string): ReconcileDatabase => ({
    url: `postgres://u:SECRET-PASSWORD@db.example/${name}`, label: `${given} (${name})`, configVar: `${given}_URL`, schema: 'public', details: {}, given, addon: {id, name},
  })
  const old = database('HEROKU_POSTGRESQL_OLIVE', 'postgresql-old-1', 'db-old')
  const current = database('DATABASE', 'postgresql-new-2', 'db-new')
  const base = {run: '261124-100000-ab12', recoveryPoint: '2026-11-24T10:00:00.000Z', old: {id: 'db-old', name: 'postgresql-old-1'}, database: {id: 'db-new', name: 'postgresql-new-2'}, schema: 'heroku_reconcile_base_x', recordedAt: '2026-11-24T10:05:00.000Z', tables: new Map()}
  const stale: BackupState = {
    database: {addon: {id: 'db-new', name: 'postgresql-new-2', plan: {name: 'heroku-postgresql:standard-0'} as any, app: {name: 'shop'}}, attachmentNames: ['DATABASE']},
    label: 'DATABASE (postgresql-new-2)', fresh: false, newestNum: 7,
  }
  const input = (fields: Partial<ReconcileInput> = {}): ReconcileInput => ({
    app: 'shop', from: 'HEROKU_POSTGRESQL_OLIVE', to: 'DATABASE_URL', out: '/tmp/reconcile-shop', apply: true, maxAgeMs: 24 * HOUR, maxBackupAge: '24h', capture: false, skip: false, ...fields,
  })
  const summary = {app: 'shop', folder: '/tmp/reconcile-shop', prefer: null, totals: {inserted: 5, updated: 1, deleted: 40, conflicts: 0, kept: 0}} as unknown as ReconcileSummary

  it('--apply: a fresh backup of DATABASE when the gate asks for one, then replay.sql named by its folder and DATABASE by its config var', () => {
    const gathered: ReconcileFacts = {old, current, base, backups: [stale]}
    const plan = planReconcile(gathered, summary, input({capture: true}))
    assert.deepEqual(blocking(plan.checks), [])
    assert.deepEqual(plan.steps, [
      {id: 'capture-postgresql-new-2', kind: 'capture-backup', target: {database: {addon: {id: 'db-new', name: 'postgresql-new-2', plan: {name: 'heroku-postgresql:standard-0'}, app: {name: 'shop'}}, attachmentNames: ['DATABASE']}, label: 'DATABASE (postgresql-new-2)', newestNum: 7}},
      {id: 'replay', kind: 'replay', app: 'shop', folder: '/tmp/reconcile-shop', database: 'DATABASE_URL', label: 'DATABASE (postgresql-new-2)'},
    ])
    assert.match(plan.confirm ?? '', /^This runs replay.sql on DATABASE \(postgresql-new-2\) of shop, in one transaction: 5 rows written and 1 row updated/)
    assert.deepEqual(plan.rerun, ['heroku', 'db:reconcile', '--app', 'shop', '--from', 'HEROKU_POSTGRESQL_OLIVE', '--to', 'DATABASE_URL', '--apply', '--capture-backup', '--confirm', 'shop'])
    assert.ok(!JSON.stringify(plan).includes('SECRET'), 'no database URL in the plan')
  })

  it('refuses before comparing: a stale backup without --capture-backup, no base without --prefer, a --since that is not the base\'s', async () => {
    const stalePlan = planReconcile({old, current, base, backups: [stale]}, undefined, input())
    assert.match(blocking(stalePlan.checks)[0].detail, /no successful backup.*--capture-backup/)
    assert.deepEqual(stalePlan.steps, [])
    const noBase: ReconcileFacts = {old, current, backups: []}
    assert.match(blocking(planReconcile(noBase, undefined, input()).checks)[0].detail, /holds no base recorded by db:recover.*--prefer old\|current/)
    assert.deepEqual(blocking(planReconcile(noBase, undefined, input({prefer: 'current'})).checks), [])
    const since = planReconcile({old, current, base}, undefined, input({apply: false, since: '2026-11-24T09:00:00.000Z'}))
    assert.match(blocking(since.checks)[0].detail, /--since 2026-11-24T09:00:00.000Z is not the recovery point .*\(run 261124-100000-ab12: 2026-11-24T10:00:00.000Z\)/)
    // The comparison is not even started (it would connect to the databases and write the folder).
    assert.equal(await compareReconcile(noBase, input()), undefined)
  })

  it('without --apply: the checks of --apply are not made, and nothing is planned but the replay the dry run describes', () => {
    const plan = planReconcile({old, current}, summary, input({apply: false}))
    assert.deepEqual(plan.checks, [])
    assert.deepEqual(plan.steps.map(s => s.id), ['replay'])
  })
})
