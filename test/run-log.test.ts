import assert from 'node:assert/strict'
import {seedDataLoss} from '../src/sandbox/recovery-scenario.js'
import {seedBrokenApp} from '../src/sandbox/scenario.js'
import {heroku} from './support/heroku.js'
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

describe('the run log, recovery:log and recovery:resume', function () {
  this.timeout(90_000)
  afterEach(() => sandbox().clearFaults())

  it('a run killed mid-way (SIGKILL) is listed as died, announced by the next command, and finished by recovery:resume', async () => {
    const name = appName('log-kill')
    const {app, database} = await seedBrokenApp(sandbox(), name, {releaseCommand: 'npx prisma migrate deploy'})
    const delays = {...sandbox().delays}
    sandbox().delays.releasePhase = 4000
    try {
      const killed = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--maintenance'], {
        // Killed once the rollback's answer was taken in: at the first request after its POST (the release phase wait).
        signalAfter: {when: () => afterRollbackPost(name).length > 0, signal: 'SIGKILL'},
      })
      assert.equal(killed.code, 137)
    } finally {
      sandbox().delays = delays
      await sandbox().settle()
    }
    assert.equal(app.maintenance, true, 'the killed process left maintenance on')

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
    assert.equal(after[0].what, `finish run ${run.id}`)
    assertNoSecrets(log, secretsOf(app, [database]))
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
})
