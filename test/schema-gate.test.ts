import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ADD_COMMENTS, DEMO_HISTORY, DROP_BIO, seedAppOnDatabase, seedSchemaHistory} from '../src/sandbox/seeds/schema-history.js'
import {heroku, interactive} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// The schema gate of safe-rollback, end to end: an app whose git history has one commit per release,
// slugs that hold the same files, and a database migrated to the newest release.

const HISTORY = DEMO_HISTORY

const scratch: string[] = []
const folder = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  scratch.push(dir)
  return dir
}

describe('safe-rollback: the schema gate', function () {
  this.timeout(120_000)
  after(() => {
    for (const dir of scratch) rmSync(dir, {recursive: true, force: true})
  })

  it('blocks a target whose code maps a dropped column, naming model, column and migration, with the floor; the slug gives the same verdict', async () => {
    const name = appName('gate-drop')
    const dir = folder('gate-repo-')
    const {releases} = await seedSchemaHistory(sandbox(), name, {dir, versions: HISTORY})
    assert.deepEqual(releases, [53, 54, 55])
    sandbox().clearRequests()
    const fromGit = await heroku(['safe-rollback', 'v53', '--app', name, '--dry-run', '--json'], {cwd: dir})
    assert.equal(fromGit.code, 1, fromGit.stderr)
    const document = JSON.parse(fromGit.stdout)
    assert.equal(document.schema.verdict, 'blocked')
    assert.equal(document.schema.from, 'git')
    assert.deepEqual(document.schema.migrationsSince, [DROP_BIO.name, ADD_COMMENTS.name])
    const blocks = document.schema.findings.filter((f: {level: string}) => f.level === 'block')
    assert.deepEqual(blocks.map((f: any) => [f.model, f.field, f.table, f.column, f.migration]), [['User', 'bio', 'User', 'bio', DROP_BIO.name]])
    assert.equal(document.schema.floor.version, 54)
    assert.match(document.error.message, /v53's code cannot run on today's schema: column "User"."bio" \(User.bio\) is missing \(20260601000000_drop_user_bio\)\. Ways forward: roll back to v54 or newer .*--with-migrations.*--accept-schema-risk/)
    assert.deepEqual(sandbox().writes(name), [], 'nothing was written')

    const elsewhere = folder('gate-cwd-')
    const fromSlug = await heroku(['safe-rollback', 'v53', '--app', name, '--dry-run', '--json'], {cwd: elsewhere})
    const slugDocument = JSON.parse(fromSlug.stdout)
    assert.equal(slugDocument.schema.from, 'slug')
    assert.deepEqual({...slugDocument.schema, from: 'git'}, document.schema)
  })

  it('says UNKNOWN loudly when neither the repository nor the slug has the schema; --require-schema-check refuses then', async () => {
    const name = appName('gate-unknown')
    await seedSchemaHistory(sandbox(), name, {dir: folder('gate-repo-'), versions: HISTORY, archives: false})
    const elsewhere = folder('gate-cwd-')
    const warned = await heroku(['safe-rollback', 'v53', '--app', name, '--dry-run', '--json'], {cwd: elsewhere})
    assert.equal(warned.code, 0, warned.stderr)
    assert.equal(JSON.parse(warned.stdout).schema.verdict, 'unknown')
    const human = await heroku(['safe-rollback', 'v53', '--app', name, '--dry-run'], {cwd: elsewhere})
    assert.match(human.stdout, /! schema +UNKNOWN whether v53's code runs on today's schema: the Prisma schema of v53 could not be read/)
    assert.match(human.stderr.replace(/\s*\n ›\s+/g, ' '), /Whether v53's code runs on today's database schema is UNKNOWN/)
    const refused = await heroku(['safe-rollback', 'v53', '--app', name, '--dry-run', '--require-schema-check'], {cwd: elsewhere})
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /Rollback blocked: UNKNOWN whether v53's code runs .* --require-schema-check refuses to go on/)
  })

  it('--accept-schema-risk rolls back anyway, with a loud warning recorded in --json', async () => {
    const name = appName('gate-accept')
    const {app} = await seedSchemaHistory(sandbox(), name, {dir: folder('gate-repo-'), versions: HISTORY})
    const cwd = folder('gate-cwd-')
    const preview = await heroku(['safe-rollback', 'v53', '--app', name, '--dry-run', '--accept-schema-risk', '--json'], {cwd})
    assert.equal(preview.code, 0, preview.stderr)
    const document = JSON.parse(preview.stdout)
    assert.equal(document.schema.verdict, 'blocked')
    assert.equal(document.schema.acceptedRisk, true)
    const result = await heroku(['safe-rollback', 'v53', '--app', name, '--confirm', name, '--accept-schema-risk'], {cwd})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr.replace(/\s*\n ›\s+/g, ' '), /v53's code does not fit today's database schema; rolling back anyway \(--accept-schema-risk\)/)
    assert.equal(app.releases.at(-1)!.description, 'Rollback to v53')
  })

  it('--with-migrations reverts the migrations the target does not know, then rolls back, in one run', async () => {
    const name = appName('gate-coupled')
    const dir = folder('gate-repo-')
    const {app, database} = await seedSchemaHistory(sandbox(), name, {dir, versions: HISTORY})
    const result = await heroku(['safe-rollback', 'v53', '--app', name, '--confirm', name, '--with-migrations', '--json'], {cwd: dir})
    assert.equal(result.code, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    assert.deepEqual(document.run.steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['maintenance-on:done', 'revert:done', 'rollback:done', 'maintenance-off:done'])
    assert.deepEqual(document.migrations.result.reverted, [ADD_COMMENTS.name, DROP_BIO.name])
    assert.equal(app.releases.at(-1)!.description, 'Rollback to v53')
    assert.equal(app.maintenance, false)
    const columns = await sandbox().sql(database, 'SELECT column_name FROM information_schema.columns WHERE table_name = \'User\' ORDER BY 1')
    assert.ok(columns.some(c => c.column_name === 'bio'), 'User.bio is back')
    assert.equal((await sandbox().sql(database, 'SELECT to_regclass(\'"Comment"\') AS found'))[0].found, null)
    const names = (await sandbox().sql(database, 'SELECT migration_name FROM _prisma_migrations')).map(r => r.migration_name)
    assert.ok(!names.includes(DROP_BIO.name) && !names.includes(ADD_COMMENTS.name))
  })

  it('--with-migrations refuses, before any write, when another app on the database runs code that needs a migration it reverts; --accept-schema-risk goes on', async () => {
    const name = appName('gate-others')
    const dir = folder('gate-repo-')
    const {app, database} = await seedSchemaHistory(sandbox(), name, {dir, versions: HISTORY})
    // A worker app running v55's code: it maps the Comment table that reverting add_comments drops.
    const {app: worker} = await seedAppOnDatabase(sandbox(), `${name}-worker`, database, 'DATABASE', HISTORY[2].schema)
    sandbox().clearRequests()
    const refused = await heroku(['safe-rollback', 'v53', '--app', name, '--confirm', name, '--with-migrations', '--json'], {cwd: dir})
    assert.equal(refused.code, 1, refused.stderr)
    const check = JSON.parse(refused.stdout).migrations.plan.checks.find((c: any) => c.name === 'other apps')
    assert.equal(check.outcome, 'failed')
    assert.match(check.detail, new RegExp(`${worker.name} v1: its code \\(read from its slug\\) does NOT fit the schema the down leaves: table "Comment" \\(model Comment\\) is missing \\(${ADD_COMMENTS.name}\\)`))
    assert.deepEqual(sandbox().writes(name), [], 'nothing was written')
    assert.equal(app.releases.at(-1)!.version, 55, 'no rollback')
    assert.notEqual((await sandbox().sql(database, 'SELECT to_regclass(\'"Comment"\') AS found'))[0].found, null, 'nothing reverted')
    const accepted = await heroku(['safe-rollback', 'v53', '--app', name, '--with-migrations', '--accept-schema-risk', '--dry-run', '--json'], {cwd: dir})
    assert.equal(accepted.code, 0, accepted.stderr)
    assert.equal(JSON.parse(accepted.stdout).migrations.plan.checks.find((c: any) => c.name === 'other apps').outcome, 'warning')
  })

  it('--with-migrations: a rollback that fails after the revert applies the migrations again, rows exactly as they were', async () => {
    const name = appName('gate-compensate')
    const dir = folder('gate-repo-')
    const {app, database} = await seedSchemaHistory(sandbox(), name, {dir, versions: HISTORY})
    const rows = () => sandbox().sql(database, 'SELECT * FROM _prisma_migrations ORDER BY migration_name')
    const before = await rows()
    const failing = sandbox().inject({app: name, method: 'POST', path: `/apps/${name}/releases`, times: Infinity, kind: 'status', status: 503})
    const result = await heroku(['safe-rollback', 'v53', '--app', name, '--confirm', name, '--with-migrations', '--json'], {cwd: dir})
    failing.remove()
    assert.equal(result.code, 1)
    const document = JSON.parse(result.stdout)
    assert.deepEqual(document.run.steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['maintenance-on:undone', 'revert:undone', 'rollback:failed', 'maintenance-off:not run'])
    assert.deepEqual(await rows(), before, '_prisma_migrations is exactly as before')
    const columns = await sandbox().sql(database, 'SELECT column_name FROM information_schema.columns WHERE table_name = \'User\'')
    assert.ok(!columns.some(c => c.column_name === 'bio'), 'the current code\'s schema is back')
    assert.notEqual((await sandbox().sql(database, 'SELECT to_regclass(\'"Comment"\') AS found'))[0].found, null)
    assert.equal(app.maintenance, false)
    assert.equal(app.releases.at(-1)!.version, 55, 'no rollback release')
  })

  it('--with-migrations: a release phase that fails leaves the app on today\'s code, so the migrations are applied again', async () => {
    const name = appName('gate-phase-fails')
    const dir = folder('gate-repo-')
    const {app, database} = await seedSchemaHistory(sandbox(), name, {dir, versions: HISTORY})
    const rows = () => sandbox().sql(database, 'SELECT * FROM _prisma_migrations ORDER BY migration_name')
    const before = await rows()
    app.faults.releasePhaseFails = true
    const result = await heroku(['safe-rollback', 'v53', '--app', name, '--confirm', name, '--with-migrations', '--json'], {cwd: dir})
    app.faults.releasePhaseFails = false
    assert.equal(result.code, 1)
    const document = JSON.parse(result.stdout)
    assert.deepEqual(document.run.steps.map((s: {id: string, state: string}) => `${s.id}:${s.state}`), ['maintenance-on:undone', 'revert:undone', 'rollback:failed', 'maintenance-off:not run'])
    assert.deepEqual(document.run.undo, [])
    assert.deepEqual(await rows(), before, '_prisma_migrations is exactly as before')
    assert.equal(app.releases.at(-1)!.status, 'failed')
  })

  // Ctrl-C and SIGKILL during the coupled rollback's release phase: see test/interrupts.test.ts.

  it('the picker marks whether each release\'s code fits today\'s schema, and names the floor', async () => {
    const name = appName('gate-picker')
    const dir = folder('gate-repo-')
    await seedSchemaHistory(sandbox(), name, {dir, versions: HISTORY})
    const result = await interactive(['safe-rollback', '--app', name, '--dry-run'], [
      {waitFor: /Roll back to which release\?/, send: '\x03'},
    ], {cwd: dir})
    assert.match(result.stdout, /Roll back to which release\? \(rollback floor: v54; below it the code does not fit today's schema\)/)
    assert.match(result.stdout, /v54 +Deploy \w+: drop User.bio .*schema ✓/)
    assert.match(result.stdout, /v53 +Deploy \w+: fixture schema .*schema ✗/)
  })
})
