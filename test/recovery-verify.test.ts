import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {CodeBehaviour, RecordedRequest} from '../src/sandbox/index.js'
import {loadApp} from '../src/sandbox/scenarios/load.js'
import {cliEnv, heroku} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// heroku recovery:verify: the health watch on its own, through the real CLI, against the sandbox's log
// sessions and simulated traffic (src/sandbox/heroku/traffic.ts). Windows are a few seconds; verdicts are
// read back from --json and from what the sandbox received and served, never from timings.

interface AppOptions {
  perSecond?: number
  // How the current release's code (v3) answers.
  code?: CodeBehaviour
  generation?: 'cedar' | 'fir'
  web?: number
}

async function watchedApp(options: AppOptions = {}) {
  const name = appName('hv')
  const {app} = await loadApp(sandbox(), {
    name, generation: options.generation,
    formation: [{type: 'web', quantity: options.web ?? 2, command: 'npm start'}, {type: 'worker', quantity: 1, command: 'node worker.js'}],
    traffic: {perSecond: options.perSecond ?? 40, code: {v3: options.code ?? 'healthy'}},
    releases: [{description: 'Initial release', ago: '3d'}, {deploy: '1111111aaaaaaa', ago: '2d'}, {deploy: '2222222bbbbbbb', ago: '1h'}],
  })
  return {name, app}
}

const verify = (name: string, ...args: string[]) => heroku(['recovery:verify', '--app', name, '--health-window', '6s', ...args])

// The Platform API requests of the command (not the log stream, not the app's own URL).
const apiRequests = (name: string) => sandbox().requests.filter(r => sandbox().concerns(name, r) && !/^\/(logplex|apps-web)\//.test(r.path))
const sessions = (name: string) => sandbox().requests.filter((r: RecordedRequest) => r.method === 'POST' && r.path === `/apps/${name}/log-sessions`)
const dynoReads = (name: string) => sandbox().requests.filter(r => r.method === 'GET' && r.path === `/apps/${name}/dynos`)
const writes = (name: string) => sandbox().writes(name).map(r => `${r.method} ${r.path}`)

// oclif wraps a warning over several lines, each starting with ›.
const unwrapped = (stderr: string) => stderr.replace(/\s*\n ›\s+/g, ' ')

async function until(condition: () => boolean, what: string) {
  for (let waited = 0; !condition(); waited += 25) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

// The run log of the app's one run.
function runLog(app: string): string {
  const dir = join(cliEnv().XDG_DATA_HOME!, 'heroku', 'safe-rollback', 'runs', app)
  return readFileSync(join(dir, readdirSync(dir).find(f => f.endsWith('.jsonl'))!), 'utf8')
}

describe('heroku recovery:verify', function () {
  this.timeout(60_000)

  describe('verdicts', () => {
    it('healthy: enough requests, none failing; the session is opened as `heroku logs --tail` opens it on Cedar; its URL is never shown or kept', async () => {
      const {name} = await watchedApp()
      const result = await verify(name, '--json')
      assert.equal(result.code, 0, result.stderr)
      const {health, release, run} = JSON.parse(result.stdout)
      assert.equal(health.verdict, 'healthy', health.reason)
      assert.ok(health.requests >= 60, `${health.requests} requests`)
      assert.deepEqual([health.errors, health.errorRate, health.codes, health.crashedDynos, health.windowMs], [0, 0, {}, [], 6000])
      assert.equal(release, 'v3')
      assert.equal(run.status, 'succeeded')
      assert.deepEqual(sessions(name).map(r => r.body), [{source: 'heroku', tail: true, lines: 0}])
      assert.deepEqual(writes(name), [`POST /apps/${name}/log-sessions`], 'nothing but the log session is written')
      const log = runLog(name)
      assert.match(log, /"verdict":"healthy"/, 'the run log keeps the verdict')
      for (const text of [result.stdout, result.stderr, log]) assert.doesNotMatch(text, /logplex\/sessions|srv=/)
    })

    it('healthy in words: the verdict and its numbers on stdout, a live status line per update on stderr', async () => {
      const {name} = await watchedApp()
      const result = await verify(name)
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /\nHealthy: error rate 0% \(0 of \d+\) after \ds, well under 2%\.\n {2}\d+ requests, 0 failed \(0%\); no dyno crashed\.\n$/)
      assert.match(result.stderr, /\n {2}\ds of 6s: \d+ requests, 0 failed \(0%\)\n/)
    })

    it('unhealthy on 5xx answers, as soon as no traffic left in the window could bring the rate back under the limit', async () => {
      const {name, app} = await watchedApp({code: {failing: 30}})
      const result = await heroku(['recovery:verify', '--app', name, '--health-window', '30s', '--json'])
      assert.equal(result.code, 1)
      const {health, error} = JSON.parse(result.stdout)
      assert.equal(health.verdict, 'unhealthy')
      assert.match(health.reason, /^error rate \d+(\.\d)?% \(\d+ of \d+\) after \d+s, above 2% whatever the rest of the window brings$/)
      assert.ok(health.errors >= 3 && health.errorRate > 20, health.reason)
      assert.deepEqual(Object.keys(health.codes), ['500'])
      assert.match(error.message, /^Unhealthy: error rate .* \(500 ×\d+\)\.$/)
      // Ended early: far fewer requests than 30 s bring, and the dynos read no more than twice (at 0 s and 5 s).
      assert.ok(health.requests < 40 * 15, `${health.requests} requests`)
      assert.ok(dynoReads(name).length <= 2)
      assert.ok(sandbox().traffic.answers(app)['500'] >= health.errors)
    })

    it('unhealthy at once when the dynos are crashed (H10 from the router)', async () => {
      const {name} = await watchedApp({code: 'crashing'})
      const result = await verify(name, '--json')
      assert.equal(result.code, 1)
      const {health} = JSON.parse(result.stdout)
      assert.equal(health.verdict, 'unhealthy')
      assert.deepEqual(health.crashedDynos.sort(), ['web.1', 'web.2', 'worker.1'])
      assert.match(health.reason, /crashed/)
    })

    it('unhealthy at once when a dyno crashes during the watch: its log line says so before the next read of the dynos', async () => {
      const {name, app} = await watchedApp()
      const running = heroku(['recovery:verify', '--app', name, '--health-window', '30s', '--json'])
      await until(() => (sandbox().traffic.answers(app)['200'] ?? 0) >= 20, 'requests to be served')
      app.traffic.code.v3 = 'crashing'
      sandbox().bootDynos(app, sandbox().state.currentRelease(app)!)
      const result = await running
      assert.equal(result.code, 1)
      const {health} = JSON.parse(result.stdout)
      assert.equal(health.verdict, 'unhealthy')
      assert.ok(health.crashedDynos.includes('web.1'), health.crashedDynos)
      assert.ok(health.requests >= 20)
      assert.equal(dynoReads(name).length, 1, 'only the read at the start: the crash came from the log')
    })

    it('inconclusive with too little traffic: exit 0, with a warning', async () => {
      const {name} = await watchedApp({perSecond: 2})
      const result = await heroku(['recovery:verify', '--app', name, '--health-window', '5s'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /Inconclusive: only \d+ requests? in 5s \(at least 30 needed\)\./)
      assert.match(unwrapped(result.stderr), /Warning: Inconclusive: only \d+ requests? in 5s \(at least 30 needed\)\. That is not enough to call/)
    })

    it('H80 (maintenance mode) is neither a request nor an error', async () => {
      const {name, app} = await watchedApp()
      app.maintenance = true
      const running = heroku(['recovery:verify', '--app', name, '--health-window', '8s'])
      await until(() => (sandbox().traffic.answers(app).H80 ?? 0) >= 20, 'H80 answers')
      app.maintenance = false
      const result = await running
      assert.equal(result.code, 0, result.stderr)
      assert.match(unwrapped(result.stderr), /is in maintenance mode: the router answers H80, which the watch does not count/)
      const [, requests] = /\nHealthy: error rate 0% \(0 of (\d+)\).*\n {2}\d+ requests, 0 failed \(0%\); no dyno crashed\.\n$/.exec(result.stdout) ?? []
      assert.ok(requests, result.stdout)
      assert.ok(sandbox().traffic.answers(app).H80 >= 20, 'the router did answer H80')
      assert.ok(Number(requests) <= sandbox().traffic.answers(app)['200'], 'only the app\'s own answers were counted')
    })

    it('lines the log pipeline dropped (L10) make the verdict inconclusive, never unhealthy', async () => {
      const {name, app} = await watchedApp()
      const running = verify(name, '--json')
      await until(() => (sandbox().traffic.answers(app)['200'] ?? 0) >= 40, 'requests to be served')
      sandbox().logplex.write(app, {source: 'heroku', process: 'logplex', text: `Error L10 (output buffer overflow): 12 messages dropped since ${new Date(Date.now() - 2000).toISOString()}.`})
      const result = await running
      assert.equal(result.code, 0, result.stderr)
      const {health} = JSON.parse(result.stdout)
      assert.equal(health.verdict, 'inconclusive')
      assert.match(health.reason, /^error rate 0% \(0 of \d+\), but the log pipeline dropped lines \(L10\)$/)
      assert.deepEqual(health.codes, {L10: 1})
    })
  })

  describe('--health-url', () => {
    it('a URL that keeps failing is unhealthy, even with healthy traffic', async () => {
      const {name} = await watchedApp({perSecond: 10})
      const url = `${sandbox().url}/apps/${name}/not-a-page`
      const result = await heroku(['recovery:verify', '--app', name, '--health-window', '20s', '--health-url', url, '--json'])
      assert.equal(result.code, 1)
      const {health, healthUrl} = JSON.parse(result.stdout)
      assert.equal(healthUrl, url)
      assert.equal(health.verdict, 'unhealthy')
      assert.equal(health.reason, '--health-url failed 3 times in a row')
      assert.deepEqual(health.url, {probes: 3, failures: 3})
      assert.equal(health.errors, 0)
    })

    it('an answer from another release than the current one is reported (old code still serving)', async () => {
      const {name, app} = await watchedApp()
      // The router still sends requests to v2's dynos, as during a preboot switch.
      app.serving = {version: 2, until: Number.POSITIVE_INFINITY}
      const url = `${sandbox().url}/apps-web/${name}/health`
      const result = await heroku(['recovery:verify', '--app', name, '--health-window', '10s', '--health-url', url])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /--health-url: \d+ probes?, 0 failed; it answered v2, not v3\./)
      assert.match(unwrapped(result.stderr), /Warning: --health-url answered as v2 while .* runs v3: old code still serves some requests/)
      assert.ok(sandbox().requests.some(r => r.path === `/apps-web/${name}/health`), 'the URL was probed')
    })
  })

  it('on Fir, opens the session without lines or tail, as the CLI does, and reads Fir\'s dyno names', async () => {
    const {name, app} = await watchedApp({generation: 'fir', code: 'crashing'})
    const result = await verify(name, '--json')
    assert.equal(result.code, 1)
    assert.deepEqual(sessions(name).map(r => r.body), [{source: 'heroku'}])
    const {health} = JSON.parse(result.stdout)
    assert.equal(health.verdict, 'unhealthy')
    assert.ok(health.crashedDynos.every((dyno: string) => /^(web|worker)-[0-9a-f]{10}-[0-9a-z]{5}$/.test(dyno)), health.crashedDynos)
    // What the sandbox does with a body that does not follow the CLI.
    const refused = await fetch(`${sandbox().url}/apps/${app.name}/log-sessions`, {
      method: 'POST', body: JSON.stringify({source: 'heroku', tail: true, lines: 0}), headers: {Authorization: `Bearer ${sandbox().apiKey}`, 'Content-Type': 'application/json'},
    })
    assert.equal(refused.status, 422)
  })

  it('Ctrl-C during the watch stops watching only: exit 130, "not verified", nothing else written', async () => {
    const {name} = await watchedApp()
    const result = await heroku(['recovery:verify', '--app', name, '--health-window', '60s'], {signalAfter: {when: ({stderr}) => /of 1m: [1-9]\d* requests/.test(stderr), signal: 'SIGINT'}})
    assert.equal(result.code, 130, result.stderr)
    assert.match(result.stderr, /Stopping the watch only: .* stays as it is, not verified\./)
    assert.match(result.stderr, /Error: Not verified: the watch was stopped after \d+s, with [1-9]\d* requests and 0 failed so far; .* stays as it is\./)
    assert.match(result.stderr, /✗ Watch .*: interrupted\n/)
    assert.deepEqual(writes(name), [`POST /apps/${name}/log-sessions`])
    const log = await heroku(['recovery:log', '--app', name, '--json'])
    const [run] = JSON.parse(log.stdout)
    assert.equal(run.status, 'interrupted')
    assert.deepEqual(run.unfinished, [])
  })

  it('a watch of the whole window reads the dynos a few times, backing off, and polls nothing else', async () => {
    // 1.5% failing: under the 2% limit, over the 1% that would end it early: the whole 20 s.
    const {name} = await watchedApp({code: {failing: 1.5}})
    const result = await heroku(['recovery:verify', '--app', name, '--health-window', '20s', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const {health} = JSON.parse(result.stdout)
    assert.equal(health.verdict, 'healthy', health.reason)
    assert.match(health.reason, /over 20s/)
    const requests = apiRequests(name).map(r => `${r.method} ${r.path.replace(name, 'APP')}`)
    // Before: the app, its formation and releases, then the session; during 20 s: the dynos at 0, 5 and 15 s,
    // backing off (a loaded machine may find the window over before the third): never a poll every second.
    assert.deepEqual(requests.filter(r => !r.endsWith('/dynos')).sort(), ['GET /apps/APP', 'GET /apps/APP/formation', 'GET /apps/APP/releases', 'POST /apps/APP/log-sessions'])
    const reads = dynoReads(name).map(r => r.at)
    assert.ok([2, 3].includes(reads.length), `${reads.length} reads of the dynos`)
    // The back-off itself: 5 s, then 10 s between reads (each give or take a loaded machine's second).
    const gaps = reads.slice(1).map((at, i) => at - reads[i])
    assert.ok(gaps.every(gap => gap >= 3000), `gaps between dyno reads: ${gaps.join(', ')} ms`)
    if (gaps.length === 2) assert.ok(gaps[1] > gaps[0], `the wait grows: ${gaps.join(', ')} ms`)
  })

  describe('refusals, before anything is sent', () => {
    it('an app without web dynos: nothing to watch, no session opened', async () => {
      const {name} = await watchedApp({web: 0})
      const result = await verify(name)
      assert.equal(result.code, 1)
      assert.match(result.stderr, /has no web dynos: the router serves none of its requests, so there is nothing to watch/)
      assert.deepEqual(writes(name), [])
    })

    const bad: [string[], RegExp][] = [
      [['--health-window', '3s'], /--health-window 3s is out of range: use between 5s and 30m/],
      [['--health-window', '31m'], /--health-window 31m is out of range/],
      [['--max-error-rate', '120'], /--max-error-rate 120 is not a percentage/],
      [['--health-url', 'ftp://example.com/'], /--health-url must be an http or https URL/],
      [['--health-url', 'https://user:secret@example.com/health'], /--health-url has a password/],
    ]
    for (const [args, message] of bad) {
      it(`refuses ${args.join(' ')}`, async () => {
        const {name} = await watchedApp()
        const result = await heroku(['recovery:verify', '--app', name, ...args])
        assert.equal(result.code, 1)
        assert.match(result.stderr, message)
        assert.deepEqual(apiRequests(name), [])
      })
    }
  })
})

