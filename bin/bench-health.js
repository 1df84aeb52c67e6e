#!/usr/bin/env node
// What a whole health watch costs: `heroku recovery:verify` over a 2-minute window (or the one given) on an
// app of the sandbox with steady traffic (20 requests a second, 1.5% failing: under the 2% limit, over the
// 1% that would end the watch early, so it runs the whole window), probing --health-url. Prints the
// Platform API requests the command made, by kind (before the watch, and during it), the log streams
// read, the probes of the URL, the requests the watch counted and the CLI's peak memory. Run with
// `npm run bench:health -- [WINDOW]`. With `safe-rollback` after the window, the same watch inside
// `heroku safe-rollback` (back to v1, whose code fails 1.5% of requests): the requests before the log
// session, for the rollback, and during the watch. Prints numbers; it asserts nothing.
import {Sandbox} from '../dist/sandbox/index.js'
import {loadApp} from '../dist/sandbox/scenarios/load.js'
import {HerokuCli} from '../dist/tools/heroku-cli.js'

const WINDOW = process.argv[2] ?? '2m'
const ROLLBACK = process.argv[3] === 'safe-rollback'
const mb = bytes => `${(bytes / 1024 / 1024).toFixed(1)} MB`

const sandbox = await Sandbox.start()
try {
  const cli = new HerokuCli(sandbox)
  await cli.link()
  const name = 'bench-health'
  await loadApp(sandbox, {
    name, formation: [{type: 'web', quantity: 2, command: 'npm start'}, {type: 'worker', quantity: 1, command: 'node worker.js'}],
    traffic: {perSecond: 20, code: ROLLBACK ? {'1111111aaaaaaa': {failing: 1.5}} : {v2: {failing: 1.5}}}, releases: [{deploy: '1111111aaaaaaa'}, {deploy: '2222222bbbbbbb'}],
  })
  const url = `${sandbox.url}/apps-web/${name}/health`
  const started = Date.now()
  const command = ROLLBACK ? ['safe-rollback', 'v1', '--confirm', name, '--skip-backup-check'] : ['recovery:verify']
  const run = await cli.measured([...command, '--app', name, '--health-window', WINDOW, '--health-url', url, '--json'])
  const wall = Date.now() - started
  if (run.code !== 0) throw new Error(`${command[0]} failed (${run.code}): ${run.stderr}`)
  const {health} = JSON.parse(run.stdout)
  const mine = sandbox.requests.filter(r => sandbox.concerns(name, r))
  const api = mine.filter(r => !/^\/(logplex|apps-web)\//.test(r.path))
  const session = api.find(r => r.path.endsWith('/log-sessions'))
  const by = requests => Object.entries(requests.reduce((counts, r) => {
    const key = `${r.method} ${r.path.replace(name, 'APP')}`
    counts[key] = (counts[key] ?? 0) + 1
    return counts
  }, {})).map(([key, n]) => `${n} × ${key}`).join(', ')
  console.log(`heroku ${command[0]} --health-window ${WINDOW} --health-url URL: ${health.verdict} (${health.reason}), ${(wall / 1000).toFixed(1)} s in all (CLI start included)`)
  console.log(`  Platform API requests: ${api.length}`)
  // The watch's first read after a change is the app's features (preboot); recovery:verify's is the session.
  const watching = ROLLBACK ? api.find(r => r.path.endsWith('/features')) : session
  console.log(ROLLBACK ? `    before the log session: ${by(api.filter(r => r.at < session.at))}` : `    before the watch: ${by(api.filter(r => r.at <= session.at))}`)
  if (ROLLBACK) console.log(`    the session and the rollback: ${by(api.filter(r => r.at >= session.at && r.at < watching.at))}`)
  console.log(`    during the watch: ${by(api.filter(r => ROLLBACK ? r.at >= watching.at : r.at > session.at))}`)
  // The sandbox has this one app: every log stream is its.
  console.log(`  log streams read: ${sandbox.requests.filter(r => r.path.startsWith('/logplex/')).length}`)
  console.log(`  probes of --health-url: ${mine.filter(r => r.path.startsWith('/apps-web/')).length} (the watch counted ${health.url?.probes}, ${health.url?.failures} failed)`)
  console.log(`  requests the watch counted from the router's lines: ${health.requests} (${health.errors} failed, ${health.errorRate}%)`)
  console.log(`  peak RSS of the CLI process: ${mb(run.peakRssBytes)}`)
} finally {
  await sandbox.stop()
}
