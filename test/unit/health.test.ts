import assert from 'node:assert/strict'
import {readLine, type Signal} from '../../src/lib/health/lines.js'
import {DEFAULT_RULES, Tally} from '../../src/lib/health/verdict.js'

// The health watch's reading of Heroku's log lines and its verdict, on recorded streams and a fake clock.

const T0 = Date.parse('2026-12-06T12:00:00Z')
const stamp = (ms: number) => new Date(T0 + ms).toISOString().replace('Z', '000+00:00')
const router = (ms: number, status: number, extra = '') => `${stamp(ms)} heroku[router]: at=${status >= 500 ? 'error' : 'info'} ${extra}method=GET path="/orders?id=1" host=shop.herokuapp.com request_id=5d1c fwd="203.0.113.9" dyno=web.1 connect=0ms service=${status >= 500 ? 30001 : 12}ms status=${status} bytes=120 protocol=https`

// A stream of requests, one every `every` ms, failing where `fails(i)` says so.
const stream = (count: number, every: number, fails: (i: number) => boolean, code = 'H12') =>
  Array.from({length: count}, (_, i) => readLine(router(i * every, fails(i) ? 503 : 200, fails(i) ? `code=${code} desc="Request timeout" ` : ''))!)

function tallied(signals: Signal[], rules = DEFAULT_RULES) {
  const tally = new Tally(rules, T0)
  for (const signal of signals) tally.add(signal)
  return tally
}

describe('health: reading Heroku\'s log lines', () => {
  it('reads router lines: status, error, code; H80 and runtime errors; ignores the app\'s own lines', () => {
    assert.deepEqual(readLine(router(0, 200)), {kind: 'request', at: T0, status: 200, error: false})
    assert.deepEqual(readLine(router(5, 503, 'code=H12 desc="Request timeout" ')), {kind: 'request', at: T0 + 5, status: 503, code: 'H12', error: true})
    assert.deepEqual(readLine(`${stamp(0)} heroku[router]: at=error code=H10 desc="App crashed" method=GET path="/" host=a dyno= connect= service= status=503 bytes= protocol=https`),
      {kind: 'request', at: T0, status: 503, code: 'H10', error: true})
    assert.equal(readLine(`${stamp(0)} heroku[router]: at=info code=H80 desc="Maintenance mode" method=GET path="/" status=503 bytes=`)!.kind, 'request')
    assert.deepEqual(readLine(`${stamp(0)} heroku[web.2]: Error R14 (Memory quota exceeded)`), {kind: 'dyno', at: T0, code: 'R14', dyno: 'web.2'})
    assert.deepEqual(readLine(`${stamp(0)} heroku[logplex]: Error L10 (output buffer overflow): 7 messages dropped since 2026-12-06T11:59:00+00:00.`), {kind: 'pipeline', at: T0, code: 'L10'})
    assert.equal(readLine(`${stamp(0)} app[web.1]: status=500 heroku[router]: at=error`), undefined, 'the app\'s own lines say nothing here')
    assert.equal(readLine('not a log line'), undefined)
  })
})

describe('health: the verdict', () => {
  it('healthy: enough requests, few errors, at the end of the window', () => {
    const tally = tallied(stream(100, 1000, i => i === 50))
    assert.equal(tally.judge(T0 + 30_000).verdict, 'watching')
    const health = tally.judge(T0 + 120_000)
    assert.equal(health.verdict, 'healthy')
    assert.equal(health.requests, 100)
    assert.equal(health.errors, 1)
    assert.equal(health.errorRate, 1)
    assert.deepEqual(health.codes, {H12: 1})
  })

  it('unhealthy: above the error rate at the end; early when no traffic could redeem it', () => {
    const failing = tallied(stream(40, 1000, i => i % 2 === 0))
    const early = failing.judge(T0 + 40_000)
    assert.equal(early.verdict, 'unhealthy', early.reason)
    assert.match(early.reason, /whatever the rest of the window brings/)
    const few = tallied(stream(40, 3000, i => i === 1 || i === 2))
    assert.equal(few.judge(T0 + 10_000).verdict, 'watching', 'two early errors could still be redeemed')
    assert.equal(few.judge(T0 + 120_000).verdict, 'unhealthy')
    assert.equal(few.judge(T0 + 120_000).errorRate, 5)
  })

  it('healthy never before half the window, and then only with plenty of traffic', () => {
    const busy = tallied(stream(200, 250, () => false))
    assert.equal(busy.judge(T0 + 50_000).verdict, 'watching')
    assert.equal(busy.judge(T0 + 60_000).verdict, 'healthy')
  })

  it('inconclusive: too few requests, or lines the log pipeline dropped', () => {
    assert.match(tallied(stream(5, 1000, () => false)).judge(T0 + 120_000).reason, /only 5 requests in 2m \(at least 30 needed\)/)
    const lost = tallied([...stream(100, 1000, () => false), readLine(`${stamp(10)} heroku[logplex]: Error L10 (output buffer overflow): 3 messages dropped`)!])
    const health = lost.judge(T0 + 120_000)
    assert.equal(health.verdict, 'inconclusive')
    assert.match(health.reason, /dropped lines \(L10\)/)
  })

  it('H80 (the run\'s own maintenance mode) is not counted; requests before the window are not either', () => {
    const tally = new Tally(DEFAULT_RULES, T0 + 10_000)
    for (const line of [router(0, 503, 'code=H12 desc="Request timeout" '), `${stamp(20_000)} heroku[router]: at=info code=H80 desc="Maintenance mode" method=GET path="/" status=503 bytes=`]) tally.add(readLine(line)!)
    const health = tally.judge(T0 + 130_000)
    assert.equal(health.requests, 0)
    assert.deepEqual(health.codes, {})
  })

  it('a crashed dyno is unhealthy at once; so is a health URL that keeps failing; a wrong release is reported', () => {
    const crashed = tallied(stream(3, 1000, () => false))
    crashed.dynos([{name: 'web.1', state: 'up'}, {name: 'web.2', state: 'crashed'}])
    assert.deepEqual([crashed.judge(T0 + 3000).verdict, crashed.judge(T0 + 3000).crashedDynos], ['unhealthy', ['web.2']])
    const url = tallied([])
    url.probe({ok: true, release: 'v52'}, 'v53')
    for (let i = 0; i < 2; i++) url.probe({ok: false})
    assert.equal(url.judge(T0 + 5000).verdict, 'watching')
    url.probe({ok: false})
    const health = url.judge(T0 + 6000)
    assert.equal(health.verdict, 'unhealthy')
    assert.deepEqual(health.url, {probes: 4, failures: 3, wrongRelease: 'v52'})
  })

  it('waits for the window to start (preboot switching traffic later)', () => {
    const tally = new Tally(DEFAULT_RULES)
    tally.add(readLine(router(0, 503, 'code=H12 desc="Request timeout" '))!)
    assert.equal(tally.judge(T0 + 200_000).verdict, 'watching')
    tally.start(T0 + 180_000)
    assert.equal(tally.judge(T0 + 300_000).verdict, 'inconclusive')
  })
})
