import assert from 'node:assert/strict'
import {blocking, type Check} from '../../src/lib/checks.js'
import type {RecoveryFacts} from '../../src/lib/recovery/gather.js'
import {differentSettings, followersOf} from '../../src/lib/recovery/leftovers.js'
import {planRecovery, type RecoveryOptions} from '../../src/lib/recovery/plan.js'
import type {Target} from '../../src/lib/recovery/target.js'

// db:recover's pure parts for recoveries into a new database: the connection check (fence-check.ts).

const NOW = Date.parse('2026-11-24T12:00:00Z')
const HOUR = 3_600_000

const facts = (fields: Partial<RecoveryFacts> = {}): RecoveryFacts => ({
  app: 'shop', appId: 'app-1',
  database: {id: 'db-1', name: 'postgresql-curved-12345', plan: 'heroku-postgresql:standard-0', billingApp: 'shop', attachment: 'DATABASE', attachmentNames: ['DATABASE'], advanced: false, essential: false},
  transfers: [], rollbackEarliest: new Date(NOW - 4 * 24 * HOUR),
  formation: [{type: 'web', quantity: 1, size: 'standard-1x', command: 'npm start'}],
  maintenance: false, hasPooler: false, knownAddons: ['db-1'], hasBucket: false, releases: [], now: NOW,
  estate: {attachments: [{app: 'shop', name: 'DATABASE', namespace: null}], others: []}, ...fields,
})

const options = (fields: Partial<RecoveryOptions> = {}): RecoveryOptions => ({
  database: 'DATABASE_URL', drill: false, keep: false, safetyBackup: true, maintenance: true, scaleDownWorkers: false, reconcileBase: true,
  waitTimeout: '2h', timeoutMs: 2 * HOUR, ...fields,
})

const twoHoursAgo: Target = {kind: 'time', at: new Date(NOW - 2 * HOUR), reason: '2h ago (--by)'}
const unreachable = {reachable: false, reason: 'connect ETIMEDOUT 10.0.1.23:5432'} as const
const kinds = (plan: {steps: {kind: string}[]}) => plan.steps.map(s => s.kind)
const connection = (plan: {checks: Check[]}) => plan.checks.find(c => c.name === 'connection')

describe('db:recover: can this machine reach the database before anything is created', () => {
  it('a reachable database passes, says how the new one will be reached, and keeps the fence', () => {
    const plan = planRecovery(facts({reach: {reachable: true, path: 'bastion', port: 5432, sequences: 3}}), twoHoursAgo, options())
    assert.deepEqual(blocking(plan.checks), [])
    assert.match(connection(plan)!.detail, /^Connected to DATABASE \(postgresql-curved-12345\) from this machine, through its private space's bastion \(3 sequences for the fence to read\); a new database made from it is in the same region and space, reached the same way\.$/)
    assert.ok(kinds(plan).includes('sequence-fence'))
    assert.equal(plan.sequenceFence, true)
  })

  it('an unreachable database refuses with no step, naming the reason and each flag that leaves out what connects', () => {
    const plan = planRecovery(facts({reach: unreachable}), twoHoursAgo, options({verify: 'SELECT true'}))
    assert.deepEqual(plan.steps, [])
    const [failed] = blocking(plan.checks)
    assert.equal(failed.name, 'connection')
    assert.match(failed.detail, /cannot be reached from this machine: connect ETIMEDOUT 10\.0\.1\.23:5432\. The sequence fence, the base of db:reconcile and --verify connect to it/)
    assert.match(failed.detail, /leave out what connects: --skip-sequence-fence, --no-reconcile-base, without --verify \(with --skip-sequence-fence, ids that postgresql-curved-12345 handed out after 2026-11-24T10:00:00\.000Z may be reused/)
  })

  it('--skip-sequence-fence with nothing else connecting goes on without the fence, says the consequence, and is in the re-run command', () => {
    const plan = planRecovery(facts({reach: unreachable}), twoHoursAgo, options({skipSequenceFence: true, reconcileBase: false}))
    assert.deepEqual(blocking(plan.checks), [])
    assert.equal(connection(plan)!.outcome, 'skipped')
    assert.ok(!kinds(plan).includes('sequence-fence'))
    assert.ok(kinds(plan).includes('promote-database'))
    assert.ok(plan.warnings.some(w => /^--skip-sequence-fence: .* ids that postgresql-curved-12345 handed out after 2026-11-24T10:00:00\.000Z may be reused by new rows/.test(w)))
    assert.deepEqual(plan.rerun.slice(-4), ['--no-reconcile-base', '--skip-sequence-fence', '--confirm', 'shop'])
  })

  it('a drill that connects only for --verify names no fence flag; a restore in place is not probed', () => {
    const drill = planRecovery(facts({reach: unreachable}), twoHoursAgo, options({drill: true, verify: 'SELECT true'}))
    assert.match(blocking(drill.checks)[0].detail, /--verify connects to it.*leave out what connects: without --verify\.$/)
    const restore = planRecovery(facts({reach: unreachable, transfers: []}), {kind: 'backup', ref: 'latest'}, options())
    assert.equal(connection(restore), undefined)
  })
})

describe('db:recover on Heroku Postgres Advanced', () => {
  const advanced = (fields: Partial<RecoveryFacts> = {}) => facts({
    database: {...facts().database, plan: 'heroku-postgresql:advanced', advanced: true}, hasPooler: true, fork: {earliest: new Date(NOW - 24 * HOUR), level: '8G-Performance'}, ...fields,
  })

  it('forks at the leader\'s level and promotes the Advanced way, without the pooler, follower check or pg:backups capture', () => {
    const plan = planRecovery(advanced(), twoHoursAgo, options())
    assert.deepEqual(blocking(plan.checks), [])
    assert.deepEqual(kinds(plan), ['fork-database', 'record-reconcile-base', 'maintenance', 'sequence-fence', 'keep-alias', 'promote-fork', 'maintenance', 'left-behind'])
    assert.deepEqual(plan.steps[0], {id: 'create-database', kind: 'fork-database', app: 'shop', source: {id: 'db-1', name: 'postgresql-curved-12345', plan: 'heroku-postgresql:advanced', billingApp: 'shop', attachment: 'DATABASE', attachmentNames: ['DATABASE']}, at: '2026-11-24T10:00:00.000Z', scratch: false, keep: false, knownAddons: ['db-1'], level: '8G-Performance'})
    assert.ok(plan.warnings.some(w => /Advanced-tier database: it is forked as `heroku data:pg:fork --rollback-to` does, at its leader's level 8G-Performance\. Advanced has no connection pooling/.test(w)))
  })
})

describe('what a promote leaves behind', () => {
  it('names a follower by the app\'s attachment whose URL points at the same database, and one it cannot name as such', () => {
    const info = {info: [{name: 'Followers', values: ['postgres://ec2-1.compute-1.amazonaws.com:5432/dfollower', 'postgres://ec2-9.compute-1.amazonaws.com:5432/delsewhere']}]}
    const config = {DATABASE_URL: 'postgres://u:p@ec2-2.compute-1.amazonaws.com:5432/dleader', HEROKU_POSTGRESQL_PINK_URL: 'postgres://u:secret@ec2-1.compute-1.amazonaws.com:5432/dfollower'}
    const attachments = [{name: 'HEROKU_POSTGRESQL_PINK', namespace: null, app: {name: 'shop'}, addon: {id: 'f-1', name: 'postgresql-pink-1', plan: {name: 'heroku-postgresql:standard-2'}}}]
    const followers = followersOf(info, config, attachments, 'shop', 'heroku-postgresql:standard-0')
    assert.deepEqual(followers.map(f => [f.name, f.attachment, f.plan]), [
      ['postgresql-pink-1', 'HEROKU_POSTGRESQL_PINK', 'heroku-postgresql:standard-2'],
      ['follower 2 (not attached to shop: `heroku pg:info` on its app names it)', undefined, undefined],
    ])
    assert.ok(!JSON.stringify(followers).includes('secret'))
  })

  it('settings that differ, each with the pg:settings command that puts the old value back', () => {
    assert.deepEqual(differentSettings({'log_statement': 'all', 'auto_explain.log_analyze': true, 'track_functions': 'none'}, {'log_statement': 'ddl', 'auto_explain.log_analyze': false, 'track_functions': 'none'}, 'postgresql-new-1', 'shop', false).map(s => s.command), [
      'heroku pg:settings:auto-explain:log-analyze postgresql-new-1 true --app shop',
      'heroku pg:settings:log-statement postgresql-new-1 all --app shop',
    ])
  })
})
