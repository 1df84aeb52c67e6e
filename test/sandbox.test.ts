import assert from 'node:assert/strict'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {seedBrokenApp} from '../src/sandbox/seeds/broken-app.js'
import {run} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// The sandbox is only useful if the official CLI's own commands work against it unchanged.
describe('the sandbox, seen by the real heroku CLI', () => {
  it('lists releases newest first, as `heroku releases` prints them', async () => {
    const name = appName('releases')
    await seedBrokenApp(sandbox(), name)
    const result = await run(['releases', '-a', name])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /v52\s+Set AWS_S3_KEY config vars\s+shanley@example\.com/)
    assert.match(result.stdout, /v50\s+Deploy 7c35f77\s+katie@example\.com/)
    const range = sandbox().requests.find(r => r.path === `/apps/${name}/releases`)?.headers.range
    assert.equal(range, 'version ..; max=15, order=desc')
  })

  it('rolls back with `heroku rollback`, creating a new release with the old slug and config', async () => {
    const name = appName('rollback')
    const {app} = await seedBrokenApp(sandbox(), name, {releaseCommand: null})
    const result = await run(['rollback', 'v50', '-a', name])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /done, v53/)
    const latest = app.releases.at(-1)!
    assert.equal(latest.description, 'Rollback to v50')
    assert.equal(latest.slug?.id, app.releases[49].slug?.id)
    assert.equal(app.config.AWS_S3_KEY, undefined)
  })

  it('lists backups with Heroku names and shows database info through the Data API', async () => {
    const name = appName('pg')
    await seedBrokenApp(sandbox(), name)
    const backups = await run(['pg:backups', '-a', name])
    assert.equal(backups.code, 0, backups.stderr)
    assert.match(backups.stdout, /a\d{3}\s/)
    assert.match(backups.stdout, /Completed/)
    const info = await run(['pg:info', '-a', name])
    assert.equal(info.code, 0, info.stderr)
    assert.match(info.stdout, /Plan:\s+Standard 0/)
    assert.match(info.stdout, /Rollback:\s+earliest from/)
  })

  it('lists the apps with `heroku apps` and shows one with `heroku apps:info`: name, stack, region, add-ons', async () => {
    const name = appName('apps')
    const other = appName('apps-other')
    const {database} = await seedBrokenApp(sandbox(), name)
    await seedBrokenApp(sandbox(), other, {withDatabase: false})
    const apps = await run(['apps'])
    assert.equal(apps.code, 0, apps.stderr)
    assert.match(apps.stdout, /=== sandbox@example\.com Apps/)
    for (const app of [name, other]) assert.match(apps.stdout, new RegExp(`^${app}$`, 'm'))
    const all = await run(['apps', '--all', '--json'])
    assert.equal(all.code, 0, all.stderr)
    assert.ok(JSON.parse(all.stdout).some((app: {name: string}) => app.name === name))
    const info = await run(['apps:info', '-a', name])
    assert.equal(info.code, 0, info.stderr)
    assert.match(info.stdout, new RegExp(`=== ${name}`))
    assert.match(info.stdout, /Stack:\s+heroku-24/)
    assert.match(info.stdout, /Region:\s+us/)
    assert.match(info.stdout, /Addons:\s+heroku-postgresql:standard-0/)
    assert.match(info.stdout, /Owner:\s+sandbox@example\.com/)
    assert.match(info.stdout, /Dynos:\s+web: 2, worker: 1/)
    assert.doesNotMatch(info.stdout, new RegExp(database!._database!.password))
  })

  it('streams an app\'s logs to `heroku logs --tail`: the router\'s lines of its traffic, the body the CLI sends on Cedar and on Fir', async function () {
    this.timeout(60_000)
    for (const generation of ['cedar', 'fir'] as const) {
      const name = appName(`logs-${generation}`)
      const {app} = await seedBrokenApp(sandbox(), name, {withDatabase: false})
      app.generation.name = generation
      // v52 runs the broken deploy's code: 40% of its requests fail.
      const result = await run(['logs', '--tail', '--source', 'heroku', '-a', name], {signalAfter: {when: ({stdout}) => (stdout.match(/heroku\[router\]/g) ?? []).length >= 10, signal: 'SIGINT'}})
      const body = sandbox().requests.find(r => r.method === 'POST' && r.path === `/apps/${name}/log-sessions`)?.body
      assert.deepEqual(body, generation === 'fir' ? {source: 'heroku'} : {source: 'heroku', lines: 100, tail: true})
      assert.match(result.stdout, /heroku\[router\]: at=info method=GET path="\/\S*" host=\S+ request_id=\S+ fwd="[\d.]+" dyno=web\S+ connect=0ms service=\d+ms status=200 bytes=\d+ protocol=/)
      assert.match(result.stdout, /heroku\[router\]: at=info .* status=500 /)
      assert.doesNotMatch(result.stdout, /app\[web/, '--source heroku: only Heroku\'s own lines')
      if (generation === 'fir') assert.match(result.stdout, /dyno=web-[0-9a-f]{10}-[0-9a-z]{5} /)
    }
  })

  it('answers a wrong API key with 401 and an {id, message} body', async () => {
    const result = await run(['releases', '-a', appName()], {env: {HEROKU_API_KEY: 'wrong'}})
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /invalid/i)
  })
})

// Recovery as the official CLI does it by hand, on real data: what `db:recover` automates.
describe('the sandbox recovers data with the real heroku CLI', function () {
  this.timeout(60_000)
  const count = async (addon: Parameters<ReturnType<typeof sandbox>['sql']>[0]) =>
    Number((await sandbox().sql(addon, 'SELECT count(*) AS n FROM customers'))[0].n)

  it('restores a backup with `heroku pg:backups:restore`', async () => {
    const name = appName('pg-restore')
    const loss = await seedDataLoss(sandbox(), name)
    const result = await run(['pg:backups:restore', loss.backup, 'DATABASE_URL', '-a', name, '--confirm', name])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(await count(loss.database), loss.rowsBefore)
  })

  it('rolls back to a point in time with `addons:create --rollback`, `pg:wait` and `pg:promote`', async () => {
    const name = appName('pg-pitr')
    const loss = await seedDataLoss(sandbox(), name)
    const to = loss.beforeLoss.slice(0, 19).replace('T', ' ') + '+00'
    const created = await run(['addons:create', 'heroku-postgresql:standard-0', '-a', name, '--', '--rollback', 'DATABASE_URL', '--to', to])
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stdout, /being created in the background/)
    const rollback = sandbox().state.addonsOf(loss.app).find(a => a.id !== loss.database.id)!
    assert.equal(rollback.state, 'provisioning')
    const attachment = sandbox().state.attachmentsOf(loss.app).find(a => a.addon.id === rollback.id)!
    const waited = await run(['pg:wait', attachment.name, '-a', name, '--wait-interval', '1'])
    assert.equal(waited.code, 0, waited.stderr)
    assert.equal(rollback.state, 'provisioned')
    assert.equal(await count(rollback), loss.rowsBefore)
    const promoted = await run(['pg:promote', rollback.name, '-a', name])
    assert.equal(promoted.code, 0, promoted.stderr)
    assert.equal(loss.app.config.DATABASE_URL, rollback._database!.url)
    const old = sandbox().state.attachmentsOf(loss.app).filter(a => a.addon.id === loss.database.id).map(a => a.name)
    assert.deepEqual(old.length, 1)
    assert.match(old[0], /^HEROKU_POSTGRESQL_[A-Z]+$/)
  })

  it('refuses a point-in-time rollback outside the window, in the future, and on essential plans', async () => {
    const name = appName('pg-pitr-refused')
    await seedBrokenApp(sandbox(), name)
    const old = await run(['addons:create', 'heroku-postgresql:standard-0', '-a', name, '--', '--rollback', 'DATABASE_URL', '--by', '5 days'])
    assert.match(old.stderr, /before the earliest point/)
    const future = new Date(Date.now() + 3_600_000).toISOString().slice(0, 16).replace('T', ' ') + '+00'
    const later = await run(['addons:create', 'heroku-postgresql:standard-0', '-a', name, '--', '--rollback', 'DATABASE_URL', '--to', future])
    assert.match(later.stderr, /in the future/)
    const essential = appName('pg-pitr-essential')
    await seedBrokenApp(sandbox(), essential, {plan: 'heroku-postgresql:essential-0'})
    const refused = await run(['addons:create', 'heroku-postgresql:essential-0', '-a', essential, '--', '--rollback', 'DATABASE_URL', '--by', '1 hour'])
    assert.match(refused.stderr, /do not support rollback/)
    for (const result of [old, later, refused]) assert.notEqual(result.code, 0)
  })
})
