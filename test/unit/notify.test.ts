import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Interrupts} from '../../src/lib/interrupts.js'
import {Lane} from '../../src/lib/notify/deliver.js'
import {blockedNotice, type Ended, finishedNotice, healthOf, startedNotice} from '../../src/lib/notify/notice.js'
import {type Sink, sinkFor} from '../../src/lib/notify/sinks.js'
import {assertTargets, chooseTargets} from '../../src/lib/notify/targets.js'
import {timelineMarkdown, timelineOf} from '../../src/lib/notify/timeline.js'
import {actions} from '../../src/lib/registry.js'
import {readEvents, readRun, RunLog} from '../../src/lib/runner/log.js'
import {type Progress, Runner} from '../../src/lib/runner/runner.js'
import {registerSecrets} from '../../src/lib/secrets.js'
import {Receiver} from '../support/receiver.js'
import {apiClient} from './client.js'

// The notify area without the CLI: which targets a run has, what each event says, what each sink is
// sent, how delivery treats a sink that fails (a local receiver stands in for it), and the timeline.

const begun = {run: '261206-101500-ab12', command: 'safe-rollback', app: 'shop', what: 'roll back to v50', who: 'ana@laptop', steps: ['Turn maintenance mode on', 'Roll back to v50', 'Turn maintenance mode off']}

const failedRun: Ended = {
  status: 'failed', error: 'Roll back to v50 failed: Invalid parameters.', durationMs: 12_400, finish: [], undo: [],
  steps: [
    {title: 'Turn maintenance mode on', state: 'undone'},
    {title: 'Roll back to v50', state: 'failed', error: 'Invalid parameters.'},
    {title: 'Turn maintenance mode off', state: 'not run', note: 'not needed: put back above'},
  ],
}

describe('notify: targets', () => {
  it('--notify wins over the team default; the default is a comma-separated list; none sends nothing', () => {
    assert.deepEqual(chooseTargets(['slack'], 'pagerduty,datadog'), {targets: ['slack'], problems: []})
    assert.deepEqual(chooseTargets(undefined, ' pagerduty , https://hooks.example.com/x ,'), {targets: ['pagerduty', 'https://hooks.example.com/x'], problems: []})
    assert.deepEqual(chooseTargets(['none'], 'pagerduty'), {targets: [], problems: []})
    assert.deepEqual(chooseTargets(undefined, 'pagerduty,none'), {targets: [], problems: []})
  })

  it('a wrong --notify is refused in one line, a URL-like one without repeating it; a wrong default entry is said and left out', () => {
    assert.throws(() => assertTargets(['slak']), /^Error: --notify: "slak" is not a place to notify: give pagerduty, slack, datadog, none or an http\(s\):\/\/ URL\.$/)
    assert.throws(() => assertTargets(['hooks.slack.com/services/T0/B0/SECRET']), (error: Error) => !error.message.includes('SECRET') && /a value is not a place to notify/.test(error.message))
    assert.throws(() => assertTargets(['ftp://example.com/x']), /is not a place to notify/)
    assert.doesNotThrow(() => assertTargets(['pagerduty', 'http://127.0.0.1:9/x', 'none']))
    const {targets, problems} = chooseTargets(undefined, 'slack,pagerduty2')
    assert.deepEqual(targets, ['slack'])
    assert.deepEqual(problems, ['HEROKU_SAFE_ROLLBACK_NOTIFY names "pagerduty2", which is not a place to notify (give pagerduty, slack, datadog, none or an http(s):// URL): left out.'])
  })

  it('a sink without its key or URL is a problem named with the variable, not a failure', () => {
    for (const [target, variable] of [['pagerduty', 'PAGERDUTY_ROUTING_KEY'], ['slack', 'SLACK_WEBHOOK_URL'], ['datadog', 'DD_API_KEY']]) {
      const sink = sinkFor(target, {})
      assert.ok('problem' in sink && sink.problem.includes(variable), target)
    }
    const dd = sinkFor('datadog', {DD_API_KEY: 'k'.repeat(32), DD_SITE: 'datadoghq.eu'}) as Sink
    assert.equal(dd.request(startedNotice(begun, 1)).url, 'https://event-management-intake.datadoghq.eu/api/v2/events')
    assert.equal((sinkFor('pagerduty', {PAGERDUTY_ROUTING_KEY: 'r'.repeat(32)}) as Sink).request(startedNotice(begun, 1)).url, 'https://events.pagerduty.com/v2/change/enqueue')
  })
})

describe('notify: the events', () => {
  it('start: who, what, the steps, the run; its id is RUN:SEQ', () => {
    const notice = startedNotice(begun, 1, new Date('2026-12-06T10:15:00Z'))
    assert.equal(notice.id, '261206-101500-ab12:1')
    assert.equal(notice.summary, 'safe-rollback started on shop by ana@laptop: roll back to v50 (run 261206-101500-ab12)')
    assert.deepEqual(notice.steps, begun.steps)
    assert.equal(notice.log, 'heroku recovery:log 261206-101500-ab12')
  })

  it('outcome: failed, what was put back, what was not done, and the error; a secret in the error never leaves', () => {
    registerSecrets(['postgres://u:hunter2hunter2@db.example.com/x'])
    const notice = finishedNotice(begun, {...failedRun, error: 'Could not reach postgres://u:hunter2hunter2@db.example.com/x.'}, 2)
    assert.equal(notice.outcome, 'failed')
    assert.deepEqual(notice.undone, ['Turn maintenance mode on'])
    assert.deepEqual(notice.changed, [])
    assert.deepEqual(notice.problems, ['Roll back to v50: failed (Invalid parameters.)'])
    assert.match(notice.summary, /^safe-rollback on shop FAILED after 12s: roll back to v50: Could not reach postgres:\/\/u:\[REDACTED\]@/)
    assert.ok(!JSON.stringify(notice).includes('hunter2'))
  })

  it('outcome: the health verdict of a watch step, when there was one', () => {
    const health = healthOf([undefined, {release: 53}, {verdict: 'unhealthy', reason: 'error rate 41.0% (41 of 100) over 2m, above 2%', requests: 100}])
    assert.deepEqual(health, {verdict: 'unhealthy', reason: 'error rate 41.0% (41 of 100) over 2m, above 2%'})
    assert.equal(healthOf([{verdict: 'watching', reason: 'x'}]), undefined)
    const notice = finishedNotice(begun, {status: 'succeeded', durationMs: 190_000, steps: [], finish: [], undo: ['heroku safe-rollback v52 --app shop'], health}, 2)
    assert.match(notice.summary, /succeeded after 3m: roll back to v50; health: unhealthy \(error rate 41\.0%/)
  })

  it('blocked: the checks that refused it, no run log to point at', () => {
    const notice = blockedNotice({ref: '261206-101500-cd34', command: 'files:recover', app: 'shop', what: 'recover files', who: 'ana@laptop', checks: [{name: 'time', detail: 'It is in the future'}]})
    assert.equal(notice.id, '261206-101500-cd34:1')
    assert.equal(notice.summary, 'files:recover on shop was refused before any change (recover files): It is in the future.')
    assert.equal(notice.log, undefined)
  })
})

describe('notify: what each sink is sent', () => {
  const notice = finishedNotice(begun, {...failedRun, error: 'a <b> & c'}, 2, new Date('2026-12-06T10:15:12Z'))

  it('PagerDuty: a change event with the routing key, summary, source, timestamp, details and a link', () => {
    const {url, headers, body} = (sinkFor('pagerduty', {PAGERDUTY_ROUTING_KEY: 'R'.repeat(32), PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9/pd'}) as Sink).request(notice)
    assert.equal(url, 'http://127.0.0.1:9/pd')
    assert.equal(headers['content-type'], 'application/json')
    const sent = JSON.parse(body)
    assert.deepEqual(Object.keys(sent), ['routing_key', 'payload', 'links'])
    assert.equal(sent.routing_key, 'R'.repeat(32))
    assert.deepEqual({summary: sent.payload.summary, source: sent.payload.source, timestamp: sent.payload.timestamp}, {summary: notice.summary, source: 'shop', timestamp: '2026-12-06T10:15:12.000Z'})
    assert.equal(sent.payload.custom_details.id, '261206-101500-ab12:2')
    assert.equal(sent.payload.custom_details.summary, undefined, 'said once, in the summary')
  })

  it('Slack: one short message, its control characters escaped', () => {
    const {body} = (sinkFor('slack', {SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x'}) as Sink).request(notice)
    const {text} = JSON.parse(body)
    assert.match(text, /^\*safe-rollback on shop FAILED after 12s: roll back to v50: a &lt;b&gt; &amp; c \(run 261206-101500-ab12\)\*\n/)
    assert.match(text, /\nPut back: Turn maintenance mode on\n/)
    assert.ok(text.split('\n').length <= 8, 'short')
  })

  it('Datadog: a change event with the key in its header only', () => {
    const {headers, body} = (sinkFor('datadog', {DD_API_KEY: 'D'.repeat(32), DATADOG_EVENTS_URL: 'http://127.0.0.1:9/dd'}) as Sink).request(notice)
    assert.equal(headers['dd-api-key'], 'D'.repeat(32))
    assert.ok(!body.includes('D'.repeat(32)))
    const {data} = JSON.parse(body)
    assert.equal(data.type, 'event')
    assert.equal(data.attributes.category, 'change')
    assert.deepEqual(data.attributes.attributes.author, {name: 'ana@laptop', type: 'user'})
    assert.deepEqual(data.attributes.attributes.changed_resource, {name: 'shop', type: 'configuration'})
    assert.ok(data.attributes.tags.includes('outcome:failed'))
  })

  it('a webhook: a CloudEvents 1.0 structured event whose id is the event\'s', () => {
    const {headers, body} = (sinkFor('https://hooks.example.com/in/secret', {}) as Sink).request(notice)
    assert.equal(headers['content-type'], 'application/cloudevents+json; charset=utf-8')
    const event = JSON.parse(body)
    assert.deepEqual({specversion: event.specversion, id: event.id, source: event.source, type: event.type, time: event.time, datacontenttype: event.datacontenttype},
      {specversion: '1.0', id: '261206-101500-ab12:2', source: 'urn:heroku-safe-rollback:shop', type: 'heroku-safe-rollback.run.finished', time: '2026-12-06T10:15:12.000Z', datacontenttype: 'application/json'})
    assert.deepEqual(event.data, notice)
    assert.equal((sinkFor('https://hooks.example.com/in/secret', {}) as Sink).label, 'the webhook at hooks.example.com')
  })
})

describe('notify: delivery', function () {
  this.timeout(20_000)
  let receiver: Receiver
  before(async () => {
    receiver = await Receiver.start()
  })
  after(async () => receiver.close())

  let paths = 0
  const pagerduty = () => {
    const path = `/pd${++paths}`
    return {path, sink: sinkFor('pagerduty', {PAGERDUTY_ROUTING_KEY: 'r'.repeat(32), PAGERDUTY_EVENTS_URL: `${receiver.url}${path}`}) as Sink}
  }
  const webhook = () => {
    const path = `/hook${++paths}`
    return {path, sink: sinkFor(`${receiver.url}${path}`, {}) as Sink}
  }
  const notice = startedNotice(begun, 1)

  it('a 5xx is tried again with the same event, at most three times', async () => {
    const {path, sink} = pagerduty()
    receiver.set(path, {status: 503}, {status: 202})
    assert.deepEqual(await new Lane(sink).deliver(notice), {status: 'delivered'})
    const other = pagerduty()
    receiver.set(other.path, {status: 500})
    assert.deepEqual(await new Lane(other.sink).deliver(notice), {status: 'not delivered', why: 'it answered 500'})
    for (const p of [path, other.path]) assert.equal(new Set(receiver.at(p).map(r => r.raw)).size, 1, 'the same body each time')
    assert.equal(receiver.at(other.path).length, 3)
  })

  it('429: again after Retry-After when that fits the budget; past it, not waited for', async () => {
    const {path, sink} = pagerduty()
    receiver.set(path, {status: 429, retryAfter: '0'}, {status: 202})
    assert.deepEqual(await new Lane(sink).deliver(notice), {status: 'delivered'})
    assert.equal(receiver.at(path).length, 2)
    const other = pagerduty()
    receiver.set(other.path, {status: 429, retryAfter: '30'})
    assert.deepEqual(await new Lane(other.sink).deliver(notice), {status: 'not delivered', why: 'it answered 429, to come back after 30s: past the 5s it may take'})
    assert.equal(receiver.at(other.path).length, 1)
  })

  it('another 4xx is not tried again; 401 and 403 name the credential to check', async () => {
    const {path, sink} = pagerduty()
    receiver.set(path, {status: 401})
    assert.deepEqual(await new Lane(sink).deliver(notice), {status: 'not delivered', why: 'it answered 401 (check PAGERDUTY_ROUTING_KEY)'})
    assert.equal(receiver.at(path).length, 1)
  })

  it('a lost answer: PagerDuty, which keeps duplicates, is not sent it again; a webhook, which drops them, is, with the same id', async () => {
    const pd = pagerduty()
    receiver.set(pd.path, 'reset', {status: 202})
    assert.equal((await new Lane(pd.sink).deliver(notice)).status, 'in doubt')
    assert.equal(receiver.at(pd.path).length, 1)
    const hook = webhook()
    receiver.set(hook.path, 'reset', {status: 202})
    assert.deepEqual(await new Lane(hook.sink).deliver(notice), {status: 'delivered'})
    assert.deepEqual(receiver.at(hook.path).map(r => r.body.id), [notice.id, notice.id])
  })

  it('a sink that hangs uses up its budget once: cut off, in doubt, and the next event is not sent at all', async () => {
    const {path, sink} = pagerduty()
    receiver.set(path, 'hang')
    const lane = new Lane(sink, 400)
    const first = await lane.deliver(notice)
    assert.equal(first.status, 'in doubt')
    assert.match((first as {why: string}).why, /^no answer within/)
    const second = await lane.deliver(finishedNotice(begun, failedRun, 2))
    assert.deepEqual(second, {status: 'not delivered', why: 'not sent: the 0s it may take were used up'})
    assert.equal(receiver.at(path).length, 1)
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(receiver.at(path)[0].cut, true)
  })

  it('stopped (Ctrl-C at the end): the request in flight is cut, nothing more is sent', async () => {
    const {path, sink} = pagerduty()
    receiver.set(path, 'hang')
    const stop = new AbortController()
    const lane = new Lane(sink, 5000, stop.signal)
    const first = lane.deliver(notice)
    const second = lane.deliver(finishedNotice(begun, failedRun, 2))
    setTimeout(() => stop.abort(), 100)
    assert.deepEqual(await first, {status: 'in doubt', why: 'stopped waiting for it'})
    assert.deepEqual(await second, {status: 'not delivered', why: 'not sent: stopped waiting for it'})
    assert.equal(receiver.at(path).length, 1)
  })

  it('a port nothing listens on: never connected, so tried again, then not delivered', async () => {
    const port = await new Promise<number>(resolve => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const {port} = probe.address() as {port: number}
        probe.close(() => resolve(port))
      })
    })
    const sink = sinkFor('pagerduty', {PAGERDUTY_ROUTING_KEY: 'r'.repeat(32), PAGERDUTY_EVENTS_URL: `http://127.0.0.1:${port}/x`}) as Sink
    assert.deepEqual(await new Lane(sink).deliver(notice), {status: 'not delivered', why: 'ECONNREFUSED'})
  })
})

describe('notify: the runner\'s hook and the timeline', () => {
  const progress: Progress = {start() {}, status() {}, stop() {}, say() {}, output() {}}

  it('the runner calls `begun` once its log has begun, with the run\'s id, before the first step', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'notify-'))
    const ran: string[] = []
    const seen: {id: string, stepsRun: number, state: string}[] = []
    const runner = new Runner({
      api: await apiClient(), actions, interrupts: new Interrupts(() => {}), progress, dataDir, command: 'test', app: 'shop', what: 'a test run', timeoutMs: 5000,
      begun: async ({id, file}) => {
        seen.push({id, stepsRun: ran.length, state: readRun(file)!.steps[0].state})
      },
    })
    const outcome = await runner.run([{id: 'one', title: 'Step one', apply: async () => ran.push('one')}])
    assert.deepEqual(seen, [{id: outcome.run, stepsRun: 0, state: 'not run'}])
    assert.equal(outcome.status, 'succeeded')
  })

  it('a hook that fails does not stop the run', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'notify-'))
    const runner = new Runner({
      api: await apiClient(), actions, interrupts: new Interrupts(() => {}), progress, dataDir, command: 'test', app: 'shop', what: 'a test run', timeoutMs: 5000,
      begun: async () => {
        throw new Error('no')
      },
    })
    assert.equal((await runner.run([{id: 'one', title: 'Step one', apply: async () => 1}])).status, 'succeeded')
  })

  it('the timeline: the run\'s rows in order with their outcomes and durations, cells escaped, the put-back with its command, the days when they change', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'notify-'))
    const log = RunLog.begin(dataDir, {
      command: 'safe-rollback', app: 'shop', what: 'roll back to v50',
      steps: [{id: 'maintenance-on', title: 'Turn maintenance mode on', command: 'heroku maintenance:on --app shop'}, {id: 'rollback', title: 'Roll back | to v50'}],
      checks: [{name: 'backups', outcome: 'passed', detail: 'b001 is 2h old'}], warnings: ['Backups were not checked'], rerun: 'heroku safe-rollback v50 --app shop --confirm shop',
    })
    const undo = {title: 'Turn maintenance mode off', command: 'heroku maintenance:off --app shop', action: {kind: 'maintenance', app: 'shop', on: false}, automatic: true} as const
    log.append({event: 'started', step: 'maintenance-on'})
    log.append({event: 'applied', step: 'maintenance-on', undo})
    log.append({event: 'done', step: 'maintenance-on'})
    log.append({event: 'started', step: 'rollback'})
    log.append({event: 'failed', step: 'rollback', error: 'Invalid parameters.', applied: false})
    log.append({event: 'undo-started', step: 'maintenance-on'})
    log.append({event: 'undone', step: 'maintenance-on'})
    log.append({event: 'end', status: 'failed', message: 'Roll back | to v50 failed: Invalid parameters.'})
    const record = readRun(log.file)!
    const timeline = timelineOf(actions, record, readEvents(log.file).events)
    assert.deepEqual(timeline.rows.map(r => [r.kind, r.what, r.outcome]), [
      ['run', 'safe-rollback started by ' + record.who + ': roll back to v50', undefined],
      ['step', 'Turn maintenance mode on', 'done'],
      ['step', 'Roll back | to v50', 'failed: Invalid parameters.'],
      ['put back', 'Put back: Turn maintenance mode off', 'done, read back'],
      ['run', 'Run ended', 'failed: Roll back | to v50 failed: Invalid parameters.'],
    ])
    assert.ok(timeline.rows.slice(1).every(r => typeof r.tookMs === 'number' && r.tookMs >= 0))
    assert.deepEqual(timeline.byHand, ['heroku maintenance:on --app shop', '# Roll back | to v50: no single command', 'heroku maintenance:off --app shop'])
    assert.deepEqual(timeline.undone, ['Turn maintenance mode on (turn maintenance mode off)'])
    const md = timelineMarkdown(timeline)
    assert.match(md, /\n\| \d\d:\d\d:\d\d \| Roll back \\\| to v50 \| failed: Invalid parameters\. \| \d+\.\ds \|\n/)
    assert.match(md, /\n### Checks\n\n- ✓ backups: b001 is 2h old\n/)
    assert.match(md, /\n### Warnings\n\n- Backups were not checked\n/)
    assert.match(md, /\n### Again\n\nThe command that carries out the same plan:\n\n```sh\nheroku safe-rollback v50 --app shop --confirm shop\n```$/)

    const late = timelineMarkdown({...timeline, startedAt: '2026-12-05T23:59:58.000Z', rows: [{...timeline.rows[0], at: '2026-12-05T23:59:58.000Z'}, {...timeline.rows[1], at: '2026-12-06T00:00:01.000Z'}]})
    assert.match(late, /\n\| 23:59:58 \| safe-rollback started/)
    assert.match(late, /\n\| 2026-12-06 00:00:01 \| Turn maintenance mode on/)
  })
})
