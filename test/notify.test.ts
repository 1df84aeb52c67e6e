import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {seedBrokenApp} from '../src/sandbox/seeds/broken-app.js'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {cliEnv, heroku, type Result} from './support/heroku.js'
import {seedChangedFiles} from './support/files.js'
import {Receiver} from './support/receiver.js'
import {appName, sandbox} from './support/sandbox.js'
import {secretsOf} from './support/secrets.js'

// --notify through the real CLI: a local receiver stands in for PagerDuty, Slack, Datadog and a webhook
// (each sink's endpoint overridden by its variable). What each received, in what order relative to the
// API's writes, what a sink that fails, is rate-limited or hangs changes (nothing but one warning), that
// `recovery:log RUN --notify` sends again what did not arrive, and that no secret is in any body.

const hex = () => randomBytes(16).toString('hex')

let receiver: Receiver
let app = ''

// Each test's sinks: secrets of their own, endpoints on the receiver under a path of their own.
function sinks(prefix: string) {
  const secret = {routingKey: `rk${hex()}`, ddKey: `dd${hex()}`, slack: `${receiver.url}/${prefix}/slack/T0/B0/${hex()}`, hook: `${receiver.url}/${prefix}/hook/${hex()}`}
  const env = {
    PAGERDUTY_ROUTING_KEY: secret.routingKey, PAGERDUTY_EVENTS_URL: `${receiver.url}/${prefix}/pagerduty`,
    DD_API_KEY: secret.ddKey, DATADOG_EVENTS_URL: `${receiver.url}/${prefix}/datadog`,
    SLACK_WEBHOOK_URL: secret.slack,
  }
  const path = (url: string) => new URL(url).pathname
  const paths = {pagerduty: `/${prefix}/pagerduty`, datadog: `/${prefix}/datadog`, slack: path(secret.slack), hook: path(secret.hook)}
  return {secret, env, paths, all: ['--notify', 'pagerduty', '--notify', 'slack', '--notify', 'datadog', '--notify', secret.hook]}
}

const runLogs = (name: string) => {
  const dir = join(cliEnv().XDG_DATA_HOME!, 'heroku', 'safe-rollback', 'runs', name)
  return existsSync(dir) ? readdirSync(dir).filter(f => f.endsWith('.jsonl')).map(f => readFileSync(join(dir, f), 'utf8')).join('\n') : ''
}

// No config value, database password, API key, sink key or webhook URL in any body, output or run log;
// the routing key only where PagerDuty reads it, the Datadog key only in its header.
function assertNoSecretLeft(s: ReturnType<typeof sinks>, secrets: string[], results: Result[], name: string) {
  const texts = [...receiver.received.map(r => ({where: `the body sent to ${r.path}`, text: r.raw})), ...results.map(r => ({where: 'the output', text: r.stdout + r.stderr})), {where: 'the run log', text: runLogs(name)}]
  for (const {where, text} of texts) {
    for (const secret of [...secrets, s.secret.ddKey, s.secret.slack, s.secret.hook, new URL(s.secret.hook).pathname]) assert.ok(!text.includes(secret), `${where} shows a secret (${secret.slice(0, 6)}…)`)
  }
  for (const r of receiver.received) {
    const count = r.raw.split(s.secret.routingKey).length - 1
    assert.equal(count, r.path === s.paths.pagerduty ? 1 : 0, `the routing key in ${r.path}`)
    if (r.path === s.paths.pagerduty) assert.equal(r.body.routing_key, s.secret.routingKey)
  }
  for (const {text} of texts.slice(receiver.received.length)) assert.ok(!text.includes(s.secret.routingKey), 'the routing key was printed or logged')
}

const writesOf = (name: string) => sandbox().writes(name).length

// `recovery:log RUN --format markdown`, checked for its structure: the heading, the facts, the timeline
// table (the run's start, each step in order with its outcome and how long it took, the end), and the
// sections a postmortem copies (what changed, what was put back, the undo, the commands by hand).
async function assertTimeline(run: string, expected: {command: string, app: string, status: string, steps: [title: string, outcome: RegExp][], sections: Record<string, string[]>}) {
  const result = await heroku(['recovery:log', run, '--format', 'markdown'])
  assert.equal(result.code, 0, result.stderr)
  const md = result.stdout
  const lines = md.split('\n')
  assert.match(lines[0], new RegExp(`^## ${expected.command} on ${expected.app}: \\S`))
  assert.ok(lines.includes(`- **Outcome:** ${expected.status}`) || lines.some(l => l.startsWith(`- **Outcome:** ${expected.status}: `)), md)
  assert.ok(lines.includes(`- **Run:** \`${run}\` (\`heroku recovery:log ${run}\`)`), md)
  assert.ok(lines.some(l => /^- \*\*Who:\*\* \S+@\S+$/.test(l)), md)
  assert.ok(lines.some(l => /^- \*\*Started:\*\* \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/.test(l)), md)
  assert.ok(lines.some(l => /^- \*\*Ended:\*\* \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+\.\ds\)$/.test(l)), md)
  const table = lines.slice(lines.indexOf('### Timeline (UTC)') + 2)
  assert.deepEqual(table.slice(0, 2), ['| Time | What | Outcome | Took |', '| --- | --- | --- | --- |'])
  const rows = table.slice(2, table.findIndex((l, i) => i > 1 && !l.startsWith('| '))).map(l => l.slice(2, -2).split(' | '))
  for (const [time] of rows) assert.match(time, /^\d\d:\d\d:\d\d$/)
  assert.match(rows[0][1], new RegExp(`^${expected.command} started by \\S+@\\S+: `))
  const steps = rows.filter(r => !/^(Told: |Run ended$)/.test(r[1])).slice(1)
  assert.deepEqual(steps.map(r => r[1]), expected.steps.map(([title]) => title), md)
  for (const [[, outcome], row] of expected.steps.map((step, i) => [step, steps[i]] as const)) {
    assert.match(row[2], outcome, row.join(' | '))
    assert.match(row[3], /^\d+\.\ds$/, `${row[1]}: how long it took`)
  }
  const end = rows.find(r => r[1] === 'Run ended')!
  assert.match(end[2], new RegExp(`^${expected.status}`))
  for (const [section, content] of Object.entries(expected.sections)) {
    const at = lines.indexOf(`### ${section}`)
    assert.ok(at > 0, `no ${section} section:\n${md}`)
    const body = lines.slice(at + 1, lines.findIndex((l, i) => i > at && l.startsWith('### ')) >>> 0).join('\n')
    for (const line of content) assert.ok(body.includes(line), `${section} lacks ${line}:\n${body}`)
  }
  return md
}

// The warnings printed, each on one line again (oclif wraps them at 80 columns outside a terminal; with
// --json, which oclif keeps them back for, a failed sink is still said, on one line).
const warnings = (stderr: string) => stderr.split('\n').reduce<string[]>((all, line) => {
  if (line.startsWith('Warning: ')) all.push(line.slice('Warning: '.length))
  else if (line.startsWith(' ›   Warning: ')) all.push(line.slice(' ›   Warning: '.length))
  else if (line.startsWith(' ›   ') && all.length > 0) all[all.length - 1] = `${all.at(-1)!.trimEnd()} ${line.slice(' ›   '.length).trim()}`
  return all
}, [])

describe('--notify: the incident is told what the plugin did', function () {
  this.timeout(120_000)

  before(async () => {
    receiver = await Receiver.start(() => app && writesOf(app))
  })
  after(async () => receiver?.close())

  it('safe-rollback: a start event before the first write and an outcome event after the last, with the same run id, to every sink', async () => {
    app = appName('notify-sr')
    const {app: seeded, database} = await seedBrokenApp(sandbox(), app, {releaseCommand: null})
    const s = sinks('sr')
    const result = await heroku(['safe-rollback', 'v50', '--app', app, '--confirm', app, '--maintenance', '--json', ...s.all], {env: s.env})
    assert.equal(result.code, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    const run = document.run.id
    const writes = writesOf(app)
    assert.ok(writes >= 3, 'maintenance on, the rollback, maintenance off')
    for (const [sink, path] of Object.entries(s.paths)) {
      const got = receiver.at(path)
      assert.equal(got.length, 2, `${sink}: ${got.length} requests`)
      assert.equal(got[0].mark, 0, `${sink}: the start event came before the first write`)
      assert.equal(got[1].mark, writes, `${sink}: the outcome event came after the last write`)
    }
    const [start, end] = receiver.at(s.paths.hook).map(r => r.body)
    assert.equal(receiver.at(s.paths.hook)[0].headers['content-type'], 'application/cloudevents+json; charset=utf-8')
    assert.deepEqual({specversion: start.specversion, id: start.id, type: start.type, source: start.source, subject: start.subject}, {
      specversion: '1.0', id: `${run}:1`, type: 'heroku-safe-rollback.run.started', source: `urn:heroku-safe-rollback:${app}`, subject: app,
    })
    assert.ok(!Number.isNaN(Date.parse(start.time)))
    assert.deepEqual({run: start.data.run, command: start.data.command, app: start.data.app, what: start.data.what}, {run, command: 'safe-rollback', app, what: 'roll back to v50'})
    assert.match(start.data.who, /\S+@\S+/)
    assert.deepEqual(start.data.steps, ['Turn maintenance mode on', 'Roll back to v50 and wait for the release phase and the dynos', 'Turn maintenance mode off'])
    assert.equal(end.id, `${run}:2`)
    assert.equal(end.type, 'heroku-safe-rollback.run.finished')
    assert.equal(end.data.outcome, 'succeeded')
    assert.equal(end.data.run, run)
    assert.ok(end.data.durationMs > 0)
    assert.deepEqual(end.data.undo, [`heroku safe-rollback v52 --app ${app}`])
    assert.equal(end.data.changed.length, 3)

    const [pdStart, pdEnd] = receiver.at(s.paths.pagerduty).map(r => r.body)
    assert.match(pdStart.payload.summary, new RegExp(`^safe-rollback started on ${app} by \\S+: roll back to v50 \\(run ${run}\\)$`))
    assert.equal(pdStart.payload.source, app)
    assert.equal(pdStart.payload.custom_details.id, `${run}:1`)
    assert.deepEqual(pdStart.links, [{href: `https://dashboard.heroku.com/apps/${app}/activity`, text: `${app} on the Heroku dashboard`}])
    assert.match(pdEnd.payload.summary, new RegExp(`^safe-rollback on ${app} succeeded after \\d+s: roll back to v50 \\(run ${run}\\)$`))
    assert.deepEqual(pdEnd.payload.custom_details.undo, [`heroku safe-rollback v52 --app ${app}`])

    const [slackStart, slackEnd] = receiver.at(s.paths.slack).map(r => r.body)
    assert.match(slackStart.text, new RegExp(`^\\*safe-rollback started on ${app}`))
    assert.match(slackEnd.text, /succeeded/)
    assert.match(slackEnd.text, new RegExp(`To undo: heroku safe-rollback v52 --app ${app}`))

    const dd = receiver.at(s.paths.datadog)
    assert.equal(dd[0].headers['dd-api-key'], s.secret.ddKey)
    assert.equal(dd[1].body.data.attributes.category, 'change')
    assert.ok(dd[1].body.data.attributes.tags.includes('outcome:succeeded'))
    assert.deepEqual(dd[1].body.data.attributes.attributes.impacted_resources, [{name: app, type: 'service'}])
    assert.deepEqual(warnings(result.stderr), [])
    const md = await assertTimeline(run, {command: 'safe-rollback', app, status: 'succeeded', steps: [
      ['Turn maintenance mode on', /^done$/], ['Roll back to v50 and wait for the release phase and the dynos', /^done: v53 is live/], ['Turn maintenance mode off', /^done$/],
    ], sections: {
      'Changed': ['- Turn maintenance mode on'],
      'To undo': [`heroku safe-rollback v52 --app ${app}`],
      'By hand': [`heroku maintenance:on --app ${app}\nheroku releases:rollback v50 --app ${app}\nheroku maintenance:off --app ${app}`],
      'Again': [`heroku safe-rollback v50 --app ${app} --maintenance --confirm ${app}\n`],
    }})
    assert.match(md, new RegExp(`\\| Told: safe-rollback started on ${app} .* \\| PagerDuty: delivered; Slack: delivered; Datadog: delivered; the webhook at ${new URL(receiver.url).host}: delivered \\|`))
    assertNoSecretLeft(s, secretsOf(seeded, [database]), [result], app)
  })

  it('files:recover refused by a check: one blocked event, the refusal and exit code unchanged, no run; a dry run tells nobody', async () => {
    const files = sandbox().createApp(appName('notify-block'))
    app = files.name
    seedChangedFiles(files, 4)
    const s = sinks('block')
    const future = new Date(Date.now() + 3_600_000).toISOString()
    const dry = await heroku(['files:recover', '--app', app, '--to', future, '--dry-run', '--notify', s.secret.hook], {env: s.env})
    assert.equal(dry.code, 1)
    assert.equal(receiver.at(s.paths.hook).length, 0, 'a dry run tells nobody')
    const result = await heroku(['files:recover', '--app', app, '--to', future, '--confirm', app, '--notify', s.secret.hook], {env: s.env})
    assert.equal(result.code, 1)
    assert.match(result.stderr.split('\n')[0], /^Error: .* is in the future: there is nothing to go back to\.$/)
    const [event] = receiver.at(s.paths.hook)
    assert.equal(receiver.at(s.paths.hook).length, 1)
    assert.equal(event.body.type, 'heroku-safe-rollback.run.blocked')
    assert.equal(event.body.id, `${event.body.data.run}:1`)
    assert.deepEqual(event.body.data.refusedBy.map((c: {name: string}) => c.name), ['time'])
    assert.match(event.body.data.summary, new RegExp(`^files:recover on ${app} was refused before any change \\(.*\\): .* is in the future`))
    assert.equal(event.body.data.log, undefined)
    assert.equal(runLogs(app), '', 'a refusal leaves no run')
    assertNoSecretLeft(s, [], [dry, result], app)
  })

  it('safe-rollback whose rollback fails: the outcome event says failed, what was put back, and the run id; exit code as without --notify', async () => {
    app = appName('notify-fail')
    await seedBrokenApp(sandbox(), app, {releaseCommand: null})
    sandbox().inject({kind: 'status', status: 422, app, method: 'POST', path: `/apps/${app}/releases`})
    const s = sinks('fail')
    try {
      const result = await heroku(['safe-rollback', 'v50', '--app', app, '--confirm', app, '--maintenance', '--notify', s.secret.hook, '--notify', 'slack'], {env: s.env})
      assert.equal(result.code, 1)
      const [start, end] = receiver.at(s.paths.hook).map(r => r.body)
      assert.equal(start.data.type, 'started')
      assert.equal(end.data.outcome, 'failed')
      assert.equal(end.data.run, start.data.run)
      assert.match(end.data.error, /Invalid parameters/)
      assert.deepEqual(end.data.undone, ['Turn maintenance mode on'])
      assert.deepEqual(end.data.changed, [])
      assert.equal(end.data.problems.length, 1)
      assert.match(end.data.problems[0], /^Roll back to v50 .*: failed/)
      assert.equal(sandbox().state.app(app)!.maintenance, false)
      const slack = receiver.at(s.paths.slack).map(r => r.body.text)
      assert.match(slack[1], new RegExp(`^\\*safe-rollback on ${app} FAILED after \\d+s: roll back to v50: .*Invalid parameters`))
      assert.match(slack[1], /Put back: Turn maintenance mode on/)
      await assertTimeline(start.data.run, {command: 'safe-rollback', app, status: 'failed', steps: [
        ['Turn maintenance mode on', /^done$/], ['Roll back to v50 and wait for the release phase and the dynos', /^failed: .*Invalid parameters/], ['Put back: Turn maintenance mode off', /^done, read back$/],
      ], sections: {
        'Put back': ['- Turn maintenance mode on (turn maintenance mode off)'],
        'By hand': [`heroku maintenance:on --app ${app}\nheroku releases:rollback v50 --app ${app}\nheroku maintenance:off --app ${app}`],
      }})
    } finally {
      sandbox().clearFaults()
    }
  })

  it('db:recover: a start and an outcome event for the recovery', async () => {
    app = appName('notify-db')
    const loss = await seedDataLoss(sandbox(), app)
    const s = sinks('db')
    const result = await heroku(['db:recover', '--app', app, '--backup', loss.backup, '--confirm', app, '--json', '--notify', s.secret.hook], {env: s.env})
    assert.equal(result.code, 0, result.stderr)
    const [start, end] = receiver.at(s.paths.hook)
    assert.equal(start.mark, 0, 'before the first write')
    assert.equal(start.body.data.what, `recover DATABASE from ${loss.backup}`)
    assert.equal(end.body.data.outcome, 'succeeded')
    assert.equal(end.body.data.run, JSON.parse(result.stdout).run.id)
    assert.ok(end.body.data.changed.some((c: string) => /^Restore /.test(c)), end.body.data.changed.join('\n'))
    const md = await assertTimeline(start.body.data.run, {command: 'db:recover', app, status: 'succeeded', steps: [
      ['Turn maintenance mode on', /^done$/], [`Capture a safety backup of DATABASE (${loss.database.name}) as it is now`, /^done: b\d+ succeeded$/],
      [`Restore ${loss.backup} into DATABASE (${loss.database.name}), replacing all of its data`, /^done: r\d+ succeeded$/], ['Turn maintenance mode off', /^done$/],
    ], sections: {
      'By hand': [`heroku maintenance:on --app ${app}\n# Capture a safety backup`, `heroku maintenance:off --app ${app}`],
      'To undo': ['heroku pg:backups:restore b'],
    }})
    assert.ok(!md.includes('### Put back'))
    assertNoSecretLeft(s, secretsOf(loss.app, [loss.database]), [result], app)
  })

  it('files:recover (the guarded skeleton): a start and an outcome event, and a timeline with the plan\'s checks and the command that carries it out again', async () => {
    const files = sandbox().createApp(appName('notify-files'))
    app = files.name
    const seeded = seedChangedFiles(files, 6)
    const s = sinks('files')
    const result = await heroku(['files:recover', '--app', app, '--to', seeded.recoverTo, '--confirm', app, '--notify', s.secret.hook], {env: s.env})
    assert.equal(result.code, 0, result.stderr)
    const [start, end] = receiver.at(s.paths.hook).map(r => r.body.data)
    assert.deepEqual([start.type, end.type, end.outcome, end.run], ['started', 'finished', 'succeeded', start.run])
    assert.match(start.what, new RegExp(seeded.recoverTo.slice(0, 16)))
    await assertTimeline(start.run, {command: 'files:recover', app, status: 'succeeded', steps: end.changed.map((title: string) => [title.replace(/: .*$/, ''), /^done/]), sections: {
      'Checks': ['- ✓ versioning: '],
      'Again': [`heroku files:recover --app ${app} --to ${seeded.recoverTo}`],
    }})
    // The bucket's name and endpoint are shown as every files command shows them; its keys never are.
    assertNoSecretLeft(s, Object.entries(files.config).filter(([name]) => /KEY/.test(name)).map(([, value]) => value), [result], app)
  })

  // A rollback whose sinks misbehave: exit code and outcome as without --notify, one warning per sink.
  async function rollbackWith(prefix: string, answers: Partial<Record<'pagerduty' | 'slack' | 'datadog' | 'hook', Parameters<Receiver['set']>[1][]>>) {
    app = appName(`notify-${prefix}`)
    await seedBrokenApp(sandbox(), app, {releaseCommand: null})
    const s = sinks(prefix)
    for (const [sink, list] of Object.entries(answers)) receiver.set(s.paths[sink as keyof typeof s.paths], ...list!)
    const result = await heroku(['safe-rollback', 'v50', '--app', app, '--confirm', app, '--json', ...s.all], {env: s.env})
    assert.equal(result.code, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    assert.equal(document.run.status, 'succeeded')
    assert.equal(sandbox().state.currentRelease(sandbox().state.app(app)!)!.description, 'Rollback to v50')
    for (const sink of ['pagerduty', 'slack', 'datadog', 'hook'] as const) receiver.set(s.paths[sink], {status: 202})
    return {s, result, run: document.run.id as string}
  }

  // The event ids a sink got (Slack's messages carry none).
  const ids = (path: string) => receiver.at(path).map(r => r.body.data?.id ?? r.body.payload?.custom_details?.id ?? r.body.data?.attributes?.attributes?.change_metadata?.id)

  it('a sink answering 500: tried again, then one warning; the run log keeps what was not delivered, and recovery:log --notify sends it, once', async () => {
    const {s, result, run} = await rollbackWith('e500', {pagerduty: [{status: 500}]})
    assert.deepEqual(warnings(result.stderr), [`Could not notify PagerDuty (it answered 500): 2 events not delivered; \`heroku recovery:log ${run} --notify pagerduty\` sends them again.`])
    const tried = receiver.at(s.paths.pagerduty)
    assert.ok(tried.length > 2, 'each event was tried more than once')
    assert.ok(tried.every(r => r.answered === 500))
    assert.deepEqual([...new Set(ids(s.paths.pagerduty))], [`${run}:1`, `${run}:2`], 'every try carries its event\'s id')
    assert.deepEqual(ids(s.paths.hook), [`${run}:1`, `${run}:2`], 'the other sinks got theirs')
    const timeline = JSON.parse((await heroku(['recovery:log', run, '--format', 'json'])).stdout)
    const told = timeline.rows.filter((r: {kind: string}) => r.kind === 'told')
    assert.equal(told.length, 2)
    for (const row of told) assert.match(row.outcome, /PagerDuty: not delivered \(it answered 500\)/)

    const before = receiver.at(s.paths.pagerduty).length
    const again = await heroku(['recovery:log', run, '--notify', 'pagerduty'], {env: s.env})
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stderr, new RegExp(`Sent to PagerDuty: ${run}:1 \\(run started\\), ${run}:2 \\(run succeeded\\)\\.`))
    const resent = receiver.at(s.paths.pagerduty).slice(before)
    assert.deepEqual(resent.map(r => r.body.payload.custom_details.id), [`${run}:1`, `${run}:2`])
    assert.deepEqual(resent.map(r => r.raw), [tried[0].raw, tried.at(-1)!.raw], 'the same events, as first sent')
    const twice = await heroku(['recovery:log', run, '--notify', 'pagerduty'], {env: s.env})
    assert.equal(twice.code, 0, twice.stderr)
    assert.match(twice.stderr, new RegExp(`Nothing to send to PagerDuty: it has every event of run ${run}\\.`))
    assert.equal(receiver.at(s.paths.pagerduty).length, before + 2, 'never sent again once delivered')
    assertNoSecretLeft(s, [], [result, again, twice], app)
  })

  it('429 with Retry-After: sent again after the wait when it fits the 5 s, else one warning naming the wait', async () => {
    const {s, result, run} = await rollbackWith('e429', {slack: [{status: 429, retryAfter: '1'}, {status: 202}], datadog: [{status: 429, retryAfter: '30'}]})
    const slack = receiver.at(s.paths.slack)
    assert.deepEqual(slack.map(r => r.answered), [429, 202, 202])
    assert.equal(slack[0].raw, slack[1].raw, 'the same message again')
    assert.deepEqual(warnings(result.stderr), [`Could not notify Datadog (it answered 429, to come back after 30s: past the 5s it may take): 2 events not delivered; \`heroku recovery:log ${run} --notify datadog\` sends them again.`])
    assert.equal(receiver.at(s.paths.datadog).length, 2, 'no second try inside the budget')
  })

  it('sinks that never answer: the run goes on, one warning each; sent again, the webhook (which drops duplicates) gets both events, PagerDuty only the one it cannot have', async () => {
    const {s, result, run} = await rollbackWith('hang', {pagerduty: ['hang'], hook: ['hang']})
    const hung = [...receiver.at(s.paths.pagerduty), ...receiver.at(s.paths.hook)]
    assert.deepEqual(hung.map(r => r.cut), [true, true], 'one start event each, cut off, nothing after')
    assert.deepEqual(warnings(result.stderr).map(w => w.replace(/\d+s/, 'Ns')), [
      `Could not notify PagerDuty (no answer within 5s): 2 events not delivered (one may have arrived: no answer came); \`heroku recovery:log ${run} --notify pagerduty\` sends them again.`,
      `Could not notify the webhook at ${new URL(receiver.url).host} (no answer within 5s): 2 events not delivered (one may have arrived: no answer came); \`heroku recovery:log ${run} --notify <its URL>\` sends them again.`,
    ].map(w => w.replace(/\d+s/, 'Ns')))
    assert.deepEqual(ids(s.paths.datadog), [`${run}:1`, `${run}:2`], 'the other sinks got theirs')

    const again = await heroku(['recovery:log', run, '--notify', 'pagerduty', '--notify', s.secret.hook], {env: s.env})
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(ids(s.paths.hook).slice(1), [`${run}:1`, `${run}:2`])
    assert.deepEqual(ids(s.paths.pagerduty).slice(1), [`${run}:2`])
    assert.match(again.stderr, new RegExp(`Not sent to PagerDuty again: ${run}:1 \\(run started\\); no answer came when it was sent`))
    assertNoSecretLeft(s, [], [result, again], app)
  })

  it('Ctrl-C while the command waits for a sink at the end stops the waiting only: the run\'s outcome and exit code stand, the event is recorded as not delivered', async () => {
    app = appName('notify-int')
    await seedBrokenApp(sandbox(), app, {releaseCommand: null})
    const s = sinks('int')
    receiver.set(s.paths.hook, {status: 202}, 'hang')
    const result = await heroku(['safe-rollback', 'v50', '--app', app, '--confirm', app, '--notify', s.secret.hook], {
      env: s.env, signalAfter: {when: () => receiver.at(s.paths.hook).length === 2, signal: 'SIGINT'},
    })
    receiver.set(s.paths.hook, {status: 202})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`${app} runs v53 \\(rollback to v50\\)`))
    assert.ok(!/Cancelled|Nothing was changed/.test(result.stderr), result.stderr)
    const run = receiver.at(s.paths.hook)[0].body.data.run
    assert.deepEqual(warnings(result.stderr), [`Could not notify the webhook at ${new URL(receiver.url).host} (stopped waiting for it): 1 event not delivered (one may have arrived: no answer came); \`heroku recovery:log ${run} --notify <its URL>\` sends it again.`])
    const again = await heroku(['recovery:log', run, '--notify', s.secret.hook], {env: s.env})
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(receiver.at(s.paths.hook).map(r => r.body.id), [`${run}:1`, `${run}:2`, `${run}:2`])
  })
})
