import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {BASE, checkProject, dated, type FixtureMigration, removeCheckProjects, VARIANTS, variantProject, withoutDowns} from './support/check-fixtures.js'
import {heroku} from './support/heroku.js'
import {sandbox} from './support/sandbox.js'

// Every kind of down in one project, one day apart, so that one run shows each verdict.
const ALL: FixtureMigration[] = [
  ...BASE,
  ...dated([VARIANTS.correct, VARIANTS.forgetsIndex, VARIANTS.keepsEnumValue, VARIANTS.keepsConstraint, VARIANTS.missingDown, VARIANTS.writesBook, VARIANTS.emptyTablesOnly]),
]

// The same kinds of migration (tables, columns, indexes, enums, foreign keys, a check constraint, a rename), with no down.sql at all.
const UNDONE: FixtureMigration[] = withoutDowns([
  ...BASE,
  ...dated([VARIANTS.correct, VARIANTS.forgetsIndex, VARIANTS.keepsEnumValue, VARIANTS.keepsConstraint, VARIANTS.missingDown, VARIANTS.emptyTablesOnly, VARIANTS.renamesColumn]),
])

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
    assert.match(result.stdout, /^Generate the missing downs with --generate-missing \(Prisma's schema engine, compiled to WebAssembly: no binary needed\)\.$/m)
    assert.equal(sandbox().requests.length, requests, 'no request to the Heroku API')
  })

  it('--generate-missing: Prisma\'s schema engine generates every missing down, and the staircase checks each, with rows, saying what to add by hand', async function () {
    this.timeout(300_000)
    const dir = checkProject(UNDONE)
    const result = await heroku(['migrate:check', '--generate-missing'], {cwd: dir, env: NO_LOGIN})
    assert.equal(result.code, 1, result.stderr + result.stdout)
    const lines = result.stdout.split('\n')
    const line = (migration: string) => lines.find(l => l.includes(migration)) ?? ''
    assert.match(result.stdout, /^Generated downs: 10, for the migrations without a down\.sql\. Each was checked with sample rows in its tables\. SQL from Prisma 7\.10\.0's schema engine \(WebAssembly, bundled with heroku-safe-rollback\), engine 0edf323efd1d98336f3f0a68684b56f689b900d3\./m)
    // Tables, foreign keys, enums, columns, indexes: Prisma's down reverts each exactly.
    for (const migration of ['20260101000000_init', '20260201000000_add_posts', '20260301000000_add_role', '20260401000000_add_user_bio', '20260402000000_unique_post_title', '20260405000000_add_user_age']) {
      assert.match(line(migration), /✓ \S+ +reverts exactly \(generated down\)$/, migration)
    }
    assert.match(result.stdout, /^ +DROP TABLE "public"\."User";$/m)
    assert.match(result.stdout, /^ +ALTER TABLE "public"\."Post" DROP CONSTRAINT "Post_authorId_fkey";$/m)
    assert.match(result.stdout, /^ +DROP TYPE "public"\."Role";$/m)
    assert.match(result.stdout, /^ +DROP INDEX "public"\."User_bio_idx";$/m)
    // An enum value it cannot remove while a row holds it.
    assert.match(line('20260403000000_add_owner_role'), /✗ \S+ +1 difference \(generated down\)$/)
    assert.match(result.stdout, /^ +the generated down fails on tables with sample rows: invalid input value for enum "Role_new": "OWNER"$/m)
    assert.match(result.stdout, /^ +the generated down re-creates enum "Role" without 'OWNER', .* by hand: UPDATE "User" SET "role" = 'USER' WHERE "role" IN \('OWNER'\);$/m)
    // What schema.prisma cannot model.
    assert.match(line('20260404000000_add_post_views'), /✗ \S+ +2 differences \(generated down\)$/)
    assert.match(result.stdout, /^ +Prisma's schema cannot model the check constraint "Post_title_check", so its diff leaves it: add to the down by hand: ALTER TABLE "Post" DROP CONSTRAINT "Post_title_check";$/m)
    // A step that only works on empty tables.
    assert.match(line('20260406000000_drop_post_summary'), /✗ \S+ +1 difference \(generated down\)$/)
    assert.match(result.stdout, /^ +the generated down adds "Post"\."summary" NOT NULL without a default, which fails on a table with rows: give it a DEFAULT/m)
    // A rename, undone by dropping the values.
    assert.match(line('20260407000000_rename_user_name'), /✗ \S+ +1 difference \(generated down\)$/)
    assert.match(result.stdout, /^ +the generated down drops column "User"\."fullName" with its values and adds "name" back empty: Prisma's diff cannot see that the migration renamed it\. Write by hand instead: ALTER TABLE "User" RENAME COLUMN "fullName" TO "name";$/m)
    assert.match(result.stdout, /^10 migrations checked: 6 revert exactly, 4 with differences\.$/m)
    assert.match(result.stdout, /^Keep the 6 generated down\(s\) that revert exactly with --write/m)
    assert.ok(!existsSync(join(dir, 'prisma', 'migrations', '20260101000000_init', 'down.sql')), 'written without --write')
  })

  it('--write keeps each generated down that reverts exactly, once: the next run reads the files, and none is overwritten', async function () {
    this.timeout(300_000)
    const dir = checkProject(withoutDowns([...BASE, ...dated([VARIANTS.correct, VARIANTS.keepsConstraint])]))
    const file = (migration: string) => join(dir, 'prisma', 'migrations', migration, 'down.sql')
    const first = await heroku(['migrate:check', '--generate-missing', '--write', '--json'], {cwd: dir, env: NO_LOGIN})
    assert.equal(first.code, 1, first.stderr)
    const report = JSON.parse(first.stdout)
    const written = report.migrations.map((m: {migration: string, generated?: {written?: string}}) => [m.migration, m.generated?.written ?? null])
    assert.deepEqual(written, [
      ['20260101000000_init', file('20260101000000_init')],
      ['20260201000000_add_posts', file('20260201000000_add_posts')],
      ['20260301000000_add_role', file('20260301000000_add_role')],
      ['20260401000000_add_user_bio', file('20260401000000_add_user_bio')],
      ['20260402000000_add_post_views', null],
    ])
    assert.ok(!existsSync(file('20260402000000_add_post_views')), 'a down the check found wrong was written')
    const contents = readFileSync(file('20260401000000_add_user_bio'), 'utf8')
    assert.match(contents, /^DROP INDEX "public"\."User_bio_idx";$/m)

    const second = await heroku(['migrate:check', '--generate-missing', '--write'], {cwd: dir, env: NO_LOGIN})
    assert.equal(second.code, 1, second.stderr)
    assert.match(second.stdout, /✓ 20260401000000_add_user_bio +reverts exactly$/m)
    assert.match(second.stdout, /^Generated downs: 1, for the migrations without a down\.sql\./m)
    assert.equal(readFileSync(file('20260401000000_add_user_bio'), 'utf8'), contents)
    assert.ok(!existsSync(file('20260402000000_add_post_views')))
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

  it('says "cannot check here", exit 3, not a wrong down, when the down needs more locks than PGlite\'s lock table holds', async function () {
    this.timeout(180_000)
    // As a down dropping thousands of tables does, in a moment: each advisory lock takes a slot of the same table.
    const dir = checkProject([...BASE, {
      name: '20260401000000_many_locks', sql: 'CREATE TABLE "Archive" (id int);\n',
      down: 'SELECT count(pg_advisory_xact_lock(i)) FROM generate_series(1, 100000) i;\nDROP TABLE "Archive";\n',
    }])
    const result = await heroku(['migrate:check', '--json'], {cwd: dir, env: NO_LOGIN})
    assert.equal(result.code, 3, result.stderr + result.stdout)
    const report = JSON.parse(result.stdout)
    const locks = report.migrations.at(-1)
    assert.equal(locks.verdict, 'cannot-check')
    assert.deepEqual(locks.problems, [])
    assert.match(locks.notes[0], /^cannot check here \(this PostgreSQL's lock table is too small for it: out of shared memory\): use --database-url with a PostgreSQL whose max_locks_per_transaction is larger$/)
    assert.deepEqual(report.summary, {reverts: 3, differs: 0, 'no-down': 0, broken: 0, 'cannot-check': 1, 'not-checked': 0})
    const human = await heroku(['migrate:check'], {cwd: dir, env: NO_LOGIN})
    assert.equal(human.code, 3)
    assert.match(human.stdout, /- 20260401000000_many_locks +cannot check here, use --database-url/)
    assert.match(human.stdout, /^4 migrations checked: 3 revert exactly, 1 not checked here \(each line says why; use --database-url\)\.$/m)
    assert.match(human.stderr, /^Error: Some migrations could not be checked on this PostgreSQL: see the lines marked skip\./m)
  })

  for (const [file, fixture] of [
    ['migration.sql', {name: '20260401000000_export_users', sql: 'COPY (SELECT 1) TO PROGRAM \'true\';\n', down: 'SELECT 1;\n'}],
    ['down.sql', {name: '20260401000000_import_users', sql: 'CREATE TABLE "Imported" (id int);\n', down: 'COPY "Imported" FROM PROGRAM \'echo 1\';\nDROP TABLE "Imported";\n'}],
  ] as const) {
    it(`refuses COPY ... PROGRAM in a ${file} before running anything (on PGlite it never ends)`, async function () {
      this.timeout(60_000)
      const result = await heroku(['migrate:check'], {cwd: checkProject([...BASE, fixture]), env: NO_LOGIN})
      assert.equal(result.code, 1, result.stderr + result.stdout)
      assert.match(result.stderr, new RegExp(`^Error: \\S+/${fixture.name}/${file}: \`COPY .* PROGRAM '[^']+'\` runs a program on the database server \\(COPY \\.\\.\\. PROGRAM\\), which migrate:check never does: nothing was checked\\.$`, 'm'))
      assert.doesNotMatch(result.stderr, /Checking \d+ migration/, 'no scratch database was started')
    })
  }

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} during a statement that runs for minutes on PGlite ends the command at once, exit ${code}`, async function () {
      this.timeout(90_000)
      // Work that keeps the database busy (pg_sleep waits without holding the process): hours of counting.
      const dir = checkProject([{name: '20260101000000_slow', sql: 'SELECT count(*) FROM generate_series(1, 1000000000000);\n', down: 'SELECT 1;\n'}])
      let checking = 0
      const result = await heroku(['migrate:check'], {cwd: dir, env: NO_LOGIN, signalAfter: {signal, when: ({stderr}) => {
        // The scratch database is up once this line is printed; a moment later its only migration runs.
        checking ||= /Checking 1 migration\(s\) on /.test(stderr) ? Date.now() : 0
        return checking > 0 && Date.now() - checking > 1500
      }}})
      assert.equal(result.code, code, result.stderr + result.stdout)
      assert.match(result.stderr, /^Error: Cancelled\.\nNothing was changed: the check ran on a throwaway PGlite, gone with it\.$/m)
    })
  }

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
