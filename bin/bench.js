#!/usr/bin/env node
// Does the plugin slow the Heroku CLI down? Times help and a core command with and without the
// plugin linked, against the sandbox, and prints medians. Run with `npm run bench`.
import {Sandbox} from '../dist/sandbox/index.js'
import {HerokuCli} from '../dist/sandbox/cli.js'
import {seedBrokenApp} from '../dist/sandbox/scenario.js'

const RUNS = Number(process.env.RUNS ?? 7)
const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function time(cli, args, linked) {
  const samples = []
  for (let i = 0; i < RUNS + 1; i++) {
    const started = process.hrtime.bigint()
    const result = linked ? await cli.heroku(args) : await cli.run(args)
    if (result.code !== 0) throw new Error(`heroku ${args.join(' ')} failed: ${result.stderr}`)
    if (i > 0) samples.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  return median(samples)
}

const sandbox = await Sandbox.start()
try {
  await seedBrokenApp(sandbox, 'bench-app')
  const plain = new HerokuCli(sandbox)
  const linked = new HerokuCli(sandbox)
  await linked.link()
  const rows = [
    ['heroku releases --help (plugin linked)', await time(linked, ['releases', '--help'], true)],
    ['heroku safe-rollback --help (plugin linked)', await time(linked, ['safe-rollback', '--help'], true)],
    ['heroku releases -a APP (without plugin)', await time(plain, ['releases', '-a', 'bench-app'], false)],
    ['heroku releases -a APP (plugin linked)', await time(linked, ['releases', '-a', 'bench-app'], true)],
    ['heroku safe-rollback v50 --dry-run', await time(linked, ['safe-rollback', 'v50', '-a', 'bench-app', '--dry-run'], true)],
  ]
  console.log(`median of ${RUNS} runs (one warm-up run dropped)`)
  for (const [what, ms] of rows) console.log(`${what.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms`)
} finally {
  await sandbox.stop()
}
