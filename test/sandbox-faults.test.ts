import assert from 'node:assert/strict'
import {IncomingHttpHeaders, request as httpRequest} from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'
import {Sandbox} from '../src/sandbox/index.js'
import {run} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

interface Answer {status: number, headers: IncomingHttpHeaders, body: any}

// A plain node:http call, one connection per request, so a reset or a hang shows as the client sees it.
function call(target: Sandbox, method: string, path: string, options: {body?: unknown, timeoutMs?: number} = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    const headers = {Authorization: `Bearer ${target.apiKey}`, Accept: 'application/vnd.heroku+json; version=3', ...payload && {'Content-Type': 'application/json'}}
    const sent = httpRequest(`${target.url}${path}`, {method, headers, agent: false, timeout: options.timeoutMs}, response => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', chunk => (text += chunk))
      const json = response.headers['content-type']?.startsWith('application/json')
      response.on('end', () => resolve({status: response.statusCode!, headers: response.headers, body: json && text ? JSON.parse(text) : text}))
    })
    sent.on('timeout', () => sent.destroy(Object.assign(new Error('the client gave up'), {code: 'CLIENT_TIMEOUT'})))
    sent.on('error', reject)
    sent.end(payload)
  })
}

const fails = (answer: Promise<Answer>) => answer.then(a => assert.fail(`answered ${a.status}`), (error: NodeJS.ErrnoException) => error.code)
const maintenanceOn = (name: string) => call(sandbox(), 'PATCH', `/apps/${name}`, {body: {maintenance: true}})
const recorded = (name: string) => sandbox().requests.filter(r => r.path === `/apps/${name}`)

async function until(condition: () => boolean) {
  while (!condition()) await sleep(5)
}

describe('sandbox faults', () => {
  afterEach(() => {
    sandbox().clearFaults()
    sandbox().latencyMs = 0
  })

  describe('status', () => {
    it('answers 503 with a Heroku error body without applying the write', async () => {
      const name = appName('fault-503')
      const app = sandbox().createApp(name)
      const fault = sandbox().inject({method: 'PATCH', path: `/apps/${name}`, kind: 'status', status: 503})
      const answer = await maintenanceOn(name)
      assert.equal(answer.status, 503)
      assert.equal(answer.body.id, 'unavailable')
      assert.match(answer.body.message, /unavailable/)
      assert.equal(app.maintenance, false)
      assert.deepEqual(recorded(name).map(r => [r.fault, r.applied]), [['status-503', false]])
      assert.deepEqual(sandbox().writes(name), [], 'a write that was not applied is not a write')
      assert.equal(fault.hits, 1)

      const retried = await maintenanceOn(name)
      assert.equal(retried.status, 200)
      assert.equal(app.maintenance, true)
      assert.equal(sandbox().writes(name).length, 1)
      assert.equal(fault.hits, 1, 'times defaults to 1')
    })

    it('sends the given headers, id and message: a 429 with Retry-After', async () => {
      const name = appName('fault-429')
      sandbox().createApp(name)
      sandbox().inject({path: `/apps/${name}`, kind: 'status', status: 429, headers: {'Retry-After': '1'}})
      const limited = await call(sandbox(), 'GET', `/apps/${name}`)
      assert.equal(limited.status, 429)
      assert.equal(limited.headers['retry-after'], '1')
      assert.equal(limited.body.id, 'rate_limit')
      sandbox().inject({path: `/apps/${name}`, kind: 'status', status: 502, id: 'bad_gateway', message: 'Upstream went away.'})
      const custom = await call(sandbox(), 'GET', `/apps/${name}`)
      assert.deepEqual([custom.status, custom.body], [502, {id: 'bad_gateway', message: 'Upstream went away.'}])
    })

    it('applies the write first with apply: true, then answers 500', async () => {
      const name = appName('fault-500')
      const app = sandbox().createApp(name)
      sandbox().inject({method: 'PATCH', path: `/apps/${name}`, kind: 'status', status: 500, apply: true})
      const answer = await maintenanceOn(name)
      assert.deepEqual([answer.status, answer.body.id], [500, 'internal_server_error'])
      assert.equal(app.maintenance, true)
      assert.deepEqual(recorded(name).map(r => [r.fault, r.applied]), [['status-500', true]])
      assert.equal(sandbox().writes(name).length, 1)
    })
  })

  describe('reset', () => {
    it('drops the connection after applying by default: the client sees ECONNRESET, the write happened', async () => {
      const name = appName('fault-reset')
      const app = sandbox().createApp(name)
      sandbox().inject({method: 'PATCH', path: `/apps/${name}`, kind: 'reset'})
      assert.equal(await fails(maintenanceOn(name)), 'ECONNRESET')
      assert.equal(app.maintenance, true)
      assert.deepEqual(recorded(name).map(r => [r.fault, r.applied]), [['reset-after', true]])
      assert.equal(sandbox().writes(name).length, 1)
    })

    it('drops the connection before applying with when: before', async () => {
      const name = appName('fault-reset-before')
      const app = sandbox().createApp(name)
      sandbox().inject({method: 'PATCH', path: `/apps/${name}`, kind: 'reset', when: 'before'})
      assert.equal(await fails(maintenanceOn(name)), 'ECONNRESET')
      assert.equal(app.maintenance, false)
      assert.deepEqual(recorded(name).map(r => [r.fault, r.applied]), [['reset-before', false]])
      assert.deepEqual(sandbox().writes(name), [])
    })
  })

  describe('hang', () => {
    for (const when of ['after', 'before'] as const) {
      it(`never answers (${when} applying): the client gives up, the write ${when === 'after' ? 'happened' : 'did not happen'}`, async () => {
        const name = appName(`fault-hang-${when}`)
        const app = sandbox().createApp(name)
        sandbox().inject({method: 'PATCH', path: `/apps/${name}`, kind: 'hang', when})
        const answer = call(sandbox(), 'PATCH', `/apps/${name}`, {body: {maintenance: true}, timeoutMs: 300})
        assert.equal(await fails(answer), 'CLIENT_TIMEOUT')
        assert.equal(app.maintenance, when === 'after')
        assert.deepEqual(recorded(name).map(r => [r.fault, r.applied]), [[`hang-${when}`, when === 'after']])
      })
    }
  })

  describe('delay', () => {
    it('applies at once and answers normally after the extra milliseconds', async () => {
      const name = appName('fault-delay')
      const app = sandbox().createApp(name)
      sandbox().inject({method: 'PATCH', path: `/apps/${name}`, kind: 'delay', ms: 400})
      const started = Date.now()
      let answered = false
      const answer = maintenanceOn(name).finally(() => (answered = true))
      await until(() => app.maintenance)
      assert.equal(answered, false, 'applied before answering')
      assert.equal((await answer).status, 200)
      assert.ok(Date.now() - started >= 300, `answered after ${Date.now() - started}ms`)
      assert.deepEqual(recorded(name).map(r => [r.fault, r.applied]), [['delay', true]])
    })
  })

  describe('matching', () => {
    it('hits the nth matching request and the `times` after it, counting only the method and path given', async () => {
      const name = appName('fault-nth')
      sandbox().createApp(name)
      const fault = sandbox().inject({method: 'GET', path: `/apps/${name}`, kind: 'status', status: 503, nth: 2, times: 2})
      const statuses: number[] = []
      for (const method of ['GET', 'PATCH', 'GET', 'GET', 'GET']) {
        statuses.push((await call(sandbox(), method, `/apps/${name}`, method === 'PATCH' ? {body: {}} : {})).status)
      }
      assert.deepEqual(statuses, [200, 200, 503, 503, 200])
      assert.equal(fault.hits, 2)
    })

    it('matches paths by pattern, times: Infinity keeps hitting, remove() stops it', async () => {
      const name = appName('fault-pattern')
      sandbox().createApp(name)
      const fault = sandbox().inject({path: new RegExp(`^/apps/${name}/`), kind: 'status', status: 500, times: Infinity})
      const paths = [`/apps/${name}/releases`, `/apps/${name}/config-vars`, `/apps/${name}`]
      const statuses = await Promise.all(paths.map(async path => (await call(sandbox(), 'GET', path)).status))
      assert.deepEqual(statuses, [500, 500, 200])
      fault.remove()
      assert.equal((await call(sandbox(), 'GET', `/apps/${name}/releases`)).status, 200)
      assert.equal(fault.hits, 2)
    })

    it('counts every fault on every request it targets; the first registered answers', async () => {
      const name = appName('fault-order')
      sandbox().createApp(name)
      const path = `/apps/${name}`
      const first = sandbox().inject({path, kind: 'status', status: 503})
      const second = sandbox().inject({path, kind: 'reset', nth: 2})
      const shadowed = sandbox().inject({path, kind: 'status', status: 500})
      assert.equal((await call(sandbox(), 'GET', path)).status, 503)
      assert.equal(await fails(call(sandbox(), 'GET', path)), 'ECONNRESET')
      assert.equal((await call(sandbox(), 'GET', path)).status, 200)
      assert.deepEqual([first.hits, second.hits, shadowed.hits], [1, 1, 0])
    })

    it('clearFaults removes them all', async () => {
      const name = appName('fault-clear')
      sandbox().createApp(name)
      sandbox().inject({path: `/apps/${name}`, kind: 'status', status: 503, times: Infinity})
      sandbox().clearFaults()
      assert.equal((await call(sandbox(), 'GET', `/apps/${name}`)).status, 200)
      assert.equal(recorded(name)[0].fault, undefined)
    })
  })

  describe('latency', () => {
    it('adds a round trip to every API request and applies a write in its middle', async () => {
      const name = appName('latency')
      const app = sandbox().createApp(name)
      sandbox().latencyMs = 600
      const started = Date.now()
      let answered = false
      const answer = maintenanceOn(name).finally(() => (answered = true))
      await until(() => recorded(name).length > 0)
      assert.equal(app.maintenance, false, 'not applied when it arrives')
      await until(() => app.maintenance)
      assert.equal(answered, false, 'applied before the answer travels back')
      assert.equal((await answer).status, 200)
      assert.ok(Date.now() - started >= 500, `answered after ${Date.now() - started}ms`)
    })

    it('leaves release output streams alone', async () => {
      const name = appName('latency-stream')
      const app = sandbox().createApp(name)
      const release = sandbox().state.addRelease(app, {description: 'Deploy', _output: ['Release command finished.']})
      sandbox().latencyMs = 1000
      let apiAnswered = false
      const api = call(sandbox(), 'GET', `/apps/${name}`).finally(() => (apiAnswered = true))
      const stream = await call(sandbox(), 'GET', `/streams/${release.id}`)
      assert.equal(stream.status, 200)
      assert.equal(apiAnswered, false, 'the stream came back before a request started with it')
      assert.equal((await api).status, 200)
    })
  })

  describe('the real heroku CLI', () => {
    it('gets a Heroku-shaped error from a 503 on the releases list', async () => {
      const name = appName('fault-cli')
      sandbox().createApp(name)
      const fault = sandbox().inject({method: 'GET', path: `/apps/${name}/releases`, kind: 'status', status: 503, message: 'The API is down for maintenance.', times: Infinity})
      const result = await run(['releases', '-a', name])
      assert.notEqual(result.code, 0)
      assert.match(result.stderr, /The API is down for maintenance\./)
      assert.match(result.stderr, /unavailable/)
      assert.ok(fault.hits >= 1)
      assert.ok(sandbox().requests.filter(r => r.path === `/apps/${name}/releases`).every(r => r.fault === 'status-503' && !r.applied))
    })
  })
})

describe('a stopped sandbox', function () {
  this.timeout(120_000)

  it('starts with latencyMs from its options and cuts off hanging and delayed requests when it stops', async () => {
    const own = await Sandbox.start({latencyMs: 40})
    let stopped = false
    try {
      assert.equal(own.latencyMs, 40)
      own.createApp('hung')
      own.inject({path: '/apps/hung', kind: 'hang'})
      own.inject({path: '/apps/hung', kind: 'delay', ms: 600_000, nth: 2})
      const hanging = fails(call(own, 'GET', '/apps/hung'))
      const delayed = fails(call(own, 'GET', '/apps/hung'))
      await until(() => own.requests.filter(r => r.applied).length === 2)
      await own.stop()
      stopped = true
      assert.deepEqual(await Promise.all([hanging, delayed]), ['ECONNRESET', 'ECONNRESET'])
      assert.deepEqual(own.requests.map(r => r.fault), ['hang-after', 'delay'])
    } finally {
      if (!stopped) await own.stop()
    }
  })
})
