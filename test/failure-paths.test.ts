import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {seedBrokenApp} from '../src/sandbox/seeds/broken-app.js'
import {heroku} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// The failure paths found by trying the commands as a careful SRE would, one test each.

const posts = (path: string) => sandbox().requests.filter(r => r.method === 'POST' && r.path === path)

describe('failure paths', function () {
  this.timeout(90_000)
  afterEach(() => sandbox().clearFaults())

  it('a rollback request that hangs after the API applied it: the request gives up within --wait-timeout and the release is read back', async () => {
    const name = appName('fp-hang')
    const {app} = await seedBrokenApp(sandbox(), name, {releaseCommand: null})
    sandbox().inject({app: name, method: 'POST', path: `/apps/${name}/releases`, kind: 'hang', when: 'after'})
    const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--wait-timeout', '3s', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    assert.match(document.run.steps.find((s: {id: string}) => s.id === 'rollback').note, /answer was lost; read back: it happened/)
    assert.equal(document.newRelease.version, 53)
    assert.equal(app.releases.filter(r => r.description === 'Rollback to v50').length, 1)
    assert.equal(posts(`/apps/${name}/releases`).length, 1)
  })

  it('refuses while a newer release is still in its release phase, and waits for it with --wait-for-pending', async () => {
    const name = appName('fp-pending')
    const {app} = await seedBrokenApp(sandbox(), name, {releaseCommand: 'npx prisma migrate deploy'})
    const pending = sandbox().state.addRelease(app, {description: 'Deploy 0ddba11', status: 'pending'})
    const refused = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /^Error: v53 \(Deploy 0ddba11\) is still in the release phase: when it finishes it becomes current, over a rollback made now\. Wait for it .*or pass --wait-for-pending\.$/m)
    assert.deepEqual(sandbox().writes(name), [])

    setTimeout(() => {
      pending.status = 'succeeded'
      sandbox().state.makeCurrent(app, pending)
    }, 1500)
    const waited = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--wait-for-pending', '--json'])
    assert.equal(waited.code, 0, waited.stderr)
    const document = JSON.parse(waited.stdout)
    assert.deepEqual(document.releasesUndone.map((r: {version: number}) => r.version), [53, 52, 51])
    assert.equal(document.newRelease.version, 54)
    assert.equal(document.undo, `heroku safe-rollback v53 --app ${name}`)
  })

  it('with --json, a flag error and a failing read are still one document on stdout', async () => {
    const name = appName('fp-json')
    await seedBrokenApp(sandbox(), name)
    const flag = await heroku(['safe-rollback', 'v50', '--app', name, '--json', '--no-such-flag'])
    assert.equal(flag.code, 2)
    assert.match(JSON.parse(flag.stdout).error.message, /Nonexistent flag: --no-such-flag/)
    sandbox().inject({app: name, method: 'GET', path: `/apps/${name}/formation`, times: Infinity, kind: 'status', status: 503})
    const read = await heroku(['safe-rollback', 'v50', '--app', name, '--json', '--dry-run'])
    assert.equal(read.code, 1)
    const document = JSON.parse(read.stdout)
    assert.equal(document.error.status, 503)
    assert.equal(document.error.state, 'Nothing was changed.')
    assert.ok(sandbox().requests.filter(r => r.path === `/apps/${name}/formation`).length >= 4, 'the read was tried again before giving up')
  })

  it('--dry-run suggests the exact command: the backup by name and the time to the second, quoted for the shell', async () => {
    const name = appName('fp-suggest')
    const loss = await seedDataLoss(sandbox(), name)
    const human = await heroku(['db:recover', '--app', name, '--by', '90m', '--verify', 'SELECT count(*) > 0 FROM customers', '--dry-run'])
    assert.equal(human.code, 0, human.stderr)
    const at = /as of (\S+): 90m ago/.exec(human.stdout)![1]
    const line = /To recover exactly this: (.*)$/m.exec(human.stdout)![1]
    // What a shell makes of the line: the arguments, one per line.
    const parsed = execFileSync('bash', ['-c', `printf '%s\\n' ${line}`], {encoding: 'utf8'}).trim().split('\n')
    assert.deepEqual(parsed, ['heroku', 'db:recover', 'DATABASE_URL', '--app', name, '--to', at, '--verify', 'SELECT count(*) > 0 FROM customers', '--confirm', name])
    const backup = await heroku(['db:recover', '--app', name, '--backup', 'latest', '--dry-run'])
    assert.match(backup.stdout, new RegExp(`To recover exactly this: heroku db:recover DATABASE_URL --app ${name} --backup ${loss.backup} --confirm ${name}`))
  })

  it('when maintenance mode cannot be turned off, the final state says first, in words, that the app is still in maintenance mode', async () => {
    const name = appName('fp-maint')
    const {app} = await seedBrokenApp(sandbox(), name, {releaseCommand: null})
    // The first PATCH (maintenance on) passes; every later one (maintenance off) fails.
    const offFails = () => sandbox().inject({app: name, method: 'PATCH', path: `/apps/${name}`, nth: 2, times: Infinity, kind: 'status', status: 503})
    offFails()
    const text = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--maintenance'])
    assert.equal(text.code, 1)
    const lines = text.stderr.split('\n')
    const headline = lines.findIndex(line => line.startsWith('Error: '))
    assert.equal(lines[headline + 1], `${name} is still in maintenance mode: \`heroku maintenance:off --app ${name}\` turns it off.`)
    assert.equal(app.maintenance, true)

    sandbox().clearFaults()
    app.maintenance = false
    offFails()
    const json = await heroku(['safe-rollback', 'v51', '--app', name, '--confirm', name, '--maintenance', '--json'])
    assert.equal(json.code, 1)
    const document = JSON.parse(json.stdout)
    assert.equal(document.run.stillInMaintenance, true)
    assert.match(document.error.state, new RegExp(`^${name} is still in maintenance mode`))
    assert.equal(app.maintenance, true)
  })

  it('captures a backup only after the confirmation: a wrong --confirm captures nothing', async () => {
    const name = appName('fp-capture')
    const {database} = await seedBrokenApp(sandbox(), name, {backupAgeMs: null})
    const wrong = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', 'another-app', '--capture-backup'])
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /^Error: Confirmation "another-app" did not match/m)
    assert.deepEqual(posts(`/client/v11/databases/${database!.id}/backups`), [])
    assert.deepEqual(sandbox().writes(name), [])
  })
})
