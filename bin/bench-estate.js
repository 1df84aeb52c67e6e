#!/usr/bin/env node
// db:recover on a database that 1, 3 and 10 apps use (src/lib/estate/): the rounds of requests (the
// longest chain of requests each sent after the one before was answered, see src/sandbox/server/rounds.ts)
// of --dry-run and of a real point-in-time recovery with --scale-down-workers, and of the reads before its
// first write. A simulated round trip makes the rounds visible. Run with `npm run bench:estate`.
// Prints numbers; it asserts nothing.
import {Sandbox} from '../dist/sandbox/index.js'
import {seedDataLoss} from '../dist/sandbox/seeds/data-loss.js'
import {seedSharedDatabase} from '../dist/sandbox/seeds/shared-database.js'
import {rounds, roundsBefore} from '../dist/sandbox/server/rounds.js'
import {HerokuCli} from '../dist/tools/heroku-cli.js'

const LATENCY_MS = 300
const sandbox = await Sandbox.start({delays: {transfer: 150, releasePhase: 300, dynoBoot: 200, provision: 300}})
try {
  const cli = new HerokuCli(sandbox)
  await cli.link()
  sandbox.latencyMs = LATENCY_MS
  const rows = []
  for (const apps of [1, 3, 10]) {
    const name = `bench-estate-${apps}`
    const seeded = apps === 1 ? await seedDataLoss(sandbox, name) : await seedSharedDatabase(sandbox, name, {extra: apps - 3})
    const measure = async args => {
      const since = Date.now()
      const result = await cli.heroku(['db:recover', '--app', name, '--to', seeded.beforeLoss, '--scale-down-workers', ...args])
      if (result.code !== 0) throw new Error(`db:recover ${args.join(' ')} on ${apps} apps: ${result.stderr}`)
      const requests = sandbox.requests.filter(r => r.at >= since)
      const isWrite = r => r.method !== 'GET' && !r.path.endsWith('/resolve')
      return {rounds: rounds(requests).length, before: roundsBefore(requests, isWrite).length, requests: requests.length, ms: Date.now() - since}
    }
    const dry = await measure(['--dry-run'])
    // The health watch after the switch is a wait of its own (2 minutes of the app's traffic), not rounds of the switch.
    const real = await measure(['--confirm', name, '--skip-health-check'])
    rows.push({apps, dry, real})
    console.log(`${String(apps).padStart(2)} app${apps === 1 ? ' ' : 's'}: --dry-run ${dry.rounds} rounds (${dry.requests} requests); real run ${real.rounds} rounds (${real.before} before the first write, ${real.requests} requests, ${(real.ms / 1000).toFixed(1)} s)`)
  }
  const [one, , ten] = rows
  console.log(`\nfrom 1 to 10 apps: --dry-run +${ten.dry.rounds - one.dry.rounds} rounds, reads before the first write +${ten.real.before - one.real.before}, real run +${ten.real.rounds - one.real.rounds} rounds (each phase's steps on different apps run together: maintenance, writers, moves, put-backs)`)
} finally {
  await sandbox.stop()
}
