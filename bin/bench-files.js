#!/usr/bin/env node
// files:recover's planning over a bucket of 100,000 object versions (keys with one to four versions,
// some deleted, some overwritten since the time) on the sandbox's S3: ListObjectVersions a page of 1,000
// at a time, through the real CLI with the plugin linked (`--dry-run --json`: every page read and
// planned, nothing changed). Prints the wall clock and the CLI process's peak memory (GNU time) for a
// smaller and the full bucket: memory stays flat because only one page and one key are held at a time.
// Run with `npm run bench:files -- [versions,...]`. Prints numbers; it asserts nothing.
import {Sandbox} from '../dist/sandbox/index.js'
import {HerokuCli} from '../dist/tools/heroku-cli.js'
import {seedManyVersions} from '../dist/sandbox/seeds/uploads.js'

const SIZES = (process.argv[2] ?? '10000,100000').split(',').map(Number)
const mb = bytes => `${(bytes / 1024 / 1024).toFixed(1)} MB`


const sandbox = await Sandbox.start()
try {
  const cli = new HerokuCli(sandbox)
  await cli.link()
  for (const size of SIZES) {
    const app = sandbox.createApp(`bench-files-${size}`)
    let started = Date.now()
    const {recoverTo} = seedManyVersions(sandbox, app, size)
    console.log(`\n${size.toLocaleString('en')} versions seeded in memory in ${Date.now() - started} ms`)
    started = Date.now()
    const run = await cli.measured(['files:recover', '--app', app.name, '--to', recoverTo, '--include-overwritten', '--dry-run', '--json'])
    const wall = Date.now() - started
    if (run.code !== 0) throw new Error(`files:recover failed: ${run.stderr}`)
    const plan = JSON.parse(run.stdout)
    const pages = sandbox.requests.filter(r => r.method === 'GET' && /[?&]versions/.test(r.query) && r.path.replace(/\/$/, '') === `/s3/${app.name}-bulk`).length
    console.log(`heroku files:recover --dry-run over ${plan.versionsRead.toLocaleString('en')} versions of ${plan.filesRead.toLocaleString('en')} files, ${pages} pages:`)
    console.log(`  wall clock ${(wall / 1000).toFixed(2)} s (CLI start included)`)
    console.log(`  peak RSS of the CLI process: ${mb(run.peakRssBytes)}`)
    console.log(`  plan: ${JSON.stringify(plan.counts)}`)
  }
  const help = await cli.measured(['files:recover', '--help'])
  console.log(`\n\`heroku files:recover --help\` alone: peak RSS ${mb(help.peakRssBytes)}`)
} finally {
  await sandbox.stop()
}
