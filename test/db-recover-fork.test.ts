import assert from 'node:assert/strict'
import {addCredential, addFollower, setSetting} from '../src/sandbox/heroku/extras.js'
import {setReachable} from '../src/sandbox/heroku/network.js'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import type {Addon, App} from '../src/sandbox/index.js'
import {heroku, Result} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// db:recover into a new database, beyond the plain point-in-time path: a database this machine cannot
// reach (refused before anything is written), Heroku Postgres Advanced (forked as `heroku data:pg:fork`
// does), and what the promote leaves behind (followers, credentials, settings).

const databaseAddon = (app: App): Addon => sandbox().state.addons.get(sandbox().state.attachmentsOf(app).find(a => a.name === 'DATABASE')!.addon.id)!
const count = async (addon: Addon) => Number((await sandbox().sql(addon, 'SELECT count(*) AS n FROM customers'))[0].n)
const posts = () => sandbox().requests.filter(r => r.method === 'POST' && !r.path.endsWith('/resolve')).map(r => `${r.method} ${r.path}`)

function assertNoSecrets(result: Result, ...addons: Addon[]) {
  const output = result.stdout + result.stderr
  for (const addon of addons) assert.ok(!output.includes(addon._database!.password), 'a database password was printed')
}

describe('heroku db:recover into a new database: reachability, Advanced, what stays behind', function () {
  this.timeout(90_000)

  it('refuses before any write when this machine cannot reach the database, --dry-run says the same, --skip-sequence-fence goes on and says what it costs', async () => {
    const name = appName('fence-reach')
    const loss = await seedDataLoss(sandbox(), name)
    setReachable(sandbox().state, loss.database, false)
    sandbox().clearRequests()
    const recover = (...extra: string[]) => heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, ...extra])

    const refused = await recover('--confirm', name)
    assert.equal(refused.code, 1, refused.stdout + refused.stderr)
    const reason = new RegExp(`DATABASE \\(${loss.database.name}\\) cannot be reached from this machine: .*ECONNREFUSED.*The sequence fence and the base of db:reconcile connect to it`)
    assert.match(refused.stderr, reason)
    assert.match(refused.stderr, /--skip-sequence-fence, --no-reconcile-base \(with --skip-sequence-fence, ids that \S+ handed out after \S+ may be reused by new rows/)
    assert.deepEqual(posts(), [], 'no POST: nothing was created')
    assert.deepEqual(sandbox().writes(name), [])

    const dry = await recover('--dry-run')
    assert.equal(dry.code, 1, 'the dry run refuses as the run does')
    assert.match(dry.stderr, reason)
    assert.match(dry.stdout, /✗|failed/i)

    const fenceless = await recover('--dry-run', '--skip-sequence-fence')
    assert.equal(fenceless.code, 1, 'the base of db:reconcile still connects')
    assert.match(fenceless.stderr, /The base of db:reconcile connects to it.*--no-reconcile-base/)
    assert.ok(!/--skip-sequence-fence/.test(fenceless.stderr.split('leave out what connects:')[1] ?? ''), 'only what is still needed is named')
    assert.deepEqual(posts(), [])

    const skipped = await recover('--skip-sequence-fence', '--no-reconcile-base', '--confirm', name)
    assert.equal(skipped.code, 0, skipped.stderr)
    assert.match(skipped.stdout + skipped.stderr, /--skip-sequence-fence: the new database's sequences are left as they were at \S+: ids that \S+ handed out after \S+ may be reused by new rows/)
    assert.doesNotMatch(skipped.stdout, /Advance every sequence/)
    const promoted = databaseAddon(loss.app)
    assert.notEqual(promoted.id, loss.database.id)
    assert.equal(promoted._unreachable, true, 'a rollback database is in the same network as its source')
    assert.equal(await count(promoted), loss.rowsBefore)
    assertNoSecrets(skipped, loss.database, promoted)
  })
  it('recovers an Advanced database as `heroku data:pg:fork --rollback-to` does (its level, the recovery time), verified, fenced and promoted with the same undo; says it has no pooling', async () => {
    const name = appName('fork-advanced')
    const loss = await seedDataLoss(sandbox(), name, {plan: 'heroku-postgresql:advanced'})
    loss.database._level = '8G-Performance'
    addCredential(sandbox(), loss.database, 'analyst')
    loss.database._pools = [{name: 'analytics', count: 2, level: '4G-Performance'}]
    setSetting(loss.database, 'log_min_duration_statement', 500)
    sandbox().clearRequests()
    const result = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--confirm', name, '--verify', 'SELECT count(*) = 60 FROM customers'])
    assert.equal(result.code, 0, result.stderr)

    const created = sandbox().requests.filter(r => r.method === 'POST' && r.path === `/apps/${name}/addons`)
    assert.equal(created.length, 1)
    assert.deepEqual(created[0].body.plan, {name: 'heroku-postgresql:advanced'})
    assert.deepEqual(created[0].body.config, {rollback: loss.database.name, 'recovery-time': loss.beforeLoss.slice(0, 19), level: '8G-Performance'})
    const promoted = databaseAddon(loss.app)
    assert.notEqual(promoted.id, loss.database.id)
    assert.equal(promoted._level, '8G-Performance')
    assert.equal(await count(promoted), loss.rowsBefore)
    assert.equal(await count(loss.database), loss.rowsAfter, 'the old database is left as it was')
    const paths = sandbox().requests.map(r => `${r.method} ${r.path}`)
    assert.ok(paths.includes(`GET /data/postgres/v1/${loss.database.id}/info`), 'the window and level come from the Advanced info')
    assert.ok(paths.includes(`GET /data/postgres/v1/${promoted.id}/wait_status`), 'the new database is waited for as data:pg:wait does')
    assert.deepEqual(paths.filter(p => p.includes('/client/v11/databases/') || p.includes('connection-pool')), [], 'no call meant for the other tiers')

    assert.match(result.stdout, /Fork DATABASE \(\S+\) as of \S+ into a new heroku-postgresql:advanced database at level 8G-Performance, as `heroku data:pg:fork --rollback-to` does/)
    assert.match(result.stdout, /Advance every sequence of the new database/)
    assert.match(result.stdout, /Advanced databases have no connection pooling/)
    assert.match(result.stdout, new RegExp(`To go back:\\n  heroku pg:promote ${loss.database.name} --app ${name}`))
    assert.match(result.stdout, new RegExp(`Follower pool analytics \\(2 × 4G-Performance\\) still follows ${loss.database.name} and serves its data.*\`heroku data:pg:update ${promoted.name} --app ${name}\``))
    assert.match(result.stdout, new RegExp(`Credential analyst exists on ${loss.database.name}, not on the new database: \`heroku data:pg:credentials:create ${promoted.name} --name analyst --app ${name}\`, then \`heroku pg:psql`))
    assert.match(result.stdout, new RegExp(`Setting log_min_duration_statement is 500 on ${loss.database.name} and 2000 on the new database: \`heroku data:pg:settings ${promoted.name} --set log_min_duration_statement:500 --app ${name}\``))
    assertNoSecrets(result, loss.database, promoted)
  })
  it('after the promote, says what did not come along (followers, credentials, settings) with the commands that restore each, in the closing message and --json', async () => {
    const name = appName('fork-left')
    const loss = await seedDataLoss(sandbox(), name)
    const follower = await addFollower(sandbox(), loss.database, loss.app, 'heroku-postgresql:standard-2')
    const followerAs = sandbox().state.attachmentsOf(loss.app).find(a => a.addon.id === follower.id)!.name
    addCredential(sandbox(), loss.database, 'reporting', {app: loss.app, as: 'REPORTING'})
    setSetting(loss.database, 'log_lock_waits', true)
    sandbox().clearRequests()
    const result = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--confirm', name, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const promoted = databaseAddon(loss.app)
    const left = JSON.parse(result.stdout).outcome.leftBehind
    assert.deepEqual(left.followers, [{name: follower.name, attachment: followerAs, plan: 'heroku-postgresql:standard-2',
      command: `heroku addons:create heroku-postgresql:standard-2 --follow DATABASE_URL --app ${name}, then \`heroku addons:destroy ${follower.name} --app ${name}\``}])
    assert.deepEqual(left.credentials, [{name: 'reporting', attachedAs: [{app: name, name: 'REPORTING'}], commands: [
      `heroku pg:credentials:create ${promoted.name} --name reporting --app ${name}`,
      `heroku addons:attach ${promoted.name} --credential reporting --as REPORTING --app ${name} --confirm ${name}`,
      `heroku pg:psql ${promoted.name} --app ${name}   # grant reporting what it had on the old database`,
    ]}])
    assert.deepEqual(left.settings, [{name: 'log_lock_waits', old: true, new: false, command: `heroku pg:settings:log-lock-waits ${promoted.name} true --app ${name}`}])
    assert.deepEqual(left.unread, [])
    assert.equal(follower._following, loss.database.id, 'nothing was repaired: the follower still follows the old database')
    assert.ok(!result.stdout.includes(loss.database._database!.password), 'the credentials\' passwords are not kept')
  })
})
