import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {RecordedRequest} from '../src/sandbox/index.js'
import {seedPrismaApp} from '../src/sandbox/seeds/prisma-app.js'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {seedBrokenApp} from '../src/sandbox/seeds/broken-app.js'
import {ADD_COMMENTS, DEMO_HISTORY, DROP_BIO, seedSchemaHistory} from '../src/sandbox/seeds/schema-history.js'
import {heroku} from './support/heroku.js'
import {prismaProject, removePrismaProjects} from './support/prisma.js'
import {appName, sandbox} from './support/sandbox.js'

// Ctrl-C, a second Ctrl-C, SIGHUP and SIGTERM at each moment of each flow, with a simulated round trip
// so that requests are in flight when the signal comes. Each test reads the state back from the sandbox.

const seen = (test: (r: RecordedRequest) => boolean) => () => sandbox().requests.some(test)
const is = (method: string, path: string | RegExp) => (r: RecordedRequest) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path))
const count = (method: string, path: string | RegExp) => sandbox().requests.filter(is(method, path)).length
const workers = (app: {formation: {type: string, quantity: number}[]}) => app.formation.find(p => p.type === 'worker')!.quantity
const rows = async (addon: Parameters<ReturnType<typeof sandbox>['sql']>[0]) => Number((await sandbox().sql(addon, 'SELECT count(*) AS n FROM customers'))[0].n)

function withDelays(fields: Partial<ReturnType<typeof sandbox>['delays']> & {latencyMs?: number}) {
  let saved: {delays: ReturnType<typeof sandbox>['delays'], latencyMs: number}
  beforeEach(() => {
    saved = {delays: {...sandbox().delays}, latencyMs: sandbox().latencyMs}
    const {latencyMs, ...delays} = fields
    Object.assign(sandbox().delays, delays)
    if (latencyMs !== undefined) sandbox().latencyMs = latencyMs
  })
  afterEach(async () => {
    sandbox().delays = saved.delays
    sandbox().latencyMs = saved.latencyMs
    await sandbox().settle()
  })
}

describe('interrupts: safe-rollback', function () {
  this.timeout(90_000)

  async function broken() {
    const name = appName('int-sr')
    const {app} = await seedBrokenApp(sandbox(), name, {releaseCommand: 'npx prisma migrate deploy'})
    return {name, app, args: ['safe-rollback', 'v50', '--app', name, '--confirm', name, '--maintenance']}
  }

  describe('with a 700 ms round trip', () => {
    withDelays({latencyMs: 700, releasePhase: 1500})

    it('Ctrl-C 0.3 s after maintenance on was sent: the answer is awaited, nothing more is sent, maintenance goes off again', async () => {
      const {name, app, args} = await broken()
      let at = 0
      const result = await heroku(args, {signalAfter: {when: () => {
        at ||= sandbox().requests.find(is('PATCH', `/apps/${name}`)) ? Date.now() : 0
        return at > 0 && Date.now() - at >= 300
      }, signal: 'SIGINT'}})
      assert.equal(result.code, 130, result.stderr)
      assert.equal(count('POST', `/apps/${name}/releases`), 0, 'no rollback after Ctrl-C')
      assert.deepEqual(sandbox().requests.filter(is('PATCH', `/apps/${name}`)).map(r => r.body.maintenance), [true, false])
      assert.equal(app.maintenance, false)
      assert.equal(app.releases.length, 52)
      assert.match(result.stderr, /↺ Turn maintenance mode on: undone/)
      assert.match(result.stderr, /- Roll back to v50 .*: not run/)
    })

    it('Ctrl-C before anything is changed ends at once, saying nothing was changed; with --json that is one document', async () => {
      const {name, args} = await broken()
      const result = await heroku([...args, '--json'], {signalAfter: {when: seen(is('GET', `/apps/${name}/formation`)), signal: 'SIGINT'}})
      assert.equal(result.code, 130)
      const document = JSON.parse(result.stdout)
      assert.deepEqual(document.error, {message: 'Cancelled.', state: 'Nothing was changed.', cancelled: true})
      assert.deepEqual(sandbox().writes(name), [])
    })

    it('a second Ctrl-C while maintenance is being turned off again does not stop the put-back', async () => {
      const {name, app, args} = await broken()
      const result = await heroku(args, {signals: [
        {when: seen(is('POST', `/apps/${name}/releases`)), signal: 'SIGINT'},
        {when: () => sandbox().requests.filter(is('PATCH', `/apps/${name}`)).length === 2, signal: 'SIGINT'},
      ]})
      assert.equal(result.code, 130, result.stderr)
      assert.match(result.stderr, /Putting things back first\. Press Ctrl-C again to leave now/)
      assert.equal(app.maintenance, false)
      assert.match(result.stderr, /↺ Turn maintenance mode on: undone/)
    })

    it('SIGHUP (the SSH session dropped) during the release phase: maintenance is put back, exit 129', async () => {
      const {name, app, args} = await broken()
      const result = await heroku(args, {signalAfter: {when: seen(is('GET', new RegExp(`^/apps/${name}/releases/[0-9a-f-]{36}$`))), signal: 'SIGHUP'}})
      assert.equal(result.code, 129, result.stderr)
      assert.equal(app.maintenance, false)
      assert.equal(count('PATCH', `/apps/${name}`), 2)
    })

    it('SIGTERM during the rollback request: its answer decides, the rollback is reported as requested, maintenance goes off', async () => {
      const {name, app, args} = await broken()
      const result = await heroku([...args, '--json'], {signalAfter: {when: seen(is('POST', `/apps/${name}/releases`)), signal: 'SIGTERM'}})
      assert.equal(result.code, 143, result.stderr)
      const document = JSON.parse(result.stdout)
      assert.equal(document.run.status, 'interrupted')
      const rollback = document.run.steps.find((s: {id: string}) => s.id === 'rollback')
      assert.equal(rollback.change, 'made')
      assert.match(rollback.error, /v53 \(the rollback\) was requested and may still finish/)
      assert.equal(app.releases.filter(r => r.description === 'Rollback to v50').length, 1)
      assert.equal(app.maintenance, false)
      assert.equal(document.maintenance, 'turned off again')
    })
  })
})

describe('interrupts: safe-rollback --with-migrations, whose release phase decides whether the migrations stay reverted', function () {
  this.timeout(120_000)
  const folders: string[] = []
  after(() => {
    for (const dir of folders.splice(0)) rmSync(dir, {recursive: true, force: true})
  })
  withDelays({releasePhase: 3000})

  // v53 (before User.bio was dropped and Comment added), v54, v55 (current); the database migrated to v55.
  async function coupled(prefix: string) {
    const name = appName(prefix)
    const dir = mkdtempSync(join(tmpdir(), 'coupled-int-'))
    folders.push(dir)
    const seeded = await seedSchemaHistory(sandbox(), name, {dir, versions: DEMO_HISTORY})
    const history = () => sandbox().sql(seeded.database, 'SELECT * FROM _prisma_migrations ORDER BY migration_name')
    const columns = async () => (await sandbox().sql(seeded.database, 'SELECT column_name FROM information_schema.columns WHERE table_name = \'User\' ORDER BY 1')).map(c => c.column_name)
    const hasComments = async () => (await sandbox().sql(seeded.database, 'SELECT to_regclass(\'"Comment"\') AS found'))[0].found !== null
    const before = {history: await history(), columns: await columns()}
    const args = ['safe-rollback', 'v53', '--app', name, '--confirm', name, '--with-migrations', '--json']
    // The run polls the rollback release (by id) while its release phase runs.
    const inReleasePhase = seen(is('GET', new RegExp(`^/apps/${name}/releases/[0-9a-f-]{36}$`)))
    const maintenanceOff = () => sandbox().requests.filter(r => is('PATCH', `/apps/${name}`)(r) && r.body.maintenance === false)
    return {name, dir, ...seeded, history, columns, hasComments, before, args, inReleasePhase, maintenanceOff}
  }

  it('Ctrl-C, then the release phase fails: waits with maintenance on, applies the migrations again, then turns maintenance off, and says so', async () => {
    const c = await coupled('int-cpl-fail')
    c.app.faults.releasePhaseFails = true
    const result = await heroku(c.args, {cwd: c.dir, signalAfter: {when: c.inReleasePhase, signal: 'SIGINT'}})
    assert.equal(result.code, 130, result.stderr)
    assert.match(result.stderr, /The release phase of v56 \(the rollback to v53\) is running at Heroku and cannot be stopped: \S+ stays in maintenance mode until it ends\. .*if it fails, \S+ stays on v55 and the reverted migrations are applied again\. Waiting for it to finish, then: turn maintenance mode off\./)
    const document = JSON.parse(result.stdout)
    assert.equal(document.run.status, 'interrupted')
    assert.match(document.error.message, /^Release v56 \(rollback to v53\) failed: its release command did not succeed; \S+ still runs v55/)
    assert.deepEqual(document.run.steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['maintenance-on:undone', 'revert:undone', 'rollback:failed', 'maintenance-off:not run'])
    assert.match(document.error.state, /↺ Revert .*: undone \(apply the reverted migrations again; read back\)/)
    assert.deepEqual(document.newRelease, {id: document.newRelease.id, version: 56, status: 'failed'})
    assert.deepEqual(document.run.undo, [], 'no `safe-rollback v55`: v55 is still the current release')
    assert.deepEqual(document.run.finish, [])
    assert.equal(document.maintenance, 'turned off again')
    assert.equal(document.run.stillInMaintenance, false)
    // Read back: v55 runs, on its own schema again, with its _prisma_migrations rows exactly as they were.
    const rollback = c.app.releases.at(-1)!
    assert.deepEqual([rollback.version, rollback.status], [56, 'failed'])
    assert.equal(sandbox().state.currentRelease(c.app)!.version, 55)
    assert.deepEqual(await c.history(), c.before.history)
    assert.deepEqual(await c.columns(), c.before.columns)
    assert.ok(await c.hasComments())
    assert.equal(c.app.maintenance, false)
    // Maintenance went off once, after the release phase had ended.
    assert.equal(c.maintenanceOff().length, 1)
    assert.ok(Date.parse(rollback.updated_at) <= c.maintenanceOff()[0].at, 'maintenance stayed on until the release phase had ended')
  })

  it('Ctrl-C, then the release phase succeeds: waits, turns maintenance off, and says the rollback is done, the migrations kept reverted', async () => {
    const c = await coupled('int-cpl-ok')
    const result = await heroku(c.args, {cwd: c.dir, signalAfter: {when: c.inReleasePhase, signal: 'SIGINT'}})
    assert.equal(result.code, 0, result.stderr + result.stdout)
    assert.match(result.stderr, /The release phase of v56 \(the rollback to v53\) is running at Heroku and cannot be stopped/)
    assert.match(result.stderr, /The SIGINT came when nothing was left to stop: every step is done\./)
    const document = JSON.parse(result.stdout)
    assert.equal(document.run.status, 'succeeded')
    assert.deepEqual(document.run.steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['maintenance-on:undone', 'revert:done', 'rollback:done', 'maintenance-off:not run'])
    assert.deepEqual(document.newRelease, {id: document.newRelease.id, version: 56, status: 'succeeded'})
    assert.match(document.run.steps[1].note, /kept, for "Roll back to v53 and wait for the release phase and the dynos" relies on it/)
    assert.equal(document.run.undo.length, 2)
    assert.match(document.run.undo[0], /^heroku safe-rollback v55 --app /)
    assert.match(document.run.undo[1], /npx prisma migrate deploy$/)
    assert.equal(document.maintenance, 'turned off again')
    const rollback = c.app.releases.at(-1)!
    assert.deepEqual([rollback.description, rollback.status], ['Rollback to v53', 'succeeded'])
    assert.equal(sandbox().state.currentRelease(c.app)!.version, 56)
    assert.ok((await c.columns()).includes('bio'), 'v53\'s schema, under v53\'s code')
    assert.ok(!await c.hasComments())
    const names = (await c.history()).map(r => r.migration_name)
    assert.ok(!names.includes(DROP_BIO.name) && !names.includes(ADD_COMMENTS.name))
    assert.equal(c.app.maintenance, false)
    assert.ok(Date.parse(rollback.updated_at) <= c.maintenanceOff()[0].at, 'maintenance stayed on until the release phase had ended')
    const resumed = await heroku(['recovery:resume', document.run.id, '--confirm', c.name])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.match(resumed.stdout, /Nothing to finish/)
    assert.ok(!(await c.history()).some(r => r.migration_name === DROP_BIO.name), 'recovery:resume does not apply them again')
  })

  for (const fails of [true, false]) {
    it(`killed (SIGKILL) in the release phase, which then ${fails ? 'fails' : 'succeeds'}: recovery:resume waits for it, then ${fails ? 'applies the migrations again and' : 'keeps them reverted and'} turns maintenance off`, async () => {
      const c = await coupled(fails ? 'int-cpl-kf' : 'int-cpl-ks')
      c.app.faults.releasePhaseFails = fails
      sandbox().delays.releasePhase = 8000
      const killed = await heroku(c.args, {cwd: c.dir, signalAfter: {when: c.inReleasePhase, signal: 'SIGKILL'}})
      assert.equal(killed.code, 137)
      assert.equal(c.app.maintenance, true)
      const rollback = c.app.releases.at(-1)!
      assert.equal(rollback.description, 'Rollback to v53')

      const [run] = JSON.parse((await heroku(['recovery:log', '--app', c.name, '--json'])).stdout)
      assert.equal(run.status, 'died')
      assert.deepEqual(run.unfinished, [
        // Said from the actions the log holds, never from its own words.
        'Wait for the release phase of v56 (the rollback to v53) to finish',
        'Apply the reverted migrations again (20260701000000_add_comments, 20260601000000_drop_user_bio), if the release phase of v56 (the rollback to v53) ends without effect',
        'Turn maintenance mode off',
      ])
      assert.deepEqual(run.finish, [`heroku recovery:resume ${run.id}`], 'nothing to put back by hand before the release phase has ended')
      assert.deepEqual(run.undo, [], 'what stays done is not known yet')

      const resumed = await heroku(['recovery:resume', run.id, '--confirm', c.name, '--json'])
      assert.equal(resumed.code, 0, resumed.stderr)
      const steps = JSON.parse(resumed.stdout).resumedBy.steps
      assert.deepEqual(steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['settle-rollback:done', 'undo-revert:done', 'undo-maintenance-on:done'])
      assert.equal(rollback.status, fails ? 'failed' : 'succeeded')
      assert.equal(c.app.maintenance, false)
      assert.ok(Date.parse(rollback.updated_at) <= c.maintenanceOff()[0].at, 'maintenance stayed on until the release phase had ended')
      if (fails) {
        assert.match(steps[0].note, /^v56 \(Rollback to v53\) failed: its release command did not succeed/)
        assert.deepEqual(await c.history(), c.before.history, '_prisma_migrations exactly as before')
        assert.deepEqual(await c.columns(), c.before.columns)
        assert.ok(await c.hasComments())
        assert.equal(sandbox().state.currentRelease(c.app)!.version, 55)
      } else {
        assert.match(steps[0].note, /^v56 \(Rollback to v53\) succeeded: it is live/)
        assert.match(steps[1].note, /^not needed: the release phase of v56 .* took effect/i)
        assert.ok((await c.columns()).includes('bio'))
        assert.ok(!(await c.history()).some(r => r.migration_name === DROP_BIO.name), 'kept reverted under v53\'s code')
        assert.equal(sandbox().state.currentRelease(c.app)!.version, 56)
      }
      const human = await heroku(['recovery:log', run.id])
      assert.match(human.stdout, /\[finished\]/)
    })
  }
})

describe('interrupts: db:recover', function () {
  this.timeout(90_000)

  describe('during a restore, which Heroku carries on whatever the CLI does', () => {
    withDelays({transfer: 2500})

    it('Ctrl-C explains what is running and waits for it, then puts back maintenance and workers', async () => {
      const name = appName('int-restore')
      const loss = await seedDataLoss(sandbox(), name)
      const args = ['db:recover', '--app', name, '--backup', loss.backup, '--confirm', name, '--scale-down-workers', '--verify', 'SELECT count(*) = 60 FROM customers']
      const result = await heroku(args, {signalAfter: {when: seen(is('POST', `/client/v11/databases/${loss.database.id}/restores`)), signal: 'SIGINT'}})
      assert.equal(result.code, 130, result.stderr)
      assert.match(result.stderr, /Restore r\d+ of b\d+ into DATABASE is running at Heroku and cannot be stopped: when it ends, DATABASE holds b\d+'s data; .*Safety backup b\d+ holds the data from before\. Waiting for it to finish, then: scale back to worker=1; turn maintenance mode off\. Press Ctrl-C again to leave now/)
      assert.equal(await rows(loss.database), 60, 'the restore finished')
      assert.equal(loss.app.maintenance, false)
      assert.equal(workers(loss.app), 1)
      assert.match(result.stderr, /- Run --verify .*: not run/)
      // Put back only once the restore was done.
      const restore = sandbox().state.transfers.find(t => t._addonId === loss.database.id && t.to_type === 'pg_restore')!
      const back = sandbox().requests.find(r => r.method === 'PATCH' && r.path === `/apps/${name}/formation` && r.body.updates[0].quantity === 1)!
      assert.ok(Date.parse(restore.finished_at!) <= back.at, 'workers came back after the restore had finished')
    })

    it('a second Ctrl-C leaves at once with maintenance and quiet workers kept, and recovery:resume finishes after the restore', async () => {
      const name = appName('int-leave')
      const loss = await seedDataLoss(sandbox(), name)
      const args = ['db:recover', '--app', name, '--backup', loss.backup, '--confirm', name, '--scale-down-workers']
      const restoring = seen(is('POST', `/client/v11/databases/${loss.database.id}/restores`))
      const result = await heroku(args, {signals: [{when: restoring, signal: 'SIGINT'}, {when: restoring, signal: 'SIGINT'}]})
      assert.equal(result.code, 130, result.stderr)
      assert.equal(loss.app.maintenance, true, 'nothing is put back while the restore runs')
      assert.equal(workers(loss.app), 0)
      const resume = /heroku recovery:resume ([\w-]+)/.exec(result.stderr)?.[1]
      assert.ok(resume, result.stderr)
      assert.match(result.stderr, /… Restore b\d+ into DATABASE .*: Restore r\d+ .* was still running when the command was left/)
      const finished = await heroku(['recovery:resume', resume!, '--confirm', name])
      assert.equal(finished.code, 0, finished.stderr)
      assert.equal(await rows(loss.database), 60)
      assert.equal(loss.app.maintenance, false)
      assert.equal(workers(loss.app), 1)
      const again = await heroku(['recovery:resume', resume!, '--confirm', name])
      assert.equal(again.code, 0)
      assert.match(again.stdout, /Nothing to finish: run \S+ was finished already/)
    })
  })

  describe('while a database is provisioned', () => {
    withDelays({provision: 3000})

    it('Ctrl-C on a point-in-time recovery says the new database exists, unpromoted, with the command that removes it', async () => {
      const name = appName('int-pitr')
      const loss = await seedDataLoss(sandbox(), name)
      const result = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--confirm', name, '--json'],
        {signalAfter: {when: seen(is('GET', new RegExp(`^/apps/${name}/addons/`))), signal: 'SIGINT'}})
      assert.equal(result.code, 130, result.stderr)
      const created = sandbox().state.addonsOf(loss.app).find(a => a.id !== loss.database.id)!
      assert.ok(created, 'the rollback database was created')
      const document = JSON.parse(result.stdout)
      assert.deepEqual(document.run.undo, [`heroku addons:destroy ${created.name} --app ${name} --confirm ${name}`])
      assert.equal(sandbox().state.attachmentsOf(loss.app).find(a => a.name === 'DATABASE')!.addon.id, loss.database.id, 'not promoted')
      assert.equal(loss.app.maintenance, false)
    })

    it('Ctrl-C during a drill destroys the scratch database', async () => {
      const name = appName('int-drill')
      const loss = await seedDataLoss(sandbox(), name)
      const result = await heroku(['db:recover', '--app', name, '--backup', loss.backup, '--drill', '--confirm', name],
        {signalAfter: {when: seen(is('GET', new RegExp(`^/apps/${name}/addons/`))), signal: 'SIGINT'}})
      assert.equal(result.code, 130, result.stderr)
      const scratch = [...sandbox().state.addons.values()].find(a => a.app.id === loss.app.id && a.id !== loss.database.id)!
      assert.equal(scratch.state, 'deprovisioned')
      assert.match(result.stderr, /↺ Create a scratch .*: undone \(destroy postgresql-/)
    })
  })
})

describe('interrupts: migrate:down', function () {
  this.timeout(90_000)
  after(removePrismaProjects)

  it('Ctrl-C while the down SQL runs closes the connection: the transaction rolls back, nothing changed', async () => {
    const dir = prismaProject()
    const down = join(dir, 'prisma', 'migrations', '20260501000000_widen_user_name', 'down.sql')
    // A down that takes long enough for the signal and the runner's moment of grace to pass.
    writeFileSync(down, `SELECT pg_sleep(15);\n${readFileSync(down, 'utf8')}`)
    const name = appName('int-down')
    const {database} = await seedPrismaApp(sandbox(), name, dir, {releaseCommand: null})
    const history = async () => (await sandbox().sql(database, 'SELECT migration_name FROM "_prisma_migrations" ORDER BY 1')).map(r => r.migration_name)
    const before = await history()
    const running = async () => (await sandbox().sql(database, "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(15)%'")).length > 0
    let sleeping = false
    const watch = setInterval(async () => {
      sleeping ||= await running()
    }, 100)
    // --skip-down-check: the check would sleep 15 s on its scratch database first.
    const result = await heroku(['migrate:down', '--app', name, '--confirm', name, '--skip-down-check'], {cwd: dir, signalAfter: {when: () => sleeping, signal: 'SIGINT'}})
    clearInterval(watch)
    assert.equal(result.code, 130, result.stderr)
    // Had the statement been waited for, the revert would have committed: history and type would differ.
    assert.deepEqual(await history(), before)
    const [{type}] = await sandbox().sql(database, 'SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = \'"User"\'::regclass AND attname = \'name\'')
    assert.equal(type, 'text', 'the column keeps the type the down SQL would have changed')
    assert.match(result.stderr, /✗ Revert 20260501000000_widen_user_name .*: interrupted; nothing was changed/)
  })
})
