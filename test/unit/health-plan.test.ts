import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {blocking} from '../../src/lib/checks.js'
import {type WatchInput, watchRerun} from '../../src/lib/health/plan.js'
import type {RecoveryFacts} from '../../src/lib/recovery/gather.js'
import {planRecovery, type RecoveryOptions} from '../../src/lib/recovery/plan.js'
import type {Target} from '../../src/lib/recovery/target.js'
import type {Release} from '../../src/lib/api/releases.js'
import type {HistoryRow} from '../../src/lib/migrations/history.js'
import {type PlanInput, selectReverts} from '../../src/lib/migrations/plan.js'
import {parseStatements} from '../../src/lib/migrations/statements.js'
import {planSafeRollback, type RollbackFacts, type RollbackInput} from '../../src/lib/rollback/safe.js'
import {watchRollback} from '../../src/lib/rollback/watch.js'
import {Interrupts} from '../../src/lib/interrupts.js'
import {actions, interpreter} from '../../src/lib/registry.js'
import type {Planned} from '../../src/lib/runner/plan.js'
import {type Progress, Runner} from '../../src/lib/runner/runner.js'
import type {Step} from '../../src/lib/runner/step.js'
import {apiClient} from './client.js'

// The watch's steps as the planners of safe-rollback and db:recover splice them in: pure, no API.

const NOW = Date.parse('2026-11-24T12:00:00Z')
const HOUR = 3_600_000
const rules = {windowMs: 5000, minRequests: 30, maxErrorRate: 2}
const watch = (onUnhealthy: 'stop' | 'undo' = 'stop'): WatchInput => ({settings: {rules}, onUnhealthy, fir: false})

const ids = (steps: Planned[]) => steps.map(s => `${s.id}:${s.kind}`)
const byId = (steps: Planned[], id: string) => steps.find(s => s.id === id) as Record<string, unknown> | undefined

describe('health: the watch in the plans', () => {
  describe('safe-rollback (watchRollback)', () => {
    const current = {id: 'r-52', version: 52}
    const quiet: Planned[] = [
      {id: 'maintenance-on', kind: 'maintenance', app: 'shop', on: true},
      {id: 'rollback', kind: 'rollback', app: 'shop', current: 52, target: {id: 'r-50', version: 50}, coupled: false},
      {id: 'maintenance-off', kind: 'maintenance', app: 'shop', on: false, putsBack: 'maintenance-on'},
    ]

    it('stop: the session first, the watch after maintenance is off, naming the release by the rollback\'s result and the exact undo', () => {
      const steps = watchRollback('shop', current, watch(), quiet)
      assert.deepEqual(ids(steps), ['log-session:log-session', 'maintenance-on:maintenance', 'rollback:rollback', 'maintenance-off:maintenance', 'watch:health-watch'])
      assert.deepEqual(byId(steps, 'watch'), {
        id: 'watch', kind: 'health-watch', app: 'shop', fir: false, rules, release: {ref: 'rollback'}, afterChange: true, onUnhealthy: 'stop', undo: 'heroku safe-rollback v52 --app shop',
      })
    })

    it('undo: the watch lets the run go on; the undo rolls back to the release before, putting back the rollback; a second watch after it', () => {
      const steps = watchRollback('shop', current, watch('undo'), quiet)
      assert.deepEqual(ids(steps).slice(-3), ['watch:health-watch', 'undo:undo-rollback', 'watch-again:health-watch'])
      assert.equal(byId(steps, 'watch')!.onUnhealthy, 'continue')
      assert.deepEqual(byId(steps, 'undo'), {id: 'undo', kind: 'undo-rollback', app: 'shop', watch: {ref: 'watch'}, rollback: {ref: 'rollback'}, back: current, putsBack: 'rollback'})
      const again = byId(steps, 'watch-again')!
      assert.deepEqual([again.release, again.onUnhealthy, again.afterUndo], [{ref: 'undo'}, 'stop', {first: {ref: 'watch'}, undone: 'rolled shop back to v52, the release it ran before'}])
      assert.equal(steps.filter(s => s.kind === 'undo-rollback').length, 1, 'one undo at most')
    })

    it('skipped: the steps as they were', () => {
      assert.deepEqual(watchRollback('shop', current, undefined, quiet), quiet)
    })

    it('the re-run command carries the watch as chosen, defaults left out', () => {
      assert.deepEqual(watchRerun(watch('undo')), ['--health-window', '5s', '--on-unhealthy', 'undo'])
      assert.deepEqual(watchRerun({settings: {rules: {windowMs: 120_000, minRequests: 30, maxErrorRate: 2}, healthUrl: 'https://shop.example/health'}, onUnhealthy: 'stop', fir: true}), ['--health-url', 'https://shop.example/health'])
      assert.deepEqual(watchRerun('skipped'), ['--skip-health-check'])
      assert.deepEqual(watchRerun(undefined), [])
    })
  })

  describe('safe-rollback (planSafeRollback)', () => {
    const release = (version: number, description: string): Release => ({
      id: `r-${version}`, version, description, status: 'succeeded', current: version === 52, eligible_for_rollback: true, created_at: new Date(NOW - (60 - version) * HOUR).toISOString(), user: {email: 'kendra@example.com'},
    } as unknown as Release)
    const [target, current] = [release(50, 'Deploy 7c35f77'), release(52, 'Deploy de63889')]
    const facts = (down?: RollbackFacts['down']): RollbackFacts => ({
      inputs: {app: 'shop', current, target, undone: [current], currentConfig: {}, targetConfig: {}, targetCommit: null, currentCommit: null, now: NOW},
      target, inMaintenance: false, down, gate: {check: {name: 'backups', outcome: 'passed', detail: 'b001 is 1h old'}, capture: []},
    })
    const input = (fields: Partial<RollbackInput> = {}): RollbackInput => ({
      app: 'shop', releaseRef: 'v50', cwd: '/p', maxBackupAge: '24h', maxBackupAgeMs: 86_400_000, waitTimeout: '5m', waitTimeoutMs: 300_000, maintenance: true,
      capture: false, skipBackupCheck: false, waitForPending: false, requireSchemaCheck: false, acceptSchemaRisk: false, withMigrations: false, allowDataLoss: false, dryRun: false, ...fields,
    })
    // One migration the target does not know, with its down SQL.
    const row: HistoryRow = {id: 'id-1', checksum: 'c', finished_at: new Date(NOW - HOUR), migration_name: '20261102000000_add_bio', logs: null, rolled_back_at: null, started_at: new Date(NOW - HOUR), applied_steps_count: 1}
    const migration = {name: row.migration_name, dir: `/p/prisma/migrations/${row.migration_name}`, sql: 'ALTER TABLE "User" ADD COLUMN bio text;', downSql: 'ALTER TABLE "User" DROP COLUMN bio;'}
    const coupled = async (): Promise<RollbackFacts['down']> => {
      const facts: PlanInput = {
        app: 'shop', database: 'DATABASE', migrationsDir: '/p/prisma/migrations (default)', selection: selectReverts([migration], [row], {steps: 1}), rows: [row],
        downs: new Map([[row.migration_name, {kind: 'file', path: 'down.sql', sql: migration.downSql} as const]]),
        statements: new Map([[row.migration_name, await parseStatements(migration.downSql, 'down.sql')]]),
        dataLoss: [], backups: {name: 'backups', outcome: 'passed', detail: ''}, allowDataLoss: false, ignoreChecksum: true, lockTimeout: '5000ms', statementTimeout: null,
      }
      return {database: {url: 'postgres://u:secret@h/d', label: 'DATABASE', configVar: 'DATABASE_URL', schema: 'public', details: {}}, facts, history: [row], sql: new Map()} as unknown as RollbackFacts['down']
    }

    it('the session is the first step, the watch comes after maintenance is off; the re-run command carries the watch', () => {
      const plan = planSafeRollback(facts(), input({watch: watch()}))
      assert.deepEqual(ids(plan.steps), ['log-session:log-session', 'maintenance-on:maintenance', 'rollback:rollback', 'maintenance-off:maintenance', 'watch:health-watch'])
      assert.deepEqual(plan.rerun.slice(-4), ['--health-window', '5s', '--confirm', 'shop'])
      assert.deepEqual(planSafeRollback(facts(), input({watch: 'skipped'})).rerun.slice(-3), ['--skip-health-check', '--confirm', 'shop'])
    })

    it('--on-unhealthy undo with --with-migrations is refused before any step: the release before would run on the reverted schema', async () => {
      const down = await coupled()
      const plan = planSafeRollback(facts(down), input({withMigrations: true, watch: watch('undo')}))
      const refused = blocking(plan.checks).find(c => c.name === 'on-unhealthy')
      assert.ok(refused, JSON.stringify(plan.checks))
      assert.match(refused.detail, /^--on-unhealthy undo cannot be combined with --with-migrations: rolling back to v52 again would put its code on the reverted schema\./)
      assert.deepEqual(blocking(planSafeRollback(facts(down), input({withMigrations: true, watch: watch()})).checks), [], 'stop is not refused')
    })
  })

  describe('db:recover (planRecovery)', () => {
    const facts = (): RecoveryFacts => ({
      app: 'shop', appId: 'app-1',
      database: {id: 'db-1', name: 'postgresql-curved-12345', plan: 'heroku-postgresql:standard-0', billingApp: 'shop', attachment: 'DATABASE', attachmentNames: ['DATABASE'], advanced: false, essential: false},
      transfers: [{uuid: 'uuid-1', num: 1, from_name: 'DATABASE', from_type: 'pg_dump', to_name: 'BACKUP', to_type: 'gof3r', to_url: 'https://backups.example/b001', succeeded: true,
        created_at: new Date(NOW - HOUR).toISOString(), finished_at: new Date(NOW - HOUR + 60_000).toISOString(), processed_bytes: 2048}],
      rollbackEarliest: new Date(NOW - 4 * 24 * HOUR),
      formation: [{type: 'web', quantity: 2, size: 'standard-1x', command: 'npm start'}, {type: 'worker', quantity: 1, size: 'standard-1x', command: 'npm run worker'}],
      maintenance: false, hasPooler: false, knownAddons: ['db-1'], hasBucket: false, releases: [], now: NOW,
      estate: {attachments: [{app: 'shop', name: 'DATABASE', namespace: null}], others: []},
    })
    const options = (fields: Partial<RecoveryOptions> = {}): RecoveryOptions => ({
      database: 'DATABASE_URL', drill: false, keep: false, safetyBackup: true, maintenance: true, scaleDownWorkers: true, reconcileBase: true,
      waitTimeout: '2h', timeoutMs: 2 * HOUR, watch: watch(), ...fields,
    })
    const twoHoursAgo: Target = {kind: 'time', at: new Date(NOW - 2 * HOUR), reason: '2h ago (--by)'}
    const latest: Target = {kind: 'backup', ref: 'b001'}

    it('a point-in-time recovery: the session first, the watch after the quiet ends and before the follow-up; an unhealthy verdict names the promote back', () => {
      const plan = planRecovery(facts(), twoHoursAgo, options())
      assert.deepEqual(blocking(plan.checks), [])
      const steps = ids(plan.steps)
      assert.equal(steps[0], 'log-session:log-session')
      assert.deepEqual(steps.slice(steps.indexOf('scale-back:scale')), ['scale-back:scale', 'maintenance-off:maintenance', 'watch:health-watch', 'follower-check:follower-check', 'backup-new:capture-backup', 'left-behind:left-behind'])
      assert.equal(byId(plan.steps, 'watch')!.undo, 'heroku pg:promote postgresql-curved-12345 --app shop')
      assert.deepEqual(plan.rerun.slice(-4), ['--health-window', '5s', '--confirm', 'shop'])
    })

    it('a restore in place: the watch after maintenance is off', () => {
      const plan = planRecovery(facts(), latest, options())
      assert.deepEqual(ids(plan.steps), [
        'log-session:log-session', 'maintenance-on:maintenance', 'scale-down:scale', 'safety-backup:capture-backup', 'restore:restore-backup', 'scale-back:scale', 'maintenance-off:maintenance', 'watch:health-watch',
      ])
    })

    it('a drill watches nothing; --skip-health-check leaves the steps as they were', () => {
      assert.ok(!planRecovery(facts(), latest, options({drill: true})).steps.some(s => s.kind === 'health-watch' || s.kind === 'log-session'))
      const skipped = planRecovery(facts(), latest, options({watch: 'skipped'}))
      assert.deepEqual(ids(skipped.steps), ids(planRecovery(facts(), latest, options({watch: undefined})).steps))
      assert.ok(skipped.rerun.includes('--skip-health-check'))
    })

    it('--on-unhealthy undo is refused before any step: the undo would lose the writes made since the switch', () => {
      const plan = planRecovery(facts(), twoHoursAgo, options({watch: watch('undo')}))
      assert.deepEqual(plan.steps, [])
      const [refused] = blocking(plan.checks)
      assert.equal(refused.name, 'on-unhealthy')
      assert.match(refused.detail, /^--on-unhealthy undo is not automated for db:recover: undoing it \(`heroku pg:promote postgresql-curved-12345 --app shop`\) would lose every write made since the switch\./)
    })
  })

  describe('the runner: a step the plan holds for one outcome only', () => {
    it('after a healthy verdict, the undo and the second watch are done without running, said in the run log; the rollback\'s undo stays the engineer\'s', async () => {
      const said: string[] = []
      const progress: Progress = {start: title => said.push(title), status() {}, stop: result => said.push(`  ${result}`), say() {}, output() {}}
      const interrupts = new Interrupts(() => assert.fail('no signal'))
      const run = new Runner({api: await apiClient(), actions, interrupts, progress, dataDir: mkdtempSync(join(tmpdir(), 'health-plan-')), command: 'test', app: 'shop', what: 'a test run', timeoutMs: 5000})
      const rolledBack: Step = {id: 'rollback', title: 'Roll back to v50', apply: async () => ({release: {version: 53}, dynos: []}), undo: () => ({title: 'Roll back to v52 again', command: 'heroku safe-rollback v52 --app shop', automatic: false})}
      const watched: Step = {id: 'watch', title: 'Watch', readOnly: true, apply: async () => ({verdict: 'healthy', reason: 'error rate 0% (0 of 40) after 3s, well under 2%'})}
      const [, , undo, again] = watchRollback('shop', {id: 'r-52', version: 52}, watch('undo'), [])
      const outcome = await run.run([rolledBack, watched, interpreter.build(undo), interpreter.build(again)])
      assert.equal(outcome.status, 'succeeded')
      assert.deepEqual(outcome.steps.map(s => [s.id, s.state, s.note]), [
        ['rollback', 'done', undefined], ['watch', 'done', undefined], ['undo', 'done', 'not needed: shop was not found unhealthy (healthy)'], ['watch-again', 'done', 'not needed: nothing was undone'],
      ])
      assert.deepEqual(outcome.undo, ['heroku safe-rollback v52 --app shop'])
      assert.ok(said.includes('  not needed: nothing was undone'))
      assert.match(readFileSync(outcome.log, 'utf8'), /"event":"done","step":"undo","note":"not needed: shop was not found unhealthy \(healthy\)"/)
      assert.doesNotMatch(readFileSync(outcome.log, 'utf8'), /"event":"started","step":"undo"/)
    })

    it('a step that ends the run (the watch after an undo) stays done with its verdict; the run fails there, the steps after it not run', async () => {
      const progress: Progress = {start() {}, status() {}, stop() {}, say() {}, output() {}}
      const run = new Runner({api: await apiClient(), actions, interrupts: new Interrupts(() => assert.fail('no signal')), progress, dataDir: mkdtempSync(join(tmpdir(), 'health-plan-')), command: 'test', app: 'shop', what: 'a test run', timeoutMs: 5000})
      const again: Step<{verdict: string}> = {id: 'watch-again', title: 'After the undo: watch', readOnly: true, apply: async () => ({verdict: 'healthy'}), done: h => h.verdict, endsRun: (_context, h) => `Undone; watched again: ${h.verdict}.`}
      const after: Step = {id: 'after', title: 'Never reached', apply: async () => assert.fail('the run ended before')}
      const outcome = await run.run([again, after])
      assert.equal(outcome.status, 'failed')
      assert.equal(outcome.error, 'Undone; watched again: healthy.')
      assert.deepEqual(outcome.steps.map(s => [s.id, s.state, s.note]), [['watch-again', 'done', 'healthy'], ['after', 'not run', undefined]])
    })
  })
})
