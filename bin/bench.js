#!/usr/bin/env node
// Is the plugin as fast as the Heroku CLI itself? The figures of issue 10, as ratios against the host CLI, for
// the plugin as users get it (`npm pack` + `heroku plugins:install`), against the sandbox with a simulated round
// trip on every request (LATENCY_MS, default 150). Runs are interleaved (one of each per turn, the first turn
// dropped as a warm-up) and medians reported. Run with `npm run bench` (RUNS=5 by default; a few minutes).
// BENCH_TARBALL=path installs that tarball instead of packing this checkout (to measure an older build).
// VERBOSE=1 prints the rounds of requests before each rollback POST.
import {mkdtempSync, rmSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {Sandbox} from '../dist/sandbox/index.js'
import {HerokuCli, packPlugin} from '../dist/tools/heroku-cli.js'
import {roundsBefore} from '../dist/sandbox/server/rounds.js'
import {seedBrokenApp} from '../dist/sandbox/seeds/broken-app.js'

const RUNS = Number(process.env.RUNS ?? 5)
const LATENCY_MS = Number(process.env.LATENCY_MS ?? 150)
const HELP_REPEAT = 3
const APP = 'bench-app'
const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const range = values => `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`

// What users get: the packed plugin installed with `heroku plugins:install` (its own node_modules).
async function installed(sandbox) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pack-'))
  const tarball = process.env.BENCH_TARBALL ?? packPlugin(dir)
  const cli = new HerokuCli(sandbox)
  const started = Date.now()
  await cli.install(tarball)
  rmSync(dir, {recursive: true, force: true})
  console.log(`heroku plugins:install of ${process.env.BENCH_TARBALL ?? 'the packed plugin'}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return cli
}

const isRollbackPost = request => request.method === 'POST' && request.path === `/apps/${APP}/releases`

// One CLI run: its wall time, when its first request and its rollback POST arrived (ms after the process
// was started), and the rounds of requests before that POST.
async function run(sandbox, cli, args) {
  await sandbox.settle()
  const started = Date.now()
  const result = await cli.run(args)
  const elapsed = Date.now() - started
  if (result.code !== 0) throw new Error(`heroku ${args.join(' ')} failed: ${result.stderr}`)
  const mine = sandbox.requests.filter(r => r.at >= started)
  const post = mine.find(isRollbackPost)
  if (process.env.VERBOSE && post) {
    for (const [i, round] of roundsBefore(mine, isRollbackPost).entries()) console.log(`  round ${i + 1}: ${round.map(r => `${r.method} ${r.path} +${r.at - started}..${r.done - started}`).join(', ')}`)
  }
  return {
    elapsed,
    first: mine[0] && mine[0].at - started,
    post: post && post.at - started,
    rounds: post ? roundsBefore(mine, isRollbackPost).length : undefined,
  }
}

// The runbook done by hand: look at the releases and the backups, roll back, wait for the dynos.
async function runbook(sandbox, cli) {
  const steps = [['releases', '-a', APP], ['pg:backups', '-a', APP], ['releases:rollback', 'v50', '-a', APP], ['ps:wait', '-a', APP]]
  const results = []
  for (const args of steps) results.push(await run(sandbox, cli, args))
  return {elapsed: results.reduce((sum, r) => sum + r.elapsed, 0), rollback: results[2]}
}

const sandbox = await Sandbox.start()
try {
  await seedBrokenApp(sandbox, APP)
  const plain = new HerokuCli(sandbox)
  const user = await installed(sandbox)
  sandbox.latencyMs = LATENCY_MS
  const samples = {}
  const add = (key, value) => (samples[key] ??= []).push(value)
  const loads = []
  for (let turn = 0; turn <= RUNS; turn++) {
    const keep = turn > 0 ? add : () => {}
    loads.push(loadavg()[0])
    // The help figures are the noisiest (about a second each, on shared cores): three of each per turn.
    for (let i = 0; i < HELP_REPEAT; i++) {
      keep('help core plain', (await run(sandbox, plain, ['releases', '--help'])).elapsed)
      keep('help core installed', (await run(sandbox, user, ['releases', '--help'])).elapsed)
      keep('help plugin', (await run(sandbox, user, ['safe-rollback', '--help'])).elapsed)
    }
    // The runbook by hand has no health watch: compared without it.
    const checked = await run(sandbox, user, ['safe-rollback', 'v50', '-a', APP, '--confirm', APP, '--skip-health-check'])
    keep('safe first', checked.first)
    keep('safe post', checked.post)
    keep('safe rounds', checked.rounds)
    keep('safe whole', checked.elapsed)
    const byHand = await runbook(sandbox, plain)
    keep('bare first', byHand.rollback.first)
    keep('bare post', byHand.rollback.post)
    keep('bare rounds', byHand.rollback.rounds)
    keep('runbook whole', byHand.elapsed)
    const dry = await run(sandbox, user, ['safe-rollback', 'v50', '-a', APP, '--dry-run'])
    keep('dry first', dry.first)
    keep('dry whole', dry.elapsed)
  }
  const m = key => median(samples[key])
  const ms = key => `${m(key).toFixed(0)} ms (${range(samples[key])})`
  const ratio = (a, b) => `${(m(a) / m(b)).toFixed(2)}x`
  const rows = [
    ['core command (`releases --help`) with the plugin installed vs without', ratio('help core installed', 'help core plain'), `${ms('help core installed')} vs ${ms('help core plain')}`, '<= 1.05x'],
    ['`safe-rollback --help` vs `releases --help`', ratio('help plugin', 'help core installed'), `${ms('help plugin')} vs ${ms('help core installed')}`, '<= 1.10x'],
    ['first API request of `safe-rollback v50` vs `releases:rollback v50`', `${m('safe first') >= m('bare first') ? '+' : ''}${(m('safe first') - m('bare first')).toFixed(0)} ms`, `${ms('safe first')} vs ${ms('bare first')}`, '<= +150 ms'],
    ['sequential rounds of reads before the rollback POST', String(m('safe rounds')), `${range(samples['safe rounds'])}; bare releases:rollback: ${m('bare rounds')}`, '<= 2'],
    ['process start to the rollback POST vs bare `releases:rollback`', ratio('safe post', 'bare post'), `${ms('safe post')} vs ${ms('bare post')}`, '<= 1.20x'],
    ['whole checked rollback vs the runbook by hand (releases, pg:backups, rollback, ps:wait)', ratio('safe whole', 'runbook whole'), `${ms('safe whole')} vs ${ms('runbook whole')}`, '<= 0.40x'],
  ]
  console.log(`\nmedians of ${RUNS} interleaved runs (${RUNS * HELP_REPEAT} for --help; one warm-up turn dropped), ${LATENCY_MS} ms per request; ${cpus().length} cores, load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`)
  console.log('| figure | measured | medians (range) | goal |\n|---|---|---|---|')
  for (const row of rows) console.log(`| ${row.join(' | ')} |`)
  console.log(`\nalso: \`safe-rollback v50 --dry-run\`: first request after ${ms('dry first')}, whole run ${ms('dry whole')}`)
} finally {
  await sandbox.stop()
}
