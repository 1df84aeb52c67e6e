import assert from 'node:assert/strict'
import type {DownFacts} from '../../src/lib/migrations/down.js'
import {planMigrateDown} from '../../src/lib/migrations/down.js'
import type {HistoryRow} from '../../src/lib/migrations/history.js'
import {type OtherApp, type PlanInput, planDown, selectReverts} from '../../src/lib/migrations/plan.js'
import type {LocalMigration} from '../../src/lib/migrations/project.js'
import {parseStatements} from '../../src/lib/migrations/statements.js'

// migrate:down's pure planners, on facts made here: no database, no project folder.

const local = (name: string, sql: string, downSql?: string): LocalMigration => ({name, dir: `/p/prisma/migrations/${name}`, sql, downSql})
const applied = (name: string): HistoryRow => ({
  id: `id-${name}`, checksum: 'c', finished_at: new Date('2026-11-01T10:00:00Z'), migration_name: name, logs: null, rolled_back_at: null, started_at: new Date('2026-11-01T10:00:00Z'), applied_steps_count: 1,
})
const MIGRATIONS = [
  local('20261101000000_init', 'CREATE TABLE "User" (id serial PRIMARY KEY);', 'DROP TABLE "User";'),
  local('20261102000000_add_bio', 'ALTER TABLE "User" ADD COLUMN bio text;', 'ALTER TABLE "User" DROP COLUMN bio;'),
  local('20261103000000_add_index', 'CREATE INDEX user_bio ON "User" (bio);', 'DROP INDEX user_bio;'),
]
const ROWS = MIGRATIONS.map(m => applied(m.name))

async function facts(steps: number, options: {downSql?: boolean, dataLoss?: boolean} = {}): Promise<PlanInput> {
  const selection = selectReverts(MIGRATIONS.map(m => options.downSql === false ? {...m, downSql: undefined} : m), ROWS, {steps})
  const downs = new Map(selection.revert.map(m => [m.name, m.downSql === undefined ? {kind: 'missing', reason: 'no down.sql'} as const : {kind: 'file', path: `${m.dir}/down.sql`, sql: m.downSql} as const]))
  const statements = new Map(await Promise.all(selection.revert.filter(m => m.downSql).map(async m => [m.name, await parseStatements(m.downSql!, 'down.sql')] as const)))
  return {
    app: 'shop', database: 'DATABASE', migrationsDir: '/p/prisma/migrations (default)', selection, rows: ROWS, downs, statements,
    dataLoss: options.dataLoss ? [{migration: '20261102000000_add_bio', statement: 'ALTER TABLE "User" DROP COLUMN bio', target: 'column "User".bio', count: 12, atLeast: false, loses: true, detail: '12 values of column "User".bio'}] : [],
    backups: {name: 'backups', outcome: 'passed', detail: 'DATABASE: newest good backup a001 is 1h old (limit 1d).'} as const,
    allowDataLoss: false, ignoreChecksum: true, lockTimeout: '5000ms', statementTimeout: null,
  }
}

const input = {
  app: 'shop', database: 'DATABASE_URL', projectDir: '/p', generate: false, allowDataLoss: false, ignoreChecksum: true, skipDownCheck: false, cacheDir: '/c',
  lockTimeout: '5000ms', statementTimeout: null, maxBackupAgeMs: 86_400_000, capture: false, skipBackupCheck: false, acceptSchemaRisk: false, dryRun: false,
  given: {lockTimeout: '5s', maxBackupAge: '24h'},
}
const database = {url: 'postgres://u:secret@h/d', label: 'DATABASE', configVar: 'DATABASE_URL', schema: 'public', details: {}}

describe('migrate:down: the plan', () => {
  it('reverts the newest migrations, newest first, and keeps the one below', async () => {
    const plan = planDown(await facts(2))
    assert.deepEqual(plan.steps.map(s => s.migration), ['20261103000000_add_index', '20261102000000_add_bio'])
    assert.equal(plan.keep, '20261101000000_init')
    assert.deepEqual(plan.steps[0].statements, ['DROP INDEX user_bio'])
    assert.equal(plan.blocked, false)
  })

  it('is blocked by a missing down.sql, and by data loss unless allowed', async () => {
    const missing = planDown(await facts(1, {downSql: false}))
    assert.equal(missing.blocked, true)
    assert.equal(missing.checks.find(c => c.name === 'down-sql')?.outcome, 'failed')
    const lossy = planDown(await facts(2, {dataLoss: true}))
    assert.equal(lossy.blocked, true)
    assert.equal(planDown({...await facts(2, {dataLoss: true}), allowDataLoss: true}).blocked, false)
  })

  it('as the command plans it: one revert step named by config var (never the URL), the exact command that carries it out', async () => {
    const gathered: DownFacts = {facts: await facts(2), history: ROWS, gate: {check: {name: 'backups', outcome: 'passed', detail: ''}, capture: []}, generated: [], database}
    const plan = planMigrateDown(gathered, input)
    assert.deepEqual(plan.steps.map(s => [s.id, s.kind]), [['revert', 'revert']])
    assert.deepEqual((plan.steps[0] as {database: unknown}).database, {configVar: 'DATABASE_URL', label: 'DATABASE', schema: 'public'})
    assert.ok(!JSON.stringify(plan.steps).includes('secret'), 'no URL in the plan\'s data')
    assert.deepEqual(plan.rerun, ['heroku', 'migrate:down', '--app', 'shop', '--steps', '2', '--ignore-checksum', '--confirm', 'shop'])
    assert.equal(plan.what, 'revert 20261103000000_add_index, 20261102000000_add_bio')
    const refused = planMigrateDown({...gathered, facts: await facts(1, {downSql: false})}, input)
    assert.deepEqual(refused.steps, [], 'a refused plan has no step')
  })
})

describe('migrate:down: the other apps on the database, against the schema the down leaves', () => {
  const misfit: OtherApp = {
    app: 'shop-worker', names: ['DATABASE'], release: 7, from: 'slug', verdict: 'blocked',
    findings: [{level: 'block', model: 'User', field: 'bio', table: 'User', column: 'bio', message: 'column "User"."bio" (User.bio) is missing', migration: '20261102000000_add_bio'}],
  }
  const fits: OtherApp = {app: 'shop-reports', names: ['REPORTING_DB'], release: 3, from: 'git', verdict: 'compatible', findings: []}
  const unread: OtherApp = {app: 'shop-fir', names: ['DATABASE'], release: 12, verdict: 'unknown', reason: 'v12 is a Fir release (an OCI image, whose files cannot be downloaded)', findings: []}
  const otherApps = async (others: OtherApp[], acceptSchemaRisk = false) => {
    const plan = planDown({...await facts(1), otherApps: others, acceptSchemaRisk})
    return {plan, check: plan.checks.find(c => c.name === 'other apps')!}
  }

  it('refuses when an app\'s current code does not fit, naming the app, its release and the finding', async () => {
    const {plan, check} = await otherApps([fits, misfit])
    assert.equal(plan.blocked, true)
    assert.equal(check.outcome, 'failed')
    assert.match(check.detail, /shop-worker v7: its code \(read from its slug\) does NOT fit the schema the down leaves: column "User"."bio" \(User.bio\) is missing \(20261102000000_add_bio\)/)
    assert.match(check.detail, /shop-reports v3: its code \(read from the git repository\) fits the schema the down leaves/)
    assert.match(check.detail, /Roll shop-worker back to code that fits first, or pass --accept-schema-risk/)
    assert.deepEqual(plan.otherApps, [fits, misfit], 'the verdicts are in --json')
  })

  it('--accept-schema-risk turns the misfit into a warning', async () => {
    const {plan, check} = await otherApps([misfit], true)
    assert.equal(plan.blocked, false)
    assert.equal(check.outcome, 'warning')
    assert.match(check.detail, /shop-worker v7: .*does NOT fit .*; going on anyway: --accept-schema-risk/)
  })

  it('says an app whose code cannot be read, without refusing; passes when every app fits', async () => {
    const {plan, check} = await otherApps([unread])
    assert.equal(plan.blocked, false)
    assert.equal(check.outcome, 'warning')
    assert.match(check.detail, /^shop-fir \(DATABASE\) also uses DATABASE: its code meets the reverted schema too, and whether it still fits is not checked: shop-fir: v12 is a Fir release/)
    const mixed = await otherApps([fits, unread])
    assert.equal(mixed.check.outcome, 'warning')
    assert.equal((await otherApps([fits])).check.outcome, 'passed')
  })

  it('the command that carries out the plan keeps --accept-schema-risk', async () => {
    const gathered: DownFacts = {facts: {...await facts(1), otherApps: [misfit], acceptSchemaRisk: true}, history: ROWS, gate: {check: {name: 'backups', outcome: 'passed', detail: ''}, capture: []}, generated: [], database}
    const plan = planMigrateDown(gathered, {...input, acceptSchemaRisk: true})
    assert.ok(plan.rerun.includes('--accept-schema-risk'))
    assert.deepEqual(plan.steps.map(s => s.id), ['revert'])
  })
})
