import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {seedBrokenApp} from '../src/sandbox/seeds/broken-app.js'
import type {App} from '../src/sandbox/index.js'
import {cliEnv, heroku, linkPlugin, Result, root} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// What `db:recover` refuses, and how it leaves the app when something goes wrong.

const count = async (app: App) => {
  const addon = sandbox().state.addonsOf(app)[0]
  return Number((await sandbox().sql(addon, 'SELECT count(*) AS n FROM customers'))[0].n)
}
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const workers = (app: App) => app.formation.find(p => p.type === 'worker')!.quantity

function assertRefused(result: Result, app: string, message: RegExp) {
  assert.equal(result.code, 1, result.stdout + result.stderr)
  assert.match(result.stderr, message)
  assert.deepEqual(sandbox().writes(app).map(r => `${r.method} ${r.path}`), [], 'nothing may be written')
}

describe('heroku db:recover refuses and recovers safely', function () {
  this.timeout(60_000)

  it('refuses a failed backup and an unknown backup without writing anything', async () => {
    const name = appName('recover-refuse-backup')
    const {database} = await seedBrokenApp(sandbox(), name)
    const failed = sandbox().capture(database!, {fails: true})
    await sandbox().settle()
    sandbox().clearRequests()
    const failedName = sandbox().state.transferName(failed)
    assertRefused(await heroku(['db:recover', '-a', name, '--backup', failedName, '--confirm', name]), name, new RegExp(`Backup ${failedName} did not complete successfully`))
    assertRefused(await heroku(['db:recover', '-a', name, '--backup', 'b999', '--confirm', name]), name, /Backup b999 not found/)
  })

  it('refuses times outside the rollback window, in the future, or without a time zone', async () => {
    const name = appName('recover-refuse-time')
    await seedBrokenApp(sandbox(), name)
    sandbox().clearRequests()
    assertRefused(await heroku(['db:recover', '-a', name, '--by', '5d', '--confirm', name]), name, /outside the rollback window/)
    const future = new Date(Date.now() + 3_600_000).toISOString()
    assertRefused(await heroku(['db:recover', '-a', name, '--to', future, '--confirm', name]), name, /is in the future/)
    assertRefused(await heroku(['db:recover', '-a', name, '--to', '2026-11-24 02:47', '--confirm', name]), name, /has no time zone/)
  })

  it('refuses point-in-time rollback on an essential plan and points to --backup', async () => {
    const name = appName('recover-essential')
    await seedBrokenApp(sandbox(), name, {plan: 'heroku-postgresql:essential-0'})
    sandbox().clearRequests()
    assertRefused(await heroku(['db:recover', '-a', name, '--by', '1h', '--confirm', name]), name, /essential-0 has no point-in-time rollback.*--backup latest/)
  })

  it('refuses a wrong confirmation, a missing one without a terminal, and no way back without a terminal', async () => {
    const name = appName('recover-confirm')
    await seedDataLoss(sandbox(), name)
    sandbox().clearRequests()
    assertRefused(await heroku(['db:recover', '-a', name, '--backup', 'latest', '--confirm', 'another-app']), name, /Confirmation "another-app" did not match/)
    assertRefused(await heroku(['db:recover', '-a', name, '--backup', 'latest']), name, new RegExp(`needs a terminal; pass --confirm ${name}`))
    assertRefused(await heroku(['db:recover', '-a', name, '--confirm', name]), name, /Choosing how to recover needs a terminal; pass --backup ID, --to TIME/)
    assertRefused(await heroku(['db:recover', 'HEROKU_POSTGRESQL_NOPE', '-a', name, '--backup', 'latest', '--confirm', name]), name, /Unknown database: HEROKU_POSTGRESQL_NOPE\. Valid options are: DATABASE/)
  })

  it('--dry-run runs every check and writes nothing; --json prints one document', async () => {
    const name = appName('recover-dry')
    const loss = await seedDataLoss(sandbox(), name)
    sandbox().clearRequests()
    const backup = await heroku(['db:recover', '-a', name, '--backup', 'latest', '--dry-run', '--json', '--scale-down-workers'])
    assert.equal(backup.code, 0, backup.stderr)
    const document = JSON.parse(backup.stdout)
    assert.equal(document.dryRun, true)
    assert.equal(document.plan.backup.name, loss.backup)
    assert.deepEqual(document.plan.workers, [{type: 'worker', quantity: 1}])
    assert.ok(document.plan.checks.every((c: {outcome: string}) => c.outcome === 'passed'))
    const human = await heroku(['db:recover', '-a', name, '--backup', 'latest', '--dry-run'])
    assert.match(human.stdout, new RegExp(`from backup ${loss.backup}, finished \\S+ \\(\\d+s ago\\)`))
    assert.match(human.stdout, /Dry run: nothing was changed/)
    const pitr = await heroku(['db:recover', '-a', name, '--by', '2h', '--dry-run'])
    assert.equal(pitr.code, 0, pitr.stderr)
    assert.match(pitr.stdout, /\d\. Promote the new database to DATABASE_URL, as `heroku pg:promote` does/)
    assert.match(pitr.stdout, /To recover exactly this: heroku db:recover DATABASE_URL --app \S+ --to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z --confirm/)
    assert.deepEqual(sandbox().writes(name), [])
    assert.equal(await count(loss.app), loss.rowsAfter)
  })

  it('--verify failing on a point-in-time rollback stops before promotion and says where things stand', async () => {
    const name = appName('recover-verify')
    const loss = await seedDataLoss(sandbox(), name)
    const url = loss.app.config.DATABASE_URL
    sandbox().clearRequests()
    const result = await heroku(['db:recover', '-a', name, '--to', loss.beforeLoss, '--confirm', name, '--verify', 'SELECT count(*) = 999 FROM customers'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^Error: --verify failed on postgresql-[a-z]+-\d+: the query returned false\.$/m)
    assert.match(result.stderr, /- Promote the new database to DATABASE_URL.*: not run/)
    assert.match(result.stderr, /To undo what was done: `heroku addons:destroy postgresql-[a-z]+-\d+ --app recover-verify-\S+ --confirm/)
    assert.equal(loss.app.config.DATABASE_URL, url)
    assert.deepEqual(sandbox().requests.filter(r => r.path === '/addon-attachments' || r.method === 'PATCH'), [])
  })

  it('gives up after --wait-timeout and says the rollback database is attached but not promoted', async () => {
    const name = appName('recover-timeout')
    const loss = await seedDataLoss(sandbox(), name)
    const url = loss.app.config.DATABASE_URL
    const delays = {...sandbox().delays}
    sandbox().delays.provision = 4000
    try {
      const result = await heroku(['db:recover', '-a', name, '--by', '1m', '--confirm', name, '--wait-timeout', '1s'])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /^Error: Timed out after 1s waiting for postgresql-[a-z]+-\d+ to be provisioned\.$/m)
      assert.match(result.stderr, /✗ Create a new .*: failed after its change was made/)
      assert.match(result.stderr, /- Promote the new database to DATABASE_URL.*: not run/)
      assert.match(result.stderr, /To undo what was done: `heroku addons:destroy postgresql-[a-z]+-\d+ --app recover-timeout-/)
    } finally {
      sandbox().delays = delays
    }
    assert.equal(loss.app.config.DATABASE_URL, url)
    await sandbox().settle()
  })

  it('a failure mid-flow turns maintenance off and scales the workers back', async () => {
    const name = appName('recover-fail')
    const loss = await seedDataLoss(sandbox(), name)
    const backup = sandbox().state.transfers.find(t => sandbox().state.transferName(t) === loss.backup)!
    backup._snapshot = 'vanished_snapshot'
    sandbox().clearRequests()
    const result = await heroku(['db:recover', '-a', name, '--backup', loss.backup, '--confirm', name, '--scale-down-workers'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^Error: Restore r\d+ failed: `heroku pg:backups:info r\d+ --app recover-fail-\S+` shows its log\.$/m)
    assert.match(result.stderr, /To undo what was done: `heroku pg:backups:restore b\d+ DATABASE_URL --app recover-fail-/)
    assert.match(result.stderr, /↺ Turn maintenance mode on: undone/)
    assert.match(result.stderr, /↺ Scale worker=1 to 0, .*: undone \(scale back to worker=1; read back\)/)
    assert.equal(loss.app.maintenance, false)
    assert.equal(workers(loss.app), 1)
  })

  it('Ctrl-C during the switch turns maintenance off and scales the workers back', async () => {
    const name = appName('recover-sigint')
    const loss = await seedDataLoss(sandbox(), name)
    const delays = {...sandbox().delays}
    sandbox().delays.transfer = 5000
    try {
      const result = await heroku(['db:recover', '-a', name, '--backup', loss.backup, '--confirm', name, '--scale-down-workers'], {
        signalAfter: {when: () => loss.app.maintenance && workers(loss.app) === 0, signal: 'SIGINT'},
      })
      assert.equal(result.code, 130, result.stderr)
      assert.match(result.stderr, /Stopping at the next step; what was done will be put back, or listed with the command that undoes it\./)
      assert.match(result.stderr, /- Restore b\d+ into DATABASE .*: not run/)
      assert.match(result.stderr, /↺ Turn maintenance mode on: undone/)
      assert.match(result.stderr, /↺ Scale worker=1 to 0, .*: undone/)
    } finally {
      sandbox().delays = delays
    }
    assert.equal(loss.app.maintenance, false)
    assert.equal(workers(loss.app), 1)
    await sandbox().settle()
  })

  it('prints no secrets, also with DEBUG=*', async () => {
    const name = appName('recover-secrets')
    const loss = await seedDataLoss(sandbox(), name)
    const result = await heroku(['db:recover', '-a', name, '--to', loss.beforeLoss, '--confirm', name, '--verify', 'SELECT count(*) > 0 FROM customers'], {env: {DEBUG: '*'}})
    assert.equal(result.code, 0, result.stderr.slice(-2000))
    const promoted = sandbox().state.addonsOf(loss.app).map(a => a._database?.password).filter(Boolean) as string[]
    assert.ok(promoted.length >= 2)
    const output = result.stdout + result.stderr
    for (const secret of [...promoted, sandbox().apiKey]) assert.ok(!output.includes(secret), 'a secret was printed')
  })
  it('in a terminal, explains both ways back, lets the user choose, and asks for the app name', async () => {
    const name = appName('recover-guided')
    const loss = await seedDataLoss(sandbox(), name)
    await linkPlugin()
    // `script` gives the CLI a pseudo-terminal, as a person at a keyboard has.
    const child = spawn('script', ['-qfec', `${join(root, 'node_modules', '.bin', 'heroku')} db:recover --app ${name}`, '/dev/null'], {env: cliEnv(), cwd: tmpdir()})
    let screen = ''
    child.stdout.on('data', chunk => (screen += chunk))
    const exited = new Promise<number | null>(resolve => child.on('close', resolve))
    const waitFor = async (text: RegExp) => {
      for (let i = 0; i < 400 && !text.test(screen); i++) await sleep(50)
      assert.match(screen, text)
    }
    try {
      await waitFor(/How do you want to recover\?/)
      await waitFor(/navigate/)
      const flat = screen.replace(/\s+/g, ' ')
      assert.match(flat, /Point-in-time rollback reaches back to/)
      assert.match(flat, new RegExp(`Restore backup ${loss.backup} \\(\\d+s old\\): loses everything written since`))
      assert.match(flat, /Roll back to one minute before v52 .* into a new database: loses everything since then/)
      child.stdin.write('\r')
      await waitFor(/To proceed, type/)
      child.stdin.write(`${name}\r`)
      assert.equal(await exited, 0, screen.slice(-2000))
    } finally {
      child.kill()
    }
    assert.equal(await count(loss.app), loss.rowsBefore)
  })
})
