import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import nock from 'nock'
import type {Health} from '../../src/lib/health/verdict.js'
import {LogTap, type SessionReader} from '../../src/lib/health/session.js'
import {Interrupts} from '../../src/lib/interrupts.js'
import {actions, interpreter} from '../../src/lib/registry.js'
import {describeRun} from '../../src/lib/runner/report.js'
import {Progress, Runner} from '../../src/lib/runner/runner.js'
import type {Step} from '../../src/lib/runner/step.js'
import {API, apiClient, useNock} from './client.js'

// The watch's plan steps as the one runner runs them: an unhealthy verdict fails the run with its numbers
// and the undo, and keeps them as the step's result; Ctrl-C stops the watch only; a log session that
// cannot be opened leaves the watch without logs, never stops a recovery.

const stamp = (at: number) => new Date(at).toISOString().replace('Z', '000+00:00')
const routerLine = (status: number) => `${stamp(Date.now())} heroku[router]: at=${status >= 500 ? 'error code=H12 desc="Request timeout"' : 'info'} method=GET path="/" host=shop.herokuapp.com dyno=web.1 connect=0ms service=12ms status=${status} bytes=10 protocol=https`

// A session whose lines the test pushes.
function fedTap() {
  let push: (line: string) => void = () => {}
  const reader: SessionReader = (_session, signal, onLine) => new Promise(resolve => {
    push = onLine
    signal.addEventListener('abort', () => resolve('stopped'), {once: true})
  })
  const session = {url: 'https://logplex.example/sessions/s?srv=token', fir: false}
  return {tap: new LogTap(session, async () => session, reader), push: (line: string) => push(line)}
}

async function runner(resources?: Map<string, unknown>) {
  const said: string[] = []
  const progress: Progress = {start() {}, status() {}, stop() {}, say: text => said.push(text), output() {}}
  const interrupts = new Interrupts(() => assert.fail('no signal may reach the default handler during a run'))
  const run = new Runner({api: await apiClient(), actions, interrupts, progress, dataDir: mkdtempSync(join(tmpdir(), 'health-steps-')), command: 'test', app: 'shop', what: 'a test run', timeoutMs: 5000, resources})
  return {run, said, interrupts}
}

const rules = {windowMs: 1000, minRequests: 5, maxErrorRate: 2}
const UNDO = 'heroku safe-rollback v52 --app shop'

// The change the watch verifies: it stays whatever the verdict (its undo is a command for a person).
const change: Step<string> = {id: 'rollback', title: 'Roll back to v51', apply: async () => 'v53', undo: () => ({title: 'Roll back to v52 again', command: UNDO, automatic: false})}

const watch = (fields: Record<string, unknown> = {}) => interpreter.build({id: 'watch', kind: 'health-watch', app: 'shop', fir: false, rules, afterChange: false, onUnhealthy: 'stop', undo: UNDO, ...fields} as never)
const session = () => interpreter.build({id: 'log-session', kind: 'log-session', app: 'shop', fir: false})

const dynosUp = () => nock(API).get('/apps/shop/dynos').times(5).reply(200, [{name: 'web.1', type: 'web', state: 'up', release: {version: 53}}])

describe('health: the watch as steps of the runner', function () {
  this.timeout(20_000)
  useNock()

  it('an unhealthy verdict fails the run with the numbers and the exact undo; the change stays, its counts are the step\'s result', async () => {
    const {tap, push} = fedTap()
    dynosUp()
    const {run} = await runner(new Map([['log-session:shop', tap]]))
    const feeding = setInterval(() => push(routerLine(503)), 20)
    const outcome = await run.run([session(), change, watch()]).finally(() => clearInterval(feeding))
    tap.destroy()
    assert.equal(outcome.status, 'failed')
    assert.match(outcome.error!, /^Unhealthy: error rate 100% \(\d+ of \d+\) (over|after) 1s, above 2%.* \(H12 ×\d+\)\. To undo the change: heroku safe-rollback v52 --app shop\.$/)
    assert.deepEqual(outcome.steps.map(s => s.state), ['done', 'done', 'failed'])
    assert.equal(outcome.result<Health>('watch')!.verdict, 'unhealthy')
    assert.deepEqual(outcome.undo, [UNDO], 'nothing was put back: the undo is the engineer\'s')
    assert.match(describeRun(outcome), /✗ Watch shop's requests for 1s .*: failed\n/)
    assert.doesNotMatch(describeRun(outcome), /Watch .*nothing was changed/, 'the watch changes nothing of its own')
    const events = readFileSync(outcome.log, 'utf8')
    assert.match(events, /"event":"failed","step":"watch","error":"Unhealthy: /)
  })

  it('with onUnhealthy: continue, the verdict is the step\'s result and the run goes on', async () => {
    const {tap, push} = fedTap()
    dynosUp()
    const {run} = await runner(new Map([['log-session:shop', tap]]))
    const feeding = setInterval(() => push(routerLine(503)), 20)
    const outcome = await run.run([session(), change, watch({onUnhealthy: 'continue'})]).finally(() => clearInterval(feeding))
    tap.destroy()
    assert.equal(outcome.status, 'succeeded')
    assert.match(outcome.steps[2].note!, /^unhealthy: error rate 100%/)
    assert.equal(outcome.result<Health>('watch')!.verdict, 'unhealthy')
  })

  it('Ctrl-C during the watch stops watching only: the change stays, "not verified", with what was seen', async () => {
    const {tap, push} = fedTap()
    dynosUp()
    const {run, said, interrupts} = await runner(new Map([['log-session:shop', tap]]))
    interrupts.install()
    const feeding = setInterval(() => push(routerLine(200)), 20)
    try {
      setTimeout(() => process.emit('SIGINT', 'SIGINT'), 300)
      const outcome = await run.run([session(), change, watch({rules: {...rules, windowMs: 30_000}})])
      assert.equal(outcome.status, 'interrupted')
      assert.equal(outcome.signal, 'SIGINT')
      assert.match(outcome.error!, /^Not verified: the watch was stopped after 0s, with \d+ requests and 0 failed so far; shop stays as it is\.$/)
      assert.deepEqual(said, ['Stopping the watch only: shop stays as it is, not verified.'])
      assert.deepEqual(outcome.steps.map(s => s.state), ['done', 'done', 'interrupted'])
      assert.equal(outcome.result<Health>('watch')!.verdict, 'not verified')
      assert.deepEqual(outcome.undo, [UNDO])
    } finally {
      clearInterval(feeding)
      interrupts.uninstall()
      tap.destroy()
    }
  })

  it('a log session that cannot be opened does not stop the run: the watch goes on without logs, and cannot call it healthy', async () => {
    const scope = nock(API).post('/apps/shop/log-sessions', {source: 'heroku', tail: true, lines: 0}).times(2).reply(403, {id: 'forbidden', message: 'You do not have access to the logs of this app.'})
    dynosUp()
    const {run} = await runner()
    const outcome = await run.run([session(), change, watch()])
    scope.done()
    assert.equal(outcome.status, 'succeeded')
    assert.equal(outcome.steps[0].note, 'not opened (You do not have access to the logs of this app.): the watch will see the dynos and --health-url only')
    const health = outcome.result<Health>('watch')!
    assert.equal(health.verdict, 'inconclusive')
    assert.equal(health.reason, 'only 0 requests in 1s (at least 5 needed); no log session (You do not have access to the logs of this app.)')
  })
})
