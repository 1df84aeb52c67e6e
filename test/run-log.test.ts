import assert from 'node:assert/strict'
import {appendFileSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {seedBrokenApp} from '../src/sandbox/seeds/broken-app.js'
import {cliEnv, heroku} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'
import {assertNoSecrets, secretsOf} from './support/secrets.js'

// The run log survives the process: a run killed half-way, or whose put-back failed, is listed by
// `recovery:log`, announced by the next command on the app, and finished by `recovery:resume`.

const afterRollbackPost = (name: string) => {
  const {requests} = sandbox()
  const at = requests.findIndex(r => r.method === 'POST' && r.path === `/apps/${name}/releases`)
  return at === -1 ? [] : requests.slice(at + 1).filter(r => r.path.startsWith(`/apps/${name}/`))
}

const workers = (app: {formation: {type: string, quantity: number}[]}) => app.formation.find(p => p.type === 'worker')!.quantity

const runFile = (app: string, run: string) => join(cliEnv().XDG_DATA_HOME!, 'heroku', 'safe-rollback', 'runs', app, `${run}.jsonl`)

// A run log written by hand (a synced home folder, an edit): one step 'maintenance-on', applied, whose
// undo is `action` under whatever title the log claims; the run then failed.
function forgeRun(app: string, run: string, command: string, action: Record<string, unknown>, title = 'Turn maintenance mode off') {
  const file = runFile(app, run)
  mkdirSync(join(file, '..'), {recursive: true})
  const at = new Date(Date.now() - 60_000).toISOString()
  const events = [
    {at, event: 'begin', run, command, app, what: 'roll back to v50', who: 'someone@somewhere', host: 'elsewhere', pid: 1, steps: [{id: 'maintenance-on', title: 'Turn maintenance mode on'}]},
    {at, event: 'started', step: 'maintenance-on'},
    {at, event: 'applied', step: 'maintenance-on', undo: {title, command: `heroku maintenance:off --app ${app}`, action, automatic: true}},
    {at, event: 'done', step: 'maintenance-on'},
    {at, event: 'end', status: 'failed', message: 'The rollback failed.'},
  ]
  writeFileSync(file, events.map(e => JSON.stringify(e)).join('\n') + '\n')
  return file
}

// safe-rollback --maintenance on a freshly seeded app, killed (SIGKILL) once the rollback's answer was
// taken in: at the first request after its POST (the release phase wait). `settle`: wait for the release
// phase to end at the sandbox before going on.
async function killedAfterRollbackCall(name: string, {settle}: {settle: boolean}) {
  const seeded = await seedBrokenApp(sandbox(), name, {releaseCommand: 'npx prisma migrate deploy'})
  const delays = {...sandbox().delays}
  sandbox().delays.releasePhase = 4000
  try {
    const killed = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--maintenance'], {
      signalAfter: {when: () => afterRollbackPost(name).length > 0, signal: 'SIGKILL'},
    })
    assert.equal(killed.code, 137)
  } finally {
    sandbox().delays = delays
    if (settle) await sandbox().settle()
  }
  assert.equal(seeded.app.maintenance, true, 'the killed process left maintenance on')
  return seeded
}

const writesTo = (name: string, since: number) => sandbox().requests.slice(since).filter(r => r.method !== 'GET' && r.path.includes(name))

describe('the run log, recovery:log and recovery:resume', function () {
  this.timeout(90_000)
  afterEach(() => sandbox().clearFaults())

  it('a run killed mid-way (SIGKILL) is listed as died, announced by the next command, and finished by recovery:resume', async () => {
    const name = appName('log-kill')
    const {app, database} = await killedAfterRollbackCall(name, {settle: true})

    const log = await heroku(['recovery:log', '--app', name, '--json'])
    assert.equal(log.code, 0, log.stderr)
    const [run] = JSON.parse(log.stdout)
    assert.equal(run.status, 'died')
    assert.equal(run.command, 'safe-rollback')
    assert.equal(run.what, 'roll back to v50')
    assert.deepEqual(run.unfinished, ['Turn maintenance mode off'])
    assert.deepEqual(run.finish, [`heroku recovery:resume ${run.id}`, `heroku maintenance:off --app ${name}`])
    assert.deepEqual(run.steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['maintenance-on:done', 'rollback:started', 'maintenance-off:not run'])
    assert.deepEqual(run.undo, [`heroku safe-rollback v52 --app ${name}`])

    const human = await heroku(['recovery:log', '--app', name])
    assert.match(human.stdout, new RegExp(`${run.id} .* safe-rollback on ${name}: roll back to v50  \\[died\\]`))
    assert.match(human.stdout, new RegExp(`Finish it: heroku recovery:resume ${run.id}`))
    const one = await heroku(['recovery:log', run.id, '--json'])
    assert.equal(one.code, 0, one.stderr)
    assert.deepEqual(JSON.parse(one.stdout), run)
    const unknown = await heroku(['recovery:log', '991231-235959-0000'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /No run 991231-235959-0000 on this machine/)

    const next = await heroku(['safe-rollback', 'v50', '--app', name, '--dry-run'])
    // oclif wraps warnings at the terminal width.
    assert.match(next.stderr.replace(/\s*\n ›\s+/g, ' '), new RegExp(`The last run on ${name} \\(roll back to v50, .*run ${run.id}\\) did not finish: turn maintenance mode off is still due\\. Finish it with \`heroku recovery:resume ${run.id}\``))

    const refused = await heroku(['recovery:resume', run.id])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /needs a terminal; pass --confirm/)
    assert.equal(app.maintenance, true)

    const resumed = await heroku(['recovery:resume', run.id, '--confirm', name])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.equal(app.maintenance, false)
    const after = JSON.parse((await heroku(['recovery:log', '--app', name, '--json'])).stdout)
    const finished = after.find((r: {id: string}) => r.id === run.id)
    assert.equal(finished.status, 'finished')
    assert.deepEqual(finished.unfinished, [])
    assert.equal(finished.steps[0].state, 'undone', 'the run reads as it now is: its maintenance mode was put back by the resume')
    assert.equal(after[0].what, `finish run ${run.id}`)
    assertNoSecrets(log, secretsOf(app, [database]))
  })

  it('recovery:resume --continue finishes a run killed after the rollback call: the release waited for, maintenance off, read back, nothing sent twice', async () => {
    const name = appName('log-continue')
    const {app} = await killedAfterRollbackCall(name, {settle: false})
    const [run] = JSON.parse((await heroku(['recovery:log', '--app', name, '--json'])).stdout)
    assert.equal(run.status, 'died')

    const dry = await heroku(['recovery:resume', run.id, '--continue', '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /Steps to go on with:\n {2}1\. Roll back to v50 and wait for the release phase and the dynos \(undo: `heroku safe-rollback v52 --app \S+`\)\n {2}2\. Turn maintenance mode off\n/)
    assert.equal(app.maintenance, true, 'a dry run changes nothing')

    const before = sandbox().requests.length
    const resumed = await heroku(['recovery:resume', run.id, '--continue', '--confirm', name])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.match(resumed.stdout, new RegExp(`Run ${run.id} is finished: every step is done \\(roll back to v50\\)`))
    const writes = sandbox().requests.slice(before).filter(r => r.method !== 'GET')
    assert.deepEqual(writes.map(r => `${r.method} ${r.path}`), [`PATCH /apps/${name}`], 'the rollback is not sent again; only maintenance goes off')
    assert.equal(app.maintenance, false)
    const current = app.releases.filter(r => r.current)
    assert.equal(current.length, 1)
    assert.equal(current[0].description, 'Rollback to v50')
    assert.equal(current[0].status, 'succeeded')
    assert.equal(app.releases.filter(r => r.description === 'Rollback to v50').length, 1)
    const after = JSON.parse((await heroku(['recovery:log', run.id, '--json'])).stdout)
    assert.equal(after.status, 'succeeded')
    assert.deepEqual(after.steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['maintenance-on:done', 'rollback:done', 'maintenance-off:done'])
    assert.deepEqual(after.unfinished, [])
    const again = await heroku(['recovery:resume', run.id, '--continue', '--confirm', name])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /Nothing to finish/)
  })

  it('a put-back that keeps failing: non-zero exit, maintenance reported on with its command, and resume puts it back later', async () => {
    const name = appName('log-putback')
    const {app} = await seedBrokenApp(sandbox(), name, {releaseCommand: null})
    const failing = sandbox().inject({app: name, method: 'PATCH', path: `/apps/${name}`, nth: 2, times: Infinity, kind: 'status', status: 503})
    const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--maintenance', '--json'])
    failing.remove()
    assert.equal(result.code, 1)
    assert.equal(app.maintenance, true)
    const document = JSON.parse(result.stdout)
    assert.match(document.maintenance, /^left on: `heroku maintenance:off --app /)
    assert.deepEqual(document.run.steps.map((s: {state: string}) => s.state), ['undo failed', 'done', 'failed'])
    assert.equal(document.run.finish[1], `heroku maintenance:off --app ${name}`)
    assert.equal(document.newRelease.version, 53, 'the rollback itself happened and is reported')
    const shown = await heroku(['recovery:log', document.run.id])
    assert.match(shown.stdout, /✗ Turn maintenance mode on: done, but NOT undone: turn maintenance mode off failed \(/)
    const resumed = await heroku(['recovery:resume', document.run.id, '--confirm', name])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.equal(app.maintenance, false)
  })

  it('db:recover whose scale-back keeps failing says the workers are at 0 and how to scale them back', async () => {
    const name = appName('log-scale')
    const loss = await seedDataLoss(sandbox(), name)
    const failing = sandbox().inject({app: name, method: 'PATCH', path: `/apps/${name}/formation`, nth: 2, times: Infinity, kind: 'status', status: 503})
    const result = await heroku(['db:recover', '--app', name, '--backup', loss.backup, '--confirm', name, '--scale-down-workers'])
    failing.remove()
    assert.equal(result.code, 1)
    assert.equal(workers(loss.app), 0)
    assert.equal(loss.app.maintenance, false, 'what could be put back was')
    assert.match(result.stderr, /✗ Scale worker=1 to 0, .*: NOT undone: scale back to worker=1 failed \(.*\); run `heroku ps:scale worker=1 --app /)
    assert.match(result.stderr, /To finish what was left:\n {2}heroku recovery:resume \S+\n {2}heroku ps:scale worker=1 --app /)
  })

  describe('a run log is not trusted blindly', () => {
    it('refuses an edited log whose "maintenance off" destroys another app\'s database: nothing is written, the database stays', async () => {
      const name = appName('forged')
      const victim = appName('victim')
      const {app} = await seedBrokenApp(sandbox(), name, {releaseCommand: null})
      const other = sandbox().createApp(victim)
      const database = await sandbox().createPostgres(other)
      const run = '261206-120000-f0f0'
      forgeRun(name, run, 'safe-rollback', {kind: 'destroy-addon', app: victim, appId: other.id, addonId: database.id, name: database.name})
      const before = sandbox().requests.length
      const resumed = await heroku(['recovery:resume', run, '--confirm', name])
      assert.equal(resumed.code, 1)
      assert.match(resumed.stderr, new RegExp(`Run ${run}'s log asks for what the run cannot have done \\(safe-rollback never records destroy-addon\\): nothing was changed`))
      assert.doesNotMatch(resumed.stdout + resumed.stderr, /Turn maintenance mode off\.\.\./, 'the log\'s title is not shown as what would be done')
      assert.equal(database.state, 'provisioned')
      assert.deepEqual(writesTo(victim, before), [])
      assert.deepEqual(writesTo(name, before), [])
      assert.equal(app.maintenance, false)
    })

    it('refuses a db:recover log that would destroy a database the run did not create, or one an app runs on, or act on another app', async () => {
      const name = appName('forged-db')
      const {app, database: seeded} = await seedBrokenApp(sandbox(), name, {releaseCommand: null})
      const database = seeded!
      const cases: [string, Record<string, unknown>, RegExp][] = [
        ['261206-120001-a1a1', {kind: 'destroy-addon', app: name, appId: app.id, addonId: database.id, name: database.name}, /was not created by this run|is .*'s DATABASE/],
        ['261206-120002-a2a2', {kind: 'maintenance', app: 'someone-else', on: false}, /it is for someone-else, and the run was on/],
        ['261206-120003-a3a3', {kind: 'drop-everything', app: name}, /"?drop-everything"? is not an action this plugin knows/],
      ]
      for (const [run, action, reason] of cases) {
        forgeRun(name, run, 'db:recover', action)
        const before = sandbox().requests.length
        const resumed = await heroku(['recovery:resume', run, '--confirm', name])
        assert.equal(resumed.code, 1, `${run}: ${resumed.stderr}`)
        assert.match(resumed.stderr, reason)
        assert.match(resumed.stderr, /nothing was changed/)
        assert.deepEqual(writesTo(name, before), [], `${run} wrote`)
      }
      assert.equal(database.state, 'provisioned')
    })

    it('shows the put-back with its exact command, from the action, before asking', async () => {
      const name = appName('forged-title')
      const {app} = await seedBrokenApp(sandbox(), name, {releaseCommand: null})
      app.maintenance = true
      const run = '261206-120004-a4a4'
      forgeRun(name, run, 'safe-rollback', {kind: 'maintenance', app: name, on: false}, 'Say hello')
      const dry = await heroku(['recovery:resume', run, '--dry-run'])
      assert.equal(dry.code, 0, dry.stderr)
      assert.match(dry.stdout, new RegExp(`1\\. Turn maintenance mode off \\(\`heroku maintenance:off --app ${name}\`\\)`))
      assert.doesNotMatch(dry.stdout, /Say hello/)
    })

    it('two recovery:resume of one run at once: the second is refused, the put-back happens once', async () => {
      const name = appName('resume-twice')
      const {app} = await seedBrokenApp(sandbox(), name, {releaseCommand: null})
      app.maintenance = true
      const run = '261206-120005-a5a5'
      forgeRun(name, run, 'safe-rollback', {kind: 'maintenance', app: name, on: false})
      // The first one's put-back is answered only after the second has had ample time to start.
      const slow = sandbox().inject({app: name, method: 'PATCH', path: `/apps/${name}`, kind: 'delay', ms: 20_000})
      const before = sandbox().requests.length
      try {
        const first = heroku(['recovery:resume', run, '--confirm', name])
        const deadline = Date.now() + 30_000
        while (!sandbox().requests.slice(before).some(r => r.method === 'PATCH') && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
        const second = await heroku(['recovery:resume', run, '--confirm', name])
        assert.equal(second.code, 1)
        assert.match(second.stderr, new RegExp(`Run ${run} is being finished by process \\d+ on `))
        const done = await first
        assert.equal(done.code, 0, done.stderr)
      } finally {
        slow.remove()
      }
      assert.equal(app.maintenance, false)
      assert.equal(sandbox().requests.slice(before).filter(r => r.method === 'PATCH' && r.path === `/apps/${name}`).length, 1)
      const again = await heroku(['recovery:resume', run, '--confirm', name])
      assert.equal(again.code, 0, again.stderr)
      assert.match(again.stdout, /Nothing to finish/)
    })

    it('a log with lines that cannot be read is shown with a warning', async () => {
      const name = appName('torn')
      await seedBrokenApp(sandbox(), name, {releaseCommand: null})
      const run = '261206-120006-a6a6'
      const file = forgeRun(name, run, 'safe-rollback', {kind: 'maintenance', app: name, on: false})
      appendFileSync(file, '{"at":"2026-12-06T12:00:00Z","event":"und')
      const shown = await heroku(['recovery:log', run, '--json'])
      assert.equal(shown.code, 0, shown.stderr)
      assert.equal(JSON.parse(shown.stdout).unreadableLines, 1)
      const human = await heroku(['recovery:log', run])
      assert.match(human.stderr.replace(/\s*\n ›\s+/g, ' '), new RegExp(`1 line of run ${run}'s log could not be read`))
    })
  })
})
