import assert from 'node:assert/strict'
import {BASE, checkProject, type FixtureMigration, removeCheckProjects, VARIANTS, variantProject} from './support/check-fixtures.js'
import {heroku} from './support/heroku.js'
import {sandbox} from './support/sandbox.js'

// Every kind of down in one project, one day apart, so that one run shows each verdict.
const ALL: FixtureMigration[] = [
  ...BASE,
  ...[VARIANTS.correct, VARIANTS.forgetsIndex, VARIANTS.keepsEnumValue, VARIANTS.keepsConstraint, VARIANTS.missingDown, VARIANTS.writesBook, VARIANTS.emptyTablesOnly]
    .map((m, i) => ({...m, name: m.name.replace('20260401', `202604${String(i + 1).padStart(2, '0')}`)})),
]

// No login at all: the command must not need one.
const NO_LOGIN = {HEROKU_API_KEY: ''}

let databases = 0
async function emptyDatabase() {
  const name = `mcheck${process.pid}x${++databases}`
  const {role, password} = await sandbox().pg.createDatabase(name)
  return {name, password, url: sandbox().pg.urlFor(name, role, password)}
}

describe('heroku migrate:check', () => {
  after(removeCheckProjects)

  it('gives each migration its verdict on PGlite, without an app or a login, and exits 1 on wrong or missing downs', async function () {
    this.timeout(180_000)
    const requests = sandbox().requests.length
    const result = await heroku(['migrate:check'], {cwd: checkProject(ALL), env: NO_LOGIN})
    assert.equal(result.code, 1, result.stderr + result.stdout)
    const lines = result.stdout.split('\n')
    const line = (migration: string) => lines.find(l => l.includes(migration)) ?? ''
    assert.match(line('20260101000000_init'), /^ {2}✓ 20260101000000_init +reverts exactly$/)
    assert.match(line('20260401000000_add_user_bio'), /✓ .* reverts exactly/)
    assert.match(line('20260402000000_unique_post_title'), /✗ .* 2 differences/)
    assert.match(result.stdout, /^ +index "Post_title_key" still there after down$/m)
    assert.match(result.stdout, /^ +enum "Role" keeps value 'OWNER' after down$/m)
    assert.match(result.stdout, /^ +check constraint "Post_title_check" on "Post" still there after down$/m)
    assert.match(line('20260405000000_add_user_age'), /✗ .* no down.sql/)
    assert.match(result.stdout, /down.sql writes _prisma_migrations/)
    assert.match(line('20260407000000_drop_post_summary'), /✓ .* reverts exactly/, 'on empty tables this down works')
    assert.match(result.stdout, /^10 migrations checked: 5 revert exactly, 4 with differences, 1 without down.sql\.$/m)
    assert.match(result.stderr, /^Error: 5 migration\(s\) cannot be reverted safely by their down.sql/m)
    assert.equal(sandbox().requests.length, requests, 'no request to the Heroku API')
  })

  it('catches the down that only works on empty tables with --data, and lists what each down drops', async function () {
    this.timeout(180_000)
    const result = await heroku(['migrate:check', '--data'], {cwd: variantProject('emptyTablesOnly'), env: NO_LOGIN})
    assert.equal(result.code, 1, result.stderr + result.stdout)
    assert.match(result.stdout, /✗ 20260401000000_drop_post_summary +1 difference/)
    assert.match(result.stdout, /down.sql fails on tables with sample rows: column "summary" of relation "Post" contains null values/)
    assert.match(result.stdout, /drops column "User"."role" with values 'ADMIN', 'USER', 'USER'/)
  })

  it('writes one JSON document for CI, and accepts missing downs with --allow-missing-down', async function () {
    this.timeout(180_000)
    const dir = variantProject('missingDown')
    const refused = await heroku(['migrate:check', '--json'], {cwd: dir, env: NO_LOGIN})
    assert.equal(refused.code, 1)
    const report = JSON.parse(refused.stdout)
    assert.deepEqual(report.migrations.map((m: {verdict: string}) => m.verdict), ['reverts', 'reverts', 'reverts', 'no-down'])
    assert.equal(report.passed, false)
    assert.match(report.error.message, /cannot be reverted safely/)
    const accepted = await heroku(['migrate:check', '--allow-missing-down', '--json'], {cwd: dir, env: NO_LOGIN})
    assert.equal(accepted.code, 0, accepted.stderr)
    assert.equal(JSON.parse(accepted.stdout).passed, true)
  })

  it('checks from --from on, and refuses a --from that is not a migration', async function () {
    this.timeout(180_000)
    const dir = variantProject('forgetsIndex')
    const from = await heroku(['migrate:check', '--from', '20260401000000_unique_post_title'], {cwd: dir, env: NO_LOGIN})
    assert.equal(from.code, 1)
    assert.doesNotMatch(from.stdout, /20260101000000_init/)
    assert.match(from.stdout, /^1 migration checked: 1 with differences\.$/m)
    const unknown = await heroku(['migrate:check', '--from', '20990101000000_nothing'], {cwd: dir, env: NO_LOGIN})
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /^Error: --from 20990101000000_nothing is not a migration in /m)
  })

  it('exits 3 with "cannot check here" when PGlite lacks an extension', async function () {
    this.timeout(180_000)
    const dir = checkProject([...BASE, {name: '20260401000000_add_postgis', sql: 'CREATE EXTENSION IF NOT EXISTS "postgis";\n', down: 'DROP EXTENSION "postgis";\n'}])
    const result = await heroku(['migrate:check'], {cwd: dir, env: NO_LOGIN})
    assert.equal(result.code, 3, result.stderr + result.stdout)
    assert.match(result.stdout, /- 20260401000000_add_postgis +cannot check here, use --database-url/)
  })

  it('runs on a real empty PostgreSQL from MIGRATE_CHECK_DATABASE_URL with the same verdicts, never printing its password', async function () {
    this.timeout(180_000)
    const {url, password} = await emptyDatabase()
    const result = await heroku(['migrate:check', '--json'], {cwd: checkProject(ALL), env: {...NO_LOGIN, MIGRATE_CHECK_DATABASE_URL: url}})
    assert.equal(result.code, 1, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.deepEqual(report.migrations.map((m: {verdict: string}) => m.verdict),
      ['reverts', 'reverts', 'reverts', 'reverts', 'differs', 'differs', 'differs', 'no-down', 'differs', 'reverts'])
    assert.match(report.database, /^127\.0\.0\.1:\d+\/mcheck/)
    assert.ok(!(result.stdout + result.stderr).includes(password), 'the password was printed')
  })

  it('refuses a database that is not empty, and a password on the command line', async function () {
    this.timeout(180_000)
    const {url, name, password} = await emptyDatabase()
    await sandbox().pg.query('CREATE TABLE "Existing" (id int)', [], name)
    const notEmpty = await heroku(['migrate:check'], {cwd: variantProject('correct'), env: {...NO_LOGIN, MIGRATE_CHECK_DATABASE_URL: url}})
    assert.equal(notEmpty.code, 1)
    assert.match(notEmpty.stderr, /^Error: The database at 127\.0\.0\.1:\d+\/mcheck\S+ is not empty \(it has table "Existing"\): /m)
    assert.deepEqual((await sandbox().pg.query('SELECT count(*)::int AS n FROM pg_class WHERE relname = \'User\'', [], name)).rows, [{n: 0}], 'nothing was applied')
    const onArgv = await heroku(['migrate:check', '--database-url', url], {cwd: variantProject('correct'), env: NO_LOGIN})
    assert.equal(onArgv.code, 1)
    assert.match(onArgv.stderr, /--database-url has a password: .* set MIGRATE_CHECK_DATABASE_URL instead/)
    assert.ok(!(onArgv.stdout + onArgv.stderr).includes(password), 'the password was printed')
  })
})
