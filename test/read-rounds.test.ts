import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {RecordedRequest} from '../src/sandbox/index.js'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {rounds, roundsBefore} from '../src/sandbox/server/rounds.js'
import {seedPrismaApp} from '../src/sandbox/seeds/prisma-app.js'
import {seedBrokenApp} from '../src/sandbox/seeds/broken-app.js'
import {ADD_COMMENTS, DEMO_HISTORY, FIXTURE_SCHEMA, seedAppOnDatabase, seedSchemaHistory} from '../src/sandbox/seeds/schema-history.js'
import {heroku} from './support/heroku.js'
import {prismaProject, removePrismaProjects} from './support/prisma.js'
import {appName, sandbox} from './support/sandbox.js'

// In an incident every round trip before the first write counts: the reads that do not depend on each
// other go out together. A simulated round trip on every request makes the rounds visible in the sandbox's
// request log (see src/sandbox/server/rounds.ts); the counts, not the timings, are asserted.

// Well above the CPU time between two rounds on a loaded machine (a module loading), so that only a read
// that waits for another's answer starts a new round.
const LATENCY_MS = 400
const describeRound = (round: RecordedRequest[]) => round.map(r => `${r.method} ${r.path}`).sort().join(', ')
const shown = (grouped: RecordedRequest[][]) => grouped.map((round, i) => `round ${i + 1}: ${describeRound(round)}`).join('\n')
const scratch: string[] = []
const folder = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  scratch.push(dir)
  return dir
}
const mine = (name: string, since: number) => sandbox().requests.filter(r => r.at >= since && sandbox().concerns(name, r))

describe('rounds of reads before the first write', function () {
  this.timeout(120_000)
  before(() => {
    sandbox().latencyMs = LATENCY_MS
  })
  after(() => {
    sandbox().latencyMs = 0
    removePrismaProjects()
    for (const dir of scratch) rmSync(dir, {recursive: true, force: true})
  })

  it('safe-rollback: two rounds before the rollback POST, and no read of the target the release list already holds', async () => {
    const name = appName('rounds-sr')
    await seedBrokenApp(sandbox(), name, {releaseCommand: null})
    const since = Date.now()
    const result = await heroku(['safe-rollback', 'v50', '--app', name, '--confirm', name, '--maintenance'])
    assert.equal(result.code, 0, result.stderr)
    const requests = mine(name, since)
    const isPost = (r: RecordedRequest) => r.method === 'POST' && r.path === `/apps/${name}/releases`
    assert.ok(requests.some(isPost), 'the rollback was sent')
    // The maintenance PATCH is the first write; the rollback POST follows it.
    const grouped = roundsBefore(requests, r => r.method === 'PATCH')
    assert.equal(grouped.length, 2, shown(grouped))
    const first = describeRound(grouped[0])
    for (const read of [`GET /apps/${name}/releases`, `GET /apps/${name}/formation`, `GET /apps/${name}/addon-attachments`, `GET /apps/${name}`, 'POST /actions/addon-attachments/resolve'])
      assert.ok(first.includes(read), `${read} is not in the first round:\n${shown(grouped)}`)
    assert.ok(grouped[0].some(r => /^\/client\/v11\/apps\/[^/]+\/transfers$/.test(r.path)), `the backups are not read in the first round:\n${shown(grouped)}`)
    assert.deepEqual(requests.filter(r => r.method === 'GET' && new RegExp(`^/apps/${name}/releases/(v?50|[0-9a-f-]{36})$`).test(r.path)).filter(r => r.at < requests.find(isPost)!.at), [], 'v50 was read again')
    const second = describeRound(grouped[1])
    assert.match(second, /\/releases\/50\/config-vars/)
    assert.match(second, /\/releases\/\d+\/config-vars.*\/releases\/\d+\/config-vars/)
    assert.equal(grouped[1].filter(r => r.path.includes('/slugs/')).length, 2, `the code of both releases in the second round:\n${shown(grouped)}`)
    // Between the first write and the rollback POST, nothing is read.
    const patchAt = requests.find(r => r.method === 'PATCH')!.at
    assert.deepEqual(requests.filter(r => r.at > patchAt && r.at < requests.find(isPost)!.at).map(r => `${r.method} ${r.path}`), [])
  })

  it('safe-rollback from the slugs (no repository here): the archives of the target and of the current release in one round', async () => {
    const name = appName('rounds-slug')
    await seedSchemaHistory(sandbox(), name, {dir: folder('rounds-repo-'), versions: DEMO_HISTORY})
    const since = Date.now()
    const result = await heroku(['safe-rollback', 'v54', '--app', name, '--confirm', name, '--json'], {cwd: folder('rounds-cwd-')})
    assert.equal(result.code, 0, result.stderr)
    const {schema} = JSON.parse(result.stdout)
    assert.equal(schema.from, 'slug')
    assert.deepEqual(schema.migrationsSince, [ADD_COMMENTS.name], 'the current release\'s code was needed')
    const requests = sandbox().requests.filter(r => r.at >= since && (sandbox().concerns(name, r) || r.path.startsWith('/slug-blobs/')))
    const grouped = roundsBefore(requests, r => r.method === 'POST' && r.path === `/apps/${name}/releases`)
    assert.equal(grouped.length, 3, shown(grouped))
    assert.equal(grouped[2].filter(r => r.path.startsWith('/slug-blobs/')).length, 2, shown(grouped))
  })

  it('db:recover: two rounds before the first write (the app, attachments, formation and the database, then its backups and info)', async () => {
    const name = appName('rounds-rec')
    const loss = await seedDataLoss(sandbox(), name)
    const since = Date.now()
    const result = await heroku(['db:recover', '--app', name, '--backup', loss.backup, '--confirm', name])
    assert.equal(result.code, 0, result.stderr)
    const requests = mine(name, since)
    const grouped = roundsBefore(requests, r => r.method !== 'GET' && !r.path.endsWith('/resolve'))
    assert.equal(grouped.length, 2, shown(grouped))
  })

  it('migrate:down: two rounds of reads, the backups alongside the database\'s resolution', async () => {
    const name = appName('rounds-md')
    const dir = prismaProject()
    await seedPrismaApp(sandbox(), name, dir, {releaseCommand: null})
    const since = Date.now()
    const result = await heroku(['migrate:down', '--app', name, '--dry-run'], {cwd: dir})
    assert.equal(result.code, 0, result.stderr)
    const grouped = rounds(mine(name, since))
    assert.equal(grouped.length, 2, shown(grouped))
    assert.ok(grouped[0].some(r => r.path.endsWith('/transfers')), shown(grouped))
  })

  it('migrate:down on a shared database: the code of every other app is read in the same rounds, one app or three', async () => {
    const count = async (others: number) => {
      const name = appName(`rounds-fit${others}`)
      const dir = prismaProject()
      const {database} = await seedPrismaApp(sandbox(), name, dir, {releaseCommand: null})
      for (let i = 1; i <= others; i++) await seedAppOnDatabase(sandbox(), `${name}-w${i}`, database, 'DATABASE', FIXTURE_SCHEMA)
      const since = Date.now()
      const result = await heroku(['migrate:down', '--app', name, '--dry-run', '--json'], {cwd: dir})
      assert.equal(result.code, 1, result.stderr)
      assert.equal(JSON.parse(result.stdout).plan.otherApps.filter((o: {verdict: string}) => o.verdict === 'blocked').length, others)
      const grouped = rounds(sandbox().requests.filter(r => r.at >= since))
      return {grouped, blobs: grouped.flat().filter(r => r.path.startsWith('/slug-blobs/')).length}
    }
    const [one, three] = [await count(1), await count(3)]
    // The database and backups; the add-on's attachments; the other apps' releases; their slugs; the slugs' archives.
    assert.equal(one.grouped.length, 5, shown(one.grouped))
    assert.equal(three.grouped.length, one.grouped.length, shown(three.grouped))
    assert.deepEqual([one.blobs, three.blobs], [1, 3])
  })
})
