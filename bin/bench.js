#!/usr/bin/env node
// Does the plugin slow the Heroku CLI down? Times help and a core command without the plugin, with it
// installed from a packed tarball, and with it linked, against the sandbox, and prints medians. Run with `npm run bench`.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Sandbox} from '../dist/sandbox/index.js'
import {HerokuCli, packPlugin} from '../dist/sandbox/cli.js'
import {seedBrokenApp} from '../dist/sandbox/scenario.js'

const RUNS = Number(process.env.RUNS ?? 7)
const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function time(cli, args) {
  const samples = []
  for (let i = 0; i < RUNS + 1; i++) {
    const started = process.hrtime.bigint()
    const result = await cli.run(args)
    if (result.code !== 0) throw new Error(`heroku ${args.join(' ')} failed: ${result.stderr}`)
    if (i > 0) samples.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  return median(samples)
}

// What users get: the packed plugin installed with `heroku plugins:install` (its own node_modules).
async function installed(sandbox) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pack-'))
  const tarball = packPlugin(dir)
  const cli = new HerokuCli(sandbox)
  const started = Date.now()
  await cli.install(tarball)
  rmSync(dir, {recursive: true, force: true})
  console.log(`heroku plugins:install of the packed plugin: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return cli
}

const sandbox = await Sandbox.start()
try {
  await seedBrokenApp(sandbox, 'bench-app')
  const plain = new HerokuCli(sandbox)
  const linked = new HerokuCli(sandbox)
  await linked.link()
  const user = await installed(sandbox)
  const rows = [
    ['heroku releases --help (no plugin)', await time(plain, ['releases', '--help'])],
    ['heroku releases --help (plugin installed)', await time(user, ['releases', '--help'])],
    ['heroku safe-rollback --help (plugin installed)', await time(user, ['safe-rollback', '--help'])],
    ['heroku safe-rollback --help (plugin linked)', await time(linked, ['safe-rollback', '--help'])],
    ['heroku releases -a APP (no plugin)', await time(plain, ['releases', '-a', 'bench-app'])],
    ['heroku releases -a APP (plugin installed)', await time(user, ['releases', '-a', 'bench-app'])],
    ['heroku releases -a APP (plugin linked)', await time(linked, ['releases', '-a', 'bench-app'])],
    ['heroku safe-rollback v50 --dry-run (installed)', await time(user, ['safe-rollback', 'v50', '-a', 'bench-app', '--dry-run'])],
  ]
  console.log(`median of ${RUNS} runs (one warm-up run dropped)`)
  for (const [what, ms] of rows) console.log(`${what.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms`)
} finally {
  await sandbox.stop()
}
