import assert from 'node:assert/strict'
import type {RecordedRequest} from '../src/sandbox/index.js'
import type {App} from '../src/sandbox/heroku/state.js'
import {loadApp} from '../src/sandbox/scenarios/load.js'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {heroku} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// The health watch inside safe-rollback, through the real CLI against the sandbox's log sessions and
// simulated traffic (src/sandbox/heroku/traffic.ts): v3's code fails every other request, v2 and v4 are
// healthy. Windows of a few seconds; what happened is read back from the sandbox, never from timings.

// The other test files run without the watch (test/support/heroku.ts): these watch.
const WATCHING = {env: {HEROKU_SAFE_ROLLBACK_SKIP_HEALTH_CHECK: ''}}

async function shop() {
  const name = appName('rh')
  const {app} = await loadApp(sandbox(), {
    name,
    formation: [{type: 'web', quantity: 2, command: 'npm start'}],
    traffic: {perSecond: 40, code: {'3333333ccccccc': {failing: 50}}},
    releases: [{description: 'Initial release', ago: '3d'}, {deploy: '2222222bbbbbbb', ago: '2d'}, {deploy: '3333333ccccccc', ago: '1d'}, {deploy: '4444444ddddddd', ago: '1h'}],
  })
  return {name, app}
}

const rollback = (name: string, ...args: string[]) =>
  heroku(['safe-rollback', ...args, '--app', name, '--confirm', name, '--skip-backup-check', '--health-window', '5s', '--json'], WATCHING)

const is = (method: string, path: string) => (r: RecordedRequest) => r.method === method && r.path === path
const rollbackCalls = (name: string) => sandbox().requests.filter(is('POST', `/apps/${name}/releases`))
const sessionCalls = (name: string) => sandbox().requests.filter(is('POST', `/apps/${name}/log-sessions`))
const current = (app: App) => sandbox().state.currentRelease(app)!

describe('safe-rollback: the health watch', function () {
  this.timeout(60_000)

  it('onto broken code: unhealthy within the window, exit 1 with the numbers and the exact undo; the rollback stays; the session was opened before the rollback call', async () => {
    const {name, app} = await shop()
    const result = await rollback(name, 'v3')
    assert.equal(result.code, 1, result.stderr)
    const {health, error, run} = JSON.parse(result.stdout)
    assert.equal(health.verdict, 'unhealthy', health.reason)
    assert.ok(health.errors > 0 && health.errorRate > 2, health.reason)
    assert.deepEqual(Object.keys(health.codes), ['500'])
    assert.equal(health.windowMs, 5000)
    assert.match(error.message, new RegExp(`^Unhealthy: error rate .*% \\(\\d+ of \\d+\\).* \\(500 ×\\d+\\)\\. To undo the change: heroku safe-rollback v4 --app ${name}\\.$`))
    assert.deepEqual(run.undo, [`heroku safe-rollback v4 --app ${name}`])
    assert.deepEqual(run.steps.map((s: {id: string, state: string}) => `${s.id} ${s.state}`), ['log-session done', 'rollback done', 'watch failed'])
    assert.equal(current(app).description, 'Rollback to v3', 'the rollback stays')
    assert.equal(rollbackCalls(name).length, 1)
    const [session] = sessionCalls(name)
    assert.ok(session, 'a log session was opened')
    assert.ok(sandbox().requests.indexOf(session) < sandbox().requests.indexOf(rollbackCalls(name)[0]), 'the session comes before the rollback call')
    assert.deepEqual(sandbox().writes(name).map(r => `${r.method} ${r.path}`)[0], `POST /apps/${name}/log-sessions`, 'the first write of the run')
    const log = await heroku(['recovery:log', '--app', name])
    assert.match(log.stdout, /\n.* Watch .*'s requests for 5s .*: Unhealthy: error rate .*% \(\d+ of \d+\)/, 'recovery:log shows the verdict')
  })

  it('--on-unhealthy undo: back on the release it ran before, read back, exactly one undo, watched again; still exit 1, saying what was undone', async () => {
    const {name, app} = await shop()
    const result = await rollback(name, 'v3', '--on-unhealthy', 'undo')
    assert.equal(result.code, 1, result.stderr)
    const {health, undone, error, run} = JSON.parse(result.stdout)
    assert.equal(health.verdict, 'unhealthy')
    assert.equal(undone.release, 'v6')
    assert.equal(undone.health.verdict, 'healthy', undone.health.reason)
    assert.match(error.message, new RegExp(`^Unhealthy: error rate .*\\. Undone: rolled ${name} back to v4, the release it ran before; watched again: healthy, error rate 0% .*\\.$`))
    assert.deepEqual(run.steps.map((s: {id: string, state: string}) => `${s.id} ${s.state}`), ['log-session done', 'rollback done', 'watch done', 'undo done', 'watch-again done'])
    assert.deepEqual(run.undo, [], 'nothing left to undo: the rollback was undone')
    // Read back from the sandbox: two rollback calls in all, the second to v4; v6 is live on its dynos.
    assert.deepEqual(rollbackCalls(name).map(r => r.body.release), [app.releases[2].id, app.releases[3].id])
    assert.equal(current(app).version, 6)
    assert.equal(current(app).description, 'Rollback to v4')
    assert.ok(Object.values(app.dynoStates).every(d => d.version === 6 && d.state === 'up'), JSON.stringify(app.dynoStates))
    assert.equal(sessionCalls(name).length, 1, 'one session serves both watches')
  })

  it('--on-unhealthy undo onto healthy code: nothing undone, exit 0, the verdict said', async () => {
    const {name, app} = await shop()
    const result = await rollback(name, 'v2', '--on-unhealthy', 'undo')
    assert.equal(result.code, 0, result.stderr)
    const {health, undone, run} = JSON.parse(result.stdout)
    assert.equal(health.verdict, 'healthy', health.reason)
    assert.equal(undone, null)
    assert.deepEqual(run.steps.map((s: {id: string, state: string, note?: string}) => `${s.id} ${s.state}`), ['log-session done', 'rollback done', 'watch done', 'undo done', 'watch-again done'])
    assert.match(run.steps[3].note, /^not needed: .* was not found unhealthy \(healthy\)$/)
    assert.equal(rollbackCalls(name).length, 1)
    assert.equal(current(app).description, 'Rollback to v2')
  })

  it('--skip-health-check opens no log session', async () => {
    const {name, app} = await shop()
    const result = await heroku(['safe-rollback', 'v2', '--app', name, '--confirm', name, '--skip-backup-check', '--skip-health-check', '--json'], WATCHING)
    assert.equal(result.code, 0, result.stderr)
    const {health, run} = JSON.parse(result.stdout)
    assert.equal(health, undefined)
    assert.deepEqual(run.steps.map((s: {id: string}) => s.id), ['rollback'])
    assert.deepEqual(sessionCalls(name), [])
    assert.equal(current(app).description, 'Rollback to v2')
  })

  it('Ctrl-C during the watch: exit 130, "not verified", the rollback stays', async () => {
    const {name, app} = await shop()
    const watching = () => sandbox().requests.some(is('GET', `/apps/${name}/features`))
    const result = await heroku(['safe-rollback', 'v2', '--app', name, '--confirm', name, '--skip-backup-check', '--health-window', '30s'], {...WATCHING, signalAfter: {when: watching, signal: 'SIGINT'}})
    assert.equal(result.code, 130, result.stderr)
    assert.match(result.stderr, /Stopping the watch only: .* stays as it is, not verified\./)
    assert.match(result.stderr, /Error: Not verified: the watch was stopped after \d+s, with \d+ requests? and 0 failed so far; .* stays as it is\./)
    assert.equal(current(app).description, 'Rollback to v2', 'the rollback stays')
    assert.equal(rollbackCalls(name).length, 1)
  })

  it('db:recover: the session before the first write, the watch once maintenance is off; the verdict in --json', async () => {
    const name = appName('rh-recover')
    const loss = await seedDataLoss(sandbox(), name)
    // The broken deploy's code was fixed: what is judged is the app on its restored data.
    Object.assign(loss.app.traffic, {perSecond: 40, code: {}})
    const result = await heroku(['db:recover', '--app', name, '--backup', loss.backup, '--confirm', name, '--health-window', '5s', '--json'], WATCHING)
    assert.equal(result.code, 0, result.stderr)
    const {health, run} = JSON.parse(result.stdout)
    assert.equal(health.verdict, 'healthy', health.reason)
    assert.ok(health.requests >= 30)
    const ids = run.steps.map((s: {id: string}) => s.id)
    assert.equal(ids[0], 'log-session')
    assert.deepEqual(ids.slice(ids.indexOf('maintenance-off')), ['maintenance-off', 'watch'])
    const writes = sandbox().writes(name)
    assert.equal(`${writes[0].method} ${writes[0].path}`, `POST /apps/${name}/log-sessions`, 'the session is the first write')
    const maintenanceOff = sandbox().requests.findIndex(r => r.method === 'PATCH' && r.path === `/apps/${name}` && r.body.maintenance === false)
    const watchStarts = sandbox().requests.findIndex(is('GET', `/apps/${name}/features`))
    assert.ok(maintenanceOff > 0 && watchStarts > maintenanceOff, 'the watch starts once maintenance is off')
  })
})
