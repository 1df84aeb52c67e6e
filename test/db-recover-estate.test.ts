import assert from 'node:assert/strict'
import type {Addon, App} from '../src/sandbox/index.js'
import {seedPrismaApp} from '../src/sandbox/seeds/prisma-app.js'
import {FIXTURE_SCHEMA, seedAppOnDatabase} from '../src/sandbox/seeds/schema-history.js'
import {seedSharedDatabase, type SharedDatabase} from '../src/sandbox/seeds/shared-database.js'
import {heroku} from './support/heroku.js'
import {prismaProject, removePrismaProjects} from './support/prisma.js'
import {appName, sandbox} from './support/sandbox.js'

// db:recover on a database several apps use (src/lib/estate/): a worker app that attaches it as DATABASE
// and through a pooler named WORKER_POOL, a reporting app that attaches it as REPORTING_DB. Each test reads
// back from the sandbox where every attachment of every app points.

const state = () => sandbox().state
const attachmentsOf = (app: App) => state().attachmentsOf(app)
const on = (app: App, name: string) => attachmentsOf(app).find(a => a.name === name)
const addonOf = (app: App, name: string) => state().addons.get(on(app, name)!.addon.id)!
const writes = () => sandbox().requests.filter(r => r.applied && r.method !== 'GET' && !/\/resolve$/.test(r.path))
const patchesOf = (app: App) => sandbox().requests.filter(r => r.method === 'PATCH' && r.path === `/apps/${app.name}` || (r.method === 'PATCH' && r.path === `/apps/${app.name}/formation`)).map(r => r.body)
const moved = (seeded: SharedDatabase) => [
  [seeded.worker, 'DATABASE'], [seeded.worker, 'WORKER_POOL'], [seeded.reports, 'REPORTING_DB'],
] as const

// Where each of the other apps' attachments points now: 'old', 'new', or the add-on's name if neither.
function whereEach(seeded: SharedDatabase, created: Addon | undefined) {
  return Object.fromEntries(moved(seeded).map(([app, name]) => {
    const id = on(app, name)?.addon.id
    return [`${app.name} ${name}`, id === seeded.database.id ? 'old' : id === created?.id ? 'new' : String(id)]
  }))
}

const createdBy = (seeded: SharedDatabase) => state().addonsOf(seeded.app).find(a => a.id !== seeded.database.id && a.state !== 'deprovisioned')

async function seed(prefix: string) {
  const name = appName(prefix)
  const seeded = await seedSharedDatabase(sandbox(), name)
  sandbox().clearRequests()
  return {name, seeded}
}

describe('heroku db:recover on a database several apps use', function () {
  this.timeout(120_000)
  afterEach(() => sandbox().clearFaults())
  after(() => removePrismaProjects())

  it('point in time: --dry-run lists every app and attachment; the run quiets them all, moves every attachment with its name and namespace, reads it back, and says how to move each back', async () => {
    const {name, seeded} = await seed('estate-pitr')
    const {worker, reports} = seeded
    // The recovering app's own pooler under a name of its own: pg:promote moves only DATABASE_CONNECTION_POOL.
    state().attach(seeded.app, seeded.database, 'SHOP_POOL', 'connection-pooling:default')
    const dry = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--scale-down-workers', '--dry-run', '--json'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.deepEqual(writes(), [], 'a dry run writes nothing')
    const {plan} = JSON.parse(dry.stdout)
    const fates = plan.estate.apps.map((a: any) => [a.app, a.maintenance, a.workers, a.attachments.map((e: any) => `${e.name}:${e.namespace}:${e.fate}`).sort()])
    assert.deepEqual(fates, [
      [name, 'on', [{type: 'worker', quantity: 1}], ['DATABASE:null:promoted', 'SHOP_POOL:connection-pooling:default:moves']],
      [reports.name, 'on', [], ['REPORTING_DB:null:moves']],
      [worker.name, 'on', [{type: 'worker', quantity: 2}], ['DATABASE:null:moves', 'WORKER_POOL:connection-pooling:default:moves']],
    ])
    const human = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--scale-down-workers', '--dry-run'])
    assert.match(human.stdout, new RegExp(`${worker.name}: maintenance on during the switch; worker=2 scaled to 0, then back\\n    - DATABASE: moves to the new database\\n    - WORKER_POOL \\(pooler\\): moves to the new database`))
    assert.match(human.stdout, new RegExp(`${reports.name}: maintenance on during the switch\\n    - REPORTING_DB: moves to the new database`))

    sandbox().clearRequests()
    const result = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--scale-down-workers', '--confirm', name])
    assert.equal(result.code, 0, result.stderr)
    if (process.env.SHOW) process.stdout.write(human.stdout + result.stdout + result.stderr)
    const created = createdBy(seeded)!
    assert.equal(addonOf(seeded.app, 'DATABASE').id, created.id)
    assert.equal(addonOf(seeded.app, 'SHOP_POOL').id, created.id)
    assert.equal(on(seeded.app, 'SHOP_POOL')!.namespace, 'connection-pooling:default')
    assert.equal(on(seeded.app, 'DATABASE_CONNECTION_POOL'), undefined, 'no pooler under another name was made')
    assert.deepEqual(whereEach(seeded, created), {[`${worker.name} DATABASE`]: 'new', [`${worker.name} WORKER_POOL`]: 'new', [`${reports.name} REPORTING_DB`]: 'new'})
    assert.equal(on(worker, 'WORKER_POOL')!.namespace, 'connection-pooling:default', 'the pooler is still a pooler')
    assert.equal(on(worker, 'DATABASE')!.namespace, null)
    assert.equal(worker.config.DATABASE_URL, created._database!.url)
    assert.equal(reports.config.REPORTING_DB_URL, created._database!.url)
    const onOld = [...state().attachments.values()].filter(a => a.addon.id === seeded.database.id)
    assert.deepEqual(onOld.map(a => a.app.name), [name], 'only the kept alias reaches the old database')

    for (const app of [worker, reports]) assert.equal(app.maintenance, false)
    assert.equal(worker.formation.find(p => p.type === 'worker')!.quantity, 2)
    assert.deepEqual(patchesOf(worker), [{maintenance: true}, {updates: [{type: 'worker', quantity: 0}]}, {updates: [{type: 'worker', quantity: 2}]}, {maintenance: false}])
    assert.deepEqual(patchesOf(reports), [{maintenance: true}, {maintenance: false}])
    // Newest first: the other apps are put back before the recovering app (the others together, in no set order).
    const order = sandbox().requests.filter(r => r.method === 'PATCH' && r.body?.maintenance === false).map(r => r.path)
    assert.deepEqual([...order.slice(0, 2)].sort(), [`/apps/${worker.name}`, `/apps/${reports.name}`].sort())
    assert.deepEqual(order.slice(2), [`/apps/${name}`])

    assert.match(result.stdout, new RegExp(`Moved to the new database: ${name} SHOP_POOL, ${reports.name} REPORTING_DB, ${worker.name} DATABASE, ${worker.name} WORKER_POOL\\.`))
    assert.match(result.stdout, new RegExp(`Read back: only ${name} HEROKU_POSTGRESQL_[A-Z]+ still reaches ${seeded.database.name}; nothing else reaches it\\.`))
    assert.ok(result.stdout.includes(`heroku addons:attach ${seeded.database.name} --as DATABASE --app ${worker.name} --confirm ${worker.name}`))
    assert.ok(result.stdout.includes(`heroku addons:detach WORKER_POOL --app ${worker.name} && heroku pg:connection-pooling:attach ${seeded.database.name} --as WORKER_POOL --app ${worker.name}`))
    assert.ok(result.stdout.includes(`heroku addons:attach ${seeded.database.name} --as REPORTING_DB --app ${reports.name} --confirm ${reports.name}`))

    // db:reconcile --apply refuses while another app still has the old database attached.
    const alias = onOld[0].name
    state().attach(worker, seeded.database, 'LEGACY_DB')
    const reconcile = await heroku(['db:reconcile', '--app', name, '--from', alias, '--to', 'DATABASE_URL', '--apply', '--prefer', 'old', '--skip-backup-check', '--confirm', name])
    assert.notEqual(reconcile.code, 0)
    assert.match(reconcile.stderr, new RegExp(`still LEGACY_DB on ${worker.name}, so an app may still be writing to it: detach it \\(\`heroku addons:detach LEGACY_DB -a ${worker.name}\`\\) first`))
    assert.match(reconcile.stderr, /Nothing was changed/)
  })

  it('in place (--backup): every app is quieted before the restore and put back after, Ctrl-C during the restore included', async () => {
    const {name, seeded} = await seed('estate-restore')
    const {worker, reports} = seeded
    sandbox().delays.transfer = 1500
    try {
      const result = await heroku(['db:recover', '--app', name, '--backup', seeded.backup, '--scale-down-workers', '--no-safety-backup', '--verify', 'SELECT count(*) = 60 FROM customers', '--confirm', name], {
        signalAfter: {when: () => sandbox().requests.some(r => r.method === 'POST' && /\/restores$/.test(r.path)), signal: 'SIGINT'},
      })
      assert.equal(result.code, 130, result.stderr)
      assert.match(result.stderr, /Run --verify on the recovered database[^\n]*not run/)
      const restore = sandbox().requests.findIndex(r => r.method === 'POST' && /\/restores$/.test(r.path))
      const before = sandbox().requests.slice(0, restore).filter(r => r.method === 'PATCH').map(r => `${r.path} ${JSON.stringify(r.body)}`)
      assert.deepEqual(before, [
        `/apps/${name} {"maintenance":true}`, `/apps/${name}/formation {"updates":[{"type":"worker","quantity":0}]}`,
        `/apps/${reports.name} {"maintenance":true}`,
        `/apps/${worker.name} {"maintenance":true}`, `/apps/${worker.name}/formation {"updates":[{"type":"worker","quantity":0}]}`,
      ])
      for (const app of [seeded.app, worker, reports]) assert.equal(app.maintenance, false, `${app.name} is out of maintenance`)
      assert.equal(worker.formation.find(p => p.type === 'worker')!.quantity, 2)
      assert.equal(seeded.app.formation.find(p => p.type === 'worker')!.quantity, 1)
      const restored = state().transfers.find(t => t.to_type === 'pg_restore' && t._addonId === seeded.database.id)
      assert.ok(restored?.finished_at, 'the restore ran to its end before anything was put back')
      const puttingBack = sandbox().requests.filter(r => r.method === 'PATCH' && r.at > Date.parse(restored!.finished_at!) - 1000)
      assert.ok(puttingBack.length >= 5, 'put back after the restore ended')
      assert.deepEqual(whereEach(seeded, undefined), {[`${worker.name} DATABASE`]: 'old', [`${worker.name} WORKER_POOL`]: 'old', [`${reports.name} REPORTING_DB`]: 'old'}, 'nothing moves in place')
    } finally {
      sandbox().delays.transfer = 150
    }
  })

  it('a run killed (SIGKILL) during the restore: recovery:resume waits for it, then puts back every app\'s quiet, each read back', async () => {
    const {name, seeded} = await seed('estate-kill')
    const {worker, reports} = seeded
    const killed = await heroku(['db:recover', '--app', name, '--backup', seeded.backup, '--scale-down-workers', '--no-safety-backup', '--confirm', name], {
      signalAfter: {when: () => sandbox().requests.some(r => r.method === 'POST' && /\/restores$/.test(r.path)), signal: 'SIGKILL'},
    })
    assert.equal(killed.code, 137)
    assert.deepEqual([seeded.app, worker, reports].map(app => app.maintenance), [true, true, true])
    assert.equal(worker.formation.find(p => p.type === 'worker')!.quantity, 0)
    const [run] = JSON.parse((await heroku(['recovery:log', '--app', name, '--json'])).stdout)
    assert.ok(run.unfinished.includes(`Turn maintenance mode off for ${worker.name}`), run.unfinished.join('; '))
    const resumed = await heroku(['recovery:resume', run.id, '--confirm', name])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.deepEqual([seeded.app, worker, reports].map(app => app.maintenance), [false, false, false])
    assert.equal(worker.formation.find(p => p.type === 'worker')!.quantity, 2)
    assert.equal(seeded.app.formation.find(p => p.type === 'worker')!.quantity, 1)
  })

  it('a run killed (SIGKILL) after the promote: recovery:resume --continue moves the other apps\' attachments left on the old database and puts back their quiet, read back', async () => {
    const {name, seeded} = await seed('estate-continue')
    const {worker, reports} = seeded
    // The worker's second attachment (WORKER_POOL, the last wave of moves) hangs unapplied: the kill comes
    // while it is under way, whatever the machine's load, and REPORTING_DB moved before it.
    const hung = sandbox().inject({kind: 'hang', when: 'before', app: worker.name, method: 'POST', path: '/addon-attachments', nth: 2, times: 1})
    const killed = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--scale-down-workers', '--confirm', name], {
      signalAfter: {when: () => hung.hits > 0, signal: 'SIGKILL'},
    })
    hung.remove()
    assert.equal(killed.code, 137)
    const created = createdBy(seeded)!
    assert.equal(addonOf(seeded.app, 'DATABASE').id, created.id, 'the promote was made')
    assert.ok(Object.values(whereEach(seeded, created)).includes('old'), 'the kill came before the last re-attach')
    const [run] = JSON.parse((await heroku(['recovery:log', '--app', name, '--json'])).stdout)
    const resumed = await heroku(['recovery:resume', run.id, '--continue', '--confirm', name])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.deepEqual(Object.values(whereEach(seeded, created)), ['new', 'new', 'new'])
    assert.equal(on(worker, 'WORKER_POOL')!.namespace, 'connection-pooling:default')
    for (const app of [seeded.app, worker, reports]) assert.equal(app.maintenance, false, `${app.name} is out of maintenance`)
    assert.equal(worker.formation.find(p => p.type === 'worker')!.quantity, 2)
    const sent = (app: string) => sandbox().requests.filter(r => r.applied && r.method === 'POST' && r.path === '/addon-attachments' && r.body?.app?.name === app)
    assert.equal(sent(reports.name).length, 1, 'the re-attach made before the kill is not sent again')
    assert.equal(sent(worker.name).length, 2, 'the one under way at the kill is read back as not made, then made once')
    assert.equal(JSON.parse((await heroku(['recovery:log', run.id, '--json'])).stdout).status, 'succeeded')
  })

  it('a re-attach that fails for good (503) stops the run; the message and --json say which attachments moved and which are still on the old database', async () => {
    const {name, seeded} = await seed('estate-fault')
    const {worker, reports} = seeded
    sandbox().inject({kind: 'status', status: 503, app: worker.name, method: 'POST', path: '/addon-attachments', times: Infinity})
    const result = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--confirm', name, '--json'])
    assert.equal(result.code, 1, result.stderr)
    const created = createdBy(seeded)!
    const where = whereEach(seeded, created)
    assert.deepEqual(where, {[`${worker.name} DATABASE`]: 'old', [`${worker.name} WORKER_POOL`]: 'old', [`${reports.name} REPORTING_DB`]: 'new'})
    const document = JSON.parse(result.stdout)
    assert.deepEqual(document.estate.moved.map((m: any) => `${m.app} ${m.name}`), [`${reports.name} REPORTING_DB`])
    assert.deepEqual(document.estate.notMoved.map((m: any) => `${m.app} ${m.name}`), [`${worker.name} DATABASE`, `${worker.name} WORKER_POOL`])
    const step = (id: string) => document.run.steps.find((s: any) => s.id === id)
    assert.deepEqual([step(`reattach:${worker.name}:DATABASE`).state, step(`reattach:${worker.name}:DATABASE`).change], ['failed', 'not made'])
    assert.equal(step(`reattach:${worker.name}:WORKER_POOL`).state, 'not run')
    assert.match(document.error.state, new RegExp(`still serves ${worker.name} DATABASE, ${worker.name} WORKER_POOL\\.`))
    assert.ok(document.run.undo.includes(`heroku addons:attach ${seeded.database.name} --as REPORTING_DB --app ${reports.name} --confirm ${reports.name}`), 'what moved can be moved back')
    for (const app of [seeded.app, worker, reports]) assert.equal(app.maintenance, false, `${app.name} is out of maintenance`)
  })

  it('one passing fault at each re-attach (a 503, a connection lost before the write) is read back and absorbed: every attachment moves, once', async () => {
    const cases = [['reports', 1, 'REPORTING_DB'], ['worker', 1, 'DATABASE'], ['worker', 2, 'WORKER_POOL']] as const
    const faults = [{kind: 'status', status: 503}, {kind: 'reset', when: 'before'}] as const
    const failures: string[] = []
    await Promise.all(cases.flatMap(([which, nth, attachment]) => faults.map(async fault => {
      const {name, seeded} = await seed(`estate-f${nth}`)
      const app = seeded[which]
      const injected = sandbox().inject({...fault, app: app.name, method: 'POST', path: '/addon-attachments', nth})
      const result = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--no-safety-backup', '--no-reconcile-base', '--confirm', name])
      const label = `${app.name} ${attachment} / ${fault.kind}`
      try {
        assert.equal(injected.hits, 1, 'the fault was met')
        assert.equal(result.code, 0, result.stderr)
        const created = createdBy(seeded)!
        assert.deepEqual(Object.values(whereEach(seeded, created)), ['new', 'new', 'new'])
        const applied = sandbox().requests.filter(r => r.applied && r.method === 'POST' && r.path === '/addon-attachments' && r.body?.app?.name === app.name && r.body?.name === attachment)
        assert.equal(applied.length, 1, 'made once')
      } catch (error) {
        failures.push(`${label}: ${(error as Error).message.split('\n')[0]}`)
      }
    })))
    assert.deepEqual(failures, [])
  })

  it('answers lost on every re-attach (connection reset after it was applied): each is read back, found made, never sent twice', async () => {
    const {name, seeded} = await seed('estate-lost')
    const {worker, reports} = seeded
    sandbox().inject({kind: 'reset', when: 'after', app: worker.name, method: 'POST', path: '/addon-attachments', times: Infinity})
    const result = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--confirm', name])
    assert.equal(result.code, 0, result.stderr)
    const created = createdBy(seeded)!
    assert.deepEqual(whereEach(seeded, created), {[`${worker.name} DATABASE`]: 'new', [`${worker.name} WORKER_POOL`]: 'new', [`${reports.name} REPORTING_DB`]: 'new'})
    const sent = sandbox().requests.filter(r => r.method === 'POST' && r.path === '/addon-attachments' && r.body?.app?.name === worker.name)
    assert.deepEqual(sent.map(r => r.body.name), ['DATABASE', 'WORKER_POOL'], 'each sent once')
    assert.match(result.stderr, /answer was lost; read back: it happened/)
  })

  it('Ctrl-C at a re-attach: the run stops there, the quiet is put back, and every attachment is on one database or the other as the message says', async () => {
    const {name, seeded} = await seed('estate-int')
    const {worker, reports} = seeded
    // A round trip long enough that the signal comes while the reporting app's re-attach is under way.
    sandbox().latencyMs = 400
    const result = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--confirm', name], {
      signalAfter: {when: () => sandbox().requests.some(r => r.method === 'POST' && r.path === '/addon-attachments' && r.body?.app?.name === reports.name), signal: 'SIGINT'},
    }).finally(() => {
      sandbox().latencyMs = 0
    })
    assert.equal(result.code, 130, result.stderr)
    if (process.env.SHOW) process.stdout.write(result.stdout + result.stderr)
    const created = createdBy(seeded)!
    const where = whereEach(seeded, created)
    for (const [attachment, database] of Object.entries(where)) {
      assert.ok(['old', 'new'].includes(database), `${attachment} is on ${database}`)
      const [app, attached] = attachment.split(' ')
      const line = new RegExp(`Point ${app}'s ${attached}[^\\n]*(${database === 'new' ? 'now points to' : 'not run|interrupted|failed'})`)
      assert.match(result.stderr, line, `the message says where ${attachment} is`)
    }
    assert.equal(where[`${reports.name} REPORTING_DB`], 'new', 'the write under way was let finish')
    const left = Object.entries(where).filter(([, database]) => database === 'old').map(([attachment]) => attachment)
    assert.ok(left.length > 0, 'the signal came before the last re-attach')
    assert.match(result.stderr, new RegExp(`The apps are split: ${created.name} \\(the recovered database\\) serves ${name} DATABASE, [^;]+; ${seeded.database.name} \\(the old one\\) still serves ${left.join(', ')}\\.`))
    for (const attachment of left) {
      const [app, attached] = attachment.split(' ')
      assert.ok(result.stderr.includes(`pg:connection-pooling:attach ${created.name} --as ${attached} --app ${app}`) || result.stderr.includes(`heroku addons:attach ${created.name} --as ${attached} --app ${app}`), `the command that moves ${attachment} on`)
    }
    for (const app of [seeded.app, worker, reports]) assert.equal(app.maintenance, false, `${app.name} is out of maintenance`)
  })

  it('refuses, before any write, when another app on the database cannot be read (403), naming it and how to detach it', async () => {
    const {name, seeded} = await seed('estate-403')
    sandbox().inject({kind: 'status', status: 403, method: 'GET', path: `/apps/${seeded.reports.name}/formation`, times: Infinity})
    const result = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--confirm', name])
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, new RegExp(`${seeded.reports.name} also uses ${seeded.database.name} \\(as REPORTING_DB\\), but you have no access to it \\(403\\)`))
    assert.ok(result.stderr.includes(`heroku addons:detach REPORTING_DB --app ${seeded.reports.name}`))
    assert.match(result.stderr, /Nothing was changed/)
    assert.deepEqual(writes(), [])
  })

  it('refuses, before any write, a team app whose app permissions do not allow what the recovery changes there; the printed grant lets it go, and in place without quiet view is enough', async () => {
    const {name, seeded} = await seed('estate-perm')
    const {worker, reports} = seeded
    state().joinTeam(reports, 'acme', ['view'])
    state().joinTeam(worker, 'acme', ['operate', 'view'])
    // What the check spares: without it the run would meet the first refused write after quieting other apps.
    const direct = await heroku(['maintenance:on', '--app', reports.name])
    assert.notEqual(direct.code, 0, 'the sandbox refuses maintenance mode to view-only permissions')
    sandbox().clearRequests()

    const result = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--scale-down-workers', '--confirm', name])
    assert.notEqual(result.code, 0)
    if (process.env.SHOW) process.stdout.write(result.stdout + result.stderr)
    const email = state().user.email
    const reportsGrant = `heroku access:update ${email} --app ${reports.name} --permissions view,operate,deploy`
    assert.ok(result.stderr.includes(`${reports.name} also uses ${seeded.database.name} (as REPORTING_DB), but your app permissions on ${reports.name} are view, and turning maintenance mode on needs operate (or manage); moving REPORTING_DB needs deploy (or manage). Ask a team admin to grant it (\`${reportsGrant}\`)`), result.stderr)
    assert.ok(result.stderr.includes(`your app permissions on ${worker.name} are operate, view, and moving DATABASE, WORKER_POOL (pooler) needs deploy (or manage)`), result.stderr)
    assert.match(result.stderr, /Nothing was changed/)
    assert.deepEqual(writes(), [])
    assert.equal(sandbox().requests.filter(r => /\/collaborators$/.test(r.path)).length, 3, 'one read of the collaborators for each app, the recovering one included')

    // In place with no maintenance and no scaling, nothing of the other apps changes: their view is enough.
    const inPlace = await heroku(['db:recover', '--app', name, '--backup', seeded.backup, '--no-maintenance', '--dry-run', '--json'])
    assert.equal(inPlace.code, 0, inPlace.stderr)
    const checks = JSON.parse(inPlace.stdout).plan.checks
    assert.equal(checks.find((c: any) => c.name === 'app permissions'), undefined)
    assert.equal(checks.find((c: any) => c.name === 'apps on the database')?.outcome, 'passed')
    assert.deepEqual(JSON.parse(inPlace.stdout).plan.estate.apps.map((a: any) => [a.app, a.permissions ?? null]), [[name, null], [reports.name, ['view']], [worker.name, ['operate', 'view']]])

    // The grants the refusal printed, run as printed, are enough.
    for (const grant of [reportsGrant, `heroku access:update ${email} --app ${worker.name} --permissions operate,view,deploy`]) {
      const granted = await heroku(grant.split(' ').slice(1))
      assert.equal(granted.code, 0, granted.stderr)
    }
    const dry = await heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--scale-down-workers', '--dry-run', '--json'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.equal(JSON.parse(dry.stdout).plan.checks.find((c: any) => c.name === 'app permissions'), undefined)
  })

  it('migrate:down lists the other apps on the database, whose code meets the reverted schema too (their fit is not checked)', async () => {
    const name = appName('estate-down')
    const dir = prismaProject()
    const {database} = await seedPrismaApp(sandbox(), name, dir, {releaseCommand: null})
    const reports = sandbox().createApp(`${name}-reports`)
    state().attach(reports, database, 'REPORTING_DB')
    sandbox().clearRequests()
    const result = await heroku(['migrate:down', '--app', name, '--dry-run', '--json'], {cwd: dir})
    assert.equal(result.code, 0, result.stderr)
    const check = JSON.parse(result.stdout).plan.checks.find((c: any) => c.name === 'other apps')
    assert.equal(check?.outcome, 'warning')
    assert.match(check.detail, new RegExp(`^${reports.name} \\(REPORTING_DB\\) also uses DATABASE \\(${database.name}\\): its code meets the reverted schema too, and whether it still fits is not checked`))
    assert.deepEqual(writes(), [])
  })

  it('migrate:down refuses, before any write, a down that drops a column the code another app runs now needs; --accept-schema-risk goes on', async () => {
    const name = appName('estate-down-fit')
    const dir = prismaProject()
    const {database} = await seedPrismaApp(sandbox(), name, dir, {releaseCommand: null})
    // A worker app on the same database whose current release (its slug) maps Post.status, which reverting add_post_status drops.
    const {app: worker, release} = await seedAppOnDatabase(sandbox(), `${name}-worker`, database, 'DATABASE', FIXTURE_SCHEMA)
    const applied = async () => (await sandbox().sql(database, 'SELECT migration_name FROM _prisma_migrations ORDER BY 1')).map(r => r.migration_name)
    const statusColumn = async () => (await sandbox().sql(database, 'SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = \'Post\' AND column_name = \'status\''))[0].n
    const before = await applied()
    sandbox().clearRequests()

    const refused = await heroku(['migrate:down', '--app', name, '--steps', '2', '--confirm', name, '--json'], {cwd: dir})
    assert.equal(refused.code, 1, refused.stderr)
    const {plan} = JSON.parse(refused.stdout)
    const check = plan.checks.find((c: any) => c.name === 'other apps')
    assert.equal(check.outcome, 'failed')
    assert.match(check.detail, new RegExp(`${worker.name} v${release.version}: its code \\(read from its slug\\) does NOT fit the schema the down leaves: .*column "Post"."status" \\(Post.status\\) is missing \\(20260401000000_add_post_status\\)`))
    assert.deepEqual(plan.otherApps.map((o: any) => [o.app, o.verdict]), [[worker.name, 'blocked']])
    assert.deepEqual(await applied(), before, 'no migration was reverted')
    assert.equal(await statusColumn(), 1, 'Post.status is still there')
    assert.deepEqual(writes(), [])

    const accepted = await heroku(['migrate:down', '--app', name, '--steps', '2', '--confirm', name, '--accept-schema-risk', '--json'], {cwd: dir})
    assert.equal(accepted.code, 0, accepted.stderr)
    assert.equal(JSON.parse(accepted.stdout).plan.checks.find((c: any) => c.name === 'other apps').outcome, 'warning')
    assert.deepEqual(await applied(), before.slice(0, -2), 'the two newest migrations were reverted')
    assert.equal(await statusColumn(), 0)
  })
})
