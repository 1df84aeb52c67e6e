import assert from 'node:assert/strict'
import type {Api} from '../../src/lib/api/client.js'
import {readLine, type Signal} from '../../src/lib/health/lines.js'
import {healthSettings, windowText} from '../../src/lib/health/rules.js'
import {LogTap, type SessionReader} from '../../src/lib/health/session.js'
import {DEFAULT_RULES, Tally} from '../../src/lib/health/verdict.js'
import {type Clock, PREBOOT_SWITCH_MS, watchHealth} from '../../src/lib/health/watch.js'

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

describe('health: more of Heroku\'s lines', () => {
  it('reads dyno state changes, and says nothing of one-off dynos (heroku run, the release phase)', () => {
    assert.deepEqual(readLine(`${stamp(0)} heroku[web.2]: State changed from starting to crashed`), {kind: 'state', at: T0, dyno: 'web.2', state: 'crashed'})
    assert.deepEqual(readLine(`${stamp(0)} heroku[web-5d8c9f7b4a-x2k9p]: State changed from up to crashed`), {kind: 'state', at: T0, dyno: 'web-5d8c9f7b4a-x2k9p', state: 'crashed'})
    assert.equal(readLine(`${stamp(0)} heroku[run.4821]: State changed from up to crashed`), undefined)
    assert.equal(readLine(`${stamp(0)} heroku[release.3012]: Error R14 (Memory quota exceeded)`), undefined)
  })
})

describe('health: the verdict, more', () => {
  it('a crash line counts from the watch\'s start, before a preboot switch too; a crash before the watch does not', () => {
    const crash = (ms: number) => readLine(`${stamp(ms)} heroku[web.1]: State changed from starting to crashed`)!
    const before = new Tally(DEFAULT_RULES, undefined, T0)
    before.add(crash(-1000))
    assert.equal(before.judge(T0 + 1000).verdict, 'watching', 'the old release\'s crash is why the change was made')
    before.add(crash(1000))
    const health = before.judge(T0 + 2000)
    assert.equal(health.verdict, 'unhealthy')
    assert.deepEqual(health.crashedDynos, ['web.1'])
  })

  it('lines that never reached the watch: inconclusive, with the reason; never healthy early', () => {
    const tally = tallied(stream(200, 250, () => false))
    tally.lost('no log session (HTTP 403)')
    assert.equal(tally.judge(T0 + 60_000).verdict, 'watching')
    const health = tally.judge(T0 + 120_000)
    assert.equal(health.verdict, 'inconclusive')
    assert.equal(health.reason, 'error rate 0% (0 of 200), but no log session (HTTP 403)')
    const empty = new Tally(DEFAULT_RULES, T0)
    empty.lost('no log session (HTTP 403)')
    assert.equal(empty.judge(T0 + 120_000).reason, 'only 0 requests in 2m (at least 30 needed); no log session (HTTP 403)')
  })

  it('a failing --health-url holds back an early healthy verdict until it answers again', () => {
    const tally = tallied(stream(200, 250, () => false))
    tally.probe({ok: false})
    assert.equal(tally.judge(T0 + 60_000).verdict, 'watching')
    tally.probe({ok: true})
    assert.equal(tally.judge(T0 + 60_000).verdict, 'healthy')
  })
})

// A log session fed by the test: each pushed line arrives at once.
function feed() {
  const readers: ((line: string) => void)[] = []
  let opened = 0
  const reader: SessionReader = (_session, signal, onLine) => new Promise(resolve => {
    opened++
    readers.push(onLine)
    signal.addEventListener('abort', () => resolve('stopped'), {once: true})
  })
  return {reader, push: (line: string) => readers.at(-1)!(line), opened: () => opened}
}

const SESSION = {url: 'https://logplex.example/sessions/x?srv=1', fir: false}

describe('health: the log tap', () => {
  it('places each line by this machine\'s clock: a router clock 5 minutes behind still counts the window\'s requests', () => {
    const {reader, push} = feed()
    let now = T0
    const tap = new LogTap(SESSION, async () => SESSION, reader, () => now)
    const tally = new Tally(DEFAULT_RULES, T0)
    tap.listen(signal => tally.add(signal))
    for (let i = 0; i < 100; i++) {
      now = T0 + i * 1000 + 300
      push(router(i * 1000 - 5 * 60_000, 200))
    }
    tap.destroy()
    assert.equal(tally.judge(T0 + 120_000).requests, 100)
  })

  it('and a router clock ahead does not count what came before the window', () => {
    const {reader, push} = feed()
    let now = T0 - 10_000
    const tap = new LogTap(SESSION, async () => SESSION, reader, () => now)
    // Before the window: failures, stamped 5 minutes ahead.
    for (let i = 0; i < 10; i++) {
      now = T0 - 10_000 + i * 500
      push(router(5 * 60_000 - 10_000 + i * 500, 503, 'code=H12 desc="Request timeout" '))
    }
    const tally = new Tally(DEFAULT_RULES, T0)
    tap.listen(signal => tally.add(signal))
    for (let i = 0; i < 40; i++) {
      now = T0 + i * 1000 + 100
      push(router(5 * 60_000 + i * 1000, 200))
    }
    tap.destroy()
    const health = tally.judge(T0 + 120_000)
    assert.deepEqual([health.requests, health.errors], [40, 0])
  })

  it('opens another session when one ends (Fir\'s after 15 minutes); gives the logs up after three failures in a row', async () => {
    let reads = 0
    const failing: SessionReader = async () => {
      reads++
      throw new Error('ECONNRESET')
    }
    let reopened = 0
    const tap = new LogTap(SESSION, async () => {
      reopened++
      return SESSION
    }, failing)
    const lost: string[] = []
    tap.listen(() => {}, reason => lost.push(reason))
    await tap.done
    assert.deepEqual([reads, reopened], [3, 2])
    assert.deepEqual(lost, ['the log session could not be read (ECONNRESET)'])
  })
})

// The API as the watch uses it: features and dynos, each read counted.
function fakeApi(options: {preboot?: boolean, dynos?: () => {name: string, type: string, state: string}[]} = {}) {
  const reads: string[] = []
  const api = {
    async get(url: string) {
      reads.push(url)
      if (url.endsWith('/features')) return [{name: 'preboot', enabled: Boolean(options.preboot)}]
      if (url.endsWith('/dynos')) return options.dynos?.() ?? [{name: 'web.1', type: 'web', state: 'up'}, {name: 'web.2', type: 'web', state: 'up'}]
      throw new Error(`unexpected read of ${url}`)
    },
  }
  return {api: api as unknown as Api, reads}
}

// A fake clock that moves on by the watch's own pauses, with a request every 250 ms (failing where `fails` says).
function trafficClock(push: (line: string) => void, fails: (at: number) => boolean = () => false) {
  let now = T0
  const clock: Clock = {
    now: () => now,
    async sleep(ms) {
      for (const end = now + ms; now < end;) {
        now += 250
        push(router(now - T0, fails(now) ? 503 : 200, fails(now) ? 'code=H12 desc="Request timeout" ' : ''))
      }
    },
  }
  return clock
}

describe('health: the watch, on a fake clock', () => {
  it('a 2-minute watch after a change reads the features once and the dynos 5 times, backing off: nothing else', async () => {
    const {reader, push} = feed()
    // 6 of 480 failing (1.25%): over the 1% that would end it early as healthy, under the 2% limit.
    const clock = trafficClock(line => push(line), at => at - T0 <= 1500)
    const tap = new LogTap(SESSION, async () => SESSION, reader, clock.now)
    const {api, reads} = fakeApi()
    const statuses: string[] = []
    const health = await watchHealth(api, {app: 'shop', rules: DEFAULT_RULES, tap, afterChange: true, signal: new AbortController().signal, status: text => statuses.push(text), clock})
    tap.destroy()
    assert.equal(health.verdict, 'healthy', health.reason)
    assert.match(health.reason, /over 2m, at most 2%$/)
    assert.deepEqual(reads, ['/apps/shop/features', ...Array(5).fill('/apps/shop/dynos')])
    assert.match(statuses[1], /^1s of 2m: 4 requests, 4 failed \(100%\): H12 ×4$/)
  })

  it('recovery:verify\'s watch (no change before it) reads the dynos at once, and not the features', async () => {
    const {api, reads} = fakeApi({dynos: () => [{name: 'web.1', type: 'web', state: 'crashed'}, {name: 'run.1', type: 'run', state: 'crashed'}]})
    const health = await watchHealth(api, {app: 'shop', rules: DEFAULT_RULES, afterChange: false, signal: new AbortController().signal, status() {}, clock: trafficClock(() => {})})
    assert.equal(health.verdict, 'unhealthy')
    assert.deepEqual(health.crashedDynos, ['web.1'], 'a one-off dyno is not the app')
    assert.deepEqual(reads, ['/apps/shop/dynos'])
  })

  it('with preboot, the window starts when traffic switches, about 3 minutes after the dynos are up: what the old dynos served is not counted', async () => {
    const {reader, push} = feed()
    // The old code fails every request until the switch; the new code none.
    const clock = trafficClock(line => push(line), at => at - T0 < PREBOOT_SWITCH_MS)
    const tap = new LogTap(SESSION, async () => SESSION, reader, clock.now)
    const {api, reads} = fakeApi({preboot: true})
    const statuses: string[] = []
    const health = await watchHealth(api, {app: 'shop', rules: DEFAULT_RULES, tap, afterChange: true, signal: new AbortController().signal, status: text => statuses.push(text), clock})
    tap.destroy()
    assert.equal(health.verdict, 'healthy', health.reason)
    assert.equal(health.errors, 0)
    assert.match(statuses[0], /^waiting for preboot to switch traffic to the new dynos \(about 3m more\)$/)
    assert.equal(reads[0], '/apps/shop/features')
    // Healthy early, at half the window after the switch: 60 s of requests, 4 a second.
    assert.ok(health.requests >= 240 && health.requests <= 250, `${health.requests}`)
  })

  it('stops when told (Ctrl-C), with what it saw so far', async () => {
    const {reader, push} = feed()
    const stop = new AbortController()
    const base = trafficClock(line => push(line))
    const clock: Clock = {now: base.now, sleep: async (ms, signal) => {
      await base.sleep(ms, signal)
      if (base.now() - T0 >= 10_000) stop.abort()
    }}
    const tap = new LogTap(SESSION, async () => SESSION, reader, clock.now)
    const health = await watchHealth(fakeApi().api, {app: 'shop', rules: DEFAULT_RULES, tap, afterChange: false, signal: stop.signal, status() {}, clock})
    tap.destroy()
    assert.equal(health.verdict, 'watching')
    assert.equal(health.requests, 40)
  })
})

describe('health: flags', () => {
  it('reads the window, the error rate and the URL; refuses what cannot be meant', () => {
    assert.deepEqual(healthSettings({'health-window': '90s', 'min-requests': 10, 'max-error-rate': '0.5%'}), {rules: {windowMs: 90_000, minRequests: 10, maxErrorRate: 0.5}, healthUrl: undefined})
    assert.equal(healthSettings({'health-window': '2m', 'min-requests': 30, 'max-error-rate': '2', 'health-url': 'https://shop.example.com/health?x=1'}).healthUrl, 'https://shop.example.com/health?x=1')
    assert.throws(() => healthSettings({'health-window': '4s', 'min-requests': 30, 'max-error-rate': '2'}), /--health-window 4s is out of range: use between 5s and 30m/)
    assert.throws(() => healthSettings({'health-window': '2m', 'min-requests': 30, 'max-error-rate': '-1'}), /--max-error-rate -1 is not a percentage/)
    assert.throws(() => healthSettings({'health-window': '2m', 'min-requests': 30, 'max-error-rate': '2', 'health-url': 'not a url'}), /is not a URL/)
    assert.deepEqual(['2m', '1m30s', '45s', '30m'], [120_000, 90_000, 45_000, 1_800_000].map(windowText))
  })
})
