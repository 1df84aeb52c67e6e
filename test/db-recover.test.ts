import assert from 'node:assert/strict'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import type {Addon, App} from '../src/sandbox/index.js'
import {heroku, Result} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// `heroku db:recover` through the real CLI against the sandbox: the data is checked, not only the output.

const count = async (addon: Addon) => Number((await sandbox().sql(addon, 'SELECT count(*) AS n FROM customers'))[0].n)
const attachmentsOf = (app: App) => sandbox().state.attachmentsOf(app)
const databaseAddon = (app: App) => sandbox().state.addons.get(attachmentsOf(app).find(a => a.name === 'DATABASE')!.addon.id)!
const posts = (path: RegExp) => sandbox().requests.filter(r => r.method === 'POST' && path.test(r.path))
const patches = (app: App) => sandbox().requests.filter(r => r.method === 'PATCH' && r.path.startsWith(`/apps/${app.name}`))

function assertNoSecrets(result: Result, ...addons: Addon[]) {
  const output = result.stdout + result.stderr
  for (const addon of addons) assert.ok(!output.includes(addon._database!.password), 'a database password was printed')
  assert.ok(!output.includes(sandbox().apiKey), 'the API key was printed')
}

describe('heroku db:recover', function () {
  this.timeout(60_000)

  it('restores a backup in place behind maintenance and quiet workers, after a safety backup', async () => {
    const name = appName('recover-backup')
    const loss = await seedDataLoss(sandbox(), name)
    sandbox().clearRequests()
    const started = Date.now()
    const result = await heroku(['db:recover', '--app', name, '--backup', loss.backup, '--confirm', name, '--scale-down-workers',
      '--verify', 'SELECT count(*) = 60 FROM customers'])
    const wallMs = Date.now() - started
    assert.equal(result.code, 0, result.stderr)
    assert.equal(await count(loss.database), loss.rowsBefore)

    const backup = sandbox().state.transfers.find(t => sandbox().state.transferName(t) === loss.backup)!
    const restores = posts(/\/restores$/)
    assert.deepEqual(restores.map(r => [r.path, r.body]), [[`/client/v11/databases/${loss.database.id}/restores`, {backup_url: backup.to_url}]])
    const safety = sandbox().state.transfers.find(t => t.from_type === 'pg_dump' && t.num > backup.num)!
    assert.ok(sandbox().requests.indexOf(posts(/\/backups$/)[0]) < sandbox().requests.indexOf(restores[0]), 'the safety backup comes first')
    assert.equal(safety.succeeded, true)
    assert.deepEqual(patches(loss.app).map(r => r.body), [
      {maintenance: true}, {updates: [{type: 'worker', quantity: 0}]}, {updates: [{type: 'worker', quantity: 1}]}, {maintenance: false},
    ])
    assert.equal(loss.app.maintenance, false)
    assert.match(result.stdout, /Warning: Keep in mind that this recovery replaces the database in its entirety/)
    assert.match(result.stdout, new RegExp(`heroku pg:backups:restore ${sandbox().state.transferName(safety)} DATABASE_URL --app ${name} --confirm ${name}`))
    assert.match(result.stdout, /Touched during the switch: maintenance mode \(on, then off\), worker \(scaled 0, then back to 1\)/)
    assert.match(result.stdout, /--verify passed: the query returned true/)
    assert.match(result.stderr, /r\d+: [\d.]+ (B|kB|MB) processed/)
    assertNoSecrets(result, loss.database)
    process.stdout.write(`      (backup restore through the CLI: ${wallMs} ms)\n`)
  })

  it('rolls back to a point in time into a new database, verifies it, promotes it and keeps the old one attached', async () => {
    const name = appName('recover-pitr')
    const loss = await seedDataLoss(sandbox(), name)
    const oldUrl = loss.app.config.DATABASE_URL
    sandbox().state.attach(loss.app, loss.database, 'DATABASE_CONNECTION_POOL', 'connection-pooling:default')
    sandbox().clearRequests()
    const started = Date.now()
    const result = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--confirm', name,
      '--verify', 'SELECT count(*) = 60 FROM customers'])
    const wallMs = Date.now() - started
    assert.equal(result.code, 0, result.stderr)

    const created = posts(new RegExp(`^/apps/${name}/addons$`))
    assert.equal(created.length, 1)
    assert.deepEqual(created[0].body.plan, {name: 'heroku-postgresql:standard-0'})
    assert.equal(created[0].body.config.rollback, 'DATABASE_URL')
    assert.equal(new Date(created[0].body.config.to.replace(' ', 'T').replace('+00', 'Z')).toISOString(), loss.beforeLoss)

    const promoted = databaseAddon(loss.app)
    assert.notEqual(promoted.id, loss.database.id)
    assert.equal(await count(promoted), loss.rowsBefore)
    assert.equal(await count(loss.database), loss.rowsAfter, 'the old database is left as it was')
    assert.notEqual(loss.app.config.DATABASE_URL, oldUrl)
    assert.equal(loss.app.config.DATABASE_URL, promoted._database!.url)
    const oldAlias = attachmentsOf(loss.app).find(a => a.addon.id === loss.database.id)
    assert.match(oldAlias?.name ?? '', /^HEROKU_POSTGRESQL_[A-Z]+$/)
    assert.equal(loss.app.config[`${oldAlias!.name}_URL`], oldUrl)

    assert.deepEqual(posts(/^\/addon-attachments$/).map(r => r.body), [
      {addon: {name: loss.database.name}, app: {name}, confirm: name, namespace: null},
      {addon: {name: promoted.name}, app: {name}, confirm: name, name: 'DATABASE', namespace: null},
      {addon: {name: promoted.name}, app: {name}, confirm: name, name: 'DATABASE_CONNECTION_POOL', namespace: 'connection-pooling:default'},
    ])
    assert.match(result.stdout, /new credentials/)
    assert.match(result.stdout, /connection pooler .* re-attached/)
    assert.ok(sandbox().state.transfers.some(t => t._addonId === promoted.id && t.from_type === 'pg_dump' && t.succeeded), 'the new database is backed up')
    assert.deepEqual(patches(loss.app).map(r => r.body), [{maintenance: true}, {maintenance: false}])
    assert.match(result.stdout, new RegExp(`heroku pg:promote ${loss.database.name} --app ${name}`))
    assert.match(result.stdout, /still billed/)
    assert.match(result.stdout, /Followers .* not carried over/)
    assertNoSecrets(result, loss.database, promoted)
    process.stdout.write(`      (point-in-time recovery through the CLI: ${wallMs} ms)\n`)
  })

  it('drills --before-release: a scratch rollback to one minute before vN, verified, then destroyed; the app is untouched', async () => {
    const name = appName('recover-drill')
    const loss = await seedDataLoss(sandbox(), name)
    const url = loss.app.config.DATABASE_URL
    sandbox().clearRequests()
    const result = await heroku(['db:recover', '--app', name, '--before-release', 'v51', '--drill', '--confirm', name,
      '--verify', 'SELECT count(*) = 50 FROM customers', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    assert.equal(document.outcome.recovered, true)
    assert.equal(document.outcome.scratch.destroyed, true)
    assert.equal(document.run.status, 'succeeded')

    const v51 = loss.app.releases.find(r => r.version === 51)!
    const expected = new Date(Date.parse(v51.created_at) - 60_000)
    expected.setMilliseconds(0)
    const [created] = posts(new RegExp(`^/apps/${name}/addons$`))
    assert.equal(created.body.config.to, expected.toISOString().slice(0, 19).replace('T', ' ') + '+00')
    assert.equal(document.plan.target.at, expected.toISOString())

    const scratch = [...sandbox().state.addons.values()].find(a => a.name === document.outcome.scratch.addon)!
    assert.equal(scratch.state, 'deprovisioned')
    assert.ok(sandbox().requests.some(r => r.method === 'DELETE' && r.path === `/apps/${loss.app.id}/addons/${scratch.id}`))
    assert.equal(databaseAddon(loss.app).id, loss.database.id)
    assert.equal(loss.app.config.DATABASE_URL, url)
    assert.equal(await count(loss.database), loss.rowsAfter)
    assert.equal(patches(loss.app).length, 0, 'a drill neither enters maintenance nor scales')
  })

  it('drills a backup with --keep: restored into a new database of the same plan, verified, kept', async () => {
    const name = appName('recover-drill-backup')
    const loss = await seedDataLoss(sandbox(), name)
    sandbox().clearRequests()
    const result = await heroku(['db:recover', '--app', name, '--backup', loss.backup, '--drill', '--keep', '--confirm', name,
      '--verify', 'SELECT count(*) = 60 FROM customers'])
    assert.equal(result.code, 0, result.stderr)
    const [created] = posts(new RegExp(`^/apps/${name}/addons$`))
    assert.deepEqual(created.body.plan, {name: 'heroku-postgresql:standard-0'})
    assert.equal(created.body.config, undefined)
    const scratch = [...sandbox().state.addons.values()].find(a => a.name !== loss.database.name && a.app.id === loss.app.id)!
    assert.deepEqual(posts(/\/restores$/).map(r => r.path), [`/client/v11/databases/${scratch.id}/restores`])
    assert.equal(scratch.state, 'provisioned')
    assert.equal(await count(scratch), loss.rowsBefore)
    assert.equal(await count(loss.database), loss.rowsAfter)
    assert.match(result.stdout, /Drill done in/)
    assert.match(result.stdout, new RegExp(`heroku addons:destroy ${scratch.name} --app ${name} --confirm ${name}`))
  })
  it('--no-safety-backup and --no-maintenance skip both, with warnings', async () => {
    const name = appName('recover-bare')
    const loss = await seedDataLoss(sandbox(), name)
    sandbox().clearRequests()
    const result = await heroku(['db:recover', '--app', name, '--backup', loss.backup, '--confirm', name, '--no-safety-backup', '--no-maintenance'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(await count(loss.database), loss.rowsBefore)
    assert.deepEqual(posts(/\/backups$/), [])
    assert.deepEqual(patches(loss.app), [])
    assert.match(result.stdout, /Warning: --no-safety-backup: no backup of the current state is taken/)
    assert.match(result.stdout, /Warning: --no-maintenance/)
    assert.match(result.stdout, /Warning: worker dynos keep writing during the switch; --scale-down-workers stops them/)
  })
})
